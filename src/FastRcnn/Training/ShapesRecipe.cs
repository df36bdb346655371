using FastRcnn.Inference;
using FastRcnn.Modeling;
using FastRcnn.Modeling.Backbones;
using FastRcnn.Proposals;

namespace FastRcnn.Training;

/// <summary>
/// The built-in Shapes benchmark's recipe for fine-tuning the <c>small</c> backbone from its pre-trained weights
/// (<c>small-shapesnet</c>), shared by <c>fastrcnn demo</c> and <c>fastrcnn compare</c>; chosen on held-out Shapes
/// data (docs/pretraining.md).
/// </summary>
public static class ShapesRecipe
{
    /// <summary>
    /// Multi-scale testing (SPEC §6) at s ∈ {400, 600, 800, 1000}: the network trains at s = 400, where the smallest
    /// Shapes objects cover one or two feature cells; each RoI is pooled from the level where its side is closest to
    /// 96 px, about the size of the objects the small network was pre-trained on (48–112 px crops) — the role 224,
    /// ImageNet's input, plays for the paper's networks.
    /// </summary>
    public static DetectorOptions TestPyramid { get; } = new([400, 600, 800, 1000], MaxSize: 1333, CanonicalRoiSize: 96);

    /// <summary>
    /// <see cref="TrainingOptions.ShapesSmall"/> fine-tuned on <paramref name="dataset"/>'s <c>train</c> split for
    /// <paramref name="iterations"/> iterations (lr × 0.1 after 3/4 of them): proposals from selective search (or the
    /// model's own RPN), conv1 fixed when starting from <paramref name="weights"/>, background RoIs from [0, 0.5), any
    /// of the 8 orientations and a random channel order.
    /// </summary>
    public static TrainingOptions FineTuning(string dataset, int seed, string? weights, int iterations, DetectorArchitecture architecture,
        TrainingSchedule schedule = TrainingSchedule.Joint)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1);
        return (TrainingOptions.ShapesSmall with
        {
            Dataset = dataset, Split = "train", Proposals = architecture.ProposesRegions() ? ProposalSpec.RpnWord : ProposalSpec.Auto, Seed = seed,
            Weights = weights, Architecture = architecture, Schedule = schedule,
            // Alternating: each RPN step as long as each detector step, the last two (shared convs frozen) half as long.
            AlternatingIterations = schedule == TrainingSchedule.Alternating ? [iterations, iterations, iterations / 2, iterations / 2] : null,
            // From pre-trained weights conv1 stays fixed, as the paper keeps the first convolution of its S and M networks.
            FrozenPrefixes = weights is null ? null : BackboneSpec.FeaturesUpTo(1),
            // Background RoIs from [0, 0.5) instead of the paper's [0.1, 0.5): Shapes scatters distractor blobs far from
            // any object, which the 0.1 floor never shows the classifier (VOC07 0.763 → 0.779, docs/pretraining.md).
            BackgroundIoULow = 0,
            // Shapes are drawn at any angle and in any colour, so every channel order — and, with WithAnyOrientation below,
            // every 90° rotation and mirror image — is another valid training image; the paper's left–right flip alone
            // leaves 600 images overfitted (docs/pretraining.md).
            PermuteChannels = true,
            Iterations = iterations, LearningRateSteps = [(int)Math.Round(iterations * 0.75)],
            CheckpointEvery = Math.Max(100, iterations / 3),
        }).WithAnyOrientation();
    }
}
