namespace FastRcnn.Tests.Cli;

/// <summary><c>fastrcnn info</c>: versions, CPU and the built-in weights as plain, unwrapped lines (tests/packaging/run.sh reads them).</summary>
[Collection(CliCollection.Name)]
public class InfoCommandTests
{
    [Fact]
    public void Prints_versions_cpu_weights_and_a_native_check()
    {
        var (exit, output) = CliRunner.Run("info");
        Assert.Equal(0, exit);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Contains(lines, l => l.StartsWith("FastRcnn ", StringComparison.Ordinal) && l.EndsWith(" " + FastRcnnInfo.Version, StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("libtorch ", StringComparison.Ordinal) && l.EndsWith(" " + FastRcnnInfo.LibTorchVersion, StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("CPU features ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("bfloat16 ", StringComparison.Ordinal) && l.EndsWith(FastRcnn.Runtime.Bf16Support.Describe(measure: true), StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("precision auto ", StringComparison.Ordinal) && l.EndsWith("runs " + (FastRcnn.Runtime.Bf16Support.Pays ? "bf16" : "fp32"), StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("weights small-shapesnet ", StringComparison.Ordinal) && l.EndsWith("small-shapesnet.safetensors", StringComparison.Ordinal) && !l.Contains("missing", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("native check ", StringComparison.Ordinal) && l.EndsWith("= 4", StringComparison.Ordinal));
    }

    [Fact]
    public void Cpu_features_are_a_subset_of_the_reported_list_in_its_order()
    {
        var features = FastRcnnInfo.CpuFeatures;
        var order = features.Select(f => FastRcnnInfo.ReportedCpuFeatures.ToList().IndexOf(f)).ToList();
        Assert.DoesNotContain(-1, order);
        Assert.Equal(order.Order(), order);
        if (OperatingSystem.IsLinux() && File.ReadAllText("/proc/cpuinfo").Contains(" avx2", StringComparison.Ordinal))
            Assert.Contains("avx2", features);
    }
}
