using FastRcnn.Data;

namespace FastRcnn.Tests.Proposals;

/// <summary>A small Shapes dataset (test split only) generated into a temporary directory, deleted on dispose.</summary>
public sealed class ShapesSplit : IDisposable
{
    public ShapesSplit(int images, int minSize = 160, int maxSize = 200, int seed = 3)
    {
        Root = Path.Combine(Path.GetTempPath(), "fastrcnn-proposals-" + Guid.NewGuid().ToString("N"));
        ShapesGenerator.Generate(Root, new ShapesOptions
        {
            TrainImages = 0, TestImages = images, Seed = seed, MinImageSize = minSize, MaxImageSize = maxSize,
        });
    }

    /// <summary>The dataset directory (VOC layout, split "test").</summary>
    public string Root { get; }

    /// <summary>Loads the test split.</summary>
    public DetectionDataset Load() => DatasetLoader.Load(Root, "test");

    /// <summary>A fresh directory inside the dataset's temporary folder.</summary>
    public string NewDir(string name)
    {
        var dir = Path.Combine(Root, "work-" + name + "-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); }
        catch (IOException) { }
    }
}

/// <summary>Eight 160–200 px Shapes images shared by the tests of one class.</summary>
public sealed class SmallShapesFixture : IDisposable
{
    public ShapesSplit Split { get; } = new(8);

    public void Dispose() => Split.Dispose();
}
