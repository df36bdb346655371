using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using FastRcnn.Data;
using FastRcnn.IO;
using FastRcnn.Imaging;
using FastRcnn.Tests.Data;
using FastRcnn.Tests.Imaging;
using FastRcnn.Tests.Training;

namespace FastRcnn.Tests.Cli;

/// <summary>
/// Commands given bad or surprising input: a clear message naming the file and the flag, a non-zero exit and no
/// stack trace — or, for data that can be used, a warning.
/// </summary>
[Collection(CliCollection.Name)]
public sealed class InputErrorCliTests
{
    private static void AssertNoStackTrace(string output) =>
        Assert.DoesNotContain(output.Split('\n'), line => line.TrimStart().StartsWith("at ", StringComparison.Ordinal) && line.StartsWith("   ", StringComparison.Ordinal));

    /// <summary>A one-image VOC dataset "img" (class cat) whose 48×32 JPEG is stored turned, with EXIF orientation 6.</summary>
    private static string ExifDataset(TempDir dir, int annotatedWidth, int annotatedHeight)
    {
        string root = dir.Combine("voc");
        DataTestFiles.WriteVocImage(root, DataTestFiles.VocObject("cat", "2", "2", "20", "20"), annotatedWidth, annotatedHeight, classes: ["cat"], writeImage: false);
        var stored = RgbImage.Filled(32, 48, new Rgb(90, 120, 150));
        using var jpeg = new MemoryStream();
        ImageIO.EncodeJpeg(stored, jpeg);
        Directory.CreateDirectory(Path.Combine(root, "JPEGImages"));
        File.WriteAllBytes(Path.Combine(root, "JPEGImages", "img.jpg"), ExifOrientationTests.WithExifOrientation(jpeg.ToArray(), 6));
        return root;
    }

    [Fact]
    public void Proposals_eval_warns_when_an_annotation_was_made_on_the_stored_orientation()
    {
        using var dir = new TempDir();
        string npz = dir.Combine("p.npz");
        Npz.Write(npz, [KeyValuePair.Create("img", new NpyArray([1, 4], [0, 0, 20, 20]))]);

        string root = ExifDataset(dir, 32, 48);   // the stored size: the annotator ignored the EXIF turn
        var (exit, output) = CliRunner.Run("proposals", "eval", "--dataset", root, "--split", "all", "--proposals", npz, "--out-dir", dir.Combine("r"));
        Assert.True(exit == 0, output);
        Assert.Contains("warning: 1 image(s) are annotated with another size than the decoded image", output);
        Assert.Contains("EXIF orientation 6: turned 90° clockwise", output);

        using var other = new TempDir();
        root = ExifDataset(other, 48, 32);         // annotated as displayed: nothing to say
        (exit, output) = CliRunner.Run("proposals", "eval", "--dataset", root, "--split", "all", "--proposals", npz, "--out-dir", dir.Combine("r"));
        Assert.True(exit == 0, output);
        Assert.DoesNotContain("warning", output);
        AssertNoStackTrace(output);
    }

    /// <summary>A zip holding one entry "img.npy" of the given bytes.</summary>
    private static void WriteZip(string path, byte[] npy)
    {
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        using var stream = zip.CreateEntry("img.npy").Open();
        stream.Write(npy);
    }

    private static byte[] Npy(string header, int dataBytes) =>
        [0x93, .. "NUMPY"u8, 1, 0, (byte)header.Length, 0, .. Encoding.ASCII.GetBytes(header), .. new byte[dataBytes]];

