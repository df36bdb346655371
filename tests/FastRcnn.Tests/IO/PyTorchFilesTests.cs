using System.Security.Cryptography;
using System.Text.Json.Nodes;
using FastRcnn.IO;
using static TorchSharp.torch;

namespace FastRcnn.Tests.IO;

/// <summary>
/// PyTorch <c>.pth</c> files written by PyTorch 1.13 (Fixtures/make_pth_fixtures.py): a state dict in the zip
/// format read bit for bit, the legacy format and a whole pickled module refused with a message naming the file.
/// </summary>
public class PyTorchFilesTests
{
    internal static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "IO", "Fixtures", name);

    /// <summary>Name → (dtype, shape, SHA-256 of the little-endian bytes) as PyTorch wrote them.</summary>
    internal static Dictionary<string, (string Dtype, long[] Shape, string Sha256)> Expected()
    {
        var tensors = JsonNode.Parse(File.ReadAllText(Fixture("small_state_dict.expected.json")))!["tensors"]!.AsObject();
        return tensors.ToDictionary(p => p.Key, p => ((string)p.Value!["dtype"]!,
            p.Value["shape"]!.AsArray().Select(d => (long)d!).ToArray(), (string)p.Value["sha256"]!));
    }

    internal static string Sha256(Tensor t) => Convert.ToHexStringLower(SHA256.HashData(t.contiguous().bytes));

    [Fact]
    public void A_state_dict_saved_by_torch_save_is_read_bit_for_bit()
    {
        var contents = PyTorchFiles.Read(Fixture("small_state_dict.pth"));
        try
        {
            var expected = Expected();
            Assert.Equal(["classifier.6.bias", "features.0.bias", "features.0.weight", "features.2.bias"], contents.Tensors.Select(t => t.Key));
            foreach (var (name, tensor) in contents.Tensors)
            {
                var (dtype, shape, sha) = expected[name];
                Assert.Equal(dtype == "float16" ? ScalarType.Float16 : ScalarType.Float32, tensor.dtype);
                Assert.Equal(shape, tensor.shape);
                Assert.Equal(sha, Sha256(tensor));
            }
            // The first values as PyTorch printed them (torch.manual_seed(0)).
            Assert.Equal(-0.11258398741483688, contents["features.0.weight"].flatten()[0].item<float>());
            Assert.Equal(-0.006786346435546875, (double)contents["features.2.bias"][0].to_type(ScalarType.Float32).item<float>());
        }
        finally
        {
            foreach (var (_, t) in contents.Tensors) t.Dispose();
        }
    }

    [Fact]
    public void The_legacy_non_zip_format_is_refused_naming_the_file_and_how_to_re_save_it()
    {
        string path = Fixture("legacy_state_dict.pth");
        Assert.True(PyTorchFiles.LooksLikePyTorch(path));
        var e = Assert.Throws<InvalidDataException>(() => PyTorchFiles.Read(path));
        Assert.StartsWith(path, e.Message);
        Assert.Contains("legacy (pre-1.6, non-zip) format", e.Message);
        Assert.Contains("torch.save(torch.load(", e.Message);
    }

    [Fact]
    public void A_whole_pickled_module_is_refused_naming_the_file()
    {
        string path = Fixture("whole_module.pth");
        var e = Assert.Throws<InvalidDataException>(() => PyTorchFiles.Read(path));
        Assert.StartsWith(path, e.Message);
        Assert.Contains("whole pickled model (torch.save(model))", e.Message);
        Assert.Contains("torch.save(model.state_dict()", e.Message);
    }

    [Fact]
    public void Other_files_are_refused_and_weight_files_are_told_apart_by_content()
    {
        using var tmp = new TempDir();
        string text = tmp.Combine("notes.pth");
        File.WriteAllText(text, "not weights");
        Assert.False(PyTorchFiles.LooksLikePyTorch(text));
        Assert.Contains("not a PyTorch file", Assert.Throws<InvalidDataException>(() => PyTorchFiles.Read(text)).Message);
        string zip = tmp.Combine("other.zip");
        using (var archive = System.IO.Compression.ZipFile.Open(zip, System.IO.Compression.ZipArchiveMode.Create)) archive.CreateEntry("readme.txt");
        Assert.Contains("without data.pkl", Assert.Throws<InvalidDataException>(() => PyTorchFiles.Read(zip)).Message);
        Assert.Throws<FileNotFoundException>(() => PyTorchFiles.Read(tmp.Combine("none.pth")));

        // A .pth under a .safetensors name still reads as PyTorch, and a safetensors file under a .pth name as safetensors.
        string renamed = tmp.Combine("renamed.safetensors");
        File.Copy(Fixture("small_state_dict.pth"), renamed);
        var fromPth = WeightFiles.Read(renamed);
        string safetensors = tmp.Combine("converted.pth");
        SafeTensors.Write(safetensors, fromPth.Tensors);
        var fromSafetensors = WeightFiles.Read(safetensors);
        Assert.Equal(fromPth.Tensors.Select(t => (t.Key, Sha256(t.Value))), fromSafetensors.Tensors.Select(t => (t.Key, Sha256(t.Value))));
        foreach (var (_, t) in fromPth.Tensors.Concat(fromSafetensors.Tensors)) t.Dispose();
        Assert.Throws<FileNotFoundException>(() => WeightFiles.Read(tmp.Combine("none.safetensors")));
    }

    [Fact]
    public void Names_sort_with_numbers_compared_as_numbers()
    {
        string[] names = ["features.10.weight", "features.2.weight", "features.2.bias", "classifier.0.weight", "features.02.bias"];
        Assert.Equal(["classifier.0.weight", "features.02.bias", "features.2.bias", "features.2.weight", "features.10.weight"],
            names.Order(Comparer<string>.Create(PyTorchFiles.NaturalCompare)));
    }
}
