using System.Numerics;

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
        for (int c = 0; c < channels; c++)
        {
            var plane = image.Plane(c);
            for (int p = 0; p < n; p++) src[p] = plane[p];
            GaussianFilter.Separable(src, gx, tmp, w, h, dg, g);
            GaussianFilter.Separable(src, gy, tmp, w, h, g, dg);
            OrientationCodes(gx, gy, texture.AsSpan(c * 4 * n, 4 * n));
        }
        return new PixelFeatures(channels, w, h, colour, texture);
    }
    /// <summary>The 4 axis code planes of one channel from its derivatives (SIMD).</summary>
    private static unsafe void OrientationCodes(float[] gx, float[] gy, Span<byte> codes)
    {
        int n = gx.Length, vc = Vector<float>.Count;
        var s = new Vector<float>(0.70710678f);
        Span<float> maxPos = stackalloc float[4], maxNeg = stackalloc float[4];
        fixed (float* px = gx, py = gy)
        fixed (byte* pc = codes)
        {
            // Pass 1: the largest positive and negative response of each axis.
            var mp0 = Vector<float>.Zero; var mp1 = mp0; var mp2 = mp0; var mp3 = mp0;
            var mn0 = mp0; var mn1 = mp0; var mn2 = mp0; var mn3 = mp0;
            int p = 0;
            for (; p <= n - vc; p += vc)
            {
                var x = Vector.Load(px + p);
                var y = Vector.Load(py + p);
                var d1 = (x + y) * s;
                var d3 = (y - x) * s;
                mp0 = Vector.Max(mp0, x); mn0 = Vector.Min(mn0, x);
                mp1 = Vector.Max(mp1, d1); mn1 = Vector.Min(mn1, d1);
                mp2 = Vector.Max(mp2, y); mn2 = Vector.Min(mn2, y);
                mp3 = Vector.Max(mp3, d3); mn3 = Vector.Min(mn3, d3);
            }
            maxPos[0] = MaxLane(mp0); maxPos[1] = MaxLane(mp1); maxPos[2] = MaxLane(mp2); maxPos[3] = MaxLane(mp3);
            maxNeg[0] = -MinLane(mn0); maxNeg[1] = -MinLane(mn1); maxNeg[2] = -MinLane(mn2); maxNeg[3] = -MinLane(mn3);
            for (; p < n; p++)
            {
                for (int a = 0; a < 4; a++)
                {
                    float d = Steer(a, px[p], py[p]);
                    maxPos[a] = MathF.Max(maxPos[a], d);
                    maxNeg[a] = MathF.Max(maxNeg[a], -d);
                }
            }
            // Pass 2: code = half·10 + bin, bin = min(9, ⌊10·|d|/max⌋).
            Span<int> lanes = stackalloc int[Vector<int>.Count];
            for (int a = 0; a < 4; a++)
            {
                float sPos = maxPos[a] > 0 ? TextureBins / maxPos[a] : 0, sNeg = maxNeg[a] > 0 ? TextureBins / maxNeg[a] : 0;
                byte* dst = pc + a * n;
                var vPos = new Vector<float>(sPos);
                var vNeg = new Vector<float>(-sNeg);
                var nine = new Vector<int>(TextureBins - 1);
                var ten = new Vector<int>(TextureBins);
                int q = 0;
                for (; q <= n - vc; q += vc)
                {
                    var x = Vector.Load(px + q);
                    var y = Vector.Load(py + q);
                    var d = a switch { 0 => x, 1 => (x + y) * s, 2 => y, _ => (y - x) * s };
                    var neg = Vector.LessThan(d, Vector<float>.Zero);
                    var scaled = Vector.ConditionalSelect(neg, d * vNeg, d * vPos);
                    var bin = Vector.Min(Vector.ConvertToInt32(scaled), nine);
                    var code = bin + (Vector.AsVectorInt32(neg) & ten);
                    code.CopyTo(lanes);
                    for (int l = 0; l < lanes.Length; l++) dst[q + l] = (byte)lanes[l];
                }
                for (; q < n; q++)
                {
                    float d = Steer(a, px[q], py[q]);
                    dst[q] = d >= 0
                        ? (byte)Math.Min(TextureBins - 1, (int)(d * sPos))
                        : (byte)(TextureBins + Math.Min(TextureBins - 1, (int)(-d * sNeg)));
                }
            }
        }
    }

    private static float Steer(int axis, float x, float y) => axis switch
    {
        0 => x,
        1 => (x + y) * 0.70710678f,
        2 => y,
        _ => (y - x) * 0.70710678f,
    };

    private static float MaxLane(Vector<float> v)
    {
        float m = 0;
        for (int i = 0; i < Vector<float>.Count; i++) m = MathF.Max(m, v[i]);
        return m;
    }

    private static float MinLane(Vector<float> v)
    {
        float m = 0;
        for (int i = 0; i < Vector<float>.Count; i++) m = MathF.Min(m, v[i]);
        return m;
    }
}
