using FastRcnn.Data;
using SkiaSharp;

namespace FastRcnn.Tests.Data;

public class ShapesGeneratorTests
{
    private static Dictionary<string, byte[]> Files(string root) =>
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(root, f), File.ReadAllBytes);

    [Fact]
    public void Same_seed_gives_identical_bytes_whatever_the_thread_count()
    {
        using var tmp = new TempDir();
        var options = new ShapesOptions { TrainImages = 6, TestImages = 3, Seed = 7 };
        ShapesGenerator.Generate(tmp.Combine("a"), options with { Threads = 1 });
        ShapesGenerator.Generate(tmp.Combine("b"), options with { Threads = 2 });
        var a = Files(tmp.Combine("a"));
        var b = Files(tmp.Combine("b"));
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        Assert.Equal(9, a.Keys.Count(k => k.EndsWith(".jpg")));
        foreach (var (name, bytes) in a) { Assert.True(bytes.AsSpan().SequenceEqual(b[name]), $"{name} differs"); }

        ShapesGenerator.Generate(tmp.Combine("c"), options with { Seed = 8 });
        Assert.False(a["JPEGImages/train_000000.jpg"].AsSpan().SequenceEqual(File.ReadAllBytes(tmp.Combine("c", "JPEGImages", "train_000000.jpg"))));
    }

    [Fact]
    public void Generated_dataset_is_rich_valid_and_readable()
    {
        using var tmp = new TempDir();
        var result = ShapesGenerator.Generate(tmp.Path, new ShapesOptions { TrainImages = 60, TestImages = 4, Seed = 3 });
        Assert.Equal(64, result.Images);

        var train = VocReader.Read(tmp.Path, "train");
        var test = VocReader.Read(tmp.Path, "test");
        Assert.Equal(ShapesGenerator.ClassNames, train.ClassNames);
        Assert.Equal(8, train.NumClasses);
        Assert.Equal(60, train.Images.Count);
        Assert.Equal(4, test.Images.Count);
        Assert.True(train.Report.IsClean, train.Report.ToString());
        Assert.Equal(result.Objects, train.NumObjects + test.NumObjects);

        var objects = train.Images.SelectMany(i => i.Objects).ToList();
        Assert.True(objects.Select(o => o.ClassIndex).Distinct().Count() >= 6, "at least 6 classes present");
        Assert.Contains(objects, o => o.Difficult);
        Assert.Contains(objects, o => !o.Difficult);
        Assert.Contains(objects, o => o.Truncated);
        Assert.InRange(train.NumObjects / 60.0, 2.0, 8.0);
        var sizes = objects.Select(o => MathF.Sqrt(o.Box.Area)).ToList();
        Assert.True(sizes.Min() < 20, $"smallest box {sizes.Min()}");
        Assert.True(sizes.Max() > 100, $"largest box {sizes.Max()}");
        foreach (var image in train.Images)
        {
            Assert.InRange(image.Width, 320, 500);
            Assert.InRange(image.Height, 320, 500);
            foreach (var o in image.Objects)
            {
                Assert.True(o.Box.IsValid);
                Assert.False(o.Box.IsOutside(image.Width, image.Height));
                Assert.Equal(MathF.Round(o.Box.X1), o.Box.X1); // whole pixels
            }
        }
        using var codec = SKCodec.Create(train.Images[0].ImagePath);
        Assert.Equal(SKEncodedImageFormat.Jpeg, codec.EncodedFormat);
        Assert.True(File.Exists(tmp.Combine(ShapesGenerator.InfoFileName)));
    }

    [Fact]
    public void Refuses_to_overwrite_unless_asked()
    {
        using var tmp = new TempDir();
        var options = new ShapesOptions { TrainImages = 2, TestImages = 1 };
        ShapesGenerator.Generate(tmp.Path, options);
        Assert.Throws<IOException>(() => ShapesGenerator.Generate(tmp.Path, options));
        var again = ShapesGenerator.Generate(tmp.Path, options with { TrainImages = 1, Overwrite = true });
        Assert.Equal(2, again.Images);
        Assert.Equal(2, Directory.GetFiles(tmp.Combine("JPEGImages")).Length); // stale images removed
    }

    [Fact]
    public void Image_seeds_differ_across_index_split_and_seed()
    {
        var seeds = new HashSet<int>();
        for (int s = 0; s < 3; s++)
        {
            for (int split = 0; split < 2; split++)
            {
                for (int i = 0; i < 500; i++) { Assert.True(seeds.Add(ShapesGenerator.ImageSeed(s, split, i))); }
            }
        }
    }
}
