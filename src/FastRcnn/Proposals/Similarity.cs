using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FastRcnn.Proposals;

/// <summary>The terms of a selective-search similarity; a similarity set is their sum.</summary>
[Flags]
public enum SimilarityTerms
{
    /// <summary>No term (not a valid set).</summary>
    None = 0,

    /// <summary>s_colour(a, b) = Σ_k min(c_a^k, c_b^k) over the L1-normalised 25-bin-per-channel colour histograms.</summary>
    Color = 1,

    /// <summary>s_texture(a, b) = Σ_k min(t_a^k, t_b^k) over the L1-normalised 8×10-bin-per-channel texture histograms.</summary>
    Texture = 2,

    /// <summary>s_size(a, b) = 1 − (|a| + |b|)/|im|: merges small regions first.</summary>
    Size = 4,

    /// <summary>s_fill(a, b) = 1 − (|BB(a ∪ b)| − |a| − |b|)/|im|: merges regions that fill each other's gaps.</summary>
    Fill = 8,

    /// <summary>Colour + texture + size + fill.</summary>
    All = Color | Texture | Size | Fill,
}

/// <summary>
/// The similarity measures of selective search (Uijlings et al., IJCV 2013, §3.2). Notation: |a| the
/// pixel count of region a, |im| the pixel count of the image, BB the bounding box. Each term lies in
/// [0, 1]; s(a, b) = the sum of the enabled terms (unweighted, as in the original).
/// </summary>
public static class Similarity
{
    /// <summary>Histogram intersection Σ_k min(a_k, b_k) (SIMD).</summary>
    public static float HistogramIntersection(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException("Histograms differ in length.");
        ref float pa = ref MemoryMarshal.GetReference(a);
        ref float pb = ref MemoryMarshal.GetReference(b);
        int i = 0;
        float sum = 0;
        if (Vector.IsHardwareAccelerated && a.Length >= Vector<float>.Count)
        {
            var acc = Vector<float>.Zero;
            for (; i <= a.Length - Vector<float>.Count; i += Vector<float>.Count)
                acc += Vector.Min(Vector.LoadUnsafe(ref Unsafe.Add(ref pa, i)), Vector.LoadUnsafe(ref Unsafe.Add(ref pb, i)));
            sum = Vector.Sum(acc);
        }
        for (; i < a.Length; i++) sum += MathF.Min(Unsafe.Add(ref pa, i), Unsafe.Add(ref pb, i));
        return sum;
    }

    /// <summary>s_size = 1 − (|a| + |b|)/|im|.</summary>
    public static float Size(long sizeA, long sizeB, long imageSize) => 1f - (float)((double)(sizeA + sizeB) / imageSize);

    /// <summary>s_fill = 1 − (|BB(a ∪ b)| − |a| − |b|)/|im|.</summary>
    public static float Fill(PixelBox boxA, PixelBox boxB, long sizeA, long sizeB, long imageSize) =>
        1f - (float)((double)(PixelBox.Union(boxA, boxB).Area - sizeA - sizeB) / imageSize);

    /// <summary>The sum of the enabled <paramref name="terms"/> for regions a and b of <paramref name="features"/>.</summary>
    public static float Compute(RegionFeatures features, int a, int b, SimilarityTerms terms)
    {
        ArgumentNullException.ThrowIfNull(features);
        return Compute(terms, features.ImageSize,
            features.Sizes[a], features.Boxes[a], features.ColorHistogram(a), features.TextureHistogram(a),
            features.Sizes[b], features.Boxes[b], features.ColorHistogram(b), features.TextureHistogram(b));
    }

    internal static float Compute(
        SimilarityTerms terms, long imageSize,
        long sizeA, PixelBox boxA, ReadOnlySpan<float> colorA, ReadOnlySpan<float> textureA,
        long sizeB, PixelBox boxB, ReadOnlySpan<float> colorB, ReadOnlySpan<float> textureB)
    {
        float s = 0;
        if ((terms & SimilarityTerms.Color) != 0) s += HistogramIntersection(colorA, colorB);
        if ((terms & SimilarityTerms.Texture) != 0) s += HistogramIntersection(textureA, textureB);
        if ((terms & SimilarityTerms.Size) != 0) s += Size(sizeA, sizeB, imageSize);
        if ((terms & SimilarityTerms.Fill) != 0) s += Fill(boxA, boxB, sizeA, sizeB, imageSize);
        return s;
    }
}
