using System.CommandLine;
using FastRcnn.Imaging;

namespace FastRcnn.Cli;

/// <summary>
/// Options of the commands that read images: <c>--max-image-pixels</c> (<see cref="ImageIO.MaxPixels"/> for the
/// command's run).
/// </summary>
internal sealed class InputOptions
{
    public Option<long?> MaxImagePixels { get; } = new("--max-image-pixels")
    {
        Description = $"Refuse images of more pixels (width × height) than this, checked from the file's header before decoding " +
            $"(default {ImageIO.DefaultMaxPixels}: {ImageIO.DefaultMaxPixels / 1_000_000} megapixels).",
    };

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public void AddTo(Command command) => command.Options.Add(MaxImagePixels);

    /// <summary>Applies <c>--max-image-pixels</c> until the result is disposed (<see cref="ImageIO.LimitPixels"/>).</summary>
    /// <exception cref="ArgumentException">A value below 1.</exception>
    public IDisposable ApplyImageLimit(ParseResult parse)
    {
        long limit = parse.GetValue(MaxImagePixels) ?? ImageIO.MaxPixels;
        if (limit < 1) throw new ArgumentException($"--max-image-pixels must be ≥ 1, got {limit}");
        return ImageIO.LimitPixels(limit);
    }
}
