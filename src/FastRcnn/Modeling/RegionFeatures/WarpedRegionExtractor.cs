using FastRcnn.Modeling.Backbones;
using FastRcnn.Ops;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FastRcnn.Modeling.RegionFeatures;

/// <summary>
/// R-CNN's region features (Girshick et al. 2014): every region is dilated so that, once warped, <see cref="Context"/>
/// pixels of its surroundings border it on each side; the dilated box is warped anisotropically to
/// <see cref="InputSize"/>² pixels of the preprocessed image (bilinear, pixel centres; outside the image the input is
/// 0, i.e. the mean colour after pixel preprocessing, as R-CNN fills with the mean), and the crops run through the whole
/// conv trunk in batches of <see cref="BatchSize"/>, then the ImageNet network's own last max pooling, here an adaptive
/// max pooling to the PH×PW grid fc6 takes (VGG16: 14×14 → 7×7 is its 2×2/2 pool; AlexNet: 13×13 → 6×6 its 3×3/2 pool).
/// Output (R, C, PH, PW), like RoI pooling's, so the box head and predictor are the same.
/// </summary>
/// <remarks>
/// The trunk is the model's own (shared, not owned): R-CNN has no shared feature map, so <see cref="ReadsFeatureMap"/>
/// is false and the model skips the whole-image trunk pass. Rows of <c>rois</c> are (batch_index, x1, y1, x2, y2) in
/// the pixels of <see cref="RegionSource.Images"/>.
/// </remarks>
public sealed class WarpedRegionExtractor : IRegionFeatureExtractor
{
    private readonly Sequential _trunk;

    /// <summary>Warps regions to <paramref name="inputSize"/>² with <paramref name="context"/> pixels of context and runs them through <paramref name="trunk"/>.</summary>
    public WarpedRegionExtractor(Sequential trunk, BackboneSpec spec, int? inputSize = null, int? context = null, int batchSize = 32)
    {
        _trunk = trunk ?? throw new ArgumentNullException(nameof(trunk));
        ArgumentNullException.ThrowIfNull(spec);
        InputSize = inputSize ?? InputSizeFor(spec);
        Context = context ?? ContextFor(InputSize);
        if (InputSize < spec.MinInputSide || 2 * Context >= InputSize)
            throw new ArgumentException($"warp size {InputSize} with {Context} px of context does not fit backbone '{spec.Name}'");
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        BatchSize = batchSize;
        Channels = spec.OutputChannels;
        PooledSize = spec.PooledSize;
    }

    /// <summary>
    /// The network's input size: 224 for VGG16 and VGG_CNN_M_1024, 227 for AlexNet (CaffeNet's), 80 for <c>small</c> —
    /// the pre-training crop (<see cref="Pretraining.CropPretrainer"/>) whose feature map is exactly its 5×5 grid.
    /// </summary>
    public static int InputSizeFor(BackboneSpec spec) => spec.Name switch
    {
        "alexnet" => 227,
        "small" => 16 * spec.PooledSize,
        _ => 224,
    };

    /// <summary>R-CNN's 16 pixels of context at 227 px, in proportion for other sizes (16 at 224, 6 at 80).</summary>
    public static int ContextFor(int inputSize) => (int)Math.Round(16.0 * inputSize / 227, MidpointRounding.AwayFromZero);

    /// <summary>S, the side of a warped crop.</summary>
    public int InputSize { get; }

    /// <summary>Context pixels on each side of the region inside the warped crop.</summary>
    public int Context { get; }

    /// <summary>Crops per trunk forward pass.</summary>
    public int BatchSize { get; }

    /// <summary>C.</summary>
    public int Channels { get; }

    /// <summary>PH = PW.</summary>
    public int PooledSize { get; }

    public int OutputWidth => Channels * PooledSize * PooledSize;

    /// <summary>False: the crops are read from the images, not from a shared feature map.</summary>
    public bool ReadsFeatureMap => false;

