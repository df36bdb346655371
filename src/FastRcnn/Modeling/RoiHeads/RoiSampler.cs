using FastRcnn.Modeling.Matching;
using FastRcnn.Ops;
using TorchSharp;
using static TorchSharp.torch;

namespace FastRcnn.Modeling.RoiHeads;

/// <summary>
/// Per-image RoI sampling of hierarchical (image-centric) mini-batches (SPEC §5). Defaults are the
/// paper's: 64 RoIs per image (128 over N = 2 images), 25% foreground.
/// </summary>
/// <param name="RoisPerImage">RoIs sampled per image at most (64).</param>
/// <param name="ForegroundFraction">Share of <paramref name="RoisPerImage"/> reserved for foreground (0.25 → 16).</param>
/// <param name="ForegroundIoU">A RoI is foreground when its max IoU with a ground-truth box is ≥ this (0.5).</param>
/// <param name="BackgroundIoUHigh">Background max IoU lies below this (0.5) …</param>
/// <param name="BackgroundIoULow">… and at or above this (0.1; the paper's hard-example floor; 0 = torchvision).</param>
/// <param name="AddGroundTruth">Append the (non-ignored) ground-truth boxes to the proposals (true).</param>
public sealed record RoiSamplerOptions(
    int RoisPerImage = 64,
    double ForegroundFraction = 0.25,
    double ForegroundIoU = 0.5,
    double BackgroundIoUHigh = 0.5,
    double BackgroundIoULow = 0.1,
    bool AddGroundTruth = true)
{
    /// <summary>Foreground quota per image: <c>round(ForegroundFraction · RoisPerImage)</c> (16), as the original.</summary>
    public int ForegroundPerImage => (int)Math.Round(ForegroundFraction * RoisPerImage, MidpointRounding.AwayFromZero);

    /// <summary>The <see cref="Matcher"/> thresholds: fg ≥ <see cref="ForegroundIoU"/>, bg [<see cref="BackgroundIoULow"/>, <see cref="BackgroundIoUHigh"/>), no low-quality matches.</summary>
    public MatcherOptions MatcherOptions => new(ForegroundIoU, BackgroundIoULow, BackgroundIoUHigh, AllowLowQualityMatches: false);

    /// <summary>The <see cref="BalancedSampler"/> batch: <see cref="RoisPerImage"/> RoIs, <see cref="ForegroundFraction"/> foreground.</summary>
    public BalancedSamplerOptions BalancedSamplerOptions => new(RoisPerImage, ForegroundFraction);
}

/// <summary>
/// The RoIs sampled from one image, foreground rows first. Shape shorthand: S = F + B sampled RoIs.
/// </summary>
/// <param name="ProposalBoxes">(S,4) the sampled boxes (proposals or appended ground truth).</param>
/// <param name="GtClasses">(S) int64 class of each RoI: the matched ground truth's for foreground, 0 for background.</param>
/// <param name="MatchedGtBoxes">(S,4) the ground-truth box of highest IoU (meaningful for foreground rows only).</param>
/// <param name="ForegroundCount">F, the leading foreground rows.</param>
/// <param name="BackgroundCount">B, the trailing background rows.</param>
public sealed record SampledRois(Tensor ProposalBoxes, Tensor GtClasses, Tensor MatchedGtBoxes, int ForegroundCount, int BackgroundCount)
{
    /// <summary>S, the number of sampled RoIs.</summary>
    public int Count => ForegroundCount + BackgroundCount;

    /// <summary>True when the image gave neither foreground nor background: the caller skips it (and counts it).</summary>
    public bool IsEmpty => Count == 0;

    /// <summary>An empty sample (S = 0).</summary>
    public static SampledRois Empty() =>
        new(zeros(0, 4, float32), zeros(0, int64), zeros(0, 4, float32), 0, 0);
}

