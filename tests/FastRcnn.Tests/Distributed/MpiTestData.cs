using FastRcnn.Data;
using FastRcnn.Proposals;

namespace FastRcnn.Tests.Distributed;

/// <summary>
/// A Shapes dataset whose images all have one size (192×192: a batch of several images needs no padding, so one
/// process with N images computes exactly what N processes with one image each compute), 8 train and 4 test images,
/// and its selective-search proposals in <c>train.npz</c> and <c>test.npz</c>; made once per test run.
/// </summary>
internal static class MpiTestData
{
    private static readonly Lazy<string> Data = new(Make);

    public static string Root => Path.Combine(Data.Value, "shapes");

    public static string TrainProposals => Path.Combine(Data.Value, "train.npz");

    public static string TestProposals => Path.Combine(Data.Value, "test.npz");

    private static string Make()
    {
        string dir = Path.Combine(Path.GetTempPath(), "fastrcnn-mpi-" + Guid.NewGuid().ToString("N"));
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        };
        string root = Path.Combine(dir, "shapes");
        ShapesGenerator.Generate(root, new ShapesOptions { TrainImages = 8, TestImages = 4, Seed = 7, MinImageSize = 192, MaxImageSize = 192 });
        var run = new ProposalRunOptions { UseCache = false, Search = new SelectiveSearchOptions { MaxBoxes = 300 } };
        DatasetProposals.Export(DatasetLoader.Load(root, "train"), Path.Combine(dir, "train.npz"), run);
        DatasetProposals.Export(DatasetLoader.Load(root, "test"), Path.Combine(dir, "test.npz"), run);
        return dir;
    }
}
