using FastRcnn.Modeling;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Modeling;

/// <summary>
/// <see cref="TwoStageModel.Features"/>: the frozen leading trunk modules run per image without autograd,
/// on channels-last activations; the features and the gradients of the trained layers are those of the plain forward.
/// </summary>
public sealed class FrozenTrunkTests
{
    [Fact]
    public void Frozen_prefix_counts_leading_modules_with_only_frozen_parameters()
    {
        using var vgg = new TwoStageModel("vgg16", 2);
        Assert.Equal(10, vgg.FrozenTrunkModules);              // conv1_1 … conv2_2 (0–7), ReLU (8), pool2 (9); conv3_1 trains
        using var small = new TwoStageModel("small", 2);
        Assert.Equal(0, small.FrozenTrunkModules);
        small.FreezeUpTo(2);                                     // conv, ReLU, conv
        Assert.Equal(4, small.FrozenTrunkModules);               // … and the parameter-free ReLU after it
        small.SetFrozenPrefixes(["features.2."]);                // the first conv trains: nothing to split off
        Assert.Equal(0, small.FrozenTrunkModules);
        small.SetFrozenPrefixes(["features."]);
        Assert.Equal(10, small.FrozenTrunkModules);
    }

    [Fact]
    public void Features_and_gradients_equal_the_plain_sequential_forward()
    {
        using var model = new TwoStageModel("small", 3, seed: 4);
        model.FreezeUpTo(2);
        model.train();
        var images = randn([2, 3, 70, 90], generator: manual_seed(1));
        var trunk = model.named_children().First(c => c.name == "features").module as nn.Module<Tensor, Tensor>;

        var reference = trunk!.forward(images);
        reference.sum().backward();
        var referenceGrads = model.named_parameters().Where(p => p.parameter.requires_grad && p.name.StartsWith("features.", StringComparison.Ordinal))
            .ToDictionary(p => p.name, p => p.parameter.grad!.clone());
        foreach (var p in model.parameters()) p.grad = null;

        var features = model.Features(images);
        Assert.Equal(reference.shape, features.shape);
        Assert.True(features.allclose(reference, rtol: 1e-4, atol: 1e-5));
        Assert.False(features.is_contiguous());                  // channels-last activations (N,H,W,C in memory)
        features.sum().backward();
        foreach (var (name, p) in model.named_parameters().Where(p => p.name.StartsWith("features.", StringComparison.Ordinal)))
        {
            if (referenceGrads.TryGetValue(name, out var expected)) Assert.True(p.grad!.allclose(expected, rtol: 1e-3, atol: 1e-5), name);
            else Assert.Null(p.grad);                             // frozen: no gradient at all
        }
    }
}
