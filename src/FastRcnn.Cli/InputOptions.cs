using System.CommandLine;
using FastRcnn.Data;
using FastRcnn.Imaging;

namespace FastRcnn.Cli;

/// <summary>
/// Options of the commands that read images (<c>--max-image-pixels</c>: <see cref="ImageIO.MaxPixels"/> for the
/// command's run) and datasets (<c>--skip-degenerate-boxes</c>, <c>--skip-bad-images</c>: the
/// <see cref="DatasetLoadOptions"/> that the loaders' error messages name).
/// </summary>
/// <param name="datasets">Whether the command loads datasets (adds the two skip flags).</param>
internal sealed class InputOptions(bool datasets = true)
{
    public Option<long?> MaxImagePixels { get; } = new("--max-image-pixels")
    {
        Description = $"Refuse images of more pixels (width × height) than this, checked from the file's header before decoding " +
            $"(default {ImageIO.DefaultMaxPixels}: {ImageIO.DefaultMaxPixels / 1_000_000} megapixels).",
    };

    public Option<bool> SkipDegenerateBoxes { get; } = new("--skip-degenerate-boxes")
    {
        Description = "Drop and count annotated boxes left without area after clipping to the image (x2 ≤ x1 or y2 ≤ y1; " +
            "COCO has a few of width or height 0) instead of stopping at the first.",
    };

    public Option<bool> SkipBadImages { get; } = new("--skip-bad-images")
    {
        Description = "Skip and count images whose file is missing, unreadable or over --max-image-pixels instead of stopping at the first.",
    };

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        command.Options.Add(MaxImagePixels);
        if (!datasets) return;
        command.Options.Add(SkipDegenerateBoxes);
        command.Options.Add(SkipBadImages);
    }

    /// <summary>Applies <c>--max-image-pixels</c> until the result is disposed (<see cref="ImageIO.LimitPixels"/>).</summary>
    /// <exception cref="ArgumentException">A value below 1.</exception>
    public IDisposable ApplyImageLimit(ParseResult parse)
    {
        long limit = parse.GetValue(MaxImagePixels) ?? ImageIO.MaxPixels;
        if (limit < 1) throw new ArgumentException($"--max-image-pixels must be ≥ 1, got {limit}");
        return ImageIO.LimitPixels(limit);
    }

    /// <summary><paramref name="start"/> (default <see cref="DatasetLoadOptions.Default"/>) with the two skip flags.</summary>
    public DatasetLoadOptions LoadOptions(ParseResult parse, DatasetLoadOptions? start = null) => (start ?? DatasetLoadOptions.Default) with
    {
        SkipDegenerateBoxes = datasets && parse.GetValue(SkipDegenerateBoxes),
        SkipUnreadableImages = datasets && parse.GetValue(SkipBadImages),
    };
}
