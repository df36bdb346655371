using FastRcnn.Data.Transforms;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FastRcnn.Modeling.Backbones;

/// <summary>A conv trunk (input (N,3,H,W) → features (N,C,H',W') at stride 16) and its description.</summary>
/// <param name="Trunk">
/// The conv layers as a <see cref="Sequential"/> whose children are named "0", "1", … like
/// torchvision's <c>features</c>, so that inside <see cref="TwoStageModel"/> (registered as
/// <c>features</c>) the state-dict names equal torchvision's: <c>features.0.weight</c>, ….
/// </param>
/// <param name="Spec">Channels, pooling size, fc widths, pixels, frozen layers.</param>
public sealed record Backbone(Sequential Trunk, BackboneSpec Spec);

/// <summary>
/// The backbones of the paper (SPEC §3: S = CaffeNet, here torchvision's AlexNet; M = VGG_CNN_M_1024;
/// L = VGG16) and a small, fast CPU trunk for the built-in Shapes benchmark. Every trunk ends before
/// the ImageNet network's last max-pool, so its stride is 16.
/// </summary>
/// <remarks>
/// Convolutions get He (Kaiming) normal weights, <c>std = √(2 / fan_out)</c> as torchvision initialises
/// VGG, and zero biases, drawn from a seeded generator; pretrained weights
/// (<see cref="BackboneWeights.ImportTorchvision"/>) replace them.
/// </remarks>
public static class BackboneFactory
{
    /// <summary>Names accepted by <see cref="Create(string, long)"/>.</summary>
    public static IReadOnlyList<string> Names { get; } = ["vgg16", "vgg_cnn_m_1024", "alexnet", "small"];

    /// <summary>The description of backbone <paramref name="name"/> without building its layers.</summary>
    public static BackboneSpec Spec(string name) => NormalizeName(name) switch
    {
        // L: torchvision VGG16 features[0..29]; conv1_1..conv2_2 = features.0..features.7 frozen.
        "vgg16" => new("vgg16", 512, 1.0 / 16, 7, 4096, 4096, PixelPreprocessing.TorchvisionRgb,
            BackboneSpec.FeaturesUpTo(7), "classifier.0", "classifier.3") { MinInputSide = 16 },
        // M: the Caffe model (BGR means); conv1 frozen; no torchvision counterpart.
        "vgg_cnn_m_1024" => new("vgg_cnn_m_1024", 512, 1.0 / 16, 6, 4096, 1024, PixelPreprocessing.CaffeBgr,
            BackboneSpec.FeaturesUpTo(0), null, null) { MinInputSide = 25 },
        // S: torchvision AlexNet features[0..11]; conv1 frozen; classifier = dropout, fc6, relu, dropout, fc7, relu, fc8.
        "alexnet" => new("alexnet", 256, 1.0 / 16, 6, 4096, 4096, PixelPreprocessing.TorchvisionRgb,
            BackboneSpec.FeaturesUpTo(0), "classifier.1", "classifier.4") { MinInputSide = 31 },
        "small" => new("small", 256, 1.0 / 16, 5, 512, 512, PixelPreprocessing.TorchvisionRgb,
            [], null, null),
        _ => throw new ArgumentException($"Unknown backbone '{name}' (known: {string.Join(", ", Names)}).", nameof(name)),
    };

    /// <summary>Builds backbone <paramref name="name"/> with weights drawn from a generator seeded with <paramref name="seed"/>.</summary>
    public static Backbone Create(string name, long seed = 0)
    {
        using var generator = new Generator((ulong)seed);
        return Create(name, generator);
    }

    /// <summary>Builds backbone <paramref name="name"/>, drawing its initial weights from <paramref name="generator"/>.</summary>
    public static Backbone Create(string name, Generator generator)
    {
        var spec = Spec(name);
        var layers = spec.Name switch
        {
            "vgg16" => Vgg16Layers(),
            "vgg_cnn_m_1024" => VggCnnM1024Layers(),
            "alexnet" => AlexNetLayers(),
            _ => SmallLayers(),
        };
        var trunk = nn.Sequential(layers.Select((m, i) => (i.ToString(System.Globalization.CultureInfo.InvariantCulture), m)).ToArray());
        InitConvolutions(trunk, generator);
        return new Backbone(trunk, spec);
    }

    private static string NormalizeName(string name) =>
        (name ?? throw new ArgumentNullException(nameof(name))).Trim().ToLowerInvariant().Replace('-', '_');