/// <summary>
/// Samples each image's training RoIs (SPEC §5): ground truth is appended to the proposals; a box
/// whose max IoU with the (non-ignored) ground truth is ≥ 0.5 is foreground with that box's class;
/// one whose max IoU lies in [0.1, 0.5) is background (class 0); others are not used. Up to 16
/// foreground RoIs are drawn without replacement, then background fills the rest of the 64 (so fewer
/// foreground means more background). Draws come from a seeded generator: the same seed and the
/// same inputs give the same sample. Matching is the shared <see cref="Matcher"/> (<see cref="RoiSamplerOptions.MatcherOptions"/>),
/// drawing the shared <see cref="BalancedSampler"/>, whose generator calls (randperm of the foreground, then
/// of the background, each only when there are more candidates than places) are this class's since the start.
/// </summary>
public sealed class RoiSampler : IDisposable
{
    private readonly Matcher _matcher;
    private readonly BalancedSampler _sampler;

    /// <summary>A sampler whose draws come from a generator seeded with <paramref name="seed"/>.</summary>
    public RoiSampler(RoiSamplerOptions? options = null, long seed = 0)
    {
        Options = options ?? new RoiSamplerOptions();
        if (Options.RoisPerImage < 1) throw new ArgumentException($"RoisPerImage must be positive, got {Options.RoisPerImage}.");
        if (Options.ForegroundFraction is < 0 or > 1) throw new ArgumentException($"ForegroundFraction must lie in [0, 1], got {Options.ForegroundFraction}.");
        _matcher = new Matcher(Options.MatcherOptions);
        _sampler = new BalancedSampler(Options.BalancedSamplerOptions, seed);
    }

    public RoiSamplerOptions Options { get; }

    /// <summary>
    /// Samples the RoIs of one image (see the class summary); an empty result when it has no usable RoIs. An image with a
    /// <see cref="ImageTargets.SampleKey"/> reseeds the draws with it first.
    /// </summary>
    public SampledRois Sample(ImageTargets image)
    {
        if (image.SampleKey is { } key) _sampler.Reseed(key);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var keepGt = image.GtIgnore is null
            ? SafeScalars.Arange(image.GtBoxes.shape[0], dtype: int64)
            : image.GtIgnore.logical_not().nonzero().reshape(-1);
        var gtBoxes = image.GtBoxes.to_type(float32).index_select(0, keepGt);
        var gtClasses = image.GtClasses.to_type(int64).index_select(0, keepGt);
        if (gtBoxes.shape[0] == 0) return EmptyOutOfScope();   // no IoU ≥ 0.1 possible: neither fg nor bg

        var boxes = image.ProposalBoxes.to_type(float32);
        if (Options.AddGroundTruth) boxes = cat([boxes, gtBoxes], 0);
        var match = _matcher.Match(boxes, gtBoxes);                                   // (P+G) each
        var drawn = _sampler.Sample(match.Labels);
        int fgCount = drawn.PositiveCount, bgCount = drawn.NegativeCount;
        if (fgCount + bgCount == 0) return EmptyOutOfScope();

        var keep = cat([drawn.Positive, drawn.Negative], 0);
        var matchedKeep = match.MatchedGt.index_select(0, keep);
        var classes = gtClasses.index_select(0, matchedKeep);
        classes.narrow(0, fgCount, bgCount).zero_();
        var result = new SampledRois(boxes.index_select(0, keep).MoveToOuterDisposeScope(), classes.MoveToOuterDisposeScope(),
            gtBoxes.index_select(0, matchedKeep).MoveToOuterDisposeScope(), fgCount, bgCount);
        return result;
    }

    /// <summary>
    /// Restarts the draws from a generator seeded with <paramref name="seed"/>: the trainer reseeds every
    /// iteration from (run seed, iteration), so a resumed run draws what an uninterrupted one would.
    /// </summary>
    public void Reseed(long seed) => _sampler.Reseed(seed);

    public void Dispose() => _sampler.Dispose();

    /// <summary>An empty sample whose tensors survive the enclosing dispose scope of <see cref="Sample"/>.</summary>
    private static SampledRois EmptyOutOfScope()
    {
        var empty = SampledRois.Empty();
        return empty with
        {
            ProposalBoxes = empty.ProposalBoxes.MoveToOuterDisposeScope(),
            GtClasses = empty.GtClasses.MoveToOuterDisposeScope(),
            MatchedGtBoxes = empty.MatchedGtBoxes.MoveToOuterDisposeScope(),
        };
    }
}
