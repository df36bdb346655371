using FastRcnn.Cli;
using FastRcnn.Data;

namespace FastRcnn.Tests.Data;

/// <summary>The <c>fastrcnn data</c> commands, invoked in-process.</summary>
[Collection(FastRcnn.Tests.Cli.CliCollection.Name)]
public class DataCliTests
{
    private static int Run(params string[] args) => CliApp.Build().Parse(args).Invoke();

    [Fact]
    public void Shapes_then_stats_succeed_and_bad_input_fails_cleanly()
    {
        using var tmp = new TempDir();
        var root = tmp.Combine("shapes");
        Assert.Equal(0, Run("data", "shapes", "--out", root, "--train", "3", "--test", "2", "--seed", "5"));
        Assert.Equal(3, VocReader.Read(root, "train").Images.Count);
        Assert.Equal(0, Run("data", "stats", root, "--split", "test"));
        Assert.Equal(0, Run("data", "stats", root));

        Assert.Equal(1, Run("data", "shapes", "--out", root, "--train", "3")); // exists, no --force
        Assert.Equal(0, Run("data", "shapes", "--out", root, "--train", "2", "--test", "1", "--force"));
        Assert.Equal(1, Run("data", "shapes", "--out", root, "--train", "-1", "--force"));
        Assert.Equal(1, Run("data", "stats", tmp.Combine("missing")));
        Assert.Equal(1, Run("data", "stats", root, "--split", "nosuchsplit"));
        Assert.NotEqual(0, Run("data", "shapes")); // --out is required: a parse error
    }
}
