using FastRcnn.Ops;
using static TorchSharp.torch;

namespace FastRcnn.Modeling;

/// <summary>
/// What training needs of one image, all in the pixels of the scaled image fed to the network
/// (SPEC §3.2): its proposals and its ground truth. Shape shorthand: P proposals, G ground-truth boxes.
/// </summary>
/// <param name="ProposalBoxes">(P,4) float32 proposals (x1, y1, x2, y2); P may be 0.</param>
/// <param name="GtBoxes">(G,4) float32 ground-truth boxes; G may be 0.</param>
/// <param name="GtClasses">(G) int64 classes 1..K.</param>
/// <param name="GtIgnore">
/// (G) bool, or null for none: crowd/ignore regions, left out of matching and never added as RoIs.
/// </param>
/// <param name="SampleKey">
/// Null, or the image's own key of random draws: then its RoI sampling, anchor sampling and dropout draw from generators
/// seeded by the key alone, whatever the other images of the batch (the trainer keys each image by its place in the
/// run's stream of images, so P processes with N images each draw what one process with N·P draws).
/// </param>
public sealed record ImageTargets(Tensor ProposalBoxes, Tensor GtBoxes, Tensor GtClasses, Tensor? GtIgnore = null, long? SampleKey = null)
{
    /// <summary>Throws <see cref="ArgumentException"/> naming <paramref name="what"/> when a shape or dtype is wrong.</summary>
    public void Validate(string what, int numClasses)
    {
        if (ProposalBoxes.dim() != 2 || ProposalBoxes.shape[1] != 4)
            throw new ArgumentException($"{what}: proposals must be (P,4), got {BoxOps.ShapeText(ProposalBoxes)}.");
        if (GtBoxes.dim() != 2 || GtBoxes.shape[1] != 4)
            throw new ArgumentException($"{what}: gt boxes must be (G,4), got {BoxOps.ShapeText(GtBoxes)}.");
        long g = GtBoxes.shape[0];
        if (GtClasses.dim() != 1 || GtClasses.shape[0] != g)
            throw new ArgumentException($"{what}: gt classes must be ({g}), got {BoxOps.ShapeText(GtClasses)}.");
        if (GtClasses.is_floating_point())
            throw new ArgumentException($"{what}: gt classes must be integers, got {GtClasses.dtype}.");
        if (GtIgnore is not null && (GtIgnore.dim() != 1 || GtIgnore.shape[0] != g || GtIgnore.dtype != ScalarType.Bool))
            throw new ArgumentException($"{what}: gt ignore flags must be bool ({g}), got {GtIgnore.dtype} {BoxOps.ShapeText(GtIgnore)}.");
        if (g > 0)
        {
            long min = GtClasses.min().item<long>(), max = GtClasses.max().item<long>();
            if (min < 1 || max > numClasses)
                throw new ArgumentException($"{what}: gt classes must lie in 1..{numClasses}, got values in [{min}, {max}].");
        }
    }
}
