using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace FastRcnn.Benchmarks;

/// <summary>
/// What the side-by-side runners share: the machine line, medians, the marked sections of docs/*.md,
/// the repository root (for the peer scripts) and the child processes that measure one side each.
/// </summary>
internal static class BenchReport
{
    /// <summary>The CPU model from /proc/cpuinfo ("?" elsewhere).</summary>
    public static string CpuModel() => File.Exists("/proc/cpuinfo")
        ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?"
        : "?";

    /// <summary>"CPU, N logical CPUs, T threads, bfloat16 B[, load average L]; .NET x, TorchSharp y" (B: <see cref="FastRcnn.Runtime.Bf16Support.Describe"/>).</summary>
    public static string MachineLine(int threads) =>
        $"{CpuModel()}, {Environment.ProcessorCount} logical CPUs, {threads} threads, bfloat16 {FastRcnn.Runtime.Bf16Support.Describe(measure: true)}{LoadAverage()}; .NET {Environment.Version}, TorchSharp {typeof(TorchSharp.torch).Assembly.GetName().Version}";

    /// <summary>", load average L" (the 1-minute figure of /proc/loadavg when the line is written: other work on the machine), or "".</summary>
    private static string LoadAverage() => File.Exists("/proc/loadavg")
        ? $", load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]} at the end"
        : "";

    /// <summary>"; peer: torch x, torchvision y" from a peer's JSON <c>machine</c> object ("" without a peer).</summary>
    public static string TorchPeer(JsonElement? peer) =>
        peer is { } p && p.TryGetProperty("machine", out var m)
            ? $"; peer: torch {m.GetProperty("torch").GetString()}, torchvision {m.GetProperty("torchvision").GetString()}"
            : "";

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
        FastRcnn.IO.AtomicFile.WriteAllText(path, updated);
        Console.WriteLine($"wrote {path}");
    }

    /// <summary>The folder holding FastRcnn.sln (above the program's folder), else the current directory.</summary>
    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "FastRcnn.sln"))) return dir.FullName;
        return Directory.GetCurrentDirectory();
    }

    /// <summary>bench/peers/<paramref name="script"/> in the repository.</summary>
    public static string PeerScript(string script) => Path.Combine(RepoRoot(), "bench", "peers", script);

    /// <summary>/usr/bin/python3 when it exists: the default reference peer.</summary>
    public static string? DefaultPython => File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : null;

    /// <summary>How to start this program again: the apphost, or <c>dotnet &lt;dll&gt;</c>.</summary>
    public static (string Program, string[] Prefix) SelfCommand()
    {
        string process = Environment.ProcessPath!;
        return Path.GetFileNameWithoutExtension(process) == "dotnet"
            ? (process, [typeof(BenchReport).Assembly.Location])
            : (process, []);
    }

    /// <summary>
    /// Runs <paramref name="program"/> (progress on this console's stderr) and parses the last line of its
    /// stdout as JSON; null (with the reason on stderr) when it cannot start or fails. <paramref name="environment"/>: variables to set in the child.
    /// </summary>
    public static JsonElement? RunJsonChild(string program, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = false };
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        try
        {
            using var process = Process.Start(start)!;
            string stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                Console.Error.WriteLine($"{program} failed (exit {process.ExitCode})");
                return null;
            }
            return JsonDocument.Parse(stdout.Trim().Split('\n')[^1]).RootElement.Clone();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Console.Error.WriteLine($"cannot start {program}: {e.Message}");
            return null;
        }
    }

    /// <summary>VmHWM of /proc/self/status (the kernel's resident high-water mark), as ru_maxrss of the peers.</summary>
    public static double PeakRssMib()
    {
        if (File.Exists("/proc/self/status"))
        {
            var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            if (line is not null) return double.Parse(line.Split(':', StringSplitOptions.TrimEntries)[1].Split(' ')[0], CultureInfo.InvariantCulture) / 1024;
        }
        return Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024);
    }

    /// <summary>The line a section carries when the reference peer did not run.</summary>
    public const string PeerNotRun = "The reference peer was not run (no python given or found, or it failed): FastRcnn's figures only.";
}
