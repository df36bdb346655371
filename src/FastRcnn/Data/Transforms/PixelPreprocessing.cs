using FastRcnn.Ops;
using TorchSharp;
using static TorchSharp.torch;

namespace FastRcnn.Data.Transforms;

/// <summary>Order of the colour channels a backbone expects.</summary>
public enum ChannelOrder
{
    /// <summary>Red, green, blue (torchvision weights).</summary>
    Rgb,

    /// <summary>Blue, green, red (original Caffe models, OpenCV images).</summary>
    Bgr,
}

/// <summary>Three per-channel values, in the backbone's channel order (C0, C1, C2).</summary>
public readonly record struct ChannelValues(float C0, float C1, float C2)
{
    internal float[] ToArray() => new[] { C0, C1, C2 };
}

/// <summary>
/// A backbone's input convention (SPEC §2: pixel preprocessing belongs to the weights). From RGB
/// pixel values p in 0–255 (the decoder's output), <see cref="Apply"/> computes, per channel c of
/// the backbone's order, <c>y_c = (p_c · PixelScale − Mean_c) / Std_c</c>.
/// </summary>
/// <param name="Name">Stable name, e.g. for saving with a model (<see cref="FromName"/>).</param>
/// <param name="Order">Channel order the network takes.</param>
/// <param name="PixelScale">Multiplier of 0–255 values before the mean (1, or 1/255 for 0–1 inputs).</param>
/// <param name="Mean">Subtracted per channel, in <paramref name="Order"/>, after <paramref name="PixelScale"/>.</param>
/// <param name="Std">Divisor per channel, in <paramref name="Order"/>.</param>
public sealed record PixelPreprocessing(string Name, ChannelOrder Order, float PixelScale, ChannelValues Mean, ChannelValues Std)
{
    /// <summary>
    /// Original Caffe models (Fast R-CNN, py-faster-rcnn): BGR 0–255 minus the means
    /// (B, G, R) = (102.9801, 115.9465, 122.7717), no std division.
    /// </summary>
    public static PixelPreprocessing CaffeBgr { get; } =
        new("caffe-bgr", ChannelOrder.Bgr, 1f, new ChannelValues(102.9801f, 115.9465f, 122.7717f), new ChannelValues(1f, 1f, 1f));

    /// <summary>
    /// torchvision ImageNet weights: RGB scaled to 0–1, minus (0.485, 0.456, 0.406), divided by
    /// (0.229, 0.224, 0.225).
    /// </summary>
    public static PixelPreprocessing TorchvisionRgb { get; } =
        new("torchvision-rgb", ChannelOrder.Rgb, 1f / 255f, new ChannelValues(0.485f, 0.456f, 0.406f), new ChannelValues(0.229f, 0.224f, 0.225f));

    /// <summary>The preset named <paramref name="name"/> ("caffe-bgr" or "torchvision-rgb", case-insensitive).</summary>
    public static PixelPreprocessing FromName(string name) => name.ToLowerInvariant() switch
    {
        "caffe-bgr" => CaffeBgr,
        "torchvision-rgb" => TorchvisionRgb,
        _ => throw new ArgumentException($"Unknown pixel preprocessing '{name}' (known: caffe-bgr, torchvision-rgb).", nameof(name)),
    };

    /// <summary>
    /// Network input from RGB pixels (3,H,W) or (N,3,H,W), uint8 or floating with values
    /// 0–255 → float32 of the same shape, channels in <see cref="Order"/>.
    /// </summary>
    public Tensor Apply(Tensor rgb)
    {
        int ch = CheckImage(rgb);
        using var scope = NewDisposeScope();
        var (a, b) = Affine(rgb.dim(), rgb.device);                 // y = x·a + b
        var x = Reorder(rgb.to_type(ScalarType.Float32), ch);
        return x.mul(a).Add_(b).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The inverse of <see cref="Apply"/>: network input (3,H,W) or (N,3,H,W) → RGB float32 values
    /// 0–255 (not clamped; <c>RgbImage.FromTensor</c> rounds and clamps), for visualisation.
    /// </summary>
    public Tensor Invert(Tensor input)
    {
        int ch = CheckImage(input);
        using var scope = NewDisposeScope();
        var (a, b) = Affine(input.dim(), input.device);
        var x = input.to_type(ScalarType.Float32).sub(b).div_(a);       // x = (y − b) / a
        return Reorder(x, ch).MoveToOuterDisposeScope();
    }

    /// <summary>Per-channel a = PixelScale/Std and b = −Mean/Std, shaped to broadcast over (…,3,H,W).</summary>
    private (Tensor A, Tensor B) Affine(long dims, Device device)
    {
        var mean = Mean.ToArray();
        var std = Std.ToArray();
        var a = new float[3];
        var b = new float[3];
        for (int c = 0; c < 3; c++)
        {
            a[c] = PixelScale / std[c];
            b[c] = -mean[c] / std[c];
        }
        var shape = dims == 4 ? new long[] { 1, 3, 1, 1 } : new long[] { 3, 1, 1 };
        return (tensor(a, shape).to(device), tensor(b, shape).to(device));
    }

    /// <summary>RGB ↔ BGR (its own inverse) along the channel dim; RGB order returns the input.</summary>
    private Tensor Reorder(Tensor x, int channelDim) => Order == ChannelOrder.Bgr ? x.flip(channelDim) : x;

    private static int CheckImage(Tensor t)
    {
        ArgumentNullException.ThrowIfNull(t);
        int ch = t.dim() switch { 3 => 0, 4 => 1, _ => -1 };
        if (ch < 0 || t.shape[ch] != 3)
            throw new ArgumentException($"Expected a 3-channel image (3,H,W) or (N,3,H,W), got ({string.Join(",", t.shape)}).");
        if (t.dtype != ScalarType.Byte && !t.is_floating_point())
            throw new ArgumentException($"Image dtype must be uint8 or floating point, got {t.dtype}.");
        return ch;
    }
}
