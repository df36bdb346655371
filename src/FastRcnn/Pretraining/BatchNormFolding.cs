using FastRcnn.Ops;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FastRcnn.Pretraining;

/// <summary>
/// Folds each inference-mode BatchNorm into the convolution before it:
/// <c>BN(conv(x)) = γ·(W∗x + b − μ)/√(σ² + ε) + β = W'∗x + b'</c> with
/// <c>W' = W·γ/√(σ² + ε)</c> (per output channel) and <c>b' = (b − μ)·γ/√(σ² + ε) + β</c>.
/// The trunk without its BatchNorm modules, given these weights, computes what the trunk with them
/// computes in <c>eval()</c> mode.
/// </summary>
public static class BatchNormFolding
{
    /// <summary>
    /// The folded parameters of <paramref name="trunk"/> (a <see cref="Sequential"/> of conv, BatchNorm2d,
    /// ReLU, … modules), named as the same trunk without BatchNorm modules names them under
    /// <paramref name="prefix"/>: <c>{prefix}{i}.weight</c>, <c>{prefix}{i}.bias</c> with i the conv's index
    /// once the BatchNorms are removed. New float32 tensors.
    /// </summary>
    /// <exception cref="ArgumentException">A BatchNorm does not follow a convolution.</exception>
    public static Dictionary<string, Tensor> Fold(Sequential trunk, string prefix = "features.")
    {
        using var noGrad = no_grad();
        var result = new Dictionary<string, Tensor>();
        var modules = trunk.children().ToArray();
        int plainIndex = 0;
        for (int i = 0; i < modules.Length; i++)
        {
            if (modules[i] is BatchNorm2d) throw new ArgumentException($"module {i}: a BatchNorm2d that does not follow a Conv2d", nameof(trunk));
            if (modules[i] is Conv2d conv)
            {
                var weight = conv.weight!.detach().to_type(ScalarType.Float64);
                var bias = conv.bias?.detach().to_type(ScalarType.Float64) ?? zeros(weight.shape[0], ScalarType.Float64);
                if (i + 1 < modules.Length && modules[i + 1] is BatchNorm2d bn)
                {
                    (weight, bias) = FoldOne(weight, bias, bn);
                    i++;
                }
                result[$"{prefix}{plainIndex}.weight"] = weight.to_type(ScalarType.Float32);
                result[$"{prefix}{plainIndex}.bias"] = bias.to_type(ScalarType.Float32);
            }
            plainIndex++;
        }
        return result;
    }

    private static (Tensor Weight, Tensor Bias) FoldOne(Tensor weight, Tensor bias, BatchNorm2d bn)
    {
        using var scope = NewDisposeScope();
        long c = weight.shape[0];
        var mean = bn.running_mean!.to_type(ScalarType.Float64);
        var variance = bn.running_var!.to_type(ScalarType.Float64);
        var gamma = bn.weight?.detach().to_type(ScalarType.Float64) ?? ones(c, ScalarType.Float64);
        var beta = bn.bias?.detach().to_type(ScalarType.Float64) ?? zeros(c, ScalarType.Float64);
        var factor = gamma.div(variance.Add(bn.eps).sqrt());
        var foldedWeight = weight.mul(factor.view(c, 1, 1, 1));
        var foldedBias = bias.sub(mean).mul(factor).Add_(beta);
        return (foldedWeight.MoveToOuterDisposeScope(), foldedBias.MoveToOuterDisposeScope());
    }
}
