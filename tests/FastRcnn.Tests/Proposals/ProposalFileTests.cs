using System.IO.Compression;
using System.Text;
using FastRcnn.Data;
using FastRcnn.IO;
using FastRcnn.Proposals;

namespace FastRcnn.Tests.Proposals;

/// <summary>The .npz proposal format (docs/formats.md) and importing files made elsewhere.</summary>
public sealed class ProposalFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("proposal-file-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static DetectionDataset Dataset(params (string Id, int W, int H)[] images) => new(
        DetectionDataset.MakeClassNames(["thing"]),
        images.Select(i => new ImageRecord(i.Id, $"/nowhere/{i.Id}.jpg", i.W, i.H, [])).ToArray(), "test", LoadReport.Empty);

    [Fact]
    public void Written_files_are_one_float32_R_by_4_array_per_image_id()
    {
        string path = Path.Combine(_dir, "p.npz");
        ProposalFile.Write(path, new Dictionary<string, ProposalSet>
        {
            ["000005"] = new([0, 0, 10, 10, 1.5f, 2.5f, 30, 40, 9, 9, 9, 9], 2, 50, 50),   // only the first 2 rows count
            ["000007"] = new([], 0, 20, 20),
        });
        var raw = Npz.Read(path);
        Assert.Equal(["000005", "000007"], raw.Keys.Order());
        Assert.Equal(new long[] { 2, 4 }, raw["000005"].Shape);
        Assert.Equal(new float[] { 0, 0, 10, 10, 1.5f, 2.5f, 30, 40 }, raw["000005"].Data);
        Assert.Equal(new long[] { 0, 4 }, raw["000007"].Shape);
        Assert.Equal(raw["000005"].Data, ProposalFile.Read(path)["000005"]);
        Assert.False(File.Exists(path + ".tmp"));
    }

    [Fact]
    public void Import_clips_to_the_image_drops_empty_boxes_and_counts_everything()
    {
        string path = Path.Combine(_dir, "other.npz");
        Npz.Write(path, new Dictionary<string, NpyArray>
        {
            ["a"] = new([4, 4], [-5, 2, 30, 20, /**/ 90, 10, 120, 50, /**/ 100, 0, 130, 10, /**/ 5, 5, 5, 9]),
            ["b"] = new([1, 4], [1, 1, 2, 2]),
            ["elsewhere"] = new([1, 4], [0, 0, 1, 1]),
        });
        var (set, report) = DatasetProposals.Import(path, Dataset(("a", 100, 40), ("b", 10, 10)));
        Assert.Equal(new float[] { 0, 2, 30, 20, 90, 10, 100, 40 }, set.BoxesOf("a"));
        Assert.Equal(new float[] { 1, 1, 2, 2 }, set.BoxesOf("b"));
        Assert.Equal((2, 3, 2, 2, 1, 0), (report.Images, report.Boxes, report.ClippedBoxes, report.DroppedBoxes, report.UnusedEntries, report.MissingImages));
        Assert.Contains("clipped 2", report.ToString());
        using var boxes = set.ToSource().ProposalsFor("a", 100, 40);
        Assert.Equal(new long[] { 2, 4 }, boxes.shape);
    }

    [Fact]
    public void Dropped_boxes_are_counted_by_reason()
    {
        float[] boxes =
        [
            10, 10, 30, 30,        // kept
            -5, -5, 20, 20,        // negative corner: clipped, kept
            30, 10, 10, 30,        // x2 < x1: swapped
            10, 30, 30, 10,        // y2 < y1: swapped
            10, 10, 10, 30,        // zero width: empty
            5, 5, 5, 5,            // a point: empty
            70, 10, 90, 30,        // right of the 64-px-wide image: outside
            -30, -30, -10, -10,    // above and left of it: outside
        ];
        var (kept, clipped, drops) = ProposalFile.SanitizeWithReasons(boxes, 64, 48);
        Assert.Equal(new float[] { 10, 10, 30, 30, 0, 0, 20, 20 }, kept.Boxes[..(4 * kept.Count)]);
        Assert.Equal(1, clipped);
        Assert.Equal(new ProposalDrops(Empty: 2, Swapped: 2, Outside: 2), drops);
        Assert.Equal((kept.Count, clipped, 6), ProposalFile.Sanitize(boxes, 64, 48) is var (k, c, d) ? (k.Count, c, d) : default);

        string path = Path.Combine(_dir, "reasons.npz");
        Npz.Write(path, new Dictionary<string, NpyArray> { ["a"] = new([8, 4], boxes), ["b"] = new([1, 4], [1, 1, 0, 0]) });
        var (_, report) = DatasetProposals.Import(path, Dataset(("a", 64, 48), ("b", 10, 10)));
        Assert.Equal(new ProposalDrops(2, 3, 2), report.Drops);
        Assert.Equal(7, report.DroppedBoxes);
        var without = Assert.Single(report.ImagesWithoutBoxes);
        Assert.Equal(new ImageWithoutProposals("b", 1, new ProposalDrops(0, 1, 0)), without);
        Assert.Contains("dropped 7 (2 empty (x2 = x1 or y2 = y1), 3 swapped (x2 < x1 or y2 < y1), 2 outside the image)", report.ToString());
    }

    [Fact]
    public void Float64_files_are_accepted()
    {
        string path = Path.Combine(_dir, "f8.npz");
        WriteRaw(path, "img", "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 4), }", [.. new[] { 1.0, 2.0, 30.5, 40.0 }.SelectMany(BitConverter.GetBytes)]);
        var (set, _) = DatasetProposals.Import(path, Dataset(("img", 64, 64)));
        Assert.Equal(new[] { 1f, 2f, 30.5f, 40f }, set.BoxesOf("img"));
    }

    [Theory]
    [InlineData("(3, 5)", "shape (R, 4)")]
    [InlineData("(12,)", "shape (R, 4)")]
    [InlineData("(1, 3, 4)", "shape (R, 4)")]
    public void Arrays_of_another_shape_are_rejected_naming_the_file_and_image(string shape, string mentions)
    {
        string path = Path.Combine(_dir, "bad.npz");
        int count = shape.Trim('(', ')').Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).Aggregate(1, (a, b) => a * b);
        WriteRaw(path, "img7", $"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}", new byte[4 * count]);
        var e = Assert.Throws<InvalidDataException>(() => DatasetProposals.Import(path, Dataset(("img7", 64, 64))));
        Assert.Contains(path, e.Message);
        Assert.Contains("'img7'", e.Message);
        Assert.Contains(mentions, e.Message);
    }

    [Fact]
    public void Non_finite_coordinates_are_rejected_naming_the_box()
    {
        string path = Path.Combine(_dir, "nan.npz");
        Npz.Write(path, new Dictionary<string, NpyArray> { ["img"] = new([2, 4], [0, 0, 5, 5, 1, float.NaN, 3, 3]) });
        var e = Assert.Throws<InvalidDataException>(() => DatasetProposals.Load(path, Dataset(("img", 64, 64))));
        Assert.Contains(path, e.Message);
        Assert.Contains("box 1", e.Message);
        Npz.Write(path, new Dictionary<string, NpyArray> { ["img"] = new([1, 4], [0, 0, float.PositiveInfinity, 5]) });
        Assert.Throws<InvalidDataException>(() => DatasetProposals.Load(path, Dataset(("img", 64, 64))));
    }

    [Fact]
    public void Missing_images_fail_unless_allowed_and_broken_files_name_themselves()
    {
        string path = Path.Combine(_dir, "part.npz");
        Npz.Write(path, new Dictionary<string, NpyArray> { ["a"] = new([1, 4], [0, 0, 5, 5]) });
        var ds = Dataset(("a", 10, 10), ("b", 10, 10));
        var e = Assert.Throws<InvalidDataException>(() => DatasetProposals.Load(path, ds));
        Assert.Contains("'b'", e.Message);
        Assert.Contains(Path.GetFullPath(path), e.Message);
        var (set, report) = DatasetProposals.Import(path, ds, allowMissing: true);
        Assert.Equal(1, report.MissingImages);
        Assert.Empty(set.BoxesOf("b"));

        string junk = Path.Combine(_dir, "junk.npz");
        File.WriteAllText(junk, "not a zip");
        Assert.Contains(junk, Assert.Throws<InvalidDataException>(() => DatasetProposals.Load(junk, ds)).Message);
        Assert.Throws<FileNotFoundException>(() => DatasetProposals.Load(Path.Combine(_dir, "none.npz"), ds));
    }

    private static void WriteRaw(string path, string key, string header, byte[] data)
    {
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        using var s = zip.CreateEntry(key + ".npy").Open();
        int total = 10 + header.Length + 1;
        header = header.PadRight(header.Length + (64 - total % 64) % 64) + "\n";
        s.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        s.Write(BitConverter.GetBytes((ushort)header.Length));
        s.Write(Encoding.ASCII.GetBytes(header));
        s.Write(data);
    }
}
