using FastRcnn.Data.Transforms;

namespace FastRcnn.Modeling.Backbones;

/// <summary>
/// What the rest of the detector needs to know about a conv trunk (SPEC §3): its output channels C
/// at stride 16 (<c>spatial_scale = 1/16</c>), the RoI pooling grid PH×PW (PH = PW =
/// <see cref="PooledSize"/>), the widths of the fully connected fc6 (C·PH·PW → <see cref="Fc6Width"/>)
/// and fc7 layers, the pixel preprocessing its weights expect, the parameters the paper keeps frozen,
/// and where fc6/fc7 sit in a torchvision ImageNet checkpoint.
/// </summary>
/// <param name="Name">Factory name (<see cref="BackboneFactory.Create(string, long)"/>), saved with models.</param>
/// <param name="OutputChannels">C, channels of the trunk's last feature map.</param>
/// <param name="SpatialScale">Feature-map cells per input pixel (1/16).</param>
/// <param name="PooledSize">RoI pooling output size PH = PW (7 for VGG16, 6 for CaffeNet/AlexNet and VGG_CNN_M_1024).</param>
/// <param name="Fc6Width">Output width of fc6.</param>
/// <param name="Fc7Width">Output width of fc7 (the predictor's input width).</param>
/// <param name="Pixels">Input convention of the weights (SPEC §2).</param>
/// <param name="FrozenPrefixes">
/// Model state-dict name prefixes (e.g. <c>"features.0."</c>) whose parameters training keeps fixed
/// (SPEC §5: VGG16 conv1_1–conv2_2, CaffeNet/VGG_CNN_M_1024 conv1).
/// </param>
/// <param name="TorchvisionFc6">torchvision classifier module that becomes fc6 (e.g. <c>"classifier.0"</c>), or null.</param>
/// <param name="TorchvisionFc7">torchvision classifier module that becomes fc7 (e.g. <c>"classifier.3"</c>), or null.</param>
public sealed record BackboneSpec(
    string Name,
    int OutputChannels,
    double SpatialScale,
    int PooledSize,
    int Fc6Width,
    int Fc7Width,
    PixelPreprocessing Pixels,
    IReadOnlyList<string> FrozenPrefixes,
    string? TorchvisionFc6,
    string? TorchvisionFc7)
{
    /// <summary>
    /// The smallest input side (pixels) whose trunk output has at least one cell: 16 for VGG16 (four 2×2 pools),
    /// 31 for AlexNet, 25 for VGG_CNN_M_1024, 1 for <c>small</c>. A smaller scaled image makes libtorch's pooling fail.
    /// </summary>
    public int MinInputSide { get; init; } = 1;

    /// <summary>Input width of fc6: C·PH·PW, the flattened pooled RoI.</summary>
    public int Fc6Inputs => OutputChannels * PooledSize * PooledSize;

    /// <summary>
    /// The prefixes <c>"features.i."</c> for i = 0..<paramref name="lastIndex"/>: everything up to and
    /// including trunk module <paramref name="lastIndex"/> (the "freeze up to" of the original solvers).
    /// </summary>
    public static IReadOnlyList<string> FeaturesUpTo(int lastIndex) =>
        Enumerable.Range(0, lastIndex + 1).Select(i => $"features.{i}.").ToArray();
}
