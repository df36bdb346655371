using FastRcnn.Ops;
using TorchSharp;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Native;

/// <summary>Fails when the native TorchSharp library cannot be loaded on this OS (see build/).</summary>
public class TorchSharpLoadTests
{
    [Fact]
    public void Convolution_forward_and_backward_run_natively()
    {
        using var scope = NewDisposeScope();
        var x = SafeScalars.Arange(1 * 2 * 5 * 5, dtype: float32).reshape(1, 2, 5, 5).Div_(10).requires_grad_();
        var w = ones(3, 2, 3, 3, dtype: float32).requires_grad_();
        var y = nn.functional.conv2d(x, w, padding: new long[] { 1, 1 });
        Assert.Equal(new long[] { 1, 3, 5, 5 }, y.shape);

        // Centre output = sum of a 3x3 window over both channels of x.
        float expectedCentre = 0;
        for (int c = 0; c < 2; c++)
            for (int i = 1; i <= 3; i++)
                for (int j = 1; j <= 3; j++)
                    expectedCentre += (c * 25 + i * 5 + j) / 10f;
        Assert.Equal(expectedCentre, y[0, 0, 2, 2].item<float>(), 4);

        y.sum().backward();
        // d(sum y)/d w[o, c, ki, kj] = sum of x over the positions that kernel tap sees; the centre tap sees all of x[c].
        float sumChannel0 = x[0, 0].sum().item<float>();
        Assert.Equal(sumChannel0, w.grad!.data<float>()[4], 3);
        // Each interior input cell feeds 9 outputs in each of 3 output channels.
        Assert.Equal(27f, x.grad!.data<float>()[12], 4);
    }
}
