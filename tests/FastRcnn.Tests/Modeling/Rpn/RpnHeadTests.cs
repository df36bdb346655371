using FastRcnn.Modeling.Rpn;
using FastRcnn.Ops;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Modeling.Rpn;

public sealed class RpnHeadTests
{
    [Fact]
    public void State_dict_names_shapes_and_init()
    {
        using var generator = new Generator(1);
        using var head = new RpnHead(inChannels: 32, anchorsPerCell: 9, generator, channels: 64);
        var state = head.state_dict();
        Assert.Equal(new Dictionary<string, long[]>
        {
            ["conv.weight"] = [64, 32, 3, 3], ["conv.bias"] = [64],
            ["cls_logits.weight"] = [9, 64, 1, 1], ["cls_logits.bias"] = [9],
            ["bbox_pred.weight"] = [36, 64, 1, 1], ["bbox_pred.bias"] = [36],
        }, state.ToDictionary(p => p.Key, p => p.Value.shape));
        Assert.InRange(state["conv.weight"].std().item<float>(), 0.0095, 0.0105);     // 18432 draws of N(0, 0.01²)
        Assert.InRange(state["bbox_pred.weight"].std().item<float>(), 0.009, 0.011);
        Assert.Equal(0, state["conv.bias"].abs().sum().item<float>());
        Assert.Equal(0, state["bbox_pred.bias"].abs().sum().item<float>());

        using var same = new RpnHead(32, 9, new Generator(1), channels: 64);
        Assert.True(ModelingTestData.Same(same.state_dict()["bbox_pred.weight"], state["bbox_pred.weight"]));
    }

    [Fact]
    public void Forward_shapes_and_a_3x3_conv_relu_1x1_network()
    {
        using var generator = new Generator(2);
        using var head = new RpnHead(8, 3, generator, channels: 16);
        var x = randn(2, 8, 5, 7, generator: generator);
        var (objectness, deltas) = head.forward(x);
        Assert.Equal(new long[] { 2, 3, 5, 7 }, objectness.shape);
        Assert.Equal(new long[] { 2, 12, 5, 7 }, deltas.shape);

        var state = head.state_dict();
        var hidden = nn.functional.relu(nn.functional.conv2d(x, state["conv.weight"], state["conv.bias"], padding: [1, 1]));
        Assert.True(objectness.allclose(nn.functional.conv2d(hidden, state["cls_logits.weight"], state["cls_logits.bias"]), 1e-5, 1e-6));
        Assert.True(deltas.allclose(nn.functional.conv2d(hidden, state["bbox_pred.weight"], state["bbox_pred.bias"]), 1e-5, 1e-6));
    }

    [Fact]
    public void Flattening_follows_the_anchor_order_y_x_a()
    {
        long n = 2, a = 3, h = 4, w = 5;
        var objectness = SafeScalars.Arange(n * a * h * w, dtype: float32).reshape(n, a, h, w);
        var deltas = SafeScalars.Arange(n * 4 * a * h * w, dtype: float32).reshape(n, 4 * a, h, w);
        var flatObjectness = RpnHead.FlattenObjectness(objectness);
        var flatDeltas = RpnHead.FlattenDeltas(deltas);
        Assert.Equal(new long[] { n, h * w * a }, flatObjectness.shape);
        Assert.Equal(new long[] { n, h * w * a, 4 }, flatDeltas.shape);
        for (long i = 0; i < n; i++)
            for (long y = 0; y < h; y++)
                for (long x = 0; x < w; x++)
                    for (long k = 0; k < a; k++)
                    {
                        long anchor = (y * w + x) * a + k;
                        Assert.Equal(objectness[i, k, y, x].item<float>(), flatObjectness[i, anchor].item<float>());
                        for (long c = 0; c < 4; c++)
                            Assert.Equal(deltas[i, 4 * k + c, y, x].item<float>(), flatDeltas[i, anchor, c].item<float>());
                    }
    }
}
