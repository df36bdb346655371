using FastRcnn.Modeling.Svm;

namespace FastRcnn.Tests.Modeling.Svm;

public sealed class RidgeRegressionTests
{
    /// <summary>
    /// The naive solve: the normal equations of [X 1] with λ on the weights only, by Gauss-Jordan elimination with
    /// partial pivoting in double, one output at a time.
    /// </summary>
    private static (double[][] W, double[] B) Naive(float[] x, float[] y, int n, int d, int t, double lambda)
    {
        var w = new double[t][];
        var b = new double[t];
        for (int o = 0; o < t; o++)
        {
            int m = d + 1;
            var a = new double[m, m + 1];
            for (int i = 0; i < n; i++)
            {
                double Feature(int j) => j < d ? x[i * d + j] : 1.0;
                for (int j = 0; j < m; j++)
                {
                    for (int k = 0; k < m; k++) a[j, k] += Feature(j) * Feature(k);
                    a[j, m] += Feature(j) * y[i * t + o];
                }
            }
            for (int j = 0; j < d; j++) a[j, j] += lambda;
            for (int col = 0; col < m; col++)
            {
                int pivot = Enumerable.Range(col, m - col).MaxBy(r => Math.Abs(a[r, col]));
                for (int k = 0; k <= m; k++) (a[col, k], a[pivot, k]) = (a[pivot, k], a[col, k]);
                for (int r = 0; r < m; r++)
                {
                    if (r == col) continue;
                    double f = a[r, col] / a[col, col];
                    for (int k = col; k <= m; k++) a[r, k] -= f * a[col, k];
                }
            }
            w[o] = Enumerable.Range(0, d).Select(j => a[j, m] / a[j, j]).ToArray();
            b[o] = a[d, m] / a[d, d];
        }
        return (w, b);
    }

    [Theory]
    [InlineData(40, 6, 10.0)]    // more examples than features: the primal D×D system
    [InlineData(5, 12, 1000.0)]  // fewer: the dual N×N system
    [InlineData(7, 7, 0.5)]
    public void MatchesTheNaiveNormalEquations(int n, int d, double lambda)
    {
        var rng = new Random(n * 31 + d);
        var x = Enumerable.Range(0, n * d).Select(_ => (float)(rng.NextDouble() * 4 - 1)).ToArray();
        var y = Enumerable.Range(0, n * 4).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var map = RidgeRegression.Fit(x, y, d, 4, lambda);
        var (w, b) = Naive(x, y, n, d, 4, lambda);
        for (int o = 0; o < 4; o++)
        {
            for (int j = 0; j < d; j++) Assert.Equal(w[o][j], map.Weights[o * d + j], 4);
            Assert.Equal(b[o], map.Bias[o], 4);
        }
    }

    [Fact]
    public void RecoversALinearMapWithASmallPenalty()
    {
        var rng = new Random(2);
        int n = 200, d = 3;
        var x = Enumerable.Range(0, n * d).Select(_ => (float)rng.NextDouble()).ToArray();
        var y = new float[n];
        for (int i = 0; i < n; i++) y[i] = 2 * x[i * d] - 3 * x[i * d + 1] + 0.5f * x[i * d + 2] + 7;
        var map = RidgeRegression.Fit(x, y, d, 1, 1e-6);
        Assert.Equal([2f, -3f, 0.5f], map.Weights.Select(v => MathF.Round(v, 3)));
        Assert.Equal(7f, map.Bias[0], 3);
    }

    [Fact]
    public void RefusesMismatchedSizes()
    {
        Assert.Throws<ArgumentException>(() => RidgeRegression.Fit(new float[6], new float[2], 2, 1, 1));
        Assert.Throws<ArgumentException>(() => RidgeRegression.Fit(new float[4], new float[2], 2, 1, 0));
    }
}
