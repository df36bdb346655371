using FastRcnn.Modeling;
using FastRcnn.Ops;
using TorchSharp.Modules;
using static FastRcnn.Tests.Modeling.ModelingTestData;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Modeling;

public sealed class OptimizerSetupTests
{
    [Fact]
    public void Two_groups_weights_decayed_biases_at_twice_the_rate_frozen_left_out()
    {
        using var model = new TwoStageModel("small", numClasses: 2, options: new TwoStageOptions { FrozenPrefixes = ["features.0."] });
        using var optimizer = OptimizerSetup.Sgd(model, learningRate: 0.001);
        var groups = optimizer.ParamGroups.Cast<SGD.ParamGroup>().ToList();
        Assert.Equal(2, groups.Count);
        var (weights, biases) = (groups[0], groups[1]);
        Assert.Equal((0.001, 0.0005, 0.9), (weights.Options.LearningRate!.Value, weights.Options.weight_decay!.Value, weights.Options.momentum!.Value));
        Assert.Equal((0.002, 0.0, 0.9), (biases.Options.LearningRate!.Value, biases.Options.weight_decay!.Value, biases.Options.momentum!.Value));
        Assert.Equal(8, weights.Parameters.Count());        // 5 convs + fc6 + fc7 + 2 predictor layers − frozen conv1
        Assert.Equal(8, biases.Parameters.Count());
        Assert.All(weights.Parameters.Concat(biases.Parameters), p => Assert.True(p.requires_grad));
    }

    [Fact]
    public void First_step_applies_decay_to_weights_and_double_rate_to_biases()
    {
        // With empty momentum buffers the first step is w ← w − lr·(g + 0.0005·w), b ← b − 2·lr·g.
        using var model = new TwoStageModel("small", numClasses: 2, seed: 4);
        model.eval();   // no dropout: the gradient is that of the recorded graph
        var (images, targets) = Batch(model, seed: 5, count: 1, height: 64, width: 64);
        const double lr = 0.01;
        using var optimizer = OptimizerSetup.Sgd(model, lr);
        optimizer.zero_grad();
        model.Loss(images, targets).Total().backward();
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var w = parameters["box_head.fc7.weight"];
        var b = parameters["predictor.cls_score.bias"];
        var expectedW = w.detach() - w.grad!.Add(w.detach().Mul(0.0005)).Mul(lr);
        var expectedB = b.detach() - b.grad!.Mul(2 * lr);
        optimizer.step();
        Assert.True((w.detach() - expectedW).abs().max().item<float>() < 1e-7f);
        Assert.True((b.detach() - expectedB).abs().max().item<float>() < 1e-7f);
        Assert.True(b.grad!.abs().sum().item<float>() > 0);
    }
}
