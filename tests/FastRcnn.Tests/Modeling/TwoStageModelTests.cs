using FastRcnn.Modeling;
using FastRcnn.Modeling.RoiHeads;
using FastRcnn.Ops;
using TorchSharp;
using static FastRcnn.Tests.Modeling.ModelingTestData;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Modeling;

public sealed class TwoStageModelTests
{
    [Fact]
    public void Loss_samples_per_image_and_reports_diagnostics()
    {
        using var model = new TwoStageModel("small", numClasses: 3, seed: 1);
        model.train();
        var (images, targets) = Batch(model, seed: 2, count: 2, height: 96, width: 128);

        var output = model.Loss(images, targets);

        Assert.True(output.Stats.HasRois);
        Assert.Equal(0, output.Stats.SkippedImages);
        Assert.InRange(output.Stats.ForegroundRois, 2, 32);                    // ≤ 16 per image, at least each image's GTs
        Assert.True(output.Stats.RoiCount <= 128);
        // Fresh predictor (std 0.01 logits): classification ≈ log(K+1) = log 4.
        Assert.Equal(Math.Log(4), output.Losses[LossNames.Classification].item<float>(), 1);
        Assert.True(float.IsFinite(output.Losses[LossNames.BoxRegression].item<float>()));
        output.Total().backward();
        var grads = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad);
        Assert.True(grads["features.0.weight"]!.abs().sum().item<float>() > 0);   // through RoI pooling into the trunk
        Assert.True(grads["predictor.bbox_pred.weight"]!.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void Accuracy_is_the_share_of_rois_whose_top_class_is_their_label()
    {
        // A predictor that always says class k (cls_score weights 0, bias 10 on k) is right on exactly the RoIs labelled
        // k: with k = 0 the accuracy is B / (F + B), and over k = 0 … K the accuracies of the same sampled RoIs add up to 1.
        using var model = new TwoStageModel("small", numClasses: 3, seed: 1);
        model.eval();                                                            // no dropout: the logits are the bias
        var (images, targets) = Batch(model, seed: 2, count: 2, height: 96, width: 128);
        var parameters = model.Predictor.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        using var ten = 10.0.ToScalar();
        var stats = new List<RoiSampleStats>();
        for (int k = 0; k <= 3; k++)
        {
            using (no_grad())
            {
                parameters["cls_score.weight"].zero_();
                parameters["cls_score.bias"].zero_();
                parameters["cls_score.bias"][k].fill_(ten);
            }
            model.ReseedSampler(5);                                              // the same RoIs every time
            stats.Add(model.Loss(images, targets).Stats);
        }
        var background = stats[0];
        Assert.True(background.ForegroundRois > 0 && background.BackgroundRois > 0);
        Assert.Equal((double)background.BackgroundRois / background.RoiCount, background.Accuracy, 6);
        Assert.All(stats, s => Assert.Equal(background.RoiCount, s.RoiCount));
        Assert.Equal(1.0, stats.Sum(s => s.Accuracy), 6);
        Assert.True(stats.Skip(1).All(s => s.Accuracy <= (double)s.ForegroundRois / s.RoiCount));
    }

    [Fact]
    public void Images_without_rois_are_skipped_and_counted()
    {
        using var model = new TwoStageModel("small", numClasses: 3);
        var (images, targets) = Batch(model, seed: 3, count: 2, height: 64, width: 64);
        var withoutGt = new ImageTargets(targets[1].ProposalBoxes, Boxes(), zeros(0, int64));

        var oneSkipped = model.Loss(images, [targets[0], withoutGt]);
        Assert.Equal(1, oneSkipped.Stats.SkippedImages);
        Assert.True(oneSkipped.Stats.HasRois);

        var allSkipped = model.Loss(images, [withoutGt, withoutGt]);
        Assert.Equal(2, allSkipped.Stats.SkippedImages);
        Assert.False(allSkipped.Stats.HasRois);
        Assert.Equal(0f, allSkipped.Total().item<float>());
        Assert.True(double.IsNaN(allSkipped.Stats.Accuracy));
    }

    [Fact]
    public void Loss_rejects_bad_targets_naming_the_image()
    {
        using var model = new TwoStageModel("small", numClasses: 2);
        var (images, targets) = Batch(model, seed: 4, count: 2, height: 64, width: 64);
        var badClass = targets[1] with { GtClasses = SafeScalars.Full([targets[1].GtClasses.shape[0]], 5L, dtype: int64) };
        var error = Assert.Throws<ArgumentException>(() => model.Loss(images, [targets[0], badClass]));
        Assert.Contains("image 1", error.Message);
        Assert.Throws<ArgumentException>(() => model.Loss(images, [targets[0]]));
    }

    [Fact]
    public void Predict_gives_probabilities_and_clipped_class_boxes_without_touching_the_mode()
    {
        using var model = new TwoStageModel("small", numClasses: 3, seed: 5);
        model.train();
        var image = randn(1, 3, 80, 112);
        var proposals = Boxes([0, 0, 30, 30], [50, 40, 111, 79], [-5, -5, 200, 200]);

        var (probabilities, boxes) = model.Predict(image, proposals);
        var (again, boxesAgain) = model.Predict(image, proposals);

        Assert.Equal(new long[] { 3, 4 }, probabilities.shape);
        Assert.Equal(new long[] { 3, 16 }, boxes.shape);
        Assert.True(probabilities.sum(1).Sub(1).abs().max().item<float>() < 1e-5f);
        Assert.True(boxes.min().item<float>() >= 0);
        Assert.True(boxes.reshape(3, 8, 2).select(2, 0).max().item<float>() <= 112);
        Assert.True(boxes.reshape(3, 8, 2).select(2, 1).max().item<float>() <= 80);
        Assert.True(Same(probabilities, again) && Same(boxes, boxesAgain));     // dropout off
        Assert.True(model.training);
        Assert.False(probabilities.requires_grad);
        // Fresh bbox_pred (std 0.001, /10 or /5 by FixedStd): boxes are almost the proposals.
        Assert.True((boxes.narrow(1, 4, 4).narrow(0, 0, 2) - proposals.narrow(0, 0, 2)).abs().max().item<float>() < 0.5f);

        var (none, noneBoxes) = model.Predict(image, Boxes());
        Assert.Equal(new long[] { 0, 4 }, none.shape);
        Assert.Equal(new long[] { 0, 16 }, noneBoxes.shape);
    }

    [Fact]
    public void Predict_decodes_with_the_models_box_coder()
    {
        // bbox_pred all zero except a bias of dx = 1 for class 1: FixedStd decodes 1/10 of the width, Unit a whole width.
        foreach (var (coder, shift) in new[] { (BoxCoder.FixedStd, 2f), (BoxCoder.Unit, 20f) })
        {
            using var model = new TwoStageModel("small", numClasses: 1, options: new TwoStageOptions { BoxCoder = coder });
            var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            using (no_grad())
            {
                parameters["predictor.bbox_pred.weight"].zero_();
                parameters["predictor.bbox_pred.bias"].zero_();
                parameters["predictor.bbox_pred.bias"][4] = tensor(1f);
            }
            var (_, boxes) = model.Predict(randn(1, 3, 64, 64), Boxes([10, 10, 30, 30]));
            Assert.Equal(new[] { 10 + shift, 10, 30 + shift, 30 }, boxes[0].narrow(0, 4, 4).data<float>().ToArray());
        }
    }

    [Fact]
    public void Predictor_init_is_the_papers_and_seeded()
    {
        using var a = new TwoStageModel("small", numClasses: 20, seed: 9);
        using var b = new TwoStageModel("small", numClasses: 20, seed: 9);
        var sa = a.state_dict();
        var sb = b.state_dict();
        Assert.Equal(new long[] { 21, 512 }, sa["predictor.cls_score.weight"].shape);
        Assert.Equal(new long[] { 84, 512 }, sa["predictor.bbox_pred.weight"].shape);
        Assert.Equal(0.01, sa["predictor.cls_score.weight"].std().item<float>(), 3);
        Assert.Equal(0.001, sa["predictor.bbox_pred.weight"].std().item<float>(), 4);
        Assert.Equal(0f, sa["predictor.cls_score.bias"].abs().max().item<float>());
        Assert.Equal(0f, sa["predictor.bbox_pred.bias"].abs().max().item<float>());
        Assert.All(sa.Keys, k => Assert.True(Same(sa[k], sb[k]), k));
    }

    [Fact]
    public void Frozen_layers_stay_fixed_under_sgd_while_the_rest_learn()
    {
        using var model = new TwoStageModel("small", numClasses: 3, seed: 6, options: new TwoStageOptions { FrozenPrefixes = ["features.0.", "features.2."] });
        Assert.Equal(["features.0.", "features.2."], model.FrozenPrefixes);
        model.train();
        var before = model.state_dict().ToDictionary(p => p.Key, p => p.Value.clone());
        using var optimizer = OptimizerSetup.Sgd(model, learningRate: 0.01);
        var (images, targets) = Batch(model, seed: 7, count: 2, height: 64, width: 96);
        for (int step = 0; step < 3; step++)
        {
            optimizer.zero_grad();
            model.Loss(images, targets).Total().backward();
            optimizer.step();
        }
        var after = model.state_dict();
        foreach (var name in new[] { "features.0.weight", "features.0.bias", "features.2.weight", "features.2.bias" })
            Assert.True(Same(before[name], after[name]), name);
        foreach (var name in new[] { "features.4.weight", "features.8.weight", "box_head.fc6.weight", "box_head.fc7.bias", "predictor.cls_score.weight", "predictor.bbox_pred.bias" })
            Assert.False(Same(before[name], after[name]), name);
    }

    [Fact]
    public void FreezeUpTo_and_backbone_defaults()
    {
        using var model = new TwoStageModel("small", numClasses: 1);
        Assert.All(model.parameters(), p => Assert.True(p.requires_grad));   // small: nothing frozen by default
        model.FreezeUpTo(3);
        var frozen = model.named_parameters().Where(p => !p.parameter.requires_grad).Select(p => p.name).ToList();
        Assert.Equal(["features.0.weight", "features.0.bias", "features.2.weight", "features.2.bias"], frozen);
        model.FreezeUpTo(-1);
        Assert.All(model.parameters(), p => Assert.True(p.requires_grad));
    }
}
