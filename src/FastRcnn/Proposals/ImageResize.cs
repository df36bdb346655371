namespace FastRcnn.Proposals;

/// <summary>
/// Resampling of interleaved 8-bit RGB with a separable triangle (bilinear) filter that widens with
/// the shrink factor, so downscaling averages instead of aliasing (like PIL's antialiased bilinear).
/// Pixel centres: output pixel i sits at input coordinate (i + 0.5)·(in/out) − 0.5.
/// </summary>
internal static class ImageResize
{
    /// <summary>
    /// The working size for <paramref name="options"/>: <see cref="SelectiveSearchOptions.ResizeTo"/>, then scaled down
    /// to at most <see cref="SelectiveSearchOptions.MaxPixels"/> pixels; the input size when neither applies.
    /// </summary>
    public static (int Width, int Height) TargetSize(int width, int height, SelectiveSearchOptions options)
    {
        var (w, h) = ResizedSize(width, height, options);
        if (options.MaxPixels is { } max && (long)w * h > max)
        {
            double scale = Math.Sqrt(max / ((double)w * h));
            (w, h) = (Math.Max(1, (int)Math.Floor(w * scale)), Math.Max(1, (int)Math.Floor(h * scale)));
        }
        return (w, h);
    }

    private static (int Width, int Height) ResizedSize(int width, int height, SelectiveSearchOptions options)
    {
        if (options.ResizeTo is not { } target) return (width, height);
        int side = options.ResizeSide == ResizeSide.Longest ? Math.Max(width, height) : Math.Min(width, height);
        double scale = target / (double)side;
        if (scale == 1 || (scale > 1 && !options.AllowUpscale)) return (width, height);
        return (Math.Max(1, (int)Math.Round(width * scale)), Math.Max(1, (int)Math.Round(height * scale)));
    }

    /// <summary>Resamples H·W·3 bytes to dstHeight·dstWidth·3 bytes.</summary>
    public static byte[] Rgb(ReadOnlySpan<byte> src, int width, int height, int dstWidth, int dstHeight)
    {
        var (xStart, xCount, xWeights, xTaps) = Weights(width, dstWidth);
        var (yStart, yCount, yWeights, yTaps) = Weights(height, dstHeight);
        var tmp = new float[height * dstWidth * 3];
        for (int y = 0; y < height; y++)
        {
            var row = src.Slice(y * width * 3, width * 3);
            for (int x = 0; x < dstWidth; x++)
            {
                float r = 0, g = 0, b = 0;
                for (int t = 0; t < xCount[x]; t++)
                {
                    float wgt = xWeights[x * xTaps + t];
                    int s = (xStart[x] + t) * 3;
                    r += wgt * row[s];
                    g += wgt * row[s + 1];
                    b += wgt * row[s + 2];
                }
                int o = (y * dstWidth + x) * 3;
                tmp[o] = r;
                tmp[o + 1] = g;
                tmp[o + 2] = b;
            }
        }
        int stride = dstWidth * 3;
        var dst = new byte[dstHeight * stride];
        var acc = new float[stride];
        for (int y = 0; y < dstHeight; y++)
        {
            Array.Clear(acc);
            for (int t = 0; t < yCount[y]; t++)
            {
                float wgt = yWeights[y * yTaps + t];
                var srcRow = tmp.AsSpan((yStart[y] + t) * stride, stride);
                for (int i = 0; i < stride; i++) acc[i] += wgt * srcRow[i];
            }
            var outRow = dst.AsSpan(y * stride, stride);
            for (int i = 0; i < stride; i++) outRow[i] = (byte)Math.Clamp((int)(acc[i] + 0.5f), 0, 255);
        }
        return dst;
    }

    /// <summary>Per output index: first input index, tap count and normalised weights (taps per row).</summary>
    private static (int[] Start, int[] Count, float[] Weights, int Taps) Weights(int inSize, int outSize)
    {
        double scale = inSize / (double)outSize;
        double support = Math.Max(1.0, scale);
        int taps = (int)Math.Ceiling(support) * 2 + 1;
        var start = new int[outSize];
        var count = new int[outSize];
        var weights = new float[outSize * taps];
        var w = new double[taps];
        for (int i = 0; i < outSize; i++)
        {
            double centre = (i + 0.5) * scale;
            int lo = Math.Max(0, (int)Math.Floor(centre - support));
            int hi = Math.Min(inSize, (int)Math.Ceiling(centre + support));
            double sum = 0;
            int c = 0;
            for (int j = lo; j < hi && c < taps; j++, c++)
            {
                w[c] = Math.Max(0.0, 1.0 - Math.Abs((j + 0.5 - centre) / support));
                sum += w[c];
            }
            if (sum <= 0)                                   // cannot happen for inSize ≥ 1; keep nearest
            {
                lo = Math.Clamp((int)centre, 0, inSize - 1);
                c = 1;
                w[0] = sum = 1;
            }
            start[i] = lo;
            count[i] = c;
            for (int t = 0; t < c; t++) weights[i * taps + t] = (float)(w[t] / sum);
        }
        return (start, count, weights, taps);
    }
}
