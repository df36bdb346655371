using static TorchSharp.torch;

namespace FastRcnn.Modeling.Svm;

/// <summary>
/// The features of R boxes of one image: <see cref="Pool5"/> (R, D5), the region feature before fc6 (RoI pooling's,
/// spatial pyramid pooling's or the warped crop's conv output, flattened), and <see cref="Fc7"/> (R, D7), fc7 after its
/// ReLU, computed as at test time (no dropout).
/// </summary>
public sealed record RegionFeatureSet(Tensor Pool5, Tensor Fc7) : IDisposable
{
    public void Dispose()
    {
        Pool5.Dispose();
        Fc7.Dispose();
    }
}

/// <summary>
/// "The features of these boxes of this image": what the post-hoc SVM stage (<see cref="SvmStage"/>,
/// <see cref="FeatureCache"/>) needs from a network, whatever its region feature extractor.
/// <see cref="TwoStageModel"/> implements it.
/// </summary>
public interface IRegionFeatureSource
{
    /// <summary>D5, the width of <see cref="RegionFeatureSet.Pool5"/>.</summary>
    int Pool5Width { get; }

    /// <summary>D7, the width of <see cref="RegionFeatureSet.Fc7"/>.</summary>
    int Fc7Width { get; }

    /// <summary>
    /// Features of <paramref name="boxes"/> (R,4), in the original pixels of <paramref name="image"/>, without gradients
    /// and with dropout off; <paramref name="options"/> picks the pyramid level of each box as at test time.
    /// </summary>
    RegionFeatureSet RegionFeatures(TestImage image, Tensor boxes, PredictOptions? options = null);
}
