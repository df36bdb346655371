using System.Xml.Linq;
using FastRcnn.Data;
using static FastRcnn.Tests.Data.DataTestFiles;

namespace FastRcnn.Tests.Data;

public class VocRoundTripTests
{
    private static DetectionDataset SampleDataset(string imageDir)
    {
        WriteImage(Path.Combine(imageDir, "a.png"), 120, 90);
        WriteImage(Path.Combine(imageDir, "b.png"), 64, 48);
        WriteImage(Path.Combine(imageDir, "empty.png"), 50, 50);
        var classes = DetectionDataset.MakeClassNames(["dog", "cat", "bird"]);
        var a = new ImageRecord("a", Path.Combine(imageDir, "a.png"), 120, 90,
        [
            new ObjectAnnotation(new BoundingBox(0, 4, 10, 20), 1),                      // at the left edge: xmin = 1
            new ObjectAnnotation(new BoundingBox(12.25f, 0.5f, 120, 90), 2, Difficult: true, Truncated: true),
            new ObjectAnnotation(new BoundingBox(1e-3f, 33.3f, 77.7f, 89.99f), 3, Crowd: true),
        ]);
        var b = new ImageRecord("b", Path.Combine(imageDir, "b.png"), 64, 48,
            [new ObjectAnnotation(new BoundingBox(5, 6, 7, 8), 3)]);
        var empty = new ImageRecord("empty", Path.Combine(imageDir, "empty.png"), 50, 50, []);
        return new DetectionDataset(classes, [a, b, empty], "trainval", LoadReport.Empty);
    }

    [Fact]
    public void Write_then_read_gives_back_the_same_dataset_with_exact_boxes()
    {
        using var tmp = new TempDir();
        var original = SampleDataset(tmp.Combine("src"));
        var root = tmp.Combine("voc");
        VocWriter.Write(original, root);

        var read = VocReader.Read(root, "trainval");

        Assert.Equal(original.ClassNames, read.ClassNames);
        Assert.Equal("trainval", read.Split);
        Assert.True(read.Report.IsClean, read.Report.ToString());
        Assert.Equal(original.Images.Count, read.Images.Count);
        for (int i = 0; i < original.Images.Count; i++)
        {
            var (o, r) = (original.Images[i], read.Images[i]);
            Assert.Equal(o.Id, r.Id);
            Assert.Equal((o.Width, o.Height), (r.Width, r.Height));
            Assert.Equal(Path.Combine(root, "JPEGImages", Path.GetFileName(o.ImagePath)), r.ImagePath);
            Assert.True(File.Exists(r.ImagePath));
            Assert.Equal(o.Objects, r.Objects); // records: box floats compared bit for bit, flags, class
        }
    }

    [Fact]
    public void Writer_converts_to_one_based_inclusive_coordinates()
    {
        using var tmp = new TempDir();
        var root = tmp.Combine("voc");
        VocWriter.Write(SampleDataset(tmp.Combine("src")), root);
        var box = XDocument.Load(Path.Combine(root, "Annotations", "a.xml")).Root!.Elements("object").First().Element("bndbox")!;
        // (x1, y1, x2, y2) = (0, 4, 10, 20) → xmin = 1, ymin = 5, xmax = 10, ymax = 20
        Assert.Equal(["1", "5", "10", "20"], new[] { "xmin", "ymin", "xmax", "ymax" }.Select(f => box.Element(f)!.Value));
        Assert.Equal("dog\ncat\nbird\n", File.ReadAllText(Path.Combine(root, "classes.txt")));
        Assert.Equal("a\nb\nempty\n", File.ReadAllText(Path.Combine(root, "ImageSets", "Main", "trainval.txt")));
    }

    [Fact]
    public void Writer_output_is_byte_deterministic()
    {
        using var tmp = new TempDir();
        var ds = SampleDataset(tmp.Combine("src"));
        VocWriter.Write(ds, tmp.Combine("one"));
        VocWriter.Write(ds, tmp.Combine("two"));
        foreach (var file in Directory.EnumerateFiles(tmp.Combine("one"), "*", SearchOption.AllDirectories))
        {
            var twin = Path.Combine(tmp.Combine("two"), Path.GetRelativePath(tmp.Combine("one"), file));
            Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(twin));
        }
    }

    [Fact]
    public void Writer_refuses_to_renumber_an_existing_class_file()
    {
        using var tmp = new TempDir();
        var ds = SampleDataset(tmp.Combine("src"));
        VocWriter.Write(ds, tmp.Combine("voc"));
        var other = ds with { ClassNames = DetectionDataset.MakeClassNames(["cat", "dog", "bird"]) };
        Assert.Throws<InvalidOperationException>(() => VocWriter.Write(other, tmp.Combine("voc")));
    }

    [Fact]
    public void One_based_xml_coordinates_become_continuous_boxes()
    {
        using var tmp = new TempDir();
        WriteVocImage(tmp.Path, VocObject("cat", "1", "1", "10", "20") + VocObject("cat", "48.5", "30", "100", "80", difficult: 1),
            width: 100, height: 80);
        var ds = VocReader.Read(tmp.Path, "all");
        var objs = ds.Images.Single().Objects;
        Assert.Equal(new BoundingBox(0, 0, 10, 20), objs[0].Box);
        Assert.Equal(10f, objs[0].Box.Width); // VOC width xmax − xmin + 1
        Assert.Equal(new BoundingBox(47.5f, 29, 100, 80), objs[1].Box);
        Assert.True(objs[1].Difficult);
        Assert.True(ds.Report.IsClean);
    }

    [Fact]
    public void Without_a_class_file_classes_are_sorted_names_of_all_annotations()
    {
        using var tmp = new TempDir();
        WriteVocImage(tmp.Path, VocObject("zebra", "1", "1", "5", "5") + VocObject("ant", "1", "1", "5", "5"), id: "one");
        WriteVocImage(tmp.Path, VocObject("moose", "1", "1", "5", "5"), id: "two");
        File.WriteAllText(tmp.Combine("ImageSets", "Main", "first.txt"), "one\n");

        var first = VocReader.Read(tmp.Path, "first");
        Assert.Equal([DetectionDataset.Background, "ant", "moose", "zebra"], first.ClassNames);
        Assert.Equal([3, 1], first.Images.Single().Objects.Select(o => o.ClassIndex));
        Assert.Equal(["all", "first"], VocReader.AvailableSplits(tmp.Path));
        Assert.Equal(2, VocReader.Read(tmp.Path, split: null).Images.Count);
    }

    [Fact]
    public void Images_without_objects_are_kept()
    {
        using var tmp = new TempDir();
        WriteVocImage(tmp.Path, "", classes: ["cat"]);
        var ds = VocReader.Read(tmp.Path, "all");
        Assert.Empty(ds.Images.Single().Objects);
        Assert.Equal(1, ds.NumClasses);
    }
}
