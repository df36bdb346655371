using System.IO.Compression;
using System.Text;
using FastRcnn.IO;

namespace FastRcnn.Tests.IO;

public sealed class NpzTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("npz-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Write_then_read_round_trips_keys_shapes_and_values()
    {
        string path = Path.Combine(_dir, "proposals.npz");
        var arrays = new Dictionary<string, NpyArray>
        {
            ["000005"] = new([3, 4], [0, 0, 10, 10, 1.5f, 2.5f, 30, 40, -1, 5, 7, 9]),
            ["000007"] = new([0, 4], []),
            ["scores"] = new([5], [0.1f, 0.2f, 0.3f, 0.4f, 0.5f]),
        };
        Npz.Write(path, arrays);
        var read = Npz.Read(path);
        Assert.Equal(arrays.Keys.Order(), read.Keys.Order());
        foreach (var (key, array) in arrays)
        {
            Assert.Equal(array.Shape, read[key].Shape);
            Assert.Equal(array.Data, read[key].Data);
        }
    }

    [Fact]
    public void Npy_entries_have_the_format_numpy_writes()
    {
        string path = Path.Combine(_dir, "one.npz");
        Npz.Write(path, [KeyValuePair.Create("a", new NpyArray([2, 4], new float[8]))]);
        using var zip = ZipFile.OpenRead(path);
        using var stream = zip.GetEntry("a.npy")!.Open();
        var bytes = new byte[128];
        stream.ReadExactly(bytes, 0, 128); // 10 + a header padded to 118 bytes
        Assert.Equal("\u0093NUMPY", Encoding.Latin1.GetString(bytes, 0, 6));
        Assert.Equal(1, bytes[6]);
        int headerLength = BitConverter.ToUInt16(bytes, 8);
        Assert.Equal(0, (10 + headerLength) % 64); // data aligned as numpy aligns it
        string header = Encoding.ASCII.GetString(bytes, 10, headerLength);
        Assert.EndsWith("\n", header);
        Assert.StartsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 4), }", header);
    }

    [Fact]
    public void Reads_float64_arrays_and_rejects_other_dtypes_naming_the_file()
    {
        string path = Path.Combine(_dir, "f8.npz");
        WriteRawNpz(path, "x", "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", [.. BitConverter.GetBytes(1.25), .. BitConverter.GetBytes(-3.0)]);
        Assert.Equal(new[] { 1.25f, -3f }, Npz.Read(path)["x"].Data);

        string bad = Path.Combine(_dir, "i8.npz");
        WriteRawNpz(bad, "x", "{'descr': '<i8', 'fortran_order': False, 'shape': (1,), }", BitConverter.GetBytes(1L));
        var e = Assert.Throws<InvalidDataException>(() => Npz.Read(bad));
        Assert.Contains(bad, e.Message);
        Assert.Contains("<i8", e.Message);
    }

    [Fact]
    public void A_file_that_is_not_a_zip_fails_naming_the_file()
    {
        string path = Path.Combine(_dir, "junk.npz");
        File.WriteAllText(path, "not a zip");
        var e = Assert.Throws<InvalidDataException>(() => Npz.Read(path));
        Assert.Contains(path, e.Message);
    }

    private static void WriteRawNpz(string path, string key, string header, byte[] data)
    {
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        using var s = zip.CreateEntry(key + ".npy").Open();
        header = header.PadRight(64 - 10 - 1) + "\n";
        s.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        s.Write(BitConverter.GetBytes((ushort)header.Length));
        s.Write(Encoding.ASCII.GetBytes(header));
        s.Write(data);
    }
}
