namespace FastRcnn.Benchmarks;

/// <summary>What the side-by-side runners share: the machine line and the marked sections of docs/*.md.</summary>
internal static class BenchReport
{
    /// <summary>The CPU model from /proc/cpuinfo ("?" elsewhere).</summary>
    public static string CpuModel() => File.Exists("/proc/cpuinfo")
        ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?"
        : "?";

    /// <summary>The median of the samples (NaN when there are none).</summary>
    public static double Median(IReadOnlyCollection<double> samples)
    {
        if (samples.Count == 0) return double.NaN;
        var s = samples.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    /// <summary>
    /// Replaces the lines between <c>&lt;!-- section:begin --&gt;</c> and <c>&lt;!-- section:end --&gt;</c> of a
    /// markdown file with <paramref name="body"/> (appending the section when absent), written atomically.
    /// </summary>
    public static void WriteSection(string path, string section, IEnumerable<string> body)
    {
        string begin = $"<!-- {section}:begin -->", end = $"<!-- {section}:end -->";
        string block = string.Join("\n", body.Prepend(begin).Append(end));
        string existing = File.Exists(path) ? File.ReadAllText(path) : "# Benchmarks\n";
        int b = existing.IndexOf(begin, StringComparison.Ordinal), e = existing.IndexOf(end, StringComparison.Ordinal);
        string updated = b >= 0 && e > b
            ? existing[..b] + block + existing[(e + end.Length)..]
            : existing.TrimEnd() + "\n\n" + block + "\n";
        string temp = path + ".tmp";
        File.WriteAllText(temp, updated);
        File.Move(temp, path, overwrite: true);
        Console.WriteLine($"wrote {path}");
    }
}
