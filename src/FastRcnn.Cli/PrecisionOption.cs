using System.CommandLine;
using FastRcnn.Runtime;

namespace FastRcnn.Cli;

/// <summary>
/// <c>--precision fp32|bf16|auto</c>, shared by the commands that detect (<c>detect</c>, <c>eval</c>, <c>serve</c>) and <c>train</c>:
/// the arithmetic of the layers where bfloat16 pays (<see cref="Precision"/>).
/// </summary>
public sealed class PrecisionOption
{
    public PrecisionOption(string description)
    {
        Option = new Option<string?>("--precision") { Description = description };
        Option.AcceptOnlyFromAmong([.. Precisions.All.Select(p => p.Name())]);
    }

    /// <summary>For detection: the box head's arithmetic in <c>detect</c>, <c>eval</c> and <c>serve</c>.</summary>
    public static PrecisionOption ForDetection() => new(
        "Box head (fc6, fc7) arithmetic: fp32 (default), bf16, or auto (bf16 where the CPU has avx512_bf16 or amx_bf16 and its products measure faster, else fp32; " +
        $"{Bf16Support.ForceFallbackVariable}=1 forces fp32). Softmax, box decoding and NMS stay fp32.");

    public Option<string?> Option { get; }

    /// <summary>The value given, or null when the option was left out.</summary>
    public Precision? Read(ParseResult parse) => parse.GetValue(Option) is { } name ? Precisions.Parse(name) : null;
}
