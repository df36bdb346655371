using FastRcnn.Ops;
using static TorchSharp.torch;

namespace FastRcnn.Compression;

/// <summary>A fully connected layer y = W x + b split in two (SPEC §7): y = U_t (Σ_t V_tᵀ x) + b.</summary>
/// <param name="First">Σ_t V_tᵀ, (t, v): the first layer, without bias.</param>
/// <param name="Second">U_t, (u, t): the second layer, which keeps the original bias.</param>
/// <param name="Bias">The original bias (u), or null.</param>
/// <param name="SingularValues">All min(u, v) singular values of W, largest first.</param>
public sealed record FactoredWeight(Tensor First, Tensor Second, Tensor? Bias, Tensor SingularValues) : IDisposable
{
    /// <summary>The kept rank t.</summary>
    public int Rank => (int)First.shape[0];

    /// <summary>Parameters after the split: t·(u + v) (+ u for the bias), against u·v before.</summary>
    public long ParameterCount => First.numel() + Second.numel() + (Bias?.numel() ?? 0);

    /// <summary>Σ_{i &gt; t} σ_i² — the squared Frobenius norm of W − U_t Σ_t V_tᵀ.</summary>
    public double DiscardedEnergy => EnergyFrom(Rank);

    /// <summary>Σ σ_i² over all singular values: ‖W‖_F².</summary>
    public double TotalEnergy => EnergyFrom(0);

    /// <summary>The share of ‖W‖_F² the kept singular values hold (1 for a zero matrix).</summary>
    public double KeptEnergyFraction => TotalEnergy > 0 ? 1 - DiscardedEnergy / TotalEnergy : 1;

    private double EnergyFrom(int index)
    {
        using var scope = NewDisposeScope();
        return SingularValues[index..].Square().sum().item<double>();
    }

    public void Dispose()
    {
        First.Dispose();
        Second.Dispose();
        Bias?.Dispose();
        SingularValues.Dispose();
    }
}

/// <summary>
/// Truncated SVD of a fully connected layer's weight W (u×v): W ≈ U_t Σ_t V_tᵀ with the t largest
/// singular values, replacing u·v parameters by t·(u + v). The paper keeps fc6 t = 1024 (of
/// 25088×4096) and fc7 t = 256 (of 4096×4096) and does not fine-tune afterwards. Computed in float64.
/// </summary>
/// <remarks>
/// A wide or square W (u ≤ v, as fc6 and fc7 of every backbone) is decomposed through its u×u Gram matrix:
/// W Wᵀ = U Σ² Uᵀ (a symmetric eigenproblem), then Σ_t V_tᵀ = U_tᵀ W. That is many times faster than an SVD
/// of W (VGG16's fc6: one 4096×4096 eigenproblem instead of the SVD of 4096×25088), and since U_t is
/// orthonormal, U_t (U_tᵀ W) is exactly W's projection onto the kept singular directions, so
/// ‖W − U_t Σ_t V_tᵀ‖_F² = ‖W‖_F² − Σ_{i≤t} σ_i² holds to rounding. A tall W (u &gt; v) takes libtorch's SVD.
/// </remarks>
public static class TruncatedSvd
{
    /// <summary>Splits W (u, v) at rank <paramref name="rank"/> (clamped to min(u, v)).</summary>
    public static FactoredWeight Factor(Tensor weight, Tensor? bias, int rank)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rank, 1);
        return Factor(weight, bias, _ => rank);
    }

    /// <summary>Splits W (u, v) at the smallest rank whose kept singular values hold at least <paramref name="fraction"/> of Σσ².</summary>
    public static FactoredWeight FactorForEnergy(Tensor weight, Tensor? bias, double fraction)
    {
        CheckFraction(fraction);
        return Factor(weight, bias, s => RankKeeping(s, fraction));
    }

    /// <summary>
    /// Splits W (u, v) at the rank <paramref name="chooseRank"/> picks from all min(u, v) singular values
    /// (float64, largest first), clamped to [1, min(u, v)]: one decomposition, whatever the rule.
    /// </summary>
    internal static FactoredWeight Factor(Tensor weight, Tensor? bias, Func<Tensor, int> chooseRank)
    {
        if (weight.dim() != 2) throw new ArgumentException($"weight must be (u, v), got [{string.Join(", ", weight.shape)}]", nameof(weight));
        using var scope = NewDisposeScope();
        var w = weight.detach().to_type(ScalarType.Float64);
        Tensor first, second, s;
        if (w.shape[0] <= w.shape[1])
        {
            var (squares, u) = LeftSingular(w);
            s = squares.sqrt();
            int t = (int)Math.Clamp(chooseRank(s), 1, s.shape[0]);
            second = u[.., ..t].contiguous();                                   // U_t (u, t)
            first = second.t().matmul(w);                                       // U_tᵀ W = Σ_t V_tᵀ (t, v)
        }
        else
        {
            (var u, s, var vh) = linalg.svd(w, fullMatrices: false);
            int t = (int)Math.Clamp(chooseRank(s), 1, s.shape[0]);
            first = s[..t].unsqueeze(1) * vh[..t];                              // Σ_t V_tᵀ (t, v)
            second = u[.., ..t].contiguous();                                   // U_t (u, t)
        }
        first = first.to_type(weight.dtype);
        second = second.to_type(weight.dtype);
        var keptBias = bias?.detach().clone();
        return new FactoredWeight(first.MoveToOuterDisposeScope(), second.MoveToOuterDisposeScope(),
            keptBias?.MoveToOuterDisposeScope(), s.MoveToOuterDisposeScope());
    }

    /// <summary>The smallest rank whose kept singular values hold at least <paramref name="fraction"/> of Σσ².</summary>
    public static int RankForEnergy(Tensor weight, double fraction)
    {
        CheckFraction(fraction);
        using var scope = NewDisposeScope();
        var w = weight.detach().to_type(ScalarType.Float64);
        if (w.shape[0] > w.shape[1]) w = w.t();
        return RankKeeping(linalg.eigvalsh(w.matmul(w.t())).flip(0).clamp_min(SafeScalars.Zero).sqrt(), fraction);
    }

    /// <summary>σ_i² (largest first) and the left singular vectors U (u, u) of a wide W (u ≤ v), from the eigenvectors of W Wᵀ.</summary>
    private static (Tensor Squares, Tensor U) LeftSingular(Tensor w)
    {
        var (values, vectors) = linalg.eigh(w.matmul(w.t()));                   // ascending
        return (values.flip(0).clamp_min(SafeScalars.Zero), vectors.flip(1));
    }

    private static void CheckFraction(double fraction)
    {
        if (!(fraction > 0 && fraction <= 1)) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "the energy fraction must be in (0, 1]");
    }

    /// <summary>The smallest rank whose largest <paramref name="singularValues"/> hold at least <paramref name="fraction"/> of Σσ² (1 for a zero matrix).</summary>
    internal static int RankKeeping(Tensor singularValues, double fraction)
    {
        using var scope = NewDisposeScope();
        var energy = singularValues.to_type(ScalarType.Float64).Square();
        double total = energy.sum().item<double>();
        if (!(total > 0)) return 1;
        var cumulative = energy.cumsum(0).Div(total);
        long below = cumulative.Lt(fraction - 1e-12).sum().item<long>();
        return (int)Math.Min(below + 1, energy.shape[0]);
    }
}
