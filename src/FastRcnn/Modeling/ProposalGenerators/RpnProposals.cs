using FastRcnn.Modeling.Rpn;
using static TorchSharp.torch;

namespace FastRcnn.Modeling.ProposalGenerators;

/// <summary>
/// Faster R-CNN's proposal generator: the <see cref="RegionProposalNetwork"/> on the shared features. In training it
/// labels anchors against each image's non-ignored ground truth and returns <see cref="LossNames.RpnClassification"/>
/// and <see cref="LossNames.RpnBoxRegression"/>; its proposals are detached (approximate joint training).
/// </summary>
public sealed class RpnProposals(RegionProposalNetwork rpn) : IProposalGenerator, IReseedable
{
    /// <summary>The network.</summary>
    public RegionProposalNetwork Network { get; } = rpn;

    public bool ComputesProposals => true;

    public void Reseed(long seed) => Network.Reseed(seed);

    public ProposalOutput Propose(Tensor features, IReadOnlyList<InputImageSize> images, IReadOnlyList<ImageTargets>? targets)
    {
        var rpnImages = images.Select((i, k) => new RpnImage(i.Height, i.Width, i.ScaleFactor, targets?[k].SampleKey)).ToArray();
        var gt = targets?.Select(GroundTruthBoxes).ToArray();
        var output = Network.Forward(features, rpnImages, gt);
        var losses = new NamedLosses();
        if (output.Losses is { } named)
        {
            // Both are sums over the S sampled anchors divided by S (with S = 0: zero, normaliser 0).
            losses.Add(LossNames.RpnClassification, named[LossNames.RpnClassification], output.SampledAnchors);
            losses.Add(LossNames.RpnBoxRegression, named[LossNames.RpnBoxRegression], output.SampledAnchors);
        }
        foreach (var score in output.Scores) score.Dispose();
        return new ProposalOutput(output.Proposals, losses);
    }

    /// <summary>The ground-truth boxes the RPN learns from: all but ignore (crowd) regions.</summary>
    private static Tensor GroundTruthBoxes(ImageTargets t) =>
        t.GtIgnore is null ? t.GtBoxes : t.GtBoxes.index_select(0, t.GtIgnore.logical_not().nonzero().reshape(-1));
}
