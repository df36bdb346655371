using TorchSharp;
using static TorchSharp.torch;

namespace FastRcnn.Data.Transforms;

/// <summary>
/// Image scaling of SPEC §3 step 2, as py-faster-rcnn's <c>prep_im_for_blob</c>: scale the
/// shorter side to s (600) unless the longer side would then exceed <c>MAX_SIZE</c> (1000), in
/// which case the longer side is scaled to <c>MAX_SIZE</c>. The image is resized bilinearly and
/// boxes and proposals are multiplied by the same factor.
/// </summary>
/// <remarks>
/// Resizing is <c>torch.nn.functional.interpolate(mode: bilinear, align_corners: false)</c>
/// without antialiasing, i.e. the half-pixel-centre bilinear sampling of OpenCV's
/// <c>cv2.resize(..., INTER_LINEAR)</c> that py-faster-rcnn uses. Output sizes are
/// <c>round(H·s)</c>, <c>round(W·s)</c> (round half to even, as OpenCV's <c>cvRound</c>).
/// Bilinear weights sum to 1, so resizing commutes with a per-channel affine pixel
/// preprocessing (mean subtraction, std division): preprocessing before or after is the same
/// up to float rounding.
/// </remarks>
public static class ImageScaling
{
    /// <summary>SPEC §3 single-scale shorter side, 600 pixels.</summary>
    public const int DefaultShortSide = 600;

    /// <summary>SPEC §3 single-scale cap on the longer side, 1000 pixels.</summary>
    public const int DefaultMaxSize = 1000;

    /// <summary>
    /// The factor s for an H×W image: <c>s = shortSide / min(H, W)</c>, unless
    /// <c>round(s · max(H, W)) &gt; maxSize</c>, then <c>s = maxSize / max(H, W)</c>
    /// (e.g. 375×500 → 600/375 = 1.6; 300×1200 → 1000/1200).
    /// </summary>
    public static double ScaleFactor(int height, int width, int shortSide, int maxSize)
    {
        if (height <= 0 || width <= 0)
            throw new ArgumentException($"Image size must be positive, got {height}x{width} (HxW).");
        if (shortSide <= 0 || maxSize <= 0)
            throw new ArgumentException($"shortSide and maxSize must be positive, got {shortSide} and {maxSize}.");
        double small = Math.Min(height, width), large = Math.Max(height, width);
        double s = shortSide / small;
        if (Math.Round(s * large, MidpointRounding.ToEven) > maxSize)   // np.round, as py-faster-rcnn
            s = maxSize / large;
        return s;
    }

    /// <summary>The size (H', W') = (round(H·s), round(W·s)) of an H×W image scaled by s, each at least 1.</summary>
    public static (int Height, int Width) ScaledSize(int height, int width, double factor)
    {
        if (!(factor > 0) || double.IsInfinity(factor))
            throw new ArgumentOutOfRangeException(nameof(factor), factor, "The scale factor must be positive and finite.");
        int h = (int)Math.Max(1, Math.Round(height * factor, MidpointRounding.ToEven));
        int w = (int)Math.Max(1, Math.Round(width * factor, MidpointRounding.ToEven));
        return (h, w);
    }

    /// <summary>
    /// Scales <paramref name="image"/> (C,H,W) or (N,C,H,W) so its shorter side is
    /// <paramref name="shortSide"/>, capped by <paramref name="maxSize"/> (see <see cref="ScaleFactor"/>).
    /// </summary>
    public static ScaledImage Scale(Tensor image, int shortSide = DefaultShortSide, int maxSize = DefaultMaxSize)
    {
        var (h, w) = SizeOf(image);
        return Rescale(image, ScaleFactor(h, w, shortSide, maxSize));
    }

    /// <summary>Scales <paramref name="image"/> (C,H,W) or (N,C,H,W) by <paramref name="factor"/> (see <see cref="ScaledSize"/>).</summary>
    public static ScaledImage Rescale(Tensor image, double factor)
    {
        var (h, w) = SizeOf(image);
        var (sh, sw) = ScaledSize(h, w, factor);
        return new ScaledImage(Resize(image, sh, sw), new ImageScale(h, w, sh, sw, factor));
    }

    /// <summary>
    /// Bilinear resize of <paramref name="image"/> (C,H,W) or (N,C,H,W) to
    /// <paramref name="height"/>×<paramref name="width"/>. Floating input keeps its dtype; uint8
    /// input is interpolated in float32 and rounded and clamped back to uint8 (as OpenCV does on
    /// 8-bit images). Always returns a new tensor.
    /// </summary>
    public static Tensor Resize(Tensor image, int height, int width)
    {
        var (h, w) = SizeOf(image);
        if (height <= 0 || width <= 0)
            throw new ArgumentException($"Target size must be positive, got {height}x{width} (HxW).");
        bool isByte = image.dtype == ScalarType.Byte;
        if (!isByte && !image.is_floating_point())
            throw new ArgumentException($"Image dtype must be uint8 or floating point, got {image.dtype}.", nameof(image));
        if (h == height && w == width)
            return image.clone();
        using var scope = NewDisposeScope();
        bool batched = image.dim() == 4;
        var x = batched ? image : image.unsqueeze(0);
        if (isByte)
            x = x.to_type(ScalarType.Float32);
        var y = nn.functional.interpolate(x, size: new long[] { height, width },
            mode: InterpolationMode.Bilinear, align_corners: false);
        if (isByte)
        {
            using Scalar lo = 0.ToScalar(), hi = 255.ToScalar();
            y = y.round_().clamp_(lo, hi).to_type(ScalarType.Byte);
        }
        if (!batched)
            y = y.squeeze(0);
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Boxes (R,4k) multiplied by <paramref name="factor"/>; computed in float64 and returned as
    /// float32 (as py-faster-rcnn scales float64 RoIs before casting).
    /// </summary>
    public static Tensor ScaleBoxes(Tensor boxes, double factor)
    {
        ArgumentNullException.ThrowIfNull(boxes);
        if (boxes.dim() != 2 || boxes.shape[1] % 4 != 0)
            throw new ArgumentException($"boxes must have shape (R,4k), got ({string.Join(",", boxes.shape)}).", nameof(boxes));
        using var scope = NewDisposeScope();
        using var f = factor.ToScalar();
        return boxes.to_type(ScalarType.Float64).mul(f).to_type(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>(H, W) of an image tensor (C,H,W) or (N,C,H,W).</summary>
    internal static (int Height, int Width) SizeOf(Tensor image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.dim() != 3 && image.dim() != 4)
            throw new ArgumentException(
                $"Expected an image tensor (C,H,W) or (N,C,H,W), got ({string.Join(",", image.shape)}).", nameof(image));
        return (checked((int)image.shape[^2]), checked((int)image.shape[^1]));
    }
}
