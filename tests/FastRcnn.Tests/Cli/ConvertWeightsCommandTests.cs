using FastRcnn.IO;
using static FastRcnn.Tests.IO.PyTorchFilesTests;

namespace FastRcnn.Tests.Cli;

/// <summary><c>fastrcnn convert-weights IN.pth OUT.safetensors</c> on files written by PyTorch 1.13 (tests/FastRcnn.Tests/IO/Fixtures).</summary>
[Collection(CliCollection.Name)]
public class ConvertWeightsCommandTests
{
    [Fact]
    public void Converts_a_pth_state_dict_to_safetensors_keeping_names_dtypes_and_bits()
    {
        using var tmp = new TempDir();
        string output = tmp.Combine("vgg-style.safetensors");
        var (exit, text) = CliRunner.Run("convert-weights", Fixture("small_state_dict.pth"), output);
        Assert.True(exit == 0, text);
        Assert.Contains($"wrote 4 tensors (3 Float32, 1 Float16) to {output}", text);

        var contents = SafeTensors.Read(output);
        var expected = Expected();
        Assert.Equal(["classifier.6.bias", "features.0.bias", "features.0.weight", "features.2.bias"], contents.Tensors.Select(t => t.Key));
        foreach (var (name, tensor) in contents.Tensors)
        {
            Assert.Equal(expected[name].Shape, tensor.shape);
            Assert.Equal(expected[name].Sha256, Sha256(tensor));
            tensor.Dispose();
        }
        Assert.Equal("small_state_dict.pth", contents.Metadata["converted_from"]);
    }

    [Fact]
    public void Legacy_files_whole_modules_and_overwriting_the_input_are_errors_naming_the_file()
    {
        using var tmp = new TempDir();
        string output = tmp.Combine("out.safetensors");
        foreach (var (fixture, why) in new[] { ("legacy_state_dict.pth", "legacy (pre-1.6, non-zip) format"), ("whole_module.pth", "whole pickled model") })
        {
            var (exit, text) = CliRunner.Run("convert-weights", Fixture(fixture), output);
            Assert.Equal(1, exit);
            Assert.Contains(Fixture(fixture), text);
            Assert.Contains(why, text);
            Assert.False(File.Exists(output));
        }
        string copy = tmp.Combine("in.pth");
        File.Copy(Fixture("small_state_dict.pth"), copy);
        var (code, message) = CliRunner.Run("convert-weights", copy, copy);
        Assert.Equal(1, code);
        Assert.Contains("would replace the input", message);
        Assert.Equal(1, CliRunner.Run("convert-weights", tmp.Combine("none.pth"), output).Exit);
    }
}
