namespace FastRcnn.Proposals;

/// <summary>
/// The descriptors selective search compares: for each of R regions of a <see cref="Segmentation"/>,
/// its size |r| (pixels), bounding box, colour histogram (C·25 bins) and texture histogram
/// (C·8·10 bins). Both histograms are L1-normalised over all their bins (each sums to 1), so the
/// histogram of a merged region is the size-weighted average (|a|·h_a + |b|·h_b)/(|a| + |b|).
/// </summary>
public sealed class RegionFeatures
{
    private RegionFeatures(int count, int channels, long imageSize, int[] sizes, PixelBox[] boxes, float[] color, float[] texture)
    {
        Count = count;
        Channels = channels;
        ImageSize = imageSize;
        Sizes = sizes;
        Boxes = boxes;
        ColorHistograms = color;
        TextureHistograms = texture;
    }

    /// <summary>Number of regions R.</summary>
    public int Count { get; }

    /// <summary>Channels C of the colour space the histograms were taken in.</summary>
    public int Channels { get; }

    /// <summary>|im|, pixels in the image.</summary>
    public long ImageSize { get; }

    /// <summary>|r| for each region.</summary>
    public int[] Sizes { get; }

    /// <summary>Bounding box of each region.</summary>
    public PixelBox[] Boxes { get; }

    /// <summary>R × <see cref="ColorLength"/> floats, region-major.</summary>
    public float[] ColorHistograms { get; }

    /// <summary>R × <see cref="TextureLength"/> floats, region-major (channel, orientation, bin).</summary>
    public float[] TextureHistograms { get; }

    /// <summary>C·25.</summary>
    public int ColorLength => Channels * PixelFeatures.ColorBins;

    /// <summary>C·8·10.</summary>
    public int TextureLength => Channels * PixelFeatures.Orientations * PixelFeatures.TextureBins;

    /// <summary>The colour histogram of region <paramref name="r"/>.</summary>
    public ReadOnlySpan<float> ColorHistogram(int r) => ColorHistograms.AsSpan(r * ColorLength, ColorLength);

    /// <summary>The texture histogram of region <paramref name="r"/>.</summary>
    public ReadOnlySpan<float> TextureHistogram(int r) => TextureHistograms.AsSpan(r * TextureLength, TextureLength);

    /// <summary>Computes the features of every region of <paramref name="segmentation"/> on <paramref name="image"/>.</summary>
    public static RegionFeatures Compute(Segmentation segmentation, PlanarImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return Compute(segmentation, PixelFeatures.Compute(image));
    }

    internal static RegionFeatures Compute(Segmentation seg, PixelFeatures pixels)
    {
        ArgumentNullException.ThrowIfNull(seg);
        if (seg.Width != pixels.Width || seg.Height != pixels.Height)
            throw new ArgumentException("Segmentation and image differ in size.");
        int w = seg.Width, h = seg.Height, n = w * h, r = seg.RegionCount, channels = pixels.Channels;
        var labels = seg.Labels;

        var sizes = new int[r];
        var boxes = new PixelBox[r];
        var x1 = new int[r]; var y1 = new int[r]; var x2 = new int[r]; var y2 = new int[r];
        x1.AsSpan().Fill(int.MaxValue);
        y1.AsSpan().Fill(int.MaxValue);
        for (int y = 0; y < h; y++)
        {
            for (int x = 0; x < w; x++)
            {
                int l = labels[y * w + x];
                sizes[l]++;
                if (x < x1[l]) x1[l] = x;
                if (x >= x2[l]) x2[l] = x + 1;
                if (y < y1[l]) y1[l] = y;
                y2[l] = y + 1;                                  // rows are visited in increasing order
            }
        }
        for (int l = 0; l < r; l++) boxes[l] = new PixelBox(x1[l], y1[l], x2[l], y2[l]);

        const int cb = PixelFeatures.ColorBins, tb = PixelFeatures.TextureBins;
        int colorLen = channels * cb, textureLen = channels * PixelFeatures.Orientations * tb;
        var colorCounts = new int[r * colorLen];
        var textureCounts = new int[r * textureLen];
        for (int c = 0; c < channels; c++)
            Accumulate(labels, pixels.ColorCodes.AsSpan(c * n, n), colorCounts, colorLen, c * cb);
        for (int plane = 0; plane < 4 * channels; plane++)      // plane = channel·4 + axis; 20 bins per axis
            Accumulate(labels, pixels.TextureCodes.AsSpan(plane * n, n), textureCounts, textureLen, plane * 2 * tb);

        var color = new float[r * colorLen];
        var texture = new float[r * textureLen];
        for (int l = 0; l < r; l++)
        {
            float cs = 1f / (sizes[l] * (float)channels);
            for (int i = 0; i < colorLen; i++) color[l * colorLen + i] = colorCounts[l * colorLen + i] * cs;
            var t = textureCounts.AsSpan(l * textureLen, textureLen);
            for (int axis = 0; axis < 4 * channels; axis++)
            {
                // The opposite half of every pixel's axis got a 0 response: add those bin-0 counts.
                var pair = t.Slice(axis * 2 * tb, 2 * tb);
                int s0 = 0, s1 = 0;
                for (int i = 0; i < tb; i++) { s0 += pair[i]; s1 += pair[tb + i]; }
                pair[0] += s1;
                pair[tb] += s0;
            }
            float ts = 1f / (sizes[l] * (float)(channels * PixelFeatures.Orientations));
            for (int i = 0; i < textureLen; i++) texture[l * textureLen + i] = t[i] * ts;
        }
        return new RegionFeatures(r, channels, n, sizes, boxes, color, texture);
    }

    private static unsafe void Accumulate(int[] labels, ReadOnlySpan<byte> codes, int[] counts, int stride, int offset)
    {
        fixed (int* lp = labels, cp = counts)
        fixed (byte* bp = codes)
        {
            int* dst = cp + offset;
            for (int p = 0; p < codes.Length; p++)
                dst[lp[p] * stride + bp[p]]++;
        }
    }
}
