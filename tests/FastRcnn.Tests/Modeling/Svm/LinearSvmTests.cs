using FastRcnn.Modeling.Svm;

namespace FastRcnn.Tests.Modeling.Svm;

public sealed class LinearSvmTests
{
    /// <summary>Two overlapping Gaussian clouds in <paramref name="d"/> dimensions (not separable).</summary>
    internal static (List<float[]> Positives, List<float[]> Negatives) Clouds(int seed, int positives, int negatives, int d, double shift = 1.0)
    {
        var rng = new Random(seed);
        float[] Point(double centre) => Enumerable.Range(0, d).Select(j => (float)(centre * (j % 2 == 0 ? 1 : -0.5) + Gaussian(rng))).ToArray();
        return (Enumerable.Range(0, positives).Select(_ => Point(shift)).ToList(), Enumerable.Range(0, negatives).Select(_ => Point(-shift)).ToList());
    }

    private static double Gaussian(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    /// <summary>
    /// The reference: full-batch subgradient descent on the primal (augmented w̃ = (w, b/B)) with step 1/(t+1) and the
    /// best iterate kept — slow, obvious, and never better than the optimum.
    /// </summary>
    private static double ReferencePrimal(List<float[]> pos, List<float[]> neg, LinearSvmOptions o, int iterations)
    {
        int d = pos[0].Length;
        var w = new double[d + 1];
        var xs = pos.Select(x => (X: x, Y: 1, C: o.C * o.PositiveWeight)).Concat(neg.Select(x => (X: x, Y: -1, C: o.C))).ToList();
        double best = double.PositiveInfinity;
        for (int t = 0; t < iterations; t++)
        {
            var g = (double[])w.Clone(); // gradient of ½‖w̃‖²
            double objective = 0.5 * w.Sum(v => v * v);
            foreach (var (x, y, c) in xs)
            {
                double f = w[d] * o.BiasMultiplier;
                for (int j = 0; j < d; j++) f += w[j] * x[j];
                double h = 1 - y * f;
                if (h <= 0) continue;
                double factor = o.Loss == SvmLoss.Hinge ? c : 2 * c * h;
                objective += o.Loss == SvmLoss.Hinge ? c * h : c * h * h;
                for (int j = 0; j < d; j++) g[j] -= factor * y * x[j];
                g[d] -= factor * y * o.BiasMultiplier;
            }
            best = Math.Min(best, objective);
            double step = (o.Loss == SvmLoss.Hinge ? 0.5 : 0.02) / (1 + 0.01 * t);
            for (int j = 0; j <= d; j++) w[j] -= step * g[j];
        }
        return best;
    }

    [Theory]
    [InlineData(SvmLoss.Hinge)]
    [InlineData(SvmLoss.SquaredHinge)]
    public void ReachesTheReferenceSolversObjectiveWithASmallDualityGap(SvmLoss loss)
    {
        var (pos, neg) = Clouds(seed: 3, positives: 25, negatives: 60, d: 4);
        var options = new LinearSvmOptions(C: 0.5, Loss: loss, Tolerance: 1e-4, BiasMultiplier: 1);
        var solution = LinearSvm.Train(pos, neg, options);

        Assert.True(solution.Converged);
        Assert.Equal(solution.Primal, LinearSvm.PrimalObjective(solution.Model, pos, neg, options), 10);
        Assert.True(solution.Dual <= solution.Primal + 1e-9, $"dual {solution.Dual} above primal {solution.Primal}");
        Assert.True(solution.Primal - solution.Dual < 1e-3 * solution.Primal, $"gap {solution.Primal - solution.Dual} of {solution.Primal}");
        double reference = ReferencePrimal(pos, neg, options, 20000);
        // The reference cannot beat the optimum, and it gets within 0.5% of it; ours is at least as good.
        Assert.True(solution.Primal <= reference + 1e-6, $"ours {solution.Primal}, reference {reference}");
        Assert.True(reference <= solution.Primal * 1.005, $"reference {reference} far from ours {solution.Primal}: the test's reference did not converge");
    }

    [Fact]
    public void SeparatesSeparableDataAndWeighsPositives()
    {
        var (pos, neg) = Clouds(seed: 5, positives: 10, negatives: 40, d: 8, shift: 6);
        var solution = LinearSvm.Train(pos, neg, new LinearSvmOptions(C: 1));
        Assert.All(pos, x => Assert.True(solution.Model.Score(x) > 0));
        Assert.All(neg, x => Assert.True(solution.Model.Score(x) < 0));
        // A higher positive cost moves the boundary towards the negatives.
        var weighted = LinearSvm.Train(pos, neg, new LinearSvmOptions(C: 0.001, PositiveWeight: 20));
        var plain = LinearSvm.Train(pos, neg, new LinearSvmOptions(C: 0.001, PositiveWeight: 1));
        Assert.True(pos.Average(x => weighted.Model.Score(x)) > pos.Average(x => plain.Model.Score(x)));
    }

    [Fact]
    public void DotMatchesALoop()
    {
        var rng = new Random(1);
        var a = Enumerable.Range(0, 37).Select(_ => (float)rng.NextDouble()).ToArray();
        var b = Enumerable.Range(0, 37).Select(_ => (float)rng.NextDouble()).ToArray();
        double expected = 0;
        for (int i = 0; i < a.Length; i++) expected += a[i] * b[i];
        Assert.Equal(expected, LinearSvm.Dot(a, b), 4);
    }
}
