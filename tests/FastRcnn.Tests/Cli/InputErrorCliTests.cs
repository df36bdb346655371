using FastRcnn.Data;
using FastRcnn.Imaging;
using FastRcnn.IO;
using FastRcnn.Tests.Data;
using FastRcnn.Tests.Imaging;

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
}
