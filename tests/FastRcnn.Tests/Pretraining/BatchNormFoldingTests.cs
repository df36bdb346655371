using FastRcnn.Modeling.Backbones;
using FastRcnn.Ops;
using FastRcnn.Pretraining;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Pretraining;

public sealed class BatchNormFoldingTests
{
    /// <summary>The BN trunk with made-up running statistics and affine parameters (as after training).</summary>
    private static Sequential TrainedLookingTrunk(long seed)
    {
        using var generator = new Generator((ulong)seed);
        var trunk = BackboneFactory.SmallWithBatchNorm(generator);
        using var noGrad = no_grad();
        foreach (var module in trunk.children().OfType<BatchNorm2d>())
        {
            module.running_mean!.uniform_(-0.5, 0.5, generator);
            module.running_var!.uniform_(0.2, 3.0, generator);
            module.weight!.uniform_(0.5, 1.5, generator);
            module.bias!.uniform_(-0.3, 0.3, generator);
        }
        trunk.eval();
        return trunk;
    }

    [Fact]
    public void Folded_plain_small_trunk_computes_the_batchnorm_trunk_in_eval_mode()
    {
        using var bnTrunk = TrainedLookingTrunk(3);
        var folded = BatchNormFolding.Fold(bnTrunk);
        var plain = BackboneFactory.Create("small", seed: 99).Trunk;
        var plainParams = plain.named_parameters().ToDictionary(p => "features." + p.name, p => p.parameter);
        Assert.Equal(plainParams.Keys.Order(), folded.Keys.Order());
        using (no_grad())
        {
            foreach (var (name, value) in folded) plainParams[name].copy_(value);
        }
        using var x = randn(2, 3, 64, 80, generator: new Generator(5));
        using var expected = bnTrunk.forward(x);
        using var actual = plain.forward(x);
        Assert.Equal(expected.shape, actual.shape);
        double maxDiff = (expected - actual).abs().max().item<float>();
        Assert.True(maxDiff < 1e-4 * Math.Max(1, expected.abs().max().item<float>()), $"max |difference| {maxDiff}");
        foreach (var t in folded.Values) t.Dispose();
        plain.Dispose();
    }

    [Fact]
    public void Folding_matches_the_formula_on_one_channel()
    {
        var conv = nn.Conv2d(1, 1, 1);
        var bn = nn.BatchNorm2d(1);
        using (no_grad())
        {
            conv.weight!.Fill_(2.0);
            conv.bias!.Fill_(1.0);
            bn.running_mean!.Fill_(0.5);
            bn.running_var!.Fill_(4.0 - 1e-5);   // √(σ² + ε) = 2
            bn.weight!.Fill_(3.0);
            bn.bias!.Fill_(0.25);
        }
        using var trunk = nn.Sequential(("0", conv), ("1", bn), ("2", nn.ReLU()));
        var folded = BatchNormFolding.Fold(trunk, "f.");
        // W' = 2·3/2 = 3; b' = (1 − 0.5)·3/2 + 0.25 = 1.
        Assert.Equal(["f.0.bias", "f.0.weight"], folded.Keys.Order());
        Assert.Equal(3.0, folded["f.0.weight"].item<float>(), 5);
        Assert.Equal(1.0, folded["f.0.bias"].item<float>(), 5);
    }

    [Fact]
    public void A_batchnorm_without_a_convolution_before_it_is_rejected()
    {
        using var trunk = nn.Sequential(("0", nn.BatchNorm2d(3)), ("1", nn.ReLU()));
        Assert.Throws<ArgumentException>(() => BatchNormFolding.Fold(trunk));
    }
}