    public Tensor Extract(RegionSource source, Tensor rois)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (rois.shape[0] == 0) return zeros(0, Channels, PooledSize, PooledSize);
        var parts = new List<Tensor>();
        for (long start = 0; start < rois.shape[0]; start += BatchSize)
        {
            using var scope = NewDisposeScope();
            var crops = Warp(source.Images, rois.narrow(0, start, Math.Min(BatchSize, rois.shape[0] - start)));
            var features = _trunk.forward(crops);
            parts.Add(nn.functional.adaptive_max_pool2d(features, [PooledSize, PooledSize]).MoveToOuterDisposeScope());
        }
        if (parts.Count == 1) return parts[0];
        var result = cat(parts, 0);
        foreach (var part in parts) part.Dispose();
        return result;
    }

    /// <summary>Identical rows give identical crops; R-CNN scores each region as it comes (no deduplication).</summary>
    public (Tensor Unique, Tensor? Inverse) Deduplicate(Tensor rois) => (rois, null);

    /// <summary>
    /// The warped crops (R, 3, S, S) of <paramref name="rois"/> (R,5) from <paramref name="images"/> (N,3,H,W): output pixel
    /// (v, u) of region r samples, bilinearly with zeros outside the images, the point
    /// <c>(X1 + (u + ½)·W′/S, Y1 + (v + ½)·H′/S)</c> of the dilated box (X1, Y1, W′, H′) — the region's box scaled about its
    /// centre by S / (S − 2·<see cref="Context"/>).
    /// </summary>
    public Tensor Warp(Tensor images, Tensor rois)
    {
        if (images.dim() != 4 || images.shape[1] != 3)
            throw new ArgumentException($"images must be (N,3,H,W), got {BoxOps.ShapeText(images)}", nameof(images));
        if (rois.dim() != 2 || rois.shape[1] != 5)
            throw new ArgumentException($"rois must be (R,5), got {BoxOps.ShapeText(rois)}", nameof(rois));
        using var scope = NewDisposeScope();
        long r = rois.shape[0], height = images.shape[2], width = images.shape[3];
        int s = InputSize;
        double dilation = (double)s / (s - 2 * Context);
        var boxes = rois.detach().to_type(ScalarType.Float64);
        var batch = boxes.select(1, 0).to_type(ScalarType.Int64).contiguous();
        var x1 = boxes.select(1, 1);
        var y1 = boxes.select(1, 2);
        var x2 = boxes.select(1, 3);
        var y2 = boxes.select(1, 4);
        var w = x2.sub(x1).Mul(dilation);
        var h = y2.sub(y1).Mul(dilation);
        var left = x1.Add(x2).Mul(0.5).sub(w.Mul(0.5));
        var top = y1.Add(y2).Mul(0.5).sub(h.Mul(0.5));
        var steps = SafeScalars.Arange(s, ScalarType.Float64).Add(0.5).Div(s);                 // (S): (u + ½) / S
        // Normalised grid coordinates (align_corners = false): pixel-edge coordinate X ↦ 2X/W − 1.
        var gx = left.unsqueeze(1).Add(w.unsqueeze(1).mul(steps.unsqueeze(0))).Mul(2.0 / width).Sub(1.0);    // (R,S)
        var gy = top.unsqueeze(1).Add(h.unsqueeze(1).mul(steps.unsqueeze(0))).Mul(2.0 / height).Sub(1.0);   // (R,S)
        var grid = stack([gx.unsqueeze(1).expand(r, s, s), gy.unsqueeze(2).expand(r, s, s)], 3).to_type(images.dtype);  // (R,S,S,2)
        var order = new List<Tensor>();
        var pieces = new List<Tensor>();
        foreach (long image in batch.data<long>().ToArray().Distinct().Order())
        {
            var index = batch.Eq(image).nonzero().flatten();
            long n = index.shape[0];
            // One tall grid per image (1, n·S, S, 2): the image is read in place, not copied per region.
            var tall = grid.index_select(0, index).reshape(1, n * s, s, 2);
            var sampled = nn.functional.grid_sample(images.narrow(0, image, 1), tall, GridSampleMode.Bilinear,
                GridSamplePaddingMode.Zeros, align_corners: false);                                              // (1,3,n·S,S)
            pieces.Add(sampled.reshape(3, n, s, s).permute(1, 0, 2, 3));
            order.Add(index);
        }
        var crops = pieces.Count == 1 ? pieces[0] : cat(pieces, 0);
        var inverse = cat(order, 0).argsort();
        return crops.index_select(0, inverse).contiguous().MoveToOuterDisposeScope();
    }
}
