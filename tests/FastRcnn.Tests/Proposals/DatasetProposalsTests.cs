using FastRcnn.Data;
using FastRcnn.Proposals;
using Xunit.Abstractions;

namespace FastRcnn.Tests.Proposals;

/// <summary>Whole-dataset runs: export, resuming an interrupted run, the trainer's entry points, recall on Shapes.</summary>
public sealed class DatasetProposalsTests(SmallShapesFixture shapes, ITestOutputHelper output) : IClassFixture<SmallShapesFixture>
{
    private static readonly SelectiveSearchOptions Fast = new() { MaxBoxes = 300 };

    [Fact]
    public void Export_writes_the_file_and_its_settings_and_leaves_no_journal()
    {
        var ds = shapes.Split.Load();
        string dir = shapes.Split.NewDir("export");
        string path = Path.Combine(dir, "test.npz");
        var stats = DatasetProposals.Export(ds, path, new ProposalRunOptions { Search = Fast, UseCache = false });
        Assert.Equal(ds.Images.Count, stats.Computed);
        Assert.False(File.Exists(DatasetProposals.JournalPath(path)));
        Assert.Contains("settings", File.ReadAllText(Path.Combine(dir, "test.json")));
        var loaded = DatasetProposals.Load(path, ds);
        Assert.Equal(ds.Images.Count, loaded.Count);
        using var boxes = loaded.ProposalsFor(ds.Images[0].Id, ds.Images[0].Width, ds.Images[0].Height);
        Assert.InRange(boxes.shape[0], 1, 300);
    }

    [Fact]
    public void An_interrupted_run_resumes_and_computes_only_the_missing_images()
    {
        var ds = shapes.Split.Load();
        string dir = shapes.Split.NewDir("resume");
        string path = Path.Combine(dir, "test.npz");
        var run = new ProposalRunOptions { Search = Fast, UseCache = false };

        // The "interrupted" run: the first 5 images finished and were journalled, then the process died.
        var head = ds with { Images = ds.Images.Take(5).ToArray() };
        DatasetProposals.Compute(head, run, journalPath: DatasetProposals.JournalPath(path));
        Assert.False(File.Exists(path));
        // ... and the last record was torn mid-write.
        string journal = DatasetProposals.JournalPath(path);
        var bytes = File.ReadAllBytes(journal);
        File.WriteAllBytes(journal, bytes[..^7]);

        var stats = DatasetProposals.Export(ds, path, run);
        Assert.Equal((4, ds.Images.Count - 4), (stats.FromJournal, stats.Computed));
        Assert.False(File.Exists(journal));
        var (fresh, _) = DatasetProposals.Compute(ds, run);
        var (read, _) = DatasetProposals.Import(path, ds);
        foreach (var image in ds.Images)
            Assert.Equal(fresh.BoxesOf(image.Id), read.BoxesOf(image.Id));
    }

    [Fact]
    public void A_journal_of_other_settings_or_cancelled_work_is_handled()
    {
        var ds = shapes.Split.Load();
        string path = Path.Combine(shapes.Split.NewDir("journal"), "test.npz");
        var run = new ProposalRunOptions { Search = Fast, UseCache = false };
        DatasetProposals.Compute(ds with { Images = ds.Images.Take(3).ToArray() }, run with { Search = Fast with { Seed = 9 } },
            journalPath: DatasetProposals.JournalPath(path));
        var stats = DatasetProposals.Export(ds, path, run);
        Assert.Equal((0, ds.Images.Count), (stats.FromJournal, stats.Computed));
        Assert.NotNull(stats.JournalNote);

        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => DatasetProposals.Export(ds, path + "2.npz", run, cancel: cancel.Token));
    }

    [Fact]
    public void ComputeOrLoad_gives_a_proposal_source_keyed_by_image_id()
    {
        var ds = shapes.Split.Load();
        string cache = shapes.Split.NewDir("cache");
        var reports = new List<ProposalProgress>();
        var source = DatasetProposals.ComputeOrLoad(ds, Fast, cache, new Collect(reports));
        Assert.Equal(ds.Images.Count, source.Count);
        Assert.Equal(ds.Images.Count, reports.Max(r => r.Done));
        Assert.All(ds.Images, i => Assert.True(source.Contains(i.Id)));
        var again = DatasetProposals.ComputeOrLoad(ds, Fast, cache);
        var image = ds.Images[^1];
        using var a = source.ProposalsFor(image.Id, image.Width, image.Height);
        using var b = again.ProposalsFor(image.Id, image.Width, image.Height);
        Assert.True(a.allclose(b, rtol: 0, atol: 0));

        var missing = ds with { Images = [.. ds.Images, ds.Images[0] with { Id = "gone", ImagePath = Path.Combine(shapes.Split.Root, "gone.jpg") }] };
        var e = Assert.Throws<FileNotFoundException>(() => DatasetProposals.ComputeOrLoad(missing, Fast, cache));
        Assert.Contains("gone.jpg", e.Message);
    }

    [Fact]
    public void Default_fast_mode_recalls_at_least_95_percent_of_shapes_at_iou_half()
    {
        using var split = new ShapesSplit(20, minSize: 320, maxSize: 500, seed: 11);
        var ds = split.Load();
        var (proposals, _) = DatasetProposals.Compute(ds, new ProposalRunOptions { UseCache = false });
        var report = ProposalRecall.Evaluate(ds, i => proposals.BoxesOf(i.Id));
        output.WriteLine($"{report.GtBoxes} objects, {report.All.MeanProposals:F0} boxes/image: recall@0.5 {report.All.Recall50:F3}, " +
                         $"@0.7 {report.All.Recall70:F3}, AR {report.All.AverageRecall:F3}");
        Assert.True(report.GtBoxes >= 50, $"only {report.GtBoxes} objects");
        Assert.True(report.All.Recall50 >= 0.95, $"recall@0.5 = {report.All.Recall50:F3}");
        Assert.True(report.All.Recall70 >= 0.9, $"recall@0.7 = {report.All.Recall70:F3}");
    }

    private sealed class Collect(List<ProposalProgress> list) : IProgress<ProposalProgress>
    {
        public void Report(ProposalProgress value)
        {
            lock (list) list.Add(value);
        }
    }
}
