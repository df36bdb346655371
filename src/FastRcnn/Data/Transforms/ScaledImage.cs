using TorchSharp;
using static TorchSharp.torch;

namespace FastRcnn.Data.Transforms;

/// <summary>
/// How one image was resized: original size H×W, resized size H'×W' and the scale factor
/// <c>s</c> (SPEC §3 step 2). Boxes and proposals follow the image by multiplying with
/// <see cref="Factor"/>; detections on the resized image map back by dividing by it.
/// </summary>
/// <remarks>
/// H' = round(H·s) and W' = round(W·s), so the actual per-axis ratios <see cref="FactorY"/> and
/// <see cref="FactorX"/> may differ from s by up to 0.5/H and 0.5/W. Like py-faster-rcnn, boxes
/// use the single factor s.
/// </remarks>
/// <param name="OriginalHeight">H, rows of the original image.</param>
/// <param name="OriginalWidth">W, columns of the original image.</param>
/// <param name="Height">H', rows after resizing.</param>
/// <param name="Width">W', columns after resizing.</param>
/// <param name="Factor">s, the scale factor applied to the image and to boxes.</param>
public readonly record struct ImageScale(int OriginalHeight, int OriginalWidth, int Height, int Width, double Factor)
{
    /// <summary>The identity scale of an H×W image.</summary>
    public static ImageScale Identity(int height, int width) => new(height, width, height, width, 1.0);

    /// <summary>Actual vertical ratio H'/H.</summary>
    public double FactorY => (double)Height / OriginalHeight;

    /// <summary>Actual horizontal ratio W'/W.</summary>
    public double FactorX => (double)Width / OriginalWidth;

    /// <summary>Boxes (R,4k) of the original image → boxes of the resized image: <c>b·s</c>, float32.</summary>
    public Tensor ToScaled(Tensor boxes) => ImageScaling.ScaleBoxes(boxes, Factor);

    /// <summary>Boxes (R,4k) on the resized image (e.g. detections) → original-image boxes: <c>b/s</c>, float32.</summary>
    public Tensor ToOriginal(Tensor boxes) => ImageScaling.ScaleBoxes(boxes, 1.0 / Factor);
}

/// <summary>
/// A resized image tensor (C,H',W') or (N,C,H',W') with its <see cref="ImageScale"/>.
/// Disposing it disposes <see cref="Image"/>.
/// </summary>
/// <param name="Image">The resized image.</param>
/// <param name="Scale">Sizes and factor of the resize.</param>
public sealed record ScaledImage(Tensor Image, ImageScale Scale) : IDisposable
{
    /// <summary>Disposes <see cref="Image"/>.</summary>
    public void Dispose() => Image.Dispose();
}
