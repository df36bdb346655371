using SkiaSharp;

namespace FastRcnn.Imaging;

/// <summary>
/// Finds a TrueType font for label text. SkiaSharp's self-contained Linux native assets
/// (<c>SkiaSharp.NativeAssets.Linux.NoDependencies</c>) have no fontconfig, so they see no system
/// fonts: a font file has to be loaded by path. Search order: the file named by the environment
/// variable <see cref="EnvironmentVariable"/>, then <see cref="Candidates"/> (DejaVu, Liberation,
/// Noto, FreeFont on Linux; Arial/Helvetica on macOS; Arial/Segoe UI on Windows), then the
/// platform font manager (which works on Windows and macOS) — accepted only if it has glyphs.
/// </summary>
public static class FontLocator
{
    /// <summary>Environment variable that may name a font file to use first.</summary>
    public const string EnvironmentVariable = "FASTRCNN_FONT";

    /// <summary>Known font file locations, tried in order.</summary>
    public static IReadOnlyList<string> Candidates { get; } = BuildCandidates();

    /// <summary>The first usable typeface and where it came from, or (null, null).</summary>
    public static (SKTypeface? Typeface, string? Source) Load()
    {
        var paths = new List<string>();
        string? env = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(env))
            paths.Add(env);
        paths.AddRange(Candidates);
        foreach (string path in paths)
        {
            if (!File.Exists(path))
                continue;
            var tf = TryLoad(path);
            if (tf is not null)
                return (tf, path);
        }
        try
        {
            var system = SKFontManager.Default.MatchFamily("sans-serif") ?? SKTypeface.Default;
            if (HasGlyphs(system))
                return (system, "system:" + system.FamilyName);
        }
        catch (Exception e) when (e is InvalidOperationException or DllNotFoundException or EntryPointNotFoundException)
        {
            // No usable system font manager: run without text.
        }
        return (null, null);
    }

    private static SKTypeface? TryLoad(string path)
    {
        try
        {
            var tf = SKTypeface.FromFile(path);
            if (HasGlyphs(tf))
                return tf;
            tf?.Dispose();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            // Unreadable font file: try the next one.
        }
        return null;
    }

    private static bool HasGlyphs(SKTypeface? tf)
    {
        if (tf is null || tf.GlyphCount <= 0)
            return false;
        using var font = new SKFont(tf, 12);
        return font.ContainsGlyphs("a0");
    }

    private static string[] BuildCandidates()
    {
        var list = new List<string>
        {
            // Debian / Ubuntu
            "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
            "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
            "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
            "/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf",
            "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
            "/usr/share/fonts/truetype/freefont/FreeSans.ttf",
            "/usr/share/fonts/truetype/ubuntu/Ubuntu-R.ttf",
            // Fedora / RHEL / Arch / openSUSE / Alpine
            "/usr/share/fonts/dejavu/DejaVuSans.ttf",
            "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
            "/usr/share/fonts/TTF/DejaVuSans.ttf",
            "/usr/share/fonts/truetype/DejaVuSans.ttf",
            "/usr/share/fonts/liberation-sans/LiberationSans-Regular.ttf",
            "/usr/share/fonts/liberation/LiberationSans-Regular.ttf",
            "/usr/share/fonts/google-noto/NotoSans-Regular.ttf",
            "/usr/share/fonts/noto/NotoSans-Regular.ttf",
            // macOS
            "/System/Library/Fonts/Supplemental/Arial.ttf",
            "/Library/Fonts/Arial.ttf",
            "/System/Library/Fonts/Helvetica.ttc",
            "/System/Library/Fonts/SFNS.ttf",
        };
        string winFonts = Environment.GetFolderPath(Environment.SpecialFolder.Fonts);
        if (string.IsNullOrEmpty(winFonts))
            winFonts = @"C:\Windows\Fonts";
        list.Add(Path.Combine(winFonts, "arial.ttf"));
        list.Add(Path.Combine(winFonts, "segoeui.ttf"));
        list.Add(Path.Combine(winFonts, "DejaVuSans.ttf"));
        return list.ToArray();
    }
}
