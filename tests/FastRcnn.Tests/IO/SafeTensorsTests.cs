using System.Text;
using FastRcnn.IO;
using FastRcnn.Ops;
using static TorchSharp.torch;

namespace FastRcnn.Tests.IO;

public sealed class SafeTensorsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("safetensors-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Write_then_read_round_trips_names_dtypes_shapes_values_and_metadata()
    {
        string path = Path.Combine(_dir, "model.safetensors");
        var tensors = new Dictionary<string, Tensor>
        {
            ["features.0.weight"] = randn(4, 3, 3, 3),
            ["features.0.bias"] = SafeScalars.Arange(4, dtype: float64),
            ["steps"] = tensor(new long[] { 7, -3 }),
            ["mask"] = tensor(new[] { true, false, true }),
            ["empty"] = zeros(0, 5),
        };
        SafeTensors.Write(path, tensors, new Dictionary<string, string> { ["format"] = "pt", ["seed"] = "42" });

        var read = SafeTensors.Read(path);
        Assert.Equal(tensors.Keys, read.Tensors.Select(t => t.Key));
        foreach (var (name, expected) in tensors)
        {
            Assert.Equal(expected.dtype, read[name].dtype);
            Assert.Equal(expected.shape, read[name].shape);
            Assert.True(expected.eq(read[name]).all().item<bool>(), name);
        }
        Assert.Equal("42", read.Metadata["seed"]);
        Assert.False(File.Exists(path + ".tmp"));
    }

    [Fact]
    public void Reads_a_file_laid_out_by_hand_as_the_format_specifies()
    {
        // Header for two tensors; data: a (2,) float32 [1.5, -2] then a (1,) int64 [9].
        string json = "{\"b\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[8,16]},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        var bytes = new List<byte>();
        bytes.AddRange(BitConverter.GetBytes((ulong)json.Length));
        bytes.AddRange(Encoding.UTF8.GetBytes(json));
        bytes.AddRange(BitConverter.GetBytes(1.5f));
        bytes.AddRange(BitConverter.GetBytes(-2f));
        bytes.AddRange(BitConverter.GetBytes(9L));
        string path = Path.Combine(_dir, "hand.safetensors");
        File.WriteAllBytes(path, bytes.ToArray());

        var read = SafeTensors.Read(path);
        Assert.Equal(new[] { "a", "b" }, read.Tensors.Select(t => t.Key)); // in data order
        Assert.Equal(new[] { 1.5f, -2f }, read["a"].data<float>().ToArray());
        Assert.Equal(9L, read["b"].item<long>());
    }

    [Theory]
    [InlineData("truncated")]
    [InlineData("bad-json")]
    [InlineData("offsets")]
    [InlineData("short")]
    public void Malformed_files_fail_with_a_message_naming_the_file(string damage)
    {
        string path = Path.Combine(_dir, damage + ".safetensors");
        SafeTensors.Write(path, new Dictionary<string, Tensor> { ["w"] = ones(10, 10) });
        byte[] good = File.ReadAllBytes(path);
        byte[] bad = damage switch
        {
            "truncated" => good[..^40],
            "bad-json" => [.. good[..8], .. Encoding.ASCII.GetBytes("{oops"), .. good[13..]],
            "offsets" => Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(good).Replace("[0,400]", "[0,404]")),
            _ => good[..5],
        };
        File.WriteAllBytes(path, bad);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.Read(path));
        Assert.Contains(path, e.Message);
    }
}
