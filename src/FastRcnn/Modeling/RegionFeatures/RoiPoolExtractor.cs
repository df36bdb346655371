using FastRcnn.Ops;
using TorchSharp;
using static TorchSharp.torch;

namespace FastRcnn.Modeling.RegionFeatures;

/// <summary>
/// Fast R-CNN's region features: RoI max pooling of the conv features into a PH×PW grid at the trunk's
/// spatial scale (SPEC §4, exact Caffe arithmetic; <see cref="RoiPoolLayer"/>). Output (R, C, PH, PW).
/// </summary>
public sealed class RoiPoolExtractor : nn.Module<Tensor, Tensor, Tensor>, IRegionFeatureExtractor
{
    private readonly RoiPoolLayer _pool;

    /// <summary>Pools C-channel features into <paramref name="pooledSize"/>² bins at <paramref name="spatialScale"/> (1/16).</summary>
    public RoiPoolExtractor(int channels, int pooledSize, double spatialScale) : base(nameof(RoiPoolExtractor))
    {
        _pool = new RoiPoolLayer(pooledSize, pooledSize, spatialScale);
        Channels = channels;
        RegisterComponents();
    }

    /// <summary>C, the pooled channels.</summary>
    public int Channels { get; }

    /// <summary>PH = PW.</summary>
    public int PooledSize => _pool.PooledHeight;

    /// <summary>The trunk's spatial scale (1/16).</summary>
    public double SpatialScale => _pool.SpatialScale;

    public int OutputWidth => Channels * PooledSize * PooledSize;

    public Tensor Extract(RegionSource source, Tensor rois) => forward(source.Features, rois);

    /// <summary>RoIs that fall on the same feature cells pool identical features (<see cref="Inference.RoiDeduplication"/>).</summary>
    public (Tensor Unique, Tensor? Inverse) Deduplicate(Tensor rois) => Inference.RoiDeduplication.Run(rois, SpatialScale);

    public override Tensor forward(Tensor features, Tensor rois) => _pool.forward(features, rois);
}
