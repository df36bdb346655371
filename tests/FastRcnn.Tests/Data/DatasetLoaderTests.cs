using FastRcnn.Data;
using static FastRcnn.Tests.Data.DataTestFiles;

namespace FastRcnn.Tests.Data;

public class DatasetLoaderTests
{
    [Fact]
    public void Detects_a_voc_root_and_a_devkit_parent_with_one_voc_root()
    {
        using var tmp = new TempDir();
        var root = tmp.Combine("VOC2007");
        WriteVocImage(root, VocObject("cat", "1", "1", "5", "5"), classes: ["cat"]);
        Assert.Equal((DatasetFormat.Voc, root), DatasetLoader.Detect(root));
        Assert.Equal((DatasetFormat.Voc, root), DatasetLoader.Detect(tmp.Path));
        var ds = DatasetLoader.Load(tmp.Path, "all");
        Assert.Equal(root, ds.Source);
        Assert.Single(ds.Images);
    }

    [Fact]
    public void Unrecognised_or_missing_paths_are_clear_errors()
    {
        using var tmp = new TempDir();
        AssertFormatError(() => DatasetLoader.Load(tmp.Path), tmp.Path, "unrecognised dataset layout");
        AssertFormatError(() => DatasetLoader.Load(tmp.Combine("nope")), tmp.Combine("nope"), "does not exist");
        File.WriteAllText(tmp.Combine("notes.txt"), "hello");
        AssertFormatError(() => DatasetLoader.Load(tmp.Combine("notes.txt")), tmp.Combine("notes.txt"), "not a dataset");
    }

    [Fact]
    public void Class_name_lists_reject_duplicates_and_the_background_name()
    {
        Assert.Equal([DetectionDataset.Background, "a", "b"], DetectionDataset.MakeClassNames(["a", "b"]));
        Assert.Throws<ArgumentException>(() => DetectionDataset.MakeClassNames(["a", "a"]));
        Assert.Throws<ArgumentException>(() => DetectionDataset.MakeClassNames([DetectionDataset.Background]));
        Assert.Throws<ArgumentException>(() => DetectionDataset.MakeClassNames([" a"]));
    }

    [Fact]
    public void Stats_count_classes_flags_and_histograms()
    {
        var classes = DetectionDataset.MakeClassNames(["a", "b"]);
        var img = new ImageRecord("x", "x.jpg", 100, 100,
        [
            new ObjectAnnotation(new BoundingBox(0, 0, 10, 10), 1, Difficult: true),   // s = 10, a = 1
            new ObjectAnnotation(new BoundingBox(0, 0, 40, 10), 1, Truncated: true),   // s = 20, a = 4
            new ObjectAnnotation(new BoundingBox(0, 0, 100, 100), 2, Crowd: true),     // s = 100, a = 1
        ]);
        var empty = new ImageRecord("y", "y.jpg", 50, 60, []);
        var stats = DatasetStats.Compute(new DetectionDataset(classes, [img, empty], "s", LoadReport.Empty));
        Assert.Equal((2, 1, 3), (stats.Images, stats.ImagesWithoutObjects, stats.Objects));
        Assert.Equal(new ClassStats(1, "a", 2, 1, 1, 0, 1), stats.Classes[0]);
        Assert.Equal(new ClassStats(2, "b", 1, 1, 0, 1, 0), stats.Classes[1]);
        Assert.Equal([0, 1, 1, 0, 1, 0, 0, 0], stats.BoxSize.Counts);
        Assert.Equal([0, 0, 0, 2, 0, 0, 1], stats.AspectRatio.Counts);
        Assert.Equal(((50, 60), (100, 100)), (stats.MinImageSize, stats.MaxImageSize));
    }
}
