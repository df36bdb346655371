namespace FastRcnn.Tests.Ops;

/// <summary>
/// A slow, obvious RoI pooling written straight from SPEC §4, over channels-first arrays:
/// the reference the fast kernel is held to.
/// </summary>
internal static class RoiPoolReference
{
    public static (float[] Output, int[] Argmax) Forward(float[] x, int n, int c, int h, int w,
        float[] rois, int pooledH, int pooledW, float scale)
    {
        int r = rois.Length / 5;
        var output = new float[r * c * pooledH * pooledW];
        var argmax = new int[output.Length];
        for (int i = 0; i < r; i++)
        {
            int b = (int)rois[5 * i];
            int startW = (int)MathF.Round(rois[5 * i + 1] * scale, MidpointRounding.AwayFromZero);
            int startH = (int)MathF.Round(rois[5 * i + 2] * scale, MidpointRounding.AwayFromZero);
            int endW = (int)MathF.Round(rois[5 * i + 3] * scale, MidpointRounding.AwayFromZero);
            int endH = (int)MathF.Round(rois[5 * i + 4] * scale, MidpointRounding.AwayFromZero);
            int roiW = Math.Max(endW - startW + 1, 1);
            int roiH = Math.Max(endH - startH + 1, 1);
            float binW = (float)roiW / pooledW;
            float binH = (float)roiH / pooledH;
            for (int k = 0; k < c; k++)
                for (int ph = 0; ph < pooledH; ph++)
                    for (int pw = 0; pw < pooledW; pw++)
                    {
                        int hStart = Math.Clamp((int)MathF.Floor(ph * binH) + startH, 0, h);
                        int hEnd = Math.Clamp((int)MathF.Ceiling((ph + 1) * binH) + startH, 0, h);
                        int wStart = Math.Clamp((int)MathF.Floor(pw * binW) + startW, 0, w);
                        int wEnd = Math.Clamp((int)MathF.Ceiling((pw + 1) * binW) + startW, 0, w);
                        int o = ((i * c + k) * pooledH + ph) * pooledW + pw;
                        if (hEnd <= hStart || wEnd <= wStart) { output[o] = 0; argmax[o] = -1; continue; }
                        float best = -float.MaxValue;
                        int bestIndex = -1;
                        for (int y = hStart; y < hEnd; y++)
                            for (int xx = wStart; xx < wEnd; xx++)
                            {
                                float v = x[((b * c + k) * h + y) * w + xx];
                                if (v > best) { best = v; bestIndex = y * w + xx; }
                            }
                        output[o] = best;
                        argmax[o] = bestIndex;
                    }
        }
        return (output, argmax);
    }

    /// <summary>Paper eq. 4: every output gradient goes to the input cell that was its argmax.</summary>
    public static float[] Backward(float[] gradOutput, int[] argmax, float[] rois, int n, int c, int h, int w, int bins)
    {
        var grad = new float[n * c * h * w];
        int r = rois.Length / 5;
        for (int i = 0; i < r; i++)
            for (int k = 0; k < c; k++)
                for (int j = 0; j < bins; j++)
                {
                    int o = (i * c + k) * bins + j;
                    if (argmax[o] >= 0) grad[((int)rois[5 * i] * c + k) * h * w + argmax[o]] += gradOutput[o];
                }
        return grad;
    }
}
