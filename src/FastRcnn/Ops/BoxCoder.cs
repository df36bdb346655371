using TorchSharp;
using static TorchSharp.torch;

namespace FastRcnn.Ops;

/// <summary>
/// Encodes boxes as regression deltas relative to proposals and decodes them back (SPEC §5).
/// For a proposal P and a target G (centre x, y = x1 + 0.5w, y1 + 0.5h; w = x2 - x1, h = y2 - y1):
/// <c>dx = WeightX·(Gx − Px)/Pw, dy = WeightY·(Gy − Py)/Ph, dw = WeightW·log(Gw/Pw), dh = WeightH·log(Gh/Ph)</c>.
/// Weights are the reciprocal target standard deviations: <see cref="Unit"/> gives raw deltas,
/// <see cref="FixedStd"/> the py-faster-rcnn / torchvision normalisation (stds 0.1, 0.1, 0.2, 0.2).
/// Shape shorthand: R proposals, k boxes per proposal (class-specific; k = K or K+1).
/// </summary>
/// <param name="WeightX">Multiplier of dx (1/std).</param>
/// <param name="WeightY">Multiplier of dy (1/std).</param>
/// <param name="WeightW">Multiplier of dw (1/std).</param>
/// <param name="WeightH">Multiplier of dh (1/std).</param>
public sealed record BoxCoder(double WeightX = 1, double WeightY = 1, double WeightW = 1, double WeightH = 1)
{
    /// <summary>The default clamp of the (unweighted) dw, dh before <c>exp</c>: log(1000/16).</summary>
    public static readonly double DefaultClampLog = Math.Log(1000.0 / 16);

    /// <summary>Raw, unnormalised deltas (all weights 1).</summary>
    public static BoxCoder Unit { get; } = new();

    /// <summary>
    /// Fixed-std normalisation of py-faster-rcnn and the paper's released models
    /// (stds 0.1, 0.1, 0.2, 0.2, i.e. weights 10, 10, 5, 5; torchvision's Fast/Faster R-CNN box head).
    /// </summary>
    public static BoxCoder FixedStd { get; } = new(10, 10, 5, 5);

    /// <summary>Upper clamp of the unweighted dw, dh at decode time, keeping <c>exp</c> finite.</summary>
    public double ClampLog { get; init; } = DefaultClampLog;

