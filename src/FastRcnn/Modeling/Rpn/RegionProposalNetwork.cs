using FastRcnn.Modeling.Matching;
using FastRcnn.Ops;
using TorchSharp;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace FastRcnn.Modeling.Rpn;

/// <summary>
/// What the <see cref="RegionProposalNetwork"/> returns for a batch of N images.
/// </summary>
/// <param name="Proposals">Per image, (P,4) float32 proposals in scaled-image pixels, best first, without gradient.</param>
/// <param name="Scores">Per image, (P) their objectness probabilities, without gradient.</param>
/// <param name="Losses">
/// <see cref="RpnLoss.ClassificationName"/> and <see cref="RpnLoss.BoxRegressionName"/> (scalars with gradient) when
/// ground truth was given, else null.
/// </param>
/// <param name="SampledAnchors">S, the anchors sampled over the batch, which both losses are divided by (0 without losses).</param>
public sealed record RpnOutput(IReadOnlyList<Tensor> Proposals, IReadOnlyList<Tensor> Scores, IReadOnlyDictionary<string, Tensor>? Losses, long SampledAnchors = 0);

/// <summary>
/// Faster R-CNN's region proposal network (Ren et al., §3.1) on a trunk's feature map: the <see cref="RpnHead"/>
/// scores and regresses the A anchors of every cell (<see cref="AnchorGenerator"/>); the <see cref="ProposalLayer"/>
/// turns them into each image's proposals (training or test top-N by the module's mode, <c>train()</c>/<c>eval()</c>);
/// with ground truth, <see cref="AnchorTargets"/> samples each image's anchors (<see cref="Matcher"/>,
/// <see cref="BalancedSampler"/>) and <see cref="RpnLoss"/> gives the two losses, over all images' sampled anchors
/// together. Proposals are detached: the detector behind them does not backpropagate into the RPN through the box
/// coordinates (the paper's approximate joint training).
/// Shape shorthand: N images, C trunk channels, h×w feature map, A anchors per cell, P proposals, G ground-truth boxes.
/// </summary>
/// <remarks>
/// State-dict names: <c>head.conv.weight</c>, <c>head.conv.bias</c>, <c>head.cls_logits.*</c>, <c>head.bbox_pred.*</c>.
/// Anchor sampling draws from the module's own generator (seeded; <see cref="Reseed"/>), so the same seed and inputs
/// give the same losses.
/// </remarks>
public sealed class RegionProposalNetwork : nn.Module<Tensor, IReadOnlyList<RpnImage>, IReadOnlyList<Tensor>?, RpnOutput>
{
    [ComponentName(Name = "head")] private readonly RpnHead _head;
    private readonly AnchorGenerator _anchors;
    private readonly Matcher _matcher;
    private readonly BalancedSampler _sampler;

    /// <summary>
    /// An RPN on <paramref name="inChannels"/> (C) trunk channels of stride <paramref name="featureStride"/> pixels
    /// (1 / the backbone's spatial scale), its head initialised from <paramref name="initGenerator"/>, its anchor
    /// sampling drawn from a generator seeded with <paramref name="seed"/>.
    /// </summary>
    public RegionProposalNetwork(int inChannels, double featureStride, Generator initGenerator, RpnOptions? options = null, long seed = 0)
        : base(nameof(RegionProposalNetwork))
    {
        Options = options ?? new RpnOptions();
        Options.Validate();
        _anchors = new AnchorGenerator(Options.AnchorSizes, Options.AspectRatios, featureStride);
        _head = new RpnHead(inChannels, _anchors.AnchorsPerCell, initGenerator, Options.HeadChannels);
        _matcher = new Matcher(Options.MatcherOptions);
        _sampler = new BalancedSampler(Options.SamplerOptions, seed);
        RegisterComponents();
    }

    public RpnOptions Options { get; }

    /// <summary>The anchors of this RPN.</summary>
    public AnchorGenerator Anchors => _anchors;

    /// <summary>The head (objectness and box deltas per anchor).</summary>
    public RpnHead Head => _head;

    /// <summary>The proposal layer's settings at test time instead of <see cref="RpnOptions.ProposalOptions"/>'s (null: those).</summary>
    public ProposalLayerOptions? TestProposalOptions { get; set; }

    /// <summary>Mixed into an image's <see cref="RpnImage.SampleKey"/>: its anchor draws are independent of its RoI draws.</summary>
    private const long AnchorKeyMask = 0x2545F4914F6CDD1D;

