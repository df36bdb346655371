using FastRcnn.Data.Transforms;
using static TorchSharp.torch;

namespace FastRcnn.Modeling;

/// <summary>
/// One image prepared for testing: its L pyramid levels preprocessed and padded into <see cref="Images"/>
/// (L,3,H,W) and each level's scale (<see cref="ImageScale"/>, which also carries the original size). Built by
/// <see cref="Inference.ImageTransform"/>.
/// </summary>
public sealed record TestImage(Tensor Images, IReadOnlyList<ImageScale> Levels) : IDisposable
{
    /// <summary>The original image's height.</summary>
    public int Height => Levels[0].OriginalHeight;

    /// <summary>The original image's width.</summary>
    public int Width => Levels[0].OriginalWidth;

    public void Dispose() => Images.Dispose();
}

/// <summary>How the RoIs of one image are scored at test time.</summary>
/// <param name="CanonicalRoiSize">With several levels, each RoI is pooled from the level where its scaled area is closest to this side squared (SPEC §6: 224).</param>
/// <param name="Deduplicate">Score RoIs that would pool identical features once (exact; <see cref="RegionFeatures.IRegionFeatureExtractor.Deduplicate"/>).</param>
public sealed record PredictOptions(double CanonicalRoiSize = ImagePyramid.ImageNetInputSize, bool Deduplicate = true);

/// <summary>What <see cref="TwoStageModel.Forward"/> needs at test time besides the levels.</summary>
/// <param name="Height">The original image's height.</param>
/// <param name="Width">The original image's width.</param>
/// <param name="Proposals">(R,4) proposals in the original pixels, or null when the model computes them.</param>
/// <param name="CanonicalRoiSize">See <see cref="PredictOptions.CanonicalRoiSize"/>.</param>
/// <param name="Deduplicate">See <see cref="PredictOptions.Deduplicate"/>.</param>
public sealed record TestRequest(int Height, int Width, Tensor? Proposals, double CanonicalRoiSize, bool Deduplicate);

/// <summary>A part that draws random numbers and is reseeded by the trainer every iteration.</summary>
public interface IReseedable
{
    /// <summary>Restarts the part's draws from <paramref name="seed"/>.</summary>
    void Reseed(long seed);
}
