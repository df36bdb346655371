using FastRcnn.Modeling.Rpn;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Modeling.Rpn;

public sealed class RpnLossTests
{
    [Fact]
    public void Hand_computed_bce_mean_and_sigma_3_smooth_l1_over_the_sampled_count()
    {
        // Three sampled anchors, the first positive. BCE: −log σ(0) = 0.693147, log(1 + e²) = 2.126928,
        // log(1 + e⁻¹) = 0.313262 → mean 1.044446.
        var logits = tensor(new float[] { 0, 2, -1 }).requires_grad_();
        var labels = tensor(new float[] { 1, 0, 0 });
        // Box: x = 0.05 (< 1/9): 0.5·9·0.0025 = 0.01125; 0.5: 0.5 − 0.5/9 = 0.444444; −0.2: 0.144444;
        // −0.1 (< 1/9): 0.5·9·0.01 = 0.045. Sum 0.645139, over S = 3: 0.215046.
        var deltas = tensor(new float[] { 0.05f, 0.5f, -0.2f, 0f }, [1, 4]).requires_grad_();
        var targets = tensor(new float[] { 0, 0, 0, 0.1f }, [1, 4]);

        var losses = RpnLoss.Compute(logits, labels, deltas, targets);
        Assert.Equal(new[] { "loss_rpn_box_reg", "loss_rpn_cls" }, losses.Keys.Order());
        Assert.Equal(1.044446f, losses[RpnLoss.ClassificationName].item<float>(), 5);
        Assert.Equal(0.215046f, losses[RpnLoss.BoxRegressionName].item<float>(), 5);

        losses[RpnLoss.BoxRegressionName].backward();
        // d/dx: σ²·x / S inside (9·0.05/3 = 0.15; 9·(−0.1)/3 = −0.3), sign(x)/S outside (±1/3).
        var grad = deltas.grad!.data<float>().ToArray();
        Assert.Equal(new[] { 0.15f, 1 / 3f, -1 / 3f, -0.3f }, grad.Select(g => MathF.Round(g, 5)).ToArray(), new FloatNear(1e-5f));
    }

    [Fact]
    public void Without_positives_the_box_loss_is_zero_and_without_samples_both_are()
    {
        var losses = RpnLoss.Compute(tensor(new float[] { 0, 0 }), tensor(new float[] { 0, 0 }), zeros(0, 4), zeros(0, 4));
        Assert.Equal(0f, losses[RpnLoss.BoxRegressionName].item<float>());
        Assert.Equal(MathF.Log(2), losses[RpnLoss.ClassificationName].item<float>(), 5);

        var logits = zeros(0).requires_grad_();
        var empty = RpnLoss.Compute(logits, zeros(0), zeros(0, 4), zeros(0, 4));
        Assert.Equal(0f, empty[RpnLoss.ClassificationName].item<float>());
        empty[RpnLoss.ClassificationName].backward();                        // still part of the graph
    }

    [Fact]
    public void Shapes_are_checked()
    {
        Assert.Throws<ArgumentException>(() => RpnLoss.Compute(zeros(3), zeros(2), zeros(0, 4), zeros(0, 4)));
        Assert.Throws<ArgumentException>(() => RpnLoss.Compute(zeros(3), zeros(3), zeros(1, 4), zeros(2, 4)));
        Assert.Throws<ArgumentException>(() => RpnLoss.Compute(zeros(1), zeros(1), zeros(2, 4), zeros(2, 4)));
        Assert.Throws<ArgumentException>(() => RpnLoss.Compute(zeros(1), zeros(1), zeros(0, 4), zeros(0, 4), sigma: 0));
    }

    private sealed class FloatNear(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => MathF.Abs(x - y) <= tolerance;

        public int GetHashCode(float obj) => 0;
    }
}
