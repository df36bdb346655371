using FastRcnn.Cli;
using FastRcnn.Proposals;

namespace FastRcnn.Tests.Proposals;

/// <summary>The <c>fastrcnn proposals</c> commands, invoked in-process.</summary>
[Collection(FastRcnn.Tests.Cli.CliCollection.Name)]
public sealed class ProposalsCliTests(SmallShapesFixture shapes) : IClassFixture<SmallShapesFixture>
{
    private static int Run(params string[] args) => CliApp.Build().Parse(args).Invoke();

    [Fact]
    public void Compute_then_eval_write_the_file_the_table_csv_and_plot()
    {
        string root = shapes.Split.Root, dir = shapes.Split.NewDir("cli"), cache = Path.Combine(dir, "cache");
        string file = Path.Combine(dir, "test.npz");
        Assert.Equal(0, Run("proposals", "--dataset", root, "--split", "test", "--out", file, "--cache-dir", cache, "--max-boxes", "200"));
        Assert.True(File.Exists(file));
        Assert.True(File.Exists(Path.Combine(dir, "test.json")));
        Assert.Equal(8, ProposalFile.Read(file).Count);
        Assert.NotEmpty(Directory.EnumerateFiles(cache, "*.ssb", SearchOption.AllDirectories));
        // A rerun is answered by the cache and writes the same file.
        var before = ProposalFile.Read(file);
        Assert.Equal(0, Run("proposals", "--dataset", root, "--split", "test", "--out", file, "--cache-dir", cache, "--max-boxes", "200"));
        Assert.Equal(before["test_000003"], ProposalFile.Read(file)["test_000003"]);

        string report = Path.Combine(dir, "report");
        Assert.Equal(0, Run("proposals", "eval", "--dataset", root, "--split", "test", "--proposals", file,
            "--proposals", "auto", "--cache-dir", cache, "--out-dir", report, "--budgets", "10,50,100"));
        var csv = File.ReadAllLines(Path.Combine(report, "recall_test.csv"));
        Assert.StartsWith("source,split,top_n,mean_proposals,recall_0.5,recall_0.7,average_recall", csv[0]);
        Assert.Equal(1 + 2 * 4, csv.Length);                       // two sources × (10, 50, 100, all)
        Assert.Contains(csv, l => l.StartsWith("\"test.npz\",test,all,", StringComparison.Ordinal));
        var png = File.ReadAllBytes(Path.Combine(report, "recall_test.png"));
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        Assert.True(png.Length > 5000, $"plot of {png.Length} bytes");
    }

    [Fact]
    public void A_leftover_npz_tmp_from_a_killed_run_does_not_block_a_rerun()
    {
        string root = shapes.Split.Root, dir = shapes.Split.NewDir("leftover"), file = Path.Combine(dir, "test.npz");
        File.WriteAllText(file + ".tmp", "half an archive, left by kill -9");
        File.WriteAllText(Path.Combine(dir, $".test.npz.{int.MaxValue}.0123456789abcdef.tmp"), "another one");
        Assert.Equal(0, Run("proposals", "--dataset", root, "--split", "test", "--out", file, "--cache-dir", Path.Combine(dir, "cache"), "--max-boxes", "50"));
        Assert.Equal(8, ProposalFile.Read(file).Count);
        Assert.Empty(Directory.EnumerateFiles(dir, "*.tmp"));
    }

    [Fact]
    public void Bad_input_fails_with_exit_code_1()
    {
        string root = shapes.Split.Root, dir = shapes.Split.NewDir("bad");
        Assert.Equal(1, Run("proposals", "--dataset", root, "--split", "test"));                                   // no --out
        Assert.Equal(1, Run("proposals", "--dataset", root, "--split", "test", "--out", Path.Combine(dir, "x.txt"))); // not .npz
        Assert.Equal(1, Run("proposals", "--dataset", Path.Combine(dir, "missing"), "--out", Path.Combine(dir, "x.npz")));
        Assert.Equal(1, Run("proposals", "--dataset", root, "--split", "nosuchsplit", "--out", Path.Combine(dir, "x.npz")));
        string junk = Path.Combine(dir, "junk.npz");
        File.WriteAllText(junk, "not a zip");
        Assert.Equal(1, Run("proposals", "eval", "--dataset", root, "--split", "test", "--proposals", junk, "--out-dir", dir));
        Assert.Equal(1, Run("proposals", "eval", "--dataset", root, "--split", "test", "--out-dir", dir));          // no --proposals
        Assert.Equal(1, Run("proposals", "eval", "--dataset", root, "--split", "test", "--proposals", "auto", "--budgets", "ten"));
        Assert.NotEqual(0, Run("proposals", "--mode", "nosuchmode"));                                              // a parse error
    }
}
