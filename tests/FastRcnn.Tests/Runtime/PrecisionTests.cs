using FastRcnn.Runtime;
using FastRcnn.Tests.Training;

namespace FastRcnn.Tests.Runtime;

/// <summary>
/// <see cref="Precision"/> and <see cref="Bf16Support"/>: names, run-time detection, and what <c>auto</c> resolves to on
/// both kinds of CPU (this one, and one without bfloat16, by forcing the fallback). Forcing is process-wide, so these
/// tests run alone.
/// </summary>
[Collection(TrainingCollection.Name)]
public sealed class PrecisionTests
{
    [Theory]
    [InlineData("fp32", Precision.Fp32)]
    [InlineData("BF16", Precision.Bf16)]
    [InlineData(" auto ", Precision.Auto)]
    [InlineData("bfloat16", Precision.Bf16)]
    [InlineData("float32", Precision.Fp32)]
    public void Names_parse(string name, Precision expected)
    {
        Assert.Equal(expected, Precisions.Parse(name));
        Assert.Equal(expected, Precisions.Parse(expected.Name()));
    }

    [Fact]
    public void An_unknown_name_lists_the_known_ones()
    {
        var e = Assert.Throws<ArgumentException>(() => Precisions.Parse("fp16"));
        Assert.Contains("fp32, bf16, auto", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Detection_agrees_with_the_kernels_flags()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/proc/cpuinfo")) return;
        var flags = File.ReadLines("/proc/cpuinfo").First(l => l.StartsWith("flags", StringComparison.Ordinal)).Split(' ');
        Assert.Equal(flags.Contains("avx512_bf16"), Bf16Support.HasAvx512Bf16);
        Assert.Equal(flags.Contains("amx_bf16"), Bf16Support.HasAmxBf16);
        Assert.Equal(Bf16Support.HasAvx512Bf16 || Bf16Support.HasAmxBf16, Bf16Support.CpuHasBf16);
    }

    [Fact]
    public void Auto_follows_the_cpu_and_the_forced_fallback_makes_it_fp32_on_every_cpu()
    {
        bool before = Bf16Support.FallbackForced;
        Bf16Support.FallbackForced = false;
        try
        {
            // This CPU as it is: native bf16 (avx512_bf16 or amx_bf16) that measures faster → auto is bf16; else fp32.
            Assert.Equal(Bf16Support.CpuHasBf16, Bf16Support.IsNative);
            bool pays = Bf16Support.CpuHasBf16 && Bf16Support.MeasuredSpeedup >= Bf16Support.MinimumSpeedup;
            Assert.Equal(pays, Bf16Support.Pays);
            Assert.Equal(pays ? Precision.Bf16 : Precision.Fp32, Precision.Auto.Resolve());
            Assert.Equal(pays ? TorchSharp.torch.ScalarType.BFloat16 : TorchSharp.torch.ScalarType.Float32, Precision.Auto.ComputeType());
            Assert.StartsWith(Bf16Support.CpuHasBf16 ? "native" : "not native", Bf16Support.Describe(), StringComparison.Ordinal);
            if (Bf16Support.CpuHasBf16)
            {
                Assert.True(Bf16Support.MeasuredSpeedup > 0);
                Assert.Contains("× fp32's speed", Bf16Support.Describe(measure: true), StringComparison.Ordinal);
            }
            else
            {
                Assert.True(double.IsNaN(Bf16Support.MeasuredSpeedup));   // nothing measured without bfloat16 instructions
            }

            // A CPU without bfloat16, as the fallback shows it: auto is fp32; the explicit settings are kept.
            using (Bf16Support.ForceFallback())
            {
                Assert.False(Bf16Support.IsNative);
                Assert.Equal(Precision.Fp32, Precision.Auto.Resolve());
                Assert.Equal(Precision.Bf16, Precision.Bf16.Resolve());
                Assert.Equal(Precision.Fp32, Precision.Fp32.Resolve());
                Assert.StartsWith("fp32 fallback forced", Bf16Support.Describe(), StringComparison.Ordinal);
            }
            Assert.False(Bf16Support.FallbackForced);
        }
        finally
        {
            Bf16Support.FallbackForced = before;
        }
    }
}
