using FastRcnn.Modeling.RoiHeads;
using FastRcnn.Ops;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Modeling.RoiHeads;

public class BoxHeadTests
{
    [Fact]
    public void Dense_and_factored_layers_have_their_state_dict_names_and_shapes()
    {
        using var generator = new Generator(1);
        using var dense = new BoxHead(60, 20, 10, generator);
        Assert.Equal(new Dictionary<string, long[]>
        {
            ["fc6.weight"] = [20, 60], ["fc6.bias"] = [20], ["fc7.weight"] = [10, 20], ["fc7.bias"] = [10],
        }, dense.state_dict().ToDictionary(p => p.Key, p => p.Value.shape));

        using var factored = new BoxHead(60, 20, 10, generator, ranks: new BoxHeadRanks(Fc6: 4));
        Assert.Equal(new Dictionary<string, long[]>
        {
            ["fc6.0.weight"] = [4, 60], ["fc6.1.weight"] = [20, 4], ["fc6.1.bias"] = [20], ["fc7.weight"] = [10, 20], ["fc7.bias"] = [10],
        }, factored.state_dict().ToDictionary(p => p.Key, p => p.Value.shape));
        Assert.Equal(10, factored.OutputWidth);
        Assert.Equal((20, 60), factored.Shape(BoxHeadLayer.Fc6));
    }

    [Fact]
    public void A_factored_layer_applies_the_product_of_its_factors_and_the_bias()
    {
        using var scope = NewDisposeScope();
        using var generator = new Generator(2);
        using var head = new BoxHead(60, 20, 10, generator, ranks: new BoxHeadRanks(Fc6: 4, Fc7: 3));
        head.eval();
        var first = randn(4, 60, generator: generator);
        var second = randn(20, 4, generator: generator);
        var bias = randn(20, generator: generator);
        head.SetFactors(BoxHeadLayer.Fc6, first, second, bias);
        Assert.True(head.Weight(BoxHeadLayer.Fc6).allclose(second.matmul(first), rtol: 1e-5, atol: 1e-5));
        var x = randn(5, 60, generator: generator);
        var expected = nn.functional.relu(x.matmul(second.matmul(first).t()).Add(bias));
        Assert.True(head.Fc6(x.reshape(5, 60, 1, 1)).allclose(expected, rtol: 1e-4, atol: 1e-4));
        Assert.Throws<InvalidOperationException>(() => head.SetDense(BoxHeadLayer.Fc6, zeros(20, 60), zeros(20)));
        Assert.Throws<ArgumentException>(() => head.SetFactors(BoxHeadLayer.Fc7, zeros(4, 20), zeros(10, 3), zeros(10)));
    }

    [Fact]
    public void Ranks_must_fit_the_layers()
    {
        using var generator = new Generator(3);
        Assert.Contains("fc7 (10×20) takes a rank from 1 to 10, got 11",
            Assert.Throws<ArgumentException>(() => new BoxHead(60, 20, 10, generator, ranks: new BoxHeadRanks(Fc7: 11))).Message);
        Assert.Throws<ArgumentException>(() => new BoxHead(60, 20, 10, generator, ranks: new BoxHeadRanks(Fc6: 0)));
        Assert.Null(BoxHead.RankError(60, 20, 10, new BoxHeadRanks(20, 10)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Bf16_compute_on_float32_weights_returns_float32_and_gives_float32_gradients_close_to_fp32(bool factored)
    {
        using var generator = new Generator(2);
        using var head = new BoxHead(60, 40, 30, generator, dropout: 0, ranks: factored ? new BoxHeadRanks(Fc6: 12, Fc7: 8) : null);
        using var x = randn([16, 60], generator: new Generator(3)).abs_();
        using var reference = head.forward(x);
        reference.sum().backward();
        var fp32Grads = head.parameters().Select(p => p.grad!.clone()).ToArray();
        foreach (var p in head.parameters()) p.grad!.zero_();

        head.ComputeType = ScalarType.BFloat16;          // mixed precision: the parameters stay float32
        using var y = head.forward(x);
        Assert.Equal(ScalarType.Float32, y.dtype);
        Assert.Equal(ScalarType.Float32, head.WeightType);
        Assert.True(y.allclose(reference, rtol: 0.03, atol: 0.03));
        Assert.True(y.sub(reference).abs().max().item<float>() > 0);   // it did compute in bfloat16
        y.sum().backward();
        var bf16Grads = head.parameters().Select(p => p.grad!).ToArray();
        for (int i = 0; i < bf16Grads.Length; i++)
        {
            Assert.Equal(ScalarType.Float32, bf16Grads[i].dtype);
            // Relative to the gradient's norm: a ReLU that flips on a rounded pre-activation moves a whole row, so no element-wise bound.
            double error = bf16Grads[i].sub(fp32Grads[i]).norm().item<float>() / fp32Grads[i].norm().item<float>();
            Assert.True(error <= 0.05, $"parameter {i}: relative error {error}");
        }
        Assert.Throws<ArgumentException>(() => head.ComputeType = ScalarType.Float16);
    }

    [Fact]
    public void Storing_the_weights_in_bf16_converts_them_in_place_and_computes_in_bf16()
    {
        using var generator = new Generator(4);
        using var head = new BoxHead(60, 40, 30, generator);
        head.eval();
        using var x = randn([8, 60], generator: new Generator(5)).abs_();
        using var reference = head.forward(x);
        head.StoreWeightsAs(ScalarType.BFloat16);
        Assert.Equal(ScalarType.BFloat16, head.WeightType);
        Assert.All(head.parameters(), p => Assert.Equal(ScalarType.BFloat16, p.dtype));
        Assert.Equal(ScalarType.BFloat16, head.ComputeType);
        using var y = head.forward(x);
        Assert.Equal(ScalarType.Float32, y.dtype);
        Assert.True(y.allclose(reference, rtol: 0.03, atol: 0.03));
    }
}
