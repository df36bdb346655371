using System.Globalization;
using FastRcnn.Distributed;
using Spectre.Console;

namespace FastRcnn.Cli;

/// <summary>
/// The command's place in an MPI job (<c>mpiexec -n P fastrcnn …</c>): the communicator, rank 0 as the one that prints
/// and writes, and the end of the whole job when one rank fails. Without an MPI launcher (or with P = 1) this is a
/// single process and nothing changes.
/// </summary>
internal static class Distribution
{
    private static StringWriter? _captured;

    /// <summary>The processes of this job (<see cref="SingleProcess"/> outside MPI).</summary>
    public static ICommunicator Communicator { get; private set; } = SingleProcess.Instance;

    /// <summary>Whether this process prints and writes the job's outputs (rank 0).</summary>
    public static bool IsLead => Communicator.Rank == 0;

    /// <summary>Whether the job has several processes.</summary>
    public static bool IsDistributed => Communicator.Size > 1;

    /// <summary>
    /// Joins the MPI job when an MPI launcher started this process; the console of ranks other than 0 is kept in memory
    /// and shown only when that rank fails.
    /// </summary>
    public static ICommunicator Start()
    {
        Communicator = Communicators.FromEnvironment();
        if (Communicator.Size > 1 && Communicator.Rank != 0)
        {
            _captured = new StringWriter(CultureInfo.InvariantCulture);
            Console.SetOut(_captured);
            AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Out = new AnsiConsoleOutput(_captured), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.No,
            });
            AnsiConsole.Console.Profile.Width = 1000;   // messages stay on one line each (paths unbroken)
        }
        return Communicator;
    }

    /// <summary>
    /// Whether the command line is one that runs as an MPI job: <c>train</c>, <c>eval</c> and <c>proposals</c> (selective
    /// search; not <c>proposals eval</c> or <c>proposals --model</c>). Other commands would only repeat the same work in every rank.
    /// </summary>
    public static bool RunsDistributed(IReadOnlyList<string> args) =>
        args.Count > 0 && (args[0] is "train" or "eval"
            || (args[0] == "proposals" && !(args.Count > 1 && args[1] == "eval") && !args.Contains("--model")));

    /// <summary>
    /// Ends every process of the job (<c>MPI_Abort</c>) after printing, on the standard error, which rank failed, its exit code
    /// and what it printed. Exit codes 130 and 143 (an interrupt every rank received) are not failures: every rank stops
    /// after the same iteration and rank 0 writes the checkpoint.
    /// </summary>
    public static int Finish(int exitCode, string? error = null)
    {
        if (!IsDistributed || exitCode is 0 or 130 or 143) return exitCode;
        var message = new System.Text.StringBuilder();
        message.Append(CultureInfo.InvariantCulture, $"fastrcnn: rank {Communicator.Rank} of {Communicator.Size} failed (exit code {exitCode}); stopping every rank of the job.");
        if (_captured is not null && _captured.ToString() is { Length: > 0 } printed)
        {
            // The error lines wherever they stand, then the last 20 lines (progress and warnings can follow an error).
            var lines = printed.TrimEnd().Split('\n');
            var tail = lines.TakeLast(20).ToArray();
            var errors = lines.SkipLast(20).Where(l => l.Contains("error", StringComparison.OrdinalIgnoreCase));
            foreach (var line in errors.Concat(tail)) message.Append('\n').Append(CultureInfo.InvariantCulture, $"  rank {Communicator.Rank}: {line.TrimEnd()}");
        }
        if (error is not null) message.Append('\n').Append(CultureInfo.InvariantCulture, $"  rank {Communicator.Rank}: {error}");
        Console.Error.WriteLine(message.ToString());
        Console.Error.Flush();
        // MPI_Abort tears the job down at once; the launcher forwards a rank's standard error asynchronously and can drop
        // what it has not read yet. A moment's pause lets the message reach the user (seen lost under load without it).
        Thread.Sleep(TimeSpan.FromSeconds(1));
        Communicator.Abort(exitCode);
        return exitCode;
    }
}