    [Fact]
    public void Proposals_eval_with_a_malformed_npz_names_the_file_without_a_stack_trace()
    {
        using var dir = new TempDir();
        string root = dir.Combine("voc");
        DataTestFiles.WriteVocImage(root, DataTestFiles.VocObject("cat", "2", "2", "20", "20"), classes: ["cat"]);
        string text = dir.Combine("text.npz"), shape = dir.Combine("shape.npz"), huge = dir.Combine("huge.npz"), version = dir.Combine("version.npz");
        File.WriteAllText(text, "not a zip archive");
        WriteZip(shape, Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (x, 4), }\n", 16));
        WriteZip(huge, Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4000000000000, 4), }\n", 16));
        WriteZip(version, [0x93, .. "NUMPY"u8, 2, 0, 0xFF, 0xFF]);
        foreach (var (file, says) in new[] { (text, "not a readable .npz archive"), (shape, "unreadable shape"), (huge, "data shorter than shape"), (version, "truncated header") })
        {
            var (exit, output) = CliRunner.Run("proposals", "eval", "--dataset", root, "--split", "all", "--proposals", file, "--out-dir", dir.Combine("r"));
            Assert.Equal(1, exit);
            Assert.Contains($"error: {file}: ", output);
            Assert.Contains(says, output);
            AssertNoStackTrace(output);
        }
    }

    [Fact]
    public void Data_stats_on_a_huge_png_names_the_file_and_the_flags_and_skips_it_when_asked()
    {
        using var dir = new TempDir();
        string root = dir.Combine("voc");
        DataTestFiles.WriteVocImage(root, DataTestFiles.VocObject("cat", "2", "2", "20", "20"), classes: ["cat"], writeImage: false);
        string image = Path.Combine(root, "JPEGImages", "img.jpg");
        Directory.CreateDirectory(Path.GetDirectoryName(image)!);
        File.WriteAllBytes(image, ImagePixelLimitTests.PngDeclaring(60000, 60000));
        string[] stats = ["data", "stats", root, "--split", "all", "--verify-images"];

        var (exit, output) = CliRunner.Run(stats);
        Assert.Equal(1, exit);
        Assert.Contains($"error: {image}: not a readable image: the PNG header declares 60000x60000 pixels", output);
        Assert.Contains("--max-image-pixels", output);
        Assert.Contains("pass --skip-bad-images to skip such images", output);
        AssertNoStackTrace(output);

        (exit, output) = CliRunner.Run([.. stats, "--skip-bad-images"]);
        Assert.True(exit == 0, output);
        Assert.Contains("skipped images 1", output);
        AssertNoStackTrace(output);

        // Allowed by the limit, the pixels still cannot be held: a message, not a crash.
        (exit, output) = CliRunner.Run([.. stats, "--max-image-pixels", "4000000000"]);
        Assert.Equal(1, exit);
        Assert.Contains(image, output);
        Assert.Contains("too large to decode (60000x60000)", output);
        AssertNoStackTrace(output);
        (exit, output) = CliRunner.Run([.. stats, "--max-image-pixels", "4000000000", "--skip-bad-images"]);
        Assert.True(exit == 0, output);
        Assert.Contains("skipped images 1", output);
    }

    /// <summary>The tiny Shapes training set as a COCO file (image ids 1…n, absolute file names), with extra boxes.</summary>
    private static (string Json, string Proposals) CocoOfShapes(TempDir dir, params double[][] extraBoxes)
    {
        var ds = TrainingTestData.Dataset;
        var images = new JsonArray();
        var annotations = new JsonArray();
        var proposals = new List<KeyValuePair<string, NpyArray>>();
        int annotationId = 1;
        for (int i = 0; i < ds.Images.Count; i++)
        {
            var image = ds.Images[i];
            images.Add(new JsonObject { ["id"] = i + 1, ["file_name"] = image.ImagePath, ["width"] = image.Width, ["height"] = image.Height });
            var boxes = image.Objects.Select(o => new double[] { o.Box.X1, o.Box.Y1, o.Box.Width, o.Box.Height }).Concat(i == 0 ? extraBoxes : []);
            foreach (var (box, k) in boxes.Select((b, k) => (b, k)))
                annotations.Add(new JsonObject
                {
                    ["id"] = annotationId++, ["image_id"] = i + 1, ["category_id"] = k < image.Objects.Count ? image.Objects[k].ClassIndex : 1,
                    ["bbox"] = new JsonArray(box.Select(v => (JsonNode)v).ToArray()), ["iscrowd"] = 0,
                });
            using var p = TrainingTestData.Proposals.ProposalsFor(image.Id, image.Width, image.Height);
            proposals.Add(KeyValuePair.Create((i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), new NpyArray([p.shape[0], 4], p.data<float>().ToArray())));
        }
        var categories = new JsonArray(ds.ClassNames.Skip(1).Select((name, c) => (JsonNode)new JsonObject { ["id"] = c + 1, ["name"] = name }).ToArray());
        string json = dir.Combine("instances_train.json"), npz = dir.Combine("coco.npz");
        File.WriteAllText(json, new JsonObject { ["images"] = images, ["annotations"] = annotations, ["categories"] = categories }.ToJsonString());
        Npz.Write(npz, proposals);
        return (json, npz);
    }

    [Fact]
    public void Coco_file_with_a_zero_width_box_trains_with_skip_degenerate_boxes()
    {
        using var dir = new TempDir();
        var (json, proposals) = CocoOfShapes(dir, [10, 10, 0, 25]);         // a box of width 0, as COCO has a few
        string[] train = ["train", "--dataset", json, "--proposals", proposals, "--iters", "1", "--scale", "128", "--max-size", "200", "--rois-per-image", "16"];

        var (exit, output) = CliRunner.Run([.. train, "--out", dir.Combine("a")]);
        Assert.Equal(1, exit);
        Assert.Contains($"error: {json}: ", output);
        Assert.Contains("pass --skip-degenerate-boxes to drop such boxes", output);
        Assert.DoesNotContain("SkipDegenerateBoxes", output);
        AssertNoStackTrace(output);

        (exit, output) = CliRunner.Run([.. train, "--out", dir.Combine("b"), "--skip-degenerate-boxes"]);
        Assert.True(exit == 0, output);
        Assert.True(File.Exists(Path.Combine(dir.Combine("b"), FastRcnn.Modeling.ModelFiles.WeightsFileName)));
    }

    [Fact]
    public void Train_with_a_max_size_too_small_for_the_backbone_names_the_image_and_the_flag()
    {
        using var dir = new TempDir();
        var (json, proposals) = CocoOfShapes(dir);
        var (exit, output) = CliRunner.Run("train", "--dataset", json, "--proposals", proposals, "--backbone", "vgg16", "--max-size", "10", "--iters", "1",
            "--out", dir.Combine("run"));
        Assert.Equal(1, exit);
        var first = TrainingTestData.Dataset.Images[0];
        Assert.Contains($"error: {first.ImagePath}: image '1' ({first.Width}x{first.Height}) would be scaled to", output);
        Assert.Contains("(--scale 600, --max-size 10; scales and max_size in a config), smaller than the 16 pixels a side that backbone 'vgg16' needs", output);
        AssertNoStackTrace(output);
        Assert.DoesNotContain("libtorch", output);
    }
}
