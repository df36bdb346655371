using System.CommandLine;
using FastRcnn.Data.Transforms;
using FastRcnn.Inference;

namespace FastRcnn.Cli;

/// <summary>
/// The test-scale options that <c>detect</c> and <c>eval</c> share: <c>--scale</c> (one side, or several for an
/// image pyramid, SPEC §6), <c>--max-size</c> (default 1000, or 2000 with several scales) and <c>--canonical-size</c>
/// (the side each RoI is pooled nearest to on a pyramid; default 224, the paper's).
/// </summary>
public sealed class TestScaleOptions
{
    public Option<int[]> Scale { get; } = new("--scale")
    {
        Description = "Test scale(s): shorter side in pixels; several for an image pyramid (default 600; an sppnet model: its own five scales).", AllowMultipleArgumentsPerToken = true,
    };

    public Option<int?> MaxSize { get; } = new("--max-size") { Description = "Cap on the longer side (default 1000, or 2000 with several scales)." };

    public Option<double?> CanonicalSize { get; } = new("--canonical-size")
    {
        Description = "With several --scale values: pool each RoI from the level where its side is closest to this (default 224, the paper's).",
    };

    /// <summary>The three options, to add to a command.</summary>
    public IEnumerable<Option> All => [Scale, MaxSize, CanonicalSize];

    /// <summary>The detector options these values give, with <paramref name="postprocess"/> (null: the defaults).</summary>
    public DetectorOptions Read(ParseResult parse, PostprocessOptions? postprocess = null)
    {
        var scales = parse.GetValue(Scale) is { Length: > 0 } s ? s : null;
        return new DetectorOptions(scales, parse.GetValue(MaxSize) ?? (scales is { Length: > 1 } ? 2000 : ImageScaling.DefaultMaxSize), postprocess,
            CanonicalRoiSize: parse.GetValue(CanonicalSize) ?? ImagePyramid.ImageNetInputSize);
    }
}
