using System.Globalization;
using FastRcnn.Data;
using FastRcnn.Modeling;
using FastRcnn.Ops;
using FastRcnn.Proposals;
using TorchSharp;
using static TorchSharp.torch;

namespace FastRcnn.Training;

/// <summary>
/// RoI classification quality on a set of images, every labelled proposal counted (no sampling): a
/// proposal is foreground with the class of its best ground-truth box when their IoU is ≥ the foreground
/// threshold, background when its max IoU lies in [bg low, bg high) — the labels training uses (SPEC §5) —
/// and left out otherwise.
/// </summary>
/// <param name="Images">Images evaluated.</param>
/// <param name="Rois">Labelled proposals.</param>
/// <param name="ForegroundRois">Of those, foreground.</param>
/// <param name="Accuracy">Share whose arg-max class is their label.</param>
/// <param name="ForegroundAccuracy">The same over foreground proposals only (NaN without any).</param>
/// <param name="BackgroundAccuracy">The same over background proposals only (NaN without any).</param>
/// <param name="ClassificationLoss">Mean −log p_label, the softmax loss without dropout.</param>
public sealed record RoiMetrics(int Images, int Rois, int ForegroundRois, double Accuracy, double ForegroundAccuracy,
    double BackgroundAccuracy, double ClassificationLoss)
{
    /// <summary>The metrics by snake_case name, e.g. for <see cref="Trainer.Validator"/>.</summary>
    public IReadOnlyDictionary<string, double> ToDictionary() => new Dictionary<string, double>
    {
        ["roi_accuracy"] = Accuracy,
        ["fg_accuracy"] = ForegroundAccuracy,
        ["bg_accuracy"] = BackgroundAccuracy,
        ["cls_loss"] = ClassificationLoss,
        ["rois"] = Rois,
        ["fg_rois"] = ForegroundRois,
    };

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Images} images, {Rois} RoIs ({ForegroundRois} fg): accuracy {Accuracy:F3} (fg {ForegroundAccuracy:F3}, bg {BackgroundAccuracy:F3}), cls loss {ClassificationLoss:F3}");
}

/// <summary>Computes <see cref="RoiMetrics"/> with <see cref="TwoStageModel.Predict(TorchSharp.torch.Tensor, TorchSharp.torch.Tensor?)"/>.</summary>
public static class RoiEvaluation
{
    /// <summary>
    /// Evaluates <paramref name="model"/> on <paramref name="images"/> (unflipped, scaled to
    /// <paramref name="shortSide"/>, default the middle of <see cref="TrainingOptions.Scales"/>, capped at
    /// <see cref="TrainingOptions.MaxSize"/>), labelling proposals with the thresholds of <paramref name="options"/>.
    /// </summary>
    public static RoiMetrics Evaluate(TwoStageModel model, IReadOnlyList<ImageRecord> images, IProposalSource proposals,
        TrainingOptions options, int? shortSide = null, CancellationToken cancel = default)
    {
        int side = shortSide ?? options.Scales.Order().ElementAt(options.Scales.Count / 2);
        long rois = 0, fg = 0, correct = 0, fgCorrect = 0;
        double nll = 0;
        int evaluated = 0;
        foreach (var image in images)
        {
            cancel.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var (input, targets, _) = TrainingSample.Load(image, proposals, model.Pixels, SampleAugmentation.None, side, options.MaxSize, options.UseDifficult);
            evaluated++;
            var keepGt = targets.GtIgnore!.logical_not().nonzero().reshape(-1);
            var gtBoxes = targets.GtBoxes.index_select(0, keepGt);
            var gtClasses = targets.GtClasses.index_select(0, keepGt);
            var boxes = targets.ProposalBoxes;
            if (boxes.shape[0] == 0 || gtBoxes.shape[0] == 0) continue;
            var (maxIoU, matched) = BoxOps.PairwiseIoU(boxes, gtBoxes).max(1);
            using Scalar fgIoU = options.ForegroundIoU.ToScalar(), bgLow = options.BackgroundIoULow.ToScalar(), bgHigh = options.BackgroundIoUHigh.ToScalar();
            var isFg = maxIoU.ge(fgIoU);
            var isBg = maxIoU.ge(bgLow).logical_and_(maxIoU.lt(bgHigh)).logical_and_(isFg.logical_not());
            var labelled = isFg.logical_or(isBg).nonzero().reshape(-1);
            if (labelled.shape[0] == 0) continue;
            var labels = where(isFg, gtClasses.index_select(0, matched), zeros_like(matched)).index_select(0, labelled);
            var (probabilities, _) = model.Predict(input.unsqueeze(0), boxes.index_select(0, labelled));
            var hit = probabilities.argmax(1).eq(labels);
            using var zero = 0.ToScalar();
            var isFgLabel = labels.gt(zero);
            rois += labelled.shape[0];
            fg += isFgLabel.sum().item<long>();
            correct += hit.sum().item<long>();
            fgCorrect += hit.logical_and(isFgLabel).sum().item<long>();
            nll -= probabilities.gather(1, labels.unsqueeze(1)).ClampMin(1e-12).log().sum().item<float>();
        }
        long bg = rois - fg, bgCorrect = correct - fgCorrect;
        static double Ratio(long a, long b) => b > 0 ? (double)a / b : double.NaN;
        return new RoiMetrics(evaluated, (int)rois, (int)fg, Ratio(correct, rois), Ratio(fgCorrect, fg), Ratio(bgCorrect, bg),
            rois > 0 ? nll / rois : double.NaN);
    }
}
