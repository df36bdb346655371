using TorchSharp;
using static TorchSharp.torch;

namespace FastRcnn.Data.Transforms;

/// <summary>
/// Images of different sizes padded into one tensor: <see cref="Images"/> (N,C,Hmax,Wmax) with
/// image i in the top-left <c>Sizes[i].Height × Sizes[i].Width</c> corner and padding at the
/// bottom and right. Disposing it disposes <see cref="Images"/>.
/// </summary>
/// <param name="Images">The padded batch (N,C,Hmax,Wmax).</param>
/// <param name="Sizes">The unpadded (H, W) of each image, in batch order.</param>
public sealed record BatchedImages(Tensor Images, IReadOnlyList<(int Height, int Width)> Sizes) : IDisposable
{
    /// <summary>Disposes <see cref="Images"/>.</summary>
    public void Dispose() => Images.Dispose();
}

/// <summary>Batching of images for one forward pass: padding to a common size, and multi-scale pyramids.</summary>
public static class Batching
{
    /// <summary>SPEC §5 multi-scale shorter sides {480, 576, 688, 864, 1200}.</summary>
    public static IReadOnlyList<int> MultiScaleShortSides { get; } = new[] { 480, 576, 688, 864, 1200 };

    /// <summary>SPEC §5 multi-scale cap on the longer side, 2000 pixels.</summary>
    public const int MultiScaleMaxSize = 2000;

    /// <summary>
    /// Pads <paramref name="images"/>, each (C,H,W) of one dtype, channel count and device, into
    /// (N,C,Hmax,Wmax) filled with <paramref name="padValue"/> at the bottom and right. Hmax and
    /// Wmax are the largest H and W rounded up to a multiple of <paramref name="sizeDivisor"/>
    /// (e.g. the backbone stride 16; 1 = no rounding). With zero padding after pixel
    /// preprocessing, padded cells are the mean colour (as py-faster-rcnn's <c>im_list_to_blob</c>).
    /// </summary>
    public static BatchedImages Pad(IReadOnlyList<Tensor> images, int sizeDivisor = 1, double padValue = 0)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count == 0)
            throw new ArgumentException("At least one image is needed.", nameof(images));
        if (sizeDivisor < 1)
            throw new ArgumentOutOfRangeException(nameof(sizeDivisor), sizeDivisor, "sizeDivisor must be ≥ 1.");
        var first = images[0];
        var sizes = new (int Height, int Width)[images.Count];
        for (int i = 0; i < images.Count; i++)
        {
            var t = images[i];
            if (t.dim() != 3 || t.shape[0] != first.shape[0] || t.dtype != first.dtype ||
                t.device_type != first.device_type || t.device_index != first.device_index)
                throw new ArgumentException(
                    $"Image {i} is ({string.Join(",", t.shape)}) {t.dtype} on {t.device}; all images must be (C,H,W) " +
                    $"with C = {first.shape[0]}, dtype {first.dtype}, device {first.device}.", nameof(images));
            sizes[i] = (checked((int)t.shape[1]), checked((int)t.shape[2]));
        }
        long hMax = RoundUp(sizes.Max(s => s.Height), sizeDivisor);
        long wMax = RoundUp(sizes.Max(s => s.Width), sizeDivisor);
        using var pad = padValue.ToScalar();
        var batch = full(new long[] { images.Count, first.shape[0], hMax, wMax }, pad, first.dtype, first.device);
        using (NewDisposeScope())
        {
            for (int i = 0; i < images.Count; i++)
                batch[i].narrow(1, 0, sizes[i].Height).narrow(2, 0, sizes[i].Width).copy_(images[i]);
        }
        return new BatchedImages(batch, sizes);
    }

    /// <summary>
    /// The multi-scale pyramid of <paramref name="image"/> (C,H,W): one level per entry of
    /// <paramref name="shortSides"/> (in that order), each scaled by
    /// <see cref="ImageScaling.ScaleFactor"/> with <paramref name="maxSize"/> and carrying its factor.
    /// </summary>
    public static ImagePyramid Pyramid(Tensor image, IReadOnlyList<int> shortSides, int maxSize = MultiScaleMaxSize)
    {
        ArgumentNullException.ThrowIfNull(shortSides);
        if (shortSides.Count == 0)
            throw new ArgumentException("At least one scale is needed.", nameof(shortSides));
        var (h, w) = ImageScaling.SizeOf(image);
        if (image.dim() != 3)
            throw new ArgumentException($"Expected one image (C,H,W), got ({string.Join(",", image.shape)}).", nameof(image));
        var levels = new List<ScaledImage>(shortSides.Count);
        try
        {
            foreach (int s in shortSides)
                levels.Add(ImageScaling.Rescale(image, ImageScaling.ScaleFactor(h, w, s, maxSize)));
        }
        catch
        {
            levels.ForEach(l => l.Dispose());
            throw;
        }
        return new ImagePyramid(levels);
    }

    private static long RoundUp(long x, int m) => (x + m - 1) / m * m;
}
