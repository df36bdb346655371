using System.Diagnostics;
using System.Globalization;
using FastRcnn.Data;

namespace FastRcnn.Benchmarks;

/// <summary>
/// <c>all</c>: the whole report in one command — core operators (<c>ops</c>), selective search against OpenCV
/// (<c>proposals</c>, on a few images), the training iteration (<c>train</c>), detection stage by stage and the
/// SVD effect (<c>detect</c>) — each runner in its own process, one after the other, each writing its marked
/// section of the report (ops, proposals, train, detect, svd) with its peer's figures from the same run. Detection
/// alternates the two sides over <c>--detect-rounds</c> rounds (default 2), so that a change in the machine's load
/// falls on both.
/// Without a python the runners still write FastRcnn's figures and say that the peer was not run.
/// </summary>
public static class AllBenchmarks
{
    private static readonly string[] Runners = ["ops", "proposals", "train", "detect"];

    private sealed record Options(string? Python, int Threads, string? Write, int ProposalImages, int DetectRounds, string[] Only);

    public static int Run(string[] args)
    {
        var o = Parse(args);
        string[] common = [.. o.Python is { } p ? new[] { "--python", p } : ["--no-peer"], "--threads", o.Threads.ToString(CultureInfo.InvariantCulture),
            .. o.Write is { } w ? new[] { "--write", Path.GetFullPath(w) } : []];
        var failed = new List<string>();
        var clock = Stopwatch.StartNew();
        foreach (var runner in Runners.Where(r => o.Only.Length == 0 || o.Only.Contains(r)))
        {
            string[] runnerArgs = runner switch
            {
                "proposals" => [.. ProposalArgs(o), .. common],
                "detect" => ["--rounds", o.DetectRounds.ToString(CultureInfo.InvariantCulture), .. common],
                _ => common,
            };
            Console.Error.WriteLine($"[all] {runner} {string.Join(' ', runnerArgs)} ({clock.Elapsed:hh\\:mm\\:ss} so far)");
            if (RunSelf([runner, .. runnerArgs]) != 0) failed.Add(runner);
        }
        Console.Error.WriteLine($"[all] done in {clock.Elapsed:hh\\:mm\\:ss}" + (failed.Count > 0 ? $"; failed: {string.Join(", ", failed)}" : ""));
        return failed.Count == 0 ? 0 : 1;
    }

    /// <summary>
    /// The five photographs of bench/peers/data/photos.txt (Debian's python3-skimage) with their boxes, or, when
    /// they are not installed, a Shapes test split generated into a temporary folder; at most
    /// <see cref="Options.ProposalImages"/> images, one timed run each after a warm-up.
    /// </summary>
    private static string[] ProposalArgs(Options o)
    {
        string list = BenchReport.PeerScript(Path.Combine("data", "photos.txt"));
        string limit = o.ProposalImages.ToString(CultureInfo.InvariantCulture);
        bool photos = File.ReadLines(list).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).All(File.Exists);
        if (photos)
            return ["@" + list, "--gt", BenchReport.PeerScript(Path.Combine("data", "photos_gt.json")), "--repeats", "1", "--limit", limit, "--section", "proposals"];
        string root = Path.Combine(Path.GetTempPath(), "fastrcnn-bench-shapes");
        if (!File.Exists(Path.Combine(root, ShapesGenerator.InfoFileName)))
            ShapesGenerator.Generate(root, new ShapesOptions { TrainImages = 0, TestImages = Math.Max(o.ProposalImages, 1), Seed = 0, Overwrite = true });
        return ["--dataset", root, "--split", "test", "--repeats", "1", "--limit", limit, "--section", "proposals"];
    }

    /// <summary>Runs this program with <paramref name="args"/> in a child process sharing this console; its exit code.</summary>
    private static int RunSelf(string[] args)
    {
        var (program, prefix) = BenchReport.SelfCommand();
        var start = new ProcessStartInfo(program);
        foreach (var a in prefix.Concat(args)) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        process.WaitForExit();
        return process.ExitCode;
    }

    private static Options Parse(string[] args)
    {
        string? python = BenchReport.DefaultPython, write = null;
        int threads = Environment.ProcessorCount, images = 5, rounds = 2;
        var only = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--python": python = Next(); break;
                case "--no-peer": python = null; break;
                case "--threads": threads = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--write": write = Next(); break;
                case "--proposal-images": images = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--detect-rounds": rounds = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--only":
                    only.AddRange(Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                    break;
                default:
                    throw new ArgumentException($"unknown option {args[i]} (all [--python PATH | --no-peer] [--threads N] [--write FILE.md] " +
                                                $"[--proposal-images N] [--detect-rounds N] [--only {string.Join(',', Runners)}])");
            }
        }
        if (only.FirstOrDefault(r => !Runners.Contains(r)) is { } unknown) throw new ArgumentException($"unknown runner {unknown}; known: {string.Join(", ", Runners)}");
        return new(python, threads, write, images, rounds, [.. only]);
    }
}
