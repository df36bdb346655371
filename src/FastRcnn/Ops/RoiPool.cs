using TorchSharp;
using static TorchSharp.torch;

namespace FastRcnn.Ops;

/// <summary>
/// RoI max pooling (Fast R-CNN §2.1; SPEC §4): each region of interest is projected onto the
/// conv feature map and max-pooled into a fixed PH×PW grid.
/// </summary>
/// <remarks>
/// Shapes: features (N, C, H, W) float32; rois (R, 5) float32 rows (batch_index, x1, y1, x2, y2)
/// in the pixels of the scaled input image; output (R, C, PH, PW); argmax (R, C, PH, PW) int32,
/// the flat index h·W + w of the chosen cell in its channel plane, or -1 for an empty bin.
/// <para>The arithmetic is the original Caffe layer's, which torchvision's <c>roi_pool</c> keeps:
/// corners rounded half away from zero after scaling (x·1/16 hits .5 whenever x ≡ 8 mod 16),
/// "+1" inclusive widths, bins floor/ceil'ed and clamped to the map, empty bins 0 with no
/// gradient, the first maximum in row-major order wins. The backward is the paper's eq. 4: each
/// input cell receives the sum of the output gradients of every bin, of every RoI, that chose it.</para>
/// </remarks>
public static class RoiPool
{
    /// <summary>Differentiable RoI pooling (gradients flow to <paramref name="features"/>).</summary>
    public static Tensor Apply(Tensor features, Tensor rois, int pooledHeight, int pooledWidth, double spatialScale) =>
        RoiPoolFunction.apply(features, rois, pooledHeight, pooledWidth, spatialScale);