    /// <summary>VGG16 conv1_1 … conv5_3 with ReLUs and the first four 2×2 max-pools (torchvision indices 0–29).</summary>
    private static List<nn.Module<Tensor, Tensor>> Vgg16Layers()
    {
        var layers = new List<nn.Module<Tensor, Tensor>>();
        int inChannels = 3;
        int[][] stages = [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]];
        for (int s = 0; s < stages.Length; s++)
        {
            foreach (int width in stages[s])
            {
                layers.Add(nn.Conv2d(inChannels, width, 3, padding: 1));
                layers.Add(nn.ReLU(inplace: true));
                inChannels = width;
            }
            if (s < stages.Length - 1) layers.Add(nn.MaxPool2d(2, 2));
        }
        return layers;
    }

    /// <summary>
    /// VGG_CNN_M_1024 (Chatfield et al. 2014) as in Fast R-CNN's prototxt: conv1 96 7×7/2, LRN, 3×3/2 pool;
    /// conv2 256 5×5/2 pad 1, LRN, 3×3/2 pool; conv3–conv5 512 3×3 pad 1. Caffe's pooling rounds up
    /// (<c>ceil_mode</c>) and Caffe's LRN, <c>x / (k + α/n·Σx²)^β</c>, is PyTorch's LocalResponseNorm.
    /// </summary>
    private static List<nn.Module<Tensor, Tensor>> VggCnnM1024Layers() =>
    [
        nn.Conv2d(3, 96, 7, stride: 2), nn.ReLU(inplace: true), Lrn(), nn.MaxPool2d(3, 2, ceil_mode: true),
        nn.Conv2d(96, 256, 5, stride: 2, padding: 1), nn.ReLU(inplace: true), Lrn(), nn.MaxPool2d(3, 2, ceil_mode: true),
        nn.Conv2d(256, 512, 3, padding: 1), nn.ReLU(inplace: true),
        nn.Conv2d(512, 512, 3, padding: 1), nn.ReLU(inplace: true),
        nn.Conv2d(512, 512, 3, padding: 1), nn.ReLU(inplace: true),
    ];

    private static nn.Module<Tensor, Tensor> Lrn() => nn.LocalResponseNorm(5, alpha: 0.0005, beta: 0.75, k: 2);

    /// <summary>torchvision AlexNet features without the last max-pool (indices 0–11).</summary>
    private static List<nn.Module<Tensor, Tensor>> AlexNetLayers() =>
    [
        nn.Conv2d(3, 64, 11, stride: 4, padding: 2), nn.ReLU(inplace: true), nn.MaxPool2d(3, 2),
        nn.Conv2d(64, 192, 5, padding: 2), nn.ReLU(inplace: true), nn.MaxPool2d(3, 2),
        nn.Conv2d(192, 384, 3, padding: 1), nn.ReLU(inplace: true),
        nn.Conv2d(384, 256, 3, padding: 1), nn.ReLU(inplace: true),
        nn.Conv2d(256, 256, 3, padding: 1), nn.ReLU(inplace: true),
    ];

    /// <summary>
    /// The Shapes benchmark's trunk: five conv + ReLU stages of widths 32-64-128-192-256, the first four
    /// with stride 2 (5×5 then 3×3 kernels, "same" padding), no BatchNorm. Output ⌈H/16⌉ × ⌈W/16⌉.
    /// </summary>
    private static List<nn.Module<Tensor, Tensor>> SmallLayers() =>
    [
        nn.Conv2d(3, 32, 5, stride: 2, padding: 2), nn.ReLU(inplace: true),
        nn.Conv2d(32, 64, 3, stride: 2, padding: 1), nn.ReLU(inplace: true),
        nn.Conv2d(64, 128, 3, stride: 2, padding: 1), nn.ReLU(inplace: true),
        nn.Conv2d(128, 192, 3, stride: 2, padding: 1), nn.ReLU(inplace: true),
        nn.Conv2d(192, 256, 3, padding: 1), nn.ReLU(inplace: true),
    ];

    /// <summary>
    /// The <c>small</c> trunk with a BatchNorm after every convolution (conv → BN → ReLU), for classification
    /// pre-training (<see cref="Pretraining.CropPretrainer"/>); <see cref="Pretraining.BatchNormFolding"/>
    /// folds it back into the plain <c>small</c> trunk.
    /// </summary>
    public static Sequential SmallWithBatchNorm(Generator generator)
    {
        var layers = new List<nn.Module<Tensor, Tensor>>();
        foreach (var module in SmallLayers())
        {
            layers.Add(module);
            if (module is Conv2d conv) layers.Add(nn.BatchNorm2d(conv.weight!.shape[0]));
        }
        var trunk = nn.Sequential(layers.Select((m, i) => (i.ToString(System.Globalization.CultureInfo.InvariantCulture), m)).ToArray());
        InitConvolutions(trunk, generator);
        return trunk;
    }

    /// <summary>He normal (fan_out, ReLU gain) conv weights and zero biases, from <paramref name="generator"/>.</summary>
    private static void InitConvolutions(Sequential trunk, Generator generator)
    {
        using var noGrad = no_grad();
        foreach (var module in trunk.children())
        {
            if (module is not Conv2d conv) continue;
            var w = conv.weight!;
            long fanOut = w.shape[0] * w.shape[2] * w.shape[3];
            w.normal_(0, Math.Sqrt(2.0 / fanOut), generator);
            conv.bias?.zero_();
        }
    }
}
