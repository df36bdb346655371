namespace FastRcnn.Proposals;

/// <summary>
/// Per-pixel histogram bin codes of one colour-space image, computed once and shared by every
/// segmentation (k) and similarity set of that image. Notation: C channels, N = H·W pixels.
/// </summary>
/// <remarks>
/// <para>Colour: bin ⌊25·v/256⌋ of each channel value v (25 bins per channel).</para>
/// <para>Texture (Uijlings et al. 2013, §3.2): Gaussian derivatives with σ = 1 of each channel,
/// gx and gy, steered to the 4 axes 0°, 45°, 90°, 135° (d = cos θ·gx + sin θ·gy); the positive part of
/// d is orientation θ, the negative part θ + 180°, giving 8 orientations. Each oriented response is
/// divided by its maximum over the image and cut into 10 bins. A pixel contributes one count to each of
/// the 8 orientation histograms of each channel; because one of the two halves of an axis is always
/// 0 (bin 0), the code stores only <c>half·10 + bin</c> per axis and the missing bin-0 counts are added
/// when the region histograms are built.</para>
/// </remarks>
internal sealed class PixelFeatures
{
    public const int ColorBins = 25;
    public const int Orientations = 8;
    public const int TextureBins = 10;
    public const float TextureSigma = 1f;

    private PixelFeatures(int channels, int width, int height, byte[] colorCodes, byte[] textureCodes)
    {
        Channels = channels;
        Width = width;
        Height = height;
        ColorCodes = colorCodes;
        TextureCodes = textureCodes;
    }

    public int Channels { get; }
    public int Width { get; }
    public int Height { get; }

    /// <summary>C planes of N colour bins in [0, 25).</summary>
    public byte[] ColorCodes { get; }

    /// <summary>4·C planes (channel-major, then axis) of N codes in [0, 20): half·10 + bin.</summary>
    public byte[] TextureCodes { get; }

    public static PixelFeatures Compute(PlanarImage image)
    {
        int w = image.Width, h = image.Height, n = image.PixelCount, channels = image.Channels;
        var colour = new byte[channels * n];
        for (int i = 0; i < colour.Length; i++) colour[i] = (byte)((image.Data[i] * ColorBins) >> 8);

        var texture = new byte[4 * channels * n];
        var g = GaussianFilter.Smoothing(TextureSigma);
        var dg = GaussianFilter.Derivative(TextureSigma);
        var src = new float[n];
        var gx = new float[n];
        var gy = new float[n];
        var tmp = new float[n];
        var resp = new float[n];
        const float invSqrt2 = 0.70710678f;
        for (int c = 0; c < channels; c++)
        {
            var plane = image.Plane(c);
            for (int p = 0; p < n; p++) src[p] = plane[p];
            GaussianFilter.Separable(src, gx, tmp, w, h, dg, g);
            GaussianFilter.Separable(src, gy, tmp, w, h, g, dg);
            for (int axis = 0; axis < 4; axis++)
            {
                float cx = axis switch { 0 => 1f, 1 => invSqrt2, 2 => 0f, _ => -invSqrt2 };
                float cy = axis switch { 0 => 0f, 1 => invSqrt2, 2 => 1f, _ => invSqrt2 };
                float maxPos = 0, maxNeg = 0;
                for (int p = 0; p < n; p++)
                {
                    float d = cx * gx[p] + cy * gy[p];
                    resp[p] = d;
                    if (d > maxPos) maxPos = d;
                    else if (-d > maxNeg) maxNeg = -d;
                }
                float sPos = maxPos > 0 ? TextureBins / maxPos : 0, sNeg = maxNeg > 0 ? TextureBins / maxNeg : 0;
                var codes = texture.AsSpan((c * 4 + axis) * n, n);
                for (int p = 0; p < n; p++)
                {
                    float d = resp[p];
                    codes[p] = d >= 0
                        ? (byte)Math.Min(TextureBins - 1, (int)(d * sPos))
                        : (byte)(TextureBins + Math.Min(TextureBins - 1, (int)(-d * sNeg)));
                }
            }
        }
        return new PixelFeatures(channels, w, h, colour, texture);
    }
}
