using FastRcnn.Modeling.RegionFeatures;
using FastRcnn.Ops;
using static TorchSharp.torch;

namespace FastRcnn.Modeling.RoiHeads;

/// <summary>What the RoI heads' training step sampled, besides its losses.</summary>
/// <param name="ForegroundRois">Foreground RoIs sampled over the batch.</param>
/// <param name="BackgroundRois">Background RoIs sampled over the batch.</param>
/// <param name="SkippedImages">Images that gave neither foreground nor background RoIs.</param>
/// <param name="Accuracy">Share of sampled RoIs whose arg-max class is their label (NaN without RoIs).</param>
public sealed record RoiSampleStats(int ForegroundRois, int BackgroundRois, int SkippedImages, double Accuracy)
{
    /// <summary>R, the RoIs of the mini-batch.</summary>
    public int RoiCount => ForegroundRois + BackgroundRois;

    /// <summary>Whether any RoI was sampled.</summary>
    public bool HasRois => RoiCount > 0;
}

/// <summary>
/// The RoI heads of the family (detectron2's split): matching and sampling (<see cref="RoiSampler"/>: fg IoU ≥ 0.5,
/// bg in [0.1, 0.5), 64 per image, 25% fg), region features (<see cref="IRegionFeatureExtractor"/>), the box head
/// (fc6, fc7), the predictor (<c>cls_score</c> K+1, <c>bbox_pred</c> 4(K+1)) and the multi-task loss
/// (<see cref="FastRcnnLoss"/>, SPEC §5). The modules belong to the model that registers them (their state-dict
/// names stay <c>box_head.*</c>, <c>predictor.*</c>); this class only wires them.
/// Shape shorthand: N images, R RoIs, K object classes.
/// </summary>
public sealed class StandardRoiHeads
{
    private readonly IRegionFeatureExtractor _extractor;
    private readonly RoiSampler _sampler;
    private readonly BoxCoder _coder;
    private readonly double _boxLossWeight;

    public StandardRoiHeads(IRegionFeatureExtractor extractor, BoxHead boxHead, FastRcnnPredictor predictor, RoiSampler sampler,
        BoxCoder coder, double boxLossWeight)
    {
        _extractor = extractor;
        BoxHead = boxHead;
        Predictor = predictor;
        _sampler = sampler;
        _coder = coder;
        _boxLossWeight = boxLossWeight;
    }

    /// <summary>fc6 and fc7.</summary>
    public BoxHead BoxHead { get; }

    /// <summary><c>cls_score</c> and <c>bbox_pred</c>.</summary>
    public FastRcnnPredictor Predictor { get; }

    /// <summary>The region feature extractor.</summary>
    public IRegionFeatureExtractor Extractor => _extractor;

    /// <summary>The RoI sampler (reseeded by the trainer every iteration).</summary>
    public RoiSampler Sampler => _sampler;

    /// <summary>K.</summary>
    public int NumClasses => Predictor.NumClasses;

    /// <summary>
    /// Training: samples each image's RoIs from its <paramref name="proposals"/> (P_i,4) and ground truth (both in its
    /// scaled pixels), extracts all RoIs' features in one call, and returns <see cref="LossNames.Classification"/> and
    /// <see cref="LossNames.BoxRegression"/> (none when no image gave a RoI).
    /// </summary>
    public (NamedLosses Losses, RoiSampleStats Stats) Loss(RegionSource source, IReadOnlyList<Tensor> proposals, IReadOnlyList<ImageTargets> targets)
    {
        using var scope = NewDisposeScope();
        var samples = new List<(int Image, SampledRois Rois)>();
        for (int i = 0; i < targets.Count; i++)
        {
            var sample = _sampler.Sample(ReferenceEquals(proposals[i], targets[i].ProposalBoxes) ? targets[i] : targets[i] with { ProposalBoxes = proposals[i] });
            if (!sample.IsEmpty) samples.Add((i, sample));
        }
        int skipped = targets.Count - samples.Count;
        int fgCount = samples.Sum(s => s.Rois.ForegroundCount), bgCount = samples.Sum(s => s.Rois.BackgroundCount);
        if (samples.Count == 0) return (new NamedLosses(), new RoiSampleStats(0, 0, skipped, double.NaN));

        var boxes = cat(samples.Select(s => s.Rois.ProposalBoxes).ToArray(), 0);
        var batchIndex = tensor(samples.SelectMany(s => Enumerable.Repeat((float)s.Image, s.Rois.Count)).ToArray()).unsqueeze(1);
        var rois = cat([batchIndex, boxes], 1);
        var gtClasses = cat(samples.Select(s => s.Rois.GtClasses).ToArray(), 0);
        var matchedGt = cat(samples.Select(s => s.Rois.MatchedGtBoxes).ToArray(), 0);
        var (regressionTargets, regressionWeights) = RegressionTargets.Encode(_coder, boxes, matchedGt, gtClasses, NumClasses);

        bool keyed = samples.All(s => targets[s.Image].SampleKey is not null);
        BoxHead.DropoutKeys = keyed ? samples.Select(s => ((long)s.Rois.Count, targets[s.Image].SampleKey!.Value)).ToArray() : null;
        Tensor classLogits, boxDeltas;
        try
        {
            (classLogits, boxDeltas) = Score(source, rois);
        }
        finally
        {
            BoxHead.DropoutKeys = null;
        }
        var losses = FastRcnnLoss.Compute(classLogits, boxDeltas, gtClasses, regressionTargets, regressionWeights, _boxLossWeight);
        double accuracy = classLogits.detach().argmax(1).eq(gtClasses).to_type(float32).mean().item<float>();
        var named = new NamedLosses()
            .Add(LossNames.Classification, losses.Classification, rois.shape[0])
            .Add(LossNames.BoxRegression, _boxLossWeight == 1 ? losses.BoxRegression : losses.BoxRegression.Mul(_boxLossWeight), rois.shape[0])
            .MoveToOuterDisposeScope();
        return (named, new RoiSampleStats(fgCount, bgCount, skipped, accuracy));
    }

    /// <summary>
    /// Class logits (R, K+1) and box deltas (R, 4(K+1)) of <paramref name="rois"/> (R,5); with a
    /// <paramref name="clock"/>, the time of region features, fc6, fc7 and the predictor goes to their stages.
    /// </summary>
    public (Tensor ClassLogits, Tensor BoxDeltas) Score(RegionSource source, Tensor rois, StageClock? clock = null)
    {
        var regions = _extractor.Extract(source, rois);
        clock?.Lap(DetectionStage.RoiPooling);
        var fc6 = BoxHead.Fc6(regions);
        clock?.Lap(DetectionStage.Fc6);
        var fc7 = BoxHead.Fc7(fc6);
        clock?.Lap(DetectionStage.Fc7);
        return Predictor.forward(fc7);
    }
}
