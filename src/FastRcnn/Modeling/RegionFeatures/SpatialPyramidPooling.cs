using FastRcnn.Ops;
using TorchSharp;
using static TorchSharp.torch;

namespace FastRcnn.Modeling.RegionFeatures;

/// <summary>
/// SPPnet's region features (He et al. 2014): each window max-pooled into an L×L grid for every pyramid level L
/// (<see cref="SppOptions.Levels"/>: 6, 3, 2, 1), each level flattened channel-major (C·L·L, as RoI pooling's
/// output flattens) and the levels concatenated finest first: output (R, C·ΣL²), fc6's input. A window's bins at
/// every level are those of RoI pooling at that grid size (SPEC §4's arithmetic: corners rounded half away from zero
/// at the trunk's spatial scale, inclusive extents, floor/ceil bin edges), so gradients reach the features as RoI
/// pooling's do — though SPPnet trains with the conv layers frozen.
/// </summary>
public sealed class SpatialPyramidPooling : nn.Module<Tensor, Tensor, Tensor>, IRegionFeatureExtractor
{
    private readonly RoiPoolLayer[] _levels;

    /// <summary>Pools C-channel features at <paramref name="spatialScale"/> (1/16) into the grids of <paramref name="levels"/>.</summary>
    public SpatialPyramidPooling(int channels, IReadOnlyList<int> levels, double spatialScale) : base(nameof(SpatialPyramidPooling))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        if (levels.Count == 0 || levels.Any(l => l < 1))
            throw new ArgumentException($"pyramid levels must be positive grid sizes, got [{string.Join(", ", levels)}]", nameof(levels));
        Channels = channels;
        Levels = levels.ToArray();
        SpatialScale = spatialScale;
        _levels = Levels.Select(l => new RoiPoolLayer(l, l, spatialScale)).ToArray();
    }

    /// <summary>C, the pooled channels.</summary>
    public int Channels { get; }

    /// <summary>The grid sizes L, in output order.</summary>
    public IReadOnlyList<int> Levels { get; }

    /// <summary>The trunk's spatial scale (1/16).</summary>
    public double SpatialScale { get; }

    /// <summary>C·ΣL² (512·50 = 25600 for VGG16 with 6, 3, 2, 1).</summary>
    public int OutputWidth => Channels * Levels.Sum(l => l * l);

    public Tensor Extract(RegionSource source, Tensor rois) => forward(source.Features, rois);

    /// <summary>Every level rounds a window's corners the same way, so windows on the same cells pool identical features at every level.</summary>
    public (Tensor Unique, Tensor? Inverse) Deduplicate(Tensor rois) => Inference.RoiDeduplication.Run(rois, SpatialScale);

    /// <summary>(R, C·ΣL²) from features (N,C,h,w) and RoIs (R,5).</summary>
    public override Tensor forward(Tensor features, Tensor rois)
    {
        using var scope = NewDisposeScope();
        var parts = _levels.Select(level => level.forward(features, rois).flatten(1)).ToArray();
        return (parts.Length == 1 ? parts[0] : cat(parts, 1)).MoveToOuterDisposeScope();
    }
}
