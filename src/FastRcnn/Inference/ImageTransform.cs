using FastRcnn.Data.Transforms;
using FastRcnn.Modeling;
using static TorchSharp.torch;

namespace FastRcnn.Inference;

/// <summary>
/// The test-time image transform (SPEC §2, §6): the image scaled so its shorter side is each of the test scales
/// (longer side capped at the max size), each level preprocessed for the backbone (<see cref="PixelPreprocessing"/>)
/// and the levels padded into one batch (zeros at the bottom and right).
/// </summary>
/// <param name="Scales">Shorter-side lengths s, one per level.</param>
/// <param name="MaxSize">Cap on the longer side.</param>
/// <param name="Pixels">The backbone's input convention.</param>
public sealed record ImageTransform(IReadOnlyList<int> Scales, int MaxSize, PixelPreprocessing Pixels)
{
    /// <summary>The levels of an RGB image (3,H,W), uint8 or float 0–255.</summary>
    public TestImage Apply(Tensor rgb)
    {
        if (rgb.dim() != 3 || rgb.shape[0] != 3)
            throw new ArgumentException($"image must be (3,H,W) RGB, got [{string.Join(", ", rgb.shape)}]", nameof(rgb));
        using var scope = NewDisposeScope();
        using var pyramid = new ImagePyramid(Scales.Select(s => ImageScaling.Scale(rgb, s, MaxSize)).ToArray());
        using var batch = Batching.Pad(pyramid.Levels.Select(l => Pixels.Apply(l.Image)).ToArray());
        return new TestImage(batch.Images.alias().MoveToOuterDisposeScope(), pyramid.Levels.Select(l => l.Scale).ToArray());
    }
}
