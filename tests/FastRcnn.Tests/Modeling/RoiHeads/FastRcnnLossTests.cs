using FastRcnn.Modeling.RoiHeads;
using FastRcnn.Ops;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Modeling;

public sealed class FastRcnnLossTests
{
    // K = 1 (columns 0–3 background, 4–7 class 1), R = 2 RoIs.
    // RoI 0: class 1, logits (0, 0) → p1 = 1/2, −log p = log 2.
    //        deltas of class 1 (0.5, −2, 0, 1) vs targets (0, 0, 0.25, 0): differences 0.5, −2, −0.25, 1
    //        → smoothL1 0.125, 1.5, 0.03125, 0.5 (|x| = 1 takes the linear branch: 1 − 0.5) = 2.15625.
    //        Its background block (9, 9, 9, 9) must not count.
    // RoI 1: background, logits (0, log 3) → p0 = 1/4, −log p = log 4; no box term.
    // Lcls = (log 2 + log 4)/2 = 1.5 log 2; Lloc = 2.15625 / R = 1.078125.
    private static (Tensor Logits, Tensor Deltas, Tensor Classes, Tensor Targets, Tensor Weights) HandCase() => (
        tensor(new[] { 0f, 0f, 0f, MathF.Log(3) }, [2, 2]).requires_grad_(),
        tensor(new[] { 9f, 9, 9, 9, 0.5f, -2, 0, 1, 7, 7, 7, 7, 3, 3, 3, 3 }, [2, 8]).requires_grad_(),
        tensor(new long[] { 1, 0 }),
        tensor(new[] { 0f, 0, 0, 0, 0, 0, 0.25f, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, [2, 8]),
        tensor(new[] { 0f, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0 }, [2, 8]));

    [Fact]
    public void Matches_the_hand_computed_values()
    {
        var (logits, deltas, classes, targets, weights) = HandCase();
        var losses = FastRcnnLoss.Compute(logits, deltas, classes, targets, weights);
        Assert.Equal(1.5 * Math.Log(2), losses.Classification.item<float>(), 5);
        Assert.Equal(1.078125, losses.BoxRegression.item<float>(), 6);
        Assert.Equal(1.5 * Math.Log(2) + 1.078125, losses.Total.item<float>(), 5);
    }

    [Fact]
    public void Lambda_scales_the_box_term()
    {
        var (logits, deltas, classes, targets, weights) = HandCase();
        var losses = FastRcnnLoss.Compute(logits, deltas, classes, targets, weights, boxLossWeight: 2);
        Assert.Equal(1.5 * Math.Log(2) + 2 * 1.078125, losses.Total.item<float>(), 5);
    }

    [Fact]
    public void Box_gradient_reaches_only_the_true_class_deltas_of_foreground_rois()
    {
        var (logits, deltas, classes, targets, weights) = HandCase();
        FastRcnnLoss.Compute(logits, deltas, classes, targets, weights).Total.backward();
        // d/dd of smoothL1 / R: 0.5/2, clamp(−2)/2, −0.25/2, sign(1)/2 (β = 1: x for |x| < 1, else sign x).
        var expected = new[] { 0f, 0, 0, 0, 0.25f, -0.5f, -0.125f, 0.5f, 0, 0, 0, 0, 0, 0, 0, 0 };
        var grad = deltas.grad!.data<float>().ToArray();
        for (int i = 0; i < 16; i++) Assert.Equal(expected[i], grad[i], 6);
        // Softmax cross-entropy gradient: (p − onehot)/R → row 0 (0.5 − 0, 0.5 − 1)/2, row 1 (0.25 − 1, 0.75)/2.
        var logitGrad = logits.grad!.data<float>().ToArray();
        Assert.Equal(new[] { 0.25f, -0.25f, -0.375f, 0.375f }, logitGrad.Select(v => MathF.Round(v, 6)).ToArray());
    }

    [Fact]
    public void A_batch_without_foreground_has_zero_box_loss()
    {
        // Three background RoIs, K = 2, uniform logits: Lcls = log 3 exactly; Lloc = 0 whatever the deltas.
        var logits = zeros(3, 3);
        var deltas = randn(3, 12).Mul(10);
        var classes = zeros(3, dtype: int64);
        var losses = FastRcnnLoss.Compute(logits, deltas, classes, zeros(3, 12), zeros(3, 12));
        Assert.Equal(0f, losses.BoxRegression.item<float>());
        Assert.Equal(Math.Log(3), losses.Classification.item<float>(), 6);
        Assert.Equal(Math.Log(3), losses.Total.item<float>(), 6);
    }

    [Fact]
    public void Box_loss_is_divided_by_all_rois_not_by_the_foreground()
    {
        // One foreground RoI with a single difference of 3 (smoothL1 2.5) among R = 4: Lloc = 2.5 / 4.
        var deltas = zeros(4, 8);
        deltas[0, 4] = tensor(3f);
        var weights = zeros(4, 8);
        weights[0].narrow(0, 4, 4).Fill_(1);
        var losses = FastRcnnLoss.Compute(zeros(4, 2), deltas, tensor(new long[] { 1, 0, 0, 0 }), zeros(4, 8), weights);
        Assert.Equal(0.625f, losses.BoxRegression.item<float>(), 6);
    }

    [Fact]
    public void Rejects_an_empty_batch_and_mismatched_shapes()
    {
        Assert.Throws<ArgumentException>(() => FastRcnnLoss.Compute(zeros(0, 3), zeros(0, 12), zeros(0, dtype: int64), zeros(0, 12), zeros(0, 12)));
        Assert.Throws<ArgumentException>(() => FastRcnnLoss.Compute(zeros(2, 3), zeros(2, 8), zeros(2, dtype: int64), zeros(2, 8), zeros(2, 8)));
    }
}
