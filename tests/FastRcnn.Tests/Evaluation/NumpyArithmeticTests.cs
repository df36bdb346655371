using FastRcnn.Evaluation;

namespace FastRcnn.Tests.Evaluation;

/// <summary>
/// numpy's threshold grids and summation order, pinned value by value. The expected values were printed
/// with numpy 1.24 (<c>repr(float(x))</c>, which round-trips): the reference evaluation scripts use exactly
/// these doubles, not the decimals they look like.
/// </summary>
public class NumpyArithmeticTests
{
    [Fact]
    public void Arange_0_to_1_1_by_0_1_gives_numpys_eleven_doubles()
    {
        // np.arange(0., 1.1, 0.1)
        double[] numpy = [0.0, 0.1, 0.2, 0.30000000000000004, 0.4, 0.5, 0.6000000000000001, 0.7000000000000001, 0.8, 0.9, 1.0];
        Assert.Equal(numpy, NumpyArithmetic.Arange(0.0, 1.1, 0.1));
        Assert.Equal(numpy, VocEvaluator.ElevenPointThresholds);
        Assert.NotEqual(0.3, numpy[3]);   // not the exact tenth: recall 3/10 is below it
    }

    [Fact]
    public void Linspace_gives_numpys_IoU_thresholds()
    {
        // np.linspace(.5, 0.95, 10): 0.85 where 0.5 + 0.05 * 7 is 0.8500000000000001, and 0.8999999999999999
        double[] numpy = [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.8999999999999999, 0.95];
        Assert.Equal(numpy, NumpyArithmetic.Linspace(0.5, 0.95, 10));
        Assert.Equal(numpy, CocoEvaluator.IoUThresholds);
        Assert.NotEqual(0.5 + 0.05 * 7, numpy[7]);
    }

    [Fact]
    public void Linspace_gives_numpys_101_recall_thresholds()
    {
        // np.linspace(.0, 1.00, 101): ten values are one ulp above k / 100 (0.35000000000000003, …).
        double[] numpy =
        [
            0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.1, 0.11, 0.12, 0.13, 0.14, 0.15, 0.16, 0.17, 0.18, 0.19,
            0.2, 0.21, 0.22, 0.23, 0.24, 0.25, 0.26, 0.27, 0.28, 0.29, 0.3, 0.31, 0.32, 0.33, 0.34, 0.35000000000000003, 0.36,
            0.37, 0.38, 0.39, 0.4, 0.41000000000000003, 0.42, 0.43, 0.44, 0.45, 0.46, 0.47000000000000003, 0.48, 0.49, 0.5,
            0.51, 0.52, 0.53, 0.54, 0.55, 0.56, 0.5700000000000001, 0.58, 0.59, 0.6, 0.61, 0.62, 0.63, 0.64, 0.65, 0.66, 0.67,
            0.68, 0.6900000000000001, 0.7000000000000001, 0.71, 0.72, 0.73, 0.74, 0.75, 0.76, 0.77, 0.78, 0.79, 0.8, 0.81,
            0.8200000000000001, 0.8300000000000001, 0.84, 0.85, 0.86, 0.87, 0.88, 0.89, 0.9, 0.91, 0.92, 0.93, 0.9400000000000001,
            0.9500000000000001, 0.96, 0.97, 0.98, 0.99, 1.0,
        ];
        Assert.Equal(numpy, NumpyArithmetic.Linspace(0.0, 1.0, 101));
        Assert.Equal(numpy, CocoEvaluator.RecallThresholds);
        Assert.Equal(10, numpy.Where((v, k) => v != k / 100.0).Count());
    }

    [Theory]
    // n, np.sum(a), np.mean(a) for a[i] = 1.0 / (i + 1) + i * 0.001 (exact IEEE operations, the same doubles in both).
    // Left-to-right addition gives 10.137377517639619, 506.98547086055055, 40505.18225107582 and
    // 200000.4807282177 for the last four: numpy adds pairwise, in buffers of 8192.
    [InlineData(7, 2.6138571428571433, 0.3734081632653062)]
    [InlineData(100, 10.13737751763962, 0.1013737751763962)]
    [InlineData(1000, 506.9854708605503, 0.5069854708605503)]
    [InlineData(9000, 40505.18225107574, 4.500575805675083)]
    [InlineData(20000, 200000.48072821723, 10.000024036410862)]
    public void Sum_and_mean_add_in_numpys_order(int n, double numpySum, double numpyMean)
    {
        var a = Enumerable.Range(0, n).Select(i => 1.0 / (i + 1) + i * 0.001).ToArray();
        Assert.Equal(numpySum, NumpyArithmetic.Sum(a));
        Assert.Equal(numpyMean, NumpyArithmetic.Mean(a));
    }

    [Fact]
    public void Mean_of_nothing_is_NaN() => Assert.True(double.IsNaN(NumpyArithmetic.Mean([])));
}