    /// <summary>Restarts the anchor sampling from <paramref name="seed"/> (the trainer reseeds every iteration).</summary>
    public void Reseed(long seed) => _sampler.Reseed(seed);

    /// <summary>
    /// Proposals for the images of <paramref name="features"/> (N,C,h,w) — per image its scaled (unpadded) size and
    /// scale factor — and, when <paramref name="gtBoxes"/> (per image (G,4), non-ignored, scaled pixels) is given, the
    /// RPN losses. Same as <c>forward</c>.
    /// </summary>
    public RpnOutput Forward(Tensor features, IReadOnlyList<RpnImage> images, IReadOnlyList<Tensor>? gtBoxes = null) =>
        call(features, images, gtBoxes);

    public override RpnOutput forward(Tensor features, IReadOnlyList<RpnImage> images, IReadOnlyList<Tensor>? gtBoxes)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (features.dim() != 4)
            throw new ArgumentException($"RPN features must be (N,C,h,w), got {BoxOps.ShapeText(features)}.", nameof(features));
        long n = features.shape[0], h = features.shape[2], w = features.shape[3];
        if (images.Count != n)
            throw new ArgumentException($"The RPN needs one image size per feature map: {n} maps, {images.Count} sizes.", nameof(images));
        if (gtBoxes is not null && gtBoxes.Count != n)
            throw new ArgumentException($"The RPN needs one ground-truth set per image: {n} images, {gtBoxes.Count} sets.", nameof(gtBoxes));
        for (int i = 0; i < n; i++)
        {
            images[i].Validate($"RPN image {i}");
            if (gtBoxes is not null && (gtBoxes[i].dim() != 2 || gtBoxes[i].shape[1] != 4))
                throw new ArgumentException($"RPN image {i}: ground-truth boxes must be (G,4), got {BoxOps.ShapeText(gtBoxes[i])}.", nameof(gtBoxes));
        }

        using var scope = NewDisposeScope();
        var (objectness, deltas) = _head.forward(features);
        var flatObjectness = RpnHead.FlattenObjectness(objectness);                     // (N, h·w·A)
        var flatDeltas = RpnHead.FlattenDeltas(deltas);                                 // (N, h·w·A, 4)
        var anchors = _anchors.Anchors(h, w, features.device);                          // (h·w·A, 4)

        var proposalOptions = training ? Options.ProposalOptions(true) : TestProposalOptions ?? Options.ProposalOptions(false);
        var proposals = new List<Tensor>((int)n);
        var scores = new List<Tensor>((int)n);
        for (int i = 0; i < n; i++)
        {
            var (boxes, probabilities) = ProposalLayer.Propose(anchors, flatObjectness[i], flatDeltas[i], images[i], proposalOptions);
            proposals.Add(boxes.MoveToOuterDisposeScope());
            scores.Add(probabilities.MoveToOuterDisposeScope());
        }
        if (gtBoxes is null) return new RpnOutput(proposals, scores, null);

        var sampledLogits = new List<Tensor>((int)n);
        var sampledLabels = new List<Tensor>((int)n);
        var positiveDeltas = new List<Tensor>((int)n);
        var boxTargets = new List<Tensor>((int)n);
        for (int i = 0; i < n; i++)
        {
            if (images[i].SampleKey is { } key) _sampler.Reseed(key ^ AnchorKeyMask);
            var targets = AnchorTargets.Create(anchors, images[i].Height, images[i].Width, gtBoxes[i].to(features.device), _matcher, _sampler,
                Options.AllowedBorder);
            sampledLogits.Add(flatObjectness[i].index_select(0, targets.SampledIndices()));
            sampledLabels.Add(targets.SampledLabels());
            positiveDeltas.Add(flatDeltas[i].index_select(0, targets.Positive));
            boxTargets.Add(targets.BoxTargets);
        }
        var allLogits = cat(sampledLogits, 0);
        var losses = RpnLoss.Compute(allLogits, cat(sampledLabels, 0), cat(positiveDeltas, 0), cat(boxTargets, 0), Options.Sigma);
        foreach (var loss in losses.Values) loss.MoveToOuterDisposeScope();
        return new RpnOutput(proposals, scores, losses, allLogits.shape[0]);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _anchors.Dispose();
            _sampler.Dispose();
        }
        base.Dispose(disposing);
    }
}