    /// <summary>
    /// Regression targets (R,4) of ground-truth boxes <paramref name="gt"/> (R,4) relative to
    /// <paramref name="proposals"/> (R,4), row by row, multiplied by the weights.
    /// Degenerate proposals or targets (zero or negative width/height) give non-finite deltas.
    /// </summary>
    public Tensor Encode(Tensor proposals, Tensor gt)
    {
        BoxOps.CheckBoxes(proposals, nameof(proposals));
        BoxOps.CheckBoxes(gt, nameof(gt));
        if (proposals.shape[0] != gt.shape[0])
            throw new ArgumentException(
                $"proposals and gt need the same number of rows, got {proposals.shape[0]} and {gt.shape[0]}.");
        using var scope = NewDisposeScope();
        var (px, py, pw, ph) = Centres(proposals);
        var (gx, gy, gw, gh) = Centres(gt);
        using Scalar wx = WeightX.ToScalar(), wy = WeightY.ToScalar(), ww = WeightW.ToScalar(), wh = WeightH.ToScalar();
        var dx = (gx - px).div_(pw).mul_(wx);
        var dy = (gy - py).div_(ph).mul_(wy);
        var dw = (gw / pw).log_().mul_(ww);
        var dh = (gh / ph).log_().mul_(wh);
        return stack(new[] { dx, dy, dw, dh }, 1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Applies deltas (R,4k) — k ≥ 1 groups of (dx, dy, dw, dh), e.g. one per class — to
    /// <paramref name="proposals"/> (R,4) → boxes (R,4k). Deltas are divided by the weights and
    /// dw, dh clamped above at <see cref="ClampLog"/> before <c>exp</c>; the boxes are
    /// <c>(cx − 0.5w, cy − 0.5h, cx + 0.5w, cy + 0.5h)</c> (no −1). Not clipped to the image.
    /// </summary>
    public Tensor Decode(Tensor deltas, Tensor proposals)
    {
        BoxOps.CheckBoxes(proposals, nameof(proposals));
        if (deltas.dim() != 2 || deltas.shape[1] == 0 || deltas.shape[1] % 4 != 0)
            throw new ArgumentException($"deltas must have shape (R,4k), got {BoxOps.ShapeText(deltas)}.", nameof(deltas));
        if (deltas.shape[0] != proposals.shape[0])
            throw new ArgumentException(
                $"deltas and proposals need the same number of rows, got {deltas.shape[0]} and {proposals.shape[0]}.");
        using var scope = NewDisposeScope();
        long r = deltas.shape[0], k = deltas.shape[1] / 4;
        var d = deltas.to_type(proposals.dtype).reshape(r, k, 4);
        using var clampLog = ClampLog.ToScalar();
        var dx = d.select(2, 0).Div(WeightX);                                  // (R,k)
        var dy = d.select(2, 1).Div(WeightY);
        var dw = d.select(2, 2).Div(WeightW).clamp_(max: clampLog);
        var dh = d.select(2, 3).Div(WeightH).clamp_(max: clampLog);

        var (px, py, pw, ph) = Centres(proposals);                             // (R) each
        pw = pw.unsqueeze(1);
        ph = ph.unsqueeze(1);
        var cx = (dx * pw).Add(px.unsqueeze(1));
        var cy = (dy * ph).Add(py.unsqueeze(1));
        using var half = 0.5.ToScalar();
        var halfW = dw.exp_().mul_(pw).mul_(half);
        var halfH = dh.exp_().mul_(ph).mul_(half);
        var boxes = stack(new[] { cx - halfW, cy - halfH, cx.Add(halfW), cy.Add(halfH) }, 2);  // (R,k,4)
        return boxes.reshape(r, 4 * k).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <see cref="Decode"/> then <see cref="BoxOps.Clip"/> to an image of <paramref name="height"/>×<paramref name="width"/>
    /// pixels, for test time: float32 CPU tensors are decoded in one pass over their values instead of some thirty
    /// tensor operations on (R, k) slices (which on a busy CPU cost more in thread hand-offs than in arithmetic).
    /// The float32 operations are Decode's, in its order; only exp may differ from libtorch's vectorised one in the
    /// last bit. Other dtypes and devices take the tensor path.
    /// </summary>
    public Tensor DecodeClipped(Tensor deltas, Tensor proposals, long height, long width)
    {
        BoxOps.CheckBoxes(proposals, nameof(proposals));
        if (deltas.dim() != 2 || deltas.shape[1] == 0 || deltas.shape[1] % 4 != 0 || deltas.shape[0] != proposals.shape[0]
            || proposals.dtype != ScalarType.Float32 || proposals.device_type != DeviceType.CPU || deltas.device_type != DeviceType.CPU)
            return BoxOps.Clip(Decode(deltas, proposals), height, width);   // validates, or handles other dtypes and devices
        using var scope = NewDisposeScope();
        var d = TensorMemory.Span<float>(deltas.detach().to_type(ScalarType.Float32).contiguous());
        var p = TensorMemory.Span<float>(proposals.detach().contiguous());
        int r = (int)deltas.shape[0], k = (int)deltas.shape[1] / 4;
        var result = empty(r, 4L * k, ScalarType.Float32);
        var o = TensorMemory.Span<float>(result);
        float wx = (float)WeightX, wy = (float)WeightY, ww = (float)WeightW, wh = (float)WeightH, clampLog = (float)ClampLog;
        float maxX = width, maxY = height;
        for (int i = 0; i < r; i++)
        {
            float pw = p[4 * i + 2] - p[4 * i], ph = p[4 * i + 3] - p[4 * i + 1];
            float px = p[4 * i] + 0.5f * pw, py = p[4 * i + 1] + 0.5f * ph;
            for (int j = 0, at = 4 * i * k; j < k; j++, at += 4)
            {
                float dx = d[at] / wx, dy = d[at + 1] / wy;
                float dw = MathF.Min(d[at + 2] / ww, clampLog), dh = MathF.Min(d[at + 3] / wh, clampLog);
                float cx = dx * pw + px, cy = dy * ph + py;
                float halfW = MathF.Exp(dw) * pw * 0.5f, halfH = MathF.Exp(dh) * ph * 0.5f;
                o[at] = Clamp(cx - halfW, maxX);
                o[at + 1] = Clamp(cy - halfH, maxY);
                o[at + 2] = Clamp(cx + halfW, maxX);
                o[at + 3] = Clamp(cy + halfH, maxY);
            }
        }
        return result.MoveToOuterDisposeScope();

        // torch.clamp(x, 0, max): NaN stays NaN.
        static float Clamp(float x, float max) => MathF.Min(MathF.Max(x, 0f), max);
    }

    /// <summary>Centre x, centre y, width, height (each (R)) of boxes (R,4).</summary>
    private static (Tensor Cx, Tensor Cy, Tensor W, Tensor H) Centres(Tensor boxes)
    {
        var c = boxes.unbind(1);
        var w = c[2] - c[0];
        var h = c[3] - c[1];
        return (c[0].Add(w.Mul(0.5)), c[1].Add(h.Mul(0.5)), w, h);
    }
}
