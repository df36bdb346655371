using FastRcnn.Data;
using FastRcnn.IO;
using FastRcnn.Proposals;
using FastRcnn.Training;

namespace FastRcnn.Tests.Training;

/// <summary>Proposal files read for training: what is dropped is counted, images left without a box are refused.</summary>
public sealed class TrainingProposalsTests
{
    private static DetectionDataset Dataset(params (string Id, int W, int H)[] images) => new(
        DetectionDataset.MakeClassNames(["thing"]),
        images.Select(i => new ImageRecord(i.Id, $"/nowhere/{i.Id}.jpg", i.W, i.H, [])).ToArray(), "train", LoadReport.Empty);

    [Fact]
    public void A_file_that_leaves_an_image_without_usable_boxes_is_refused_naming_the_file_and_image()
    {
        using var dir = new TempDir();
        string path = dir.Combine("p.npz");
        var ds = Dataset(("a", 64, 48), ("b", 64, 48));
        Npz.Write(path, new Dictionary<string, NpyArray>
        {
            ["a"] = new([2, 4], [0, 0, 30, 30, 40, 0, 20, 30]),           // one good box, one swapped
            ["b"] = new([2, 4], [30, 10, 10, 30, 10, 10, 10, 30]),        // swapped and empty: nothing left
        });
        var e = Assert.Throws<InvalidDataException>(() => TrainingProposals.Load(path, ds));
        Assert.Contains(Path.GetFullPath(path), e.Message);
        Assert.Contains("1 of 2 images of split 'train' have no usable proposal box, e.g. all 2 boxes of image 'b' were dropped: 1 empty", e.Message);

        Npz.Write(path, new Dictionary<string, NpyArray> { ["a"] = new([1, 4], [0, 0, 30, 30]), ["b"] = new([0, 4], []) });
        Assert.Contains("image 'b' has an empty array", Assert.Throws<InvalidDataException>(() => TrainingProposals.Load(path, ds)).Message);

        Npz.Write(path, new Dictionary<string, NpyArray>
        {
            ["a"] = new([2, 4], [0, 0, 30, 30, 40, 0, 20, 30]),
            ["b"] = new([2, 4], [-10, 5, 20, 30, 100, 0, 120, 20]),       // clipped, and wholly outside
        });
        var (proposals, report) = TrainingProposals.Load(path, ds);
        Assert.Equal((2, 1), (report.Boxes, report.ClippedBoxes));
        Assert.Equal(new ProposalDrops(Empty: 0, Swapped: 1, Outside: 1), report.Drops);
        using var b = proposals.ProposalsFor("b", 64, 48);
        Assert.Equal(new float[] { 0, 5, 20, 30 }, b.data<float>().ToArray());
    }
}
