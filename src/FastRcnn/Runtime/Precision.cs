using static TorchSharp.torch;

namespace FastRcnn.Runtime;

/// <summary>
/// The floating-point format of the layers where a lower precision pays (the box head's fc6 and fc7, dense or
/// factored by truncated SVD). Scores, softmax, box decoding, NMS and the losses stay float32 in every setting.
/// </summary>
public enum Precision
{
    /// <summary>float32 everywhere (the default): results are those of the plain network.</summary>
    Fp32,

    /// <summary>
    /// bfloat16 arithmetic for the box head, float32 elsewhere. Runs on any CPU, but only pays where the CPU has
    /// bfloat16 instructions (<see cref="Bf16Support.IsNative"/>); elsewhere libtorch emulates it, more slowly than float32.
    /// </summary>
    Bf16,

    /// <summary>
    /// <see cref="Bf16"/> when the CPU computes bfloat16 natively and faster than float32 (<see cref="Bf16Support.Pays"/>:
    /// native instructions, and a one-time measurement where they exist), else <see cref="Fp32"/>.
    /// </summary>
    Auto,
}

/// <summary>The names of <see cref="Precision"/> on the command line and in files (<c>fp32</c>, <c>bf16</c>, <c>auto</c>), and what a setting resolves to.</summary>
public static class Precisions
{
    /// <summary>Every setting, in the order of <see cref="Precision"/>.</summary>
    public static IReadOnlyList<Precision> All { get; } = Enum.GetValues<Precision>();

    /// <summary>The name of <paramref name="precision"/>: <c>fp32</c>, <c>bf16</c> or <c>auto</c>.</summary>
    public static string Name(this Precision precision) => precision switch
    {
        Precision.Fp32 => "fp32",
        Precision.Bf16 => "bf16",
        Precision.Auto => "auto",
        _ => throw new ArgumentOutOfRangeException(nameof(precision), precision, null),
    };

    /// <summary>Parses a name of <see cref="Name"/> (case-insensitive; <c>float32</c> and <c>bfloat16</c> are accepted too).</summary>
    /// <exception cref="ArgumentException">An unknown name (the message lists the known ones).</exception>
    public static Precision Parse(string name)
    {
        string n = name?.Trim().ToLowerInvariant() ?? "";
        if (n == "float32") return Precision.Fp32;
        if (n == "bfloat16") return Precision.Bf16;
        foreach (var p in All)
            if (p.Name() == n) return p;
        throw new ArgumentException($"Unknown precision '{name}' (known: {string.Join(", ", All.Select(p => p.Name()))}).");
    }

    /// <summary>
    /// What <paramref name="precision"/> runs as on this CPU: <see cref="Precision.Fp32"/> or <see cref="Precision.Bf16"/>
    /// (<see cref="Precision.Auto"/> follows <see cref="Bf16Support.Pays"/>, read when this is called).
    /// </summary>
    public static Precision Resolve(this Precision precision) => precision switch
    {
        Precision.Fp32 => Precision.Fp32,
        Precision.Bf16 => Precision.Bf16,
        Precision.Auto => Bf16Support.Pays ? Precision.Bf16 : Precision.Fp32,
        _ => throw new ArgumentOutOfRangeException(nameof(precision), precision, null),
    };

    /// <summary>The tensor type of the resolved setting: <c>float32</c> or <c>bfloat16</c>.</summary>
    public static ScalarType ComputeType(this Precision precision) =>
        precision.Resolve() == Precision.Bf16 ? ScalarType.BFloat16 : ScalarType.Float32;
}
