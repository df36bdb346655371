namespace FastRcnn.Modeling;

/// <summary>
/// The members of the R-CNN family this library builds on one composition root (<see cref="TwoStageModel"/>).
/// They differ in where proposals come from, how region features are computed and what scores them; the trunk, box head and RoI heads are shared.
/// </summary>
public enum DetectorArchitecture
{
    /// <summary>Fast R-CNN (Girshick 2015): proposals are external (selective search or a proposal file).</summary>
    FastRcnn,

    /// <summary>Faster R-CNN (Ren et al. 2015): a region proposal network on the shared conv features.</summary>
    FasterRcnn,

    /// <summary>
    /// R-CNN (Girshick et al. 2014): external proposals, each warped and run through the whole network
    /// (<see cref="RegionFeatures.WarpedRegionExtractor"/>), scored by per-class SVMs with box regressors (<see cref="Svm.SvmStage"/>).
    /// </summary>
    Rcnn,
}

/// <summary>The architectures' names in files and on the command line (<c>fast-rcnn</c>, <c>faster-rcnn</c>, <c>rcnn</c>).</summary>
public static class DetectorArchitectures
{
    /// <summary>Every architecture, in the order of <see cref="DetectorArchitecture"/>.</summary>
    public static IReadOnlyList<DetectorArchitecture> All { get; } = Enum.GetValues<DetectorArchitecture>();

    /// <summary>The name of <paramref name="architecture"/>: <c>fast-rcnn</c>, <c>faster-rcnn</c> or <c>rcnn</c>.</summary>
    public static string Name(this DetectorArchitecture architecture) => architecture switch
    {
        DetectorArchitecture.FastRcnn => "fast-rcnn",
        DetectorArchitecture.FasterRcnn => "faster-rcnn",
        DetectorArchitecture.Rcnn => "rcnn",
        _ => throw new ArgumentOutOfRangeException(nameof(architecture), architecture, null),
    };

    /// <summary>Whether the architecture computes its own proposals (no proposal file or selective search needed).</summary>
    public static bool ProposesRegions(this DetectorArchitecture architecture) => architecture == DetectorArchitecture.FasterRcnn;

    /// <summary>Whether the architecture scores regions with a post-hoc SVM stage (<see cref="Svm.SvmStage"/>) trained after fine-tuning.</summary>
    public static bool UsesSvmStage(this DetectorArchitecture architecture) => architecture == DetectorArchitecture.Rcnn;

    /// <summary>Parses a name of <see cref="Name"/> (case-insensitive).</summary>
    /// <exception cref="ArgumentException">An unknown name (the message lists the known ones).</exception>
    public static DetectorArchitecture Parse(string name) =>
        All.FirstOrDefault(a => a.Name().Equals(name?.Trim(), StringComparison.OrdinalIgnoreCase), (DetectorArchitecture)(-1)) is var found && found >= 0
            ? found
            : throw new ArgumentException($"Unknown architecture '{name}' (known: {string.Join(", ", All.Select(a => a.Name()))}).");
}
