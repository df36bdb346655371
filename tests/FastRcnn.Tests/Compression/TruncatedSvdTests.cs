using FastRcnn.Compression;
using FastRcnn.Ops;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Compression;

public class TruncatedSvdTests
{
    [Theory]
    [InlineData(40, 30)]   // tall: libtorch's SVD
    [InlineData(30, 40)]   // wide: through the Gram matrix W Wᵀ
    [InlineData(30, 30)]
    public void Reconstruction_error_equals_the_discarded_singular_values_energy(int rows, int columns)
    {
        using var scope = NewDisposeScope();
        var w = randn(new long[] { rows, columns }, ScalarType.Float64, generator: manual_seed(3));
        using var f = TruncatedSvd.Factor(w, null, rank: 12);
        double error = (w - f.Second.matmul(f.First)).Square().sum().item<double>();   // ‖W − U_t Σ_t V_tᵀ‖_F²
        var s = linalg.svdvals(w);
        Assert.Equal(s[12..].Square().sum().item<double>(), error, 8);
        Assert.Equal(f.DiscardedEnergy, error, 8);
    }

    [Fact]
    public void Wide_and_tall_weights_give_the_same_factors_up_to_sign()
    {
        using var scope = NewDisposeScope();
        var w = randn(new long[] { 20, 50 }, ScalarType.Float64, generator: manual_seed(5));
        using var wide = TruncatedSvd.Factor(w, null, rank: 6);
        using var tall = TruncatedSvd.Factor(w.t(), null, rank: 6);                  // Wᵀ = V Σ Uᵀ
        Assert.True(wide.SingularValues.allclose(tall.SingularValues, rtol: 1e-9, atol: 1e-9));
        Assert.True(wide.Second.matmul(wide.First).allclose(tall.Second.matmul(tall.First).t(), rtol: 1e-9, atol: 1e-9));
        var (_, s, _) = linalg.svd(w, fullMatrices: false);
        Assert.True(wide.SingularValues.allclose(s, rtol: 1e-9, atol: 1e-9));
    }

    [Fact]
    public void Factoring_for_an_energy_share_keeps_the_rank_RankForEnergy_gives()
    {
        using var scope = NewDisposeScope();
        var w = randn(new long[] { 24, 60 }, ScalarType.Float64, generator: manual_seed(6));
        foreach (double fraction in new[] { 0.3, 0.8, 0.99, 1.0 })
        {
            using var f = TruncatedSvd.FactorForEnergy(w, null, fraction);
            Assert.Equal(TruncatedSvd.RankForEnergy(w, fraction), f.Rank);
            Assert.True(f.KeptEnergyFraction >= fraction - 1e-12);
            Assert.Equal(w.Square().sum().item<double>(), f.TotalEnergy, 1e-8);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => TruncatedSvd.FactorForEnergy(w, null, 1.2));
    }

    [Fact]
    public void Full_rank_reproduces_the_layer_and_the_bias_moves_to_the_second_layer()
    {
        using var scope = NewDisposeScope();
        var layer = nn.Linear(30, 20);
        var x = randn(new long[] { 7, 30 }, generator: manual_seed(4));
        using var f = TruncatedSvd.Factor(layer.weight!, layer.bias, rank: 20);
        var y = nn.functional.linear(nn.functional.linear(x, f.First), f.Second, f.Bias);
        Assert.True(y.allclose(layer.forward(x), rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void Parameters_drop_from_u_v_to_t_u_plus_v()
    {
        using var scope = NewDisposeScope();
        var w = randn(64, 100);
        using var f = TruncatedSvd.Factor(w, zeros(64), rank: 8);
        Assert.Equal(8, f.Rank);
        Assert.Equal(new long[] { 8, 100 }, f.First.shape);
        Assert.Equal(new long[] { 64, 8 }, f.Second.shape);
        Assert.Equal(8L * (64 + 100) + 64, f.ParameterCount);
    }

    [Fact]
    public void Rank_for_an_energy_fraction_keeps_just_enough_singular_values()
    {
        using var scope = NewDisposeScope();
        // W = diag(3, 2, 1): energies 9, 4, 1 of 14.
        var w = diag(tensor(new[] { 3.0, 2.0, 1.0 }));
        Assert.Equal(1, TruncatedSvd.RankForEnergy(w, 9.0 / 14));
        Assert.Equal(2, TruncatedSvd.RankForEnergy(w, 0.7));
        Assert.Equal(3, TruncatedSvd.RankForEnergy(w, 1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => TruncatedSvd.RankForEnergy(w, 0));
    }
}
