using FastRcnn.Data;
using FastRcnn.Imaging;
using FastRcnn.Inference;
using FastRcnn.Modeling;
using FastRcnn.Serving;
using TorchSharp;

namespace FastRcnn.Tests.Serving;

/// <summary>
/// What the serve tests share: a saved Fast R-CNN model with the Shapes classes and random weights (selective search
/// proposals, so the whole request path runs) and two small Shapes test images, made once.
/// </summary>
public sealed class ServingFixture : IDisposable
{
    private readonly TempDir _tmp = new();

    public ServingFixture()
    {
        ModelDirectory = _tmp.Combine("model");
        ClassNames = ShapesGenerator.ClassNames.Skip(1).ToArray();
        using (var model = new TwoStageModel("small", ClassNames.Count, seed: 3))
        {
            // The paper's init (cls_score ~ N(0, 0.01²)) scores every class near 1/9: sharpen the logits so that scores
            // spread over 0–1 like a trained model's, for the page's score slider.
            using var noGrad = torch.no_grad();
            using var sharpen = 400.0.ToScalar();
            foreach (var (name, parameter) in model.named_parameters())
                if (name.EndsWith("cls_score.weight", StringComparison.Ordinal)) parameter.mul_(sharpen);
            ModelFiles.Save(ModelDirectory, model, ClassNames);
        }
        string shapes = _tmp.Combine("shapes");
        ShapesGenerator.Generate(shapes, new ShapesOptions { TrainImages = 1, TestImages = 2, Seed = 5, MinImageSize = 160, MaxImageSize = 200 });
        Images = Directory.GetFiles(Path.Combine(shapes, "JPEGImages"), "test_*.jpg").Order(StringComparer.Ordinal).ToArray();
    }

    public string ModelDirectory { get; }

    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Shapes test images (JPEG, 160–200 px a side).</summary>
    public IReadOnlyList<string> Images { get; }

    /// <summary>Detection at one small scale: fast, and every detection of the random model above 0.05 kept.</summary>
    public static DetectorOptions DetectorOptions { get; } = new(Scales: [128], MaxSize: 256);

    public ServeOptions Options(int workers = 1, int queue = 4) => new(ModelDirectory, DetectorOptions, workers, QueueCapacity: queue);

    public void Dispose() => _tmp.Dispose();
}

[CollectionDefinition(Name)]
public sealed class ServingCollection : ICollectionFixture<ServingFixture>
{
    public const string Name = "serve (one model)";
}
