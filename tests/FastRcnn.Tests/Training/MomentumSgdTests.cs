using FastRcnn.Modeling;
using FastRcnn.Ops;
using FastRcnn.Training;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Training;

/// <summary><see cref="MomentumSgd"/> makes torch.optim.SGD's updates (as set up by <see cref="OptimizerSetup.Sgd"/>), in place.</summary>
public sealed class MomentumSgdTests
{
    [Fact]
    public void Updates_equal_torch_sgd_with_caffe_groups_and_gradients_are_freed()
    {
        using var a = new TwoStageModel("small", 2, seed: 3);
        using var b = new TwoStageModel("small", 2, seed: 3);
        a.FreezeUpTo(0);
        b.FreezeUpTo(0);
        using var reference = OptimizerSetup.Sgd(a, learningRate: 0.01, momentum: 0.9, weightDecay: 0.0005);
        using var ours = new MomentumSgd(b, learningRate: 0.01, momentum: 0.9, weightDecay: 0.0005);
        Assert.DoesNotContain("features.0.weight", ours.ParameterNames);
        var grads = b.named_parameters().ToDictionary(p => p.name, p => randn(p.parameter.shape, generator: manual_seed(p.name.Length)));
        for (int step = 0; step < 3; step++)
        {
            var lookup = a.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            foreach (var (name, p) in a.named_parameters()) if (p.requires_grad) p.grad = grads[name].Mul(step + 1).clone();
            foreach (var (name, p) in b.named_parameters()) if (p.requires_grad) p.grad = grads[name].Mul(step + 1).clone();
            reference.step();
            ours.Step();
            foreach (var (name, p) in b.named_parameters())
            {
                Assert.True(p.allclose(lookup[name], rtol: 1e-6, atol: 1e-7), $"step {step}: {name}");
                Assert.Null(p.grad);                                   // consumed and freed
            }
        }
        Assert.Equal(ours.ParameterNames.Order(), ours.MomentumBuffers.Keys.Order());

        // Momentum round trip (checkpoints): a copy continues identically.
        using var c = new TwoStageModel("small", 2, seed: 3);
        c.FreezeUpTo(0);
        using (no_grad()) foreach (var (name, p) in c.named_parameters()) p.copy_(b.named_parameters().First(q => q.name == name).parameter);
        using var resumed = new MomentumSgd(c, learningRate: 0.01);
        resumed.LoadMomentum(ours.MomentumBuffers);
        foreach (var (name, p) in b.named_parameters()) if (p.requires_grad) p.grad = grads[name].clone();
        foreach (var (name, p) in c.named_parameters()) if (p.requires_grad) p.grad = grads[name].clone();
        ours.Step();
        resumed.Step();
        foreach (var (name, p) in c.named_parameters())
            Assert.True(FastRcnn.Tests.Modeling.ModelingTestData.Same(p, b.named_parameters().First(q => q.name == name).parameter), name);
        Assert.Throws<ArgumentException>(() => resumed.LoadMomentum(new Dictionary<string, Tensor> { ["features.0.weight"] = zeros(1) }));
    }
}
