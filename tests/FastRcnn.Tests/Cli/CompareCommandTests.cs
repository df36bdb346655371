using System.Globalization;
using FastRcnn.Comparison;

namespace FastRcnn.Tests.Cli;

/// <summary><c>fastrcnn compare --quick</c> end to end, in-process: every method trains and tests, and Table 4 is written three ways.</summary>
[Collection(CliCollection.Name)]
public class CompareCommandTests
{
    [Fact]
    public void Quick_compare_trains_and_tests_every_method_and_writes_table_4()
    {
        using var tmp = new TempDir();
        string root = tmp.Combine("compare");
        var (exit, output) = CliRunner.Run("compare", "--quick", "--out", root, "--cache-dir", tmp.Combine("cache"));
        Assert.True(exit == 0, output);
        foreach (var name in Table4Report.FileNames) Assert.True(File.Exists(Path.Combine(root, name)), name);

        var csv = File.ReadAllLines(Path.Combine(root, "table4.csv"));
        Assert.StartsWith("method,train_seconds,test_seconds_per_image", csv[0]);
        Assert.Equal(ComparisonPipelines.All.Select(p => p.DisplayName()), csv.Skip(1).Select(l => l.Split(',')[0]));
        foreach (var line in csv.Skip(1))
        {
            var cells = line.Split(',');
            double train = double.Parse(cells[1], CultureInfo.InvariantCulture), test = double.Parse(cells[2], CultureInfo.InvariantCulture);
            double withProposals = double.Parse(cells[3], CultureInfo.InvariantCulture), map = double.Parse(cells[4], CultureInfo.InvariantCulture);
            Assert.True(train > 0 && test > 0 && withProposals > test, line);
            Assert.InRange(map, 0, 1);
        }
        foreach (var pipeline in ComparisonPipelines.All)
        {
            Assert.True(File.Exists(Path.Combine(root, pipeline.FolderName(), "model", "model.json")), pipeline.FolderName());
            Assert.True(File.Exists(Path.Combine(root, pipeline.FolderName(), "detections_coco.json")), pipeline.FolderName());
        }
        Assert.Equal(128, FastRcnn.Modeling.ModelFiles.ReadInfo(Path.Combine(root, "fast-rcnn-svd", "model")).HeadRanks.Fc6);

        string markdown = File.ReadAllText(Path.Combine(root, "table4.md"));
        Assert.Contains("| SPPnet |", markdown);
        Assert.Contains("| 63.1 |", markdown);    // the paper's SPPnet mAP beside ours
        string html = File.ReadAllText(Path.Combine(root, "table4.html"));
        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.DoesNotContain("src=\"http", html);
    }
}
