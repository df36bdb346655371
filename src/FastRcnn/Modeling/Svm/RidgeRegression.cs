using FastRcnn.Ops;
using static TorchSharp.torch;

namespace FastRcnn.Modeling.Svm;

/// <summary>A linear map <c>y = W x + b</c> from D features to T outputs.</summary>
/// <param name="Weights">W, T×D row-major.</param>
/// <param name="Bias">b (T).</param>
/// <param name="Inputs">D.</param>
public sealed record LinearMap(float[] Weights, float[] Bias, int Inputs)
{
    /// <summary>T, the outputs.</summary>
    public int Outputs => Bias.Length;

    /// <summary>The map that gives 0 for every input.</summary>
    public static LinearMap Zero(int inputs, int outputs) => new(new float[inputs * outputs], new float[outputs], inputs);
}

/// <summary>
/// Ridge regression in closed form: <c>min_{W,b} Σᵢ ‖W xᵢ + b − yᵢ‖² + λ‖W‖²</c> (the bias is not regularised), solved
/// in float64 on centred data, in the primal <c>W = Yᶜᵀ Xᶜ (XᶜᵀXᶜ + λI)⁻¹</c> when there are at least as many examples
/// as features, else in the dual <c>W = ((XᶜXᶜᵀ + λI)⁻¹ Yᶜ)ᵀ Xᶜ</c> (the same minimiser; D×D or N×N, whichever is
/// smaller); <c>b = ȳ − W x̄</c>. R-CNN's box regressors (λ = 1000 on pool5 features).
/// </summary>
public static class RidgeRegression
{
    /// <summary>Fits N examples: <paramref name="x"/> N×D and <paramref name="y"/> N×T, row-major.</summary>
    /// <exception cref="ArgumentException">Sizes that disagree, no examples, or λ ≤ 0.</exception>
    public static LinearMap Fit(float[] x, float[] y, int inputs, int outputs, double lambda)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputs, 1);
        if (!(lambda > 0)) throw new ArgumentException($"ridge λ must be > 0, got {lambda}", nameof(lambda));
        if (x.Length % inputs != 0 || y.Length % outputs != 0 || x.Length / inputs != y.Length / outputs)
            throw new ArgumentException($"x has {x.Length} values ({inputs} per example), y {y.Length} ({outputs} per example): not the same examples");
        int n = x.Length / inputs;
        if (n == 0) throw new ArgumentException("ridge regression needs at least one example", nameof(x));

        using var scope = NewDisposeScope();
        var xs = tensor(x, [n, inputs]).to_type(ScalarType.Float64);
        var ys = tensor(y, [n, outputs]).to_type(ScalarType.Float64);
        var xMean = xs.mean([0], keepdim: true);
        var yMean = ys.mean([0], keepdim: true);
        var xc = xs.sub(xMean);
        var yc = ys.sub(yMean);
        Tensor weights; // (T, D)
        if (n >= inputs)
        {
            var gram = xc.t().matmul(xc);
            gram.diagonal().Add_(lambda);
            weights = linalg.solve(gram, xc.t().matmul(yc)).t();
        }
        else
        {
            var gram = xc.matmul(xc.t());
            gram.diagonal().Add_(lambda);
            weights = linalg.solve(gram, yc).t().matmul(xc);
        }
        var bias = yMean.squeeze(0).sub(weights.matmul(xMean.squeeze(0)));
        return new LinearMap(
            weights.to_type(ScalarType.Float32).contiguous().data<float>().ToArray(),
            bias.to_type(ScalarType.Float32).contiguous().data<float>().ToArray(),
            inputs);
    }
}