    /// <summary>The forward pass without autograd, also returning the argmax.</summary>
    public static (Tensor Output, Tensor Argmax) Forward(
        Tensor features, Tensor rois, int pooledHeight, int pooledWidth, double spatialScale)
    {
        using var scope = NewDisposeScope();
        var (output, argmax) = Pool(features, rois, pooledHeight, pooledWidth, spatialScale, withArgmax: true);
        return (output.MoveToOuterDisposeScope(), argmax!.to_type(int32).MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The backward pass (paper eq. 4): dL/d(features) of shape <paramref name="featureShape"/>, from
    /// the argmax of the forward (int32, or int16 as the autograd path keeps it).
    /// </summary>
    public static Tensor Backward(Tensor gradOutput, Tensor argmax, Tensor rois, long[] featureShape)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var gradInput = zeros(featureShape, float32);
        if (argmax.numel() > 0)
        {
            var batchIndex = rois.detach().select(1, 0).to_type(int32).contiguous();
            RoiPoolKernel.Backward(gradOutput.detach().to_type(float32).contiguous(), argmax.contiguous(), batchIndex, gradInput);
        }
        return gradInput.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The forward; the argmax (R×C×PH×PW) only when the backward will need it, as int16 when every
    /// cell index fits (H·W &lt; 2^15: a quarter of the output's bytes instead of half), else int32.
    /// </summary>
    internal static (Tensor Output, Tensor? Argmax) Pool(
        Tensor features, Tensor rois, int pooledHeight, int pooledWidth, double spatialScale, bool withArgmax)
    {
        ValidateArguments(features, rois, pooledHeight, pooledWidth, spatialScale);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        long[] shape = [rois.shape[0], features.shape[1], pooledHeight, pooledWidth];
        var output = TensorMemory.EmptyLarge(shape, float32);
        var indexType = features.shape[2] * features.shape[3] <= short.MaxValue ? int16 : int32;
        var argmax = withArgmax ? TensorMemory.EmptyLarge(shape, indexType) : null;
        var roiRows = rois.detach().to_type(float32).contiguous();
        ValidateBatchIndices(roiRows, features.shape[0]);
        if (output.numel() > 0)
        {
            var channelsLast = features.detach().permute(0, 2, 3, 1).contiguous();
            var geometry = new RoiPoolKernel.Geometry((int)features.shape[1], (int)features.shape[2], (int)features.shape[3],
                pooledHeight, pooledWidth, (float)spatialScale);
            RoiPoolKernel.Forward(channelsLast, roiRows, geometry, output, argmax);
        }
        return (output.MoveToOuterDisposeScope(), argmax?.MoveToOuterDisposeScope());
    }

    private static void ValidateArguments(Tensor features, Tensor rois, int pooledHeight, int pooledWidth, double spatialScale)
    {
        if (features.dim() != 4)
            throw new ArgumentException($"RoI pooling: features must be (N, C, H, W), got shape [{string.Join(", ", features.shape)}]");
        if (features.dtype != ScalarType.Float32)
            throw new ArgumentException($"RoI pooling: features must be float32, got {features.dtype}");
        if (rois.dim() != 2 || rois.shape[1] != 5)
            throw new ArgumentException($"RoI pooling: rois must be (R, 5) rows (batch_index, x1, y1, x2, y2), got shape [{string.Join(", ", rois.shape)}]");
        if (pooledHeight < 1 || pooledWidth < 1)
            throw new ArgumentException($"RoI pooling: output size must be positive, got {pooledHeight}×{pooledWidth}");
        if (!(spatialScale > 0) || double.IsInfinity(spatialScale))
            throw new ArgumentException($"RoI pooling: spatial scale must be positive, got {spatialScale}");
        if (features.device_type != DeviceType.CPU || rois.device_type != DeviceType.CPU)
            throw new ArgumentException("RoI pooling: this implementation runs on the CPU; move features and rois to the CPU");
    }

    private static void ValidateBatchIndices(Tensor roiRows, long imageCount)
    {
        if (roiRows.shape[0] == 0) return;
        var batch = roiRows.select(1, 0);
        float min = batch.min().item<float>(), max = batch.max().item<float>();
        if (min < 0 || max > imageCount - 1 || batch.frac().abs().max().item<float>() != 0)
            throw new ArgumentException(
                $"RoI pooling: batch indices must be integers in [0, {imageCount - 1}], got values in [{min}, {max}]");
    }
}

/// <summary>The autograd node of <see cref="RoiPool.Apply"/>.</summary>
internal sealed class RoiPoolFunction : autograd.SingleTensorFunction<RoiPoolFunction>
{
    public override string Name => "RoiPool";

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var features = (Tensor)vars[0];
        var rois = (Tensor)vars[1];
        // Without a gradient to propagate (inference), skip the argmax: pooling then takes only maxima.
        var (output, argmax) = RoiPool.Pool(features, rois, (int)vars[2], (int)vars[3], (double)vars[4], withArgmax: features.requires_grad);
        if (argmax is not null)
        {
            ctx.save_for_backward([argmax, rois.detach()]);
            ctx.save_data("featureShape", features.shape);
        }
        return output;
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        var saved = ctx.get_saved_variables();
        var gradFeatures = RoiPool.Backward(gradOutput, saved[0], saved[1], (long[])ctx.get_data("featureShape"));
        return [gradFeatures, null!, null!, null!, null!];
    }
}

/// <summary>RoI pooling as a module: <c>forward(features, rois)</c>.</summary>
public sealed class RoiPoolLayer : nn.Module<Tensor, Tensor, Tensor>
{
    public RoiPoolLayer(int pooledHeight, int pooledWidth, double spatialScale) : base(nameof(RoiPoolLayer))
    {
        PooledHeight = pooledHeight;
        PooledWidth = pooledWidth;
        SpatialScale = spatialScale;
    }

    public int PooledHeight { get; }
    public int PooledWidth { get; }
    /// <summary>Feature-map cells per input pixel (1/16 for stride-16 backbones).</summary>
    public double SpatialScale { get; }

    public override Tensor forward(Tensor features, Tensor rois) =>
        RoiPool.Apply(features, rois, PooledHeight, PooledWidth, SpatialScale);
}
