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
    public double DiscardedEnergy => SingularValues[Rank..].square().sum().item<double>();

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
public static class TruncatedSvd
{
    /// <summary>Splits W (u, v) at rank <paramref name="rank"/> (clamped to min(u, v)).</summary>
    public static FactoredWeight Factor(Tensor weight, Tensor? bias, int rank)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rank, 1);
        if (weight.dim() != 2) throw new ArgumentException($"weight must be (u, v), got [{string.Join(", ", weight.shape)}]", nameof(weight));
        using var scope = NewDisposeScope();
        var (u, s, vh) = linalg.svd(weight.detach().to_type(ScalarType.Float64), fullMatrices: false);
        int t = (int)Math.Min(rank, s.shape[0]);
        var first = (s[..t].unsqueeze(1) * vh[..t]).to_type(weight.dtype);   // Σ_t V_tᵀ (t, v)
        var second = u[.., ..t].contiguous().to_type(weight.dtype);           // U_t (u, t)
        var keptBias = bias?.detach().clone();
        return new FactoredWeight(first.MoveToOuterDisposeScope(), second.MoveToOuterDisposeScope(),
            keptBias?.MoveToOuterDisposeScope(), s.MoveToOuterDisposeScope());
    }

    /// <summary>The smallest rank whose kept singular values hold at least <paramref name="fraction"/> of Σσ².</summary>
    public static int RankForEnergy(Tensor weight, double fraction)
    {
        if (!(fraction > 0 && fraction <= 1)) throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "the energy fraction must be in (0, 1]");
        using var scope = NewDisposeScope();
        var energy = linalg.svdvals(weight.detach().to_type(ScalarType.Float64)).square();
        var cumulative = energy.cumsum(0) / energy.sum();
        long below = cumulative.lt(fraction - 1e-12).sum().item<long>();
        return (int)Math.Min(below + 1, energy.shape[0]);
    }
}
