using System.Diagnostics;
using System.Text;

namespace FastRcnn.Tests.Distributed;

/// <summary>
/// The <c>fastrcnn</c> command as an MPI job, <c>mpiexec -n P dotnet FastRcnn.Cli.dll …</c> (MPICH's Hydra), or as a plain
/// child process; the exit code and everything printed.
/// </summary>
internal static class MpiJob
{
    /// <summary>
    /// MPICH's <c>mpiexec.mpich</c> (Debian's name beside another MPI's <c>mpiexec</c>) or else the <c>mpiexec</c> on the PATH;
    /// null without one (then the MPI tests are skipped: <c>apt-get install mpich</c>; CI installs it).
    /// </summary>
    public static readonly string? Mpiexec = new[] { "mpiexec.mpich", "mpiexec" }
        .SelectMany(name => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Select(d => Path.Combine(d, name)))
        .FirstOrDefault(File.Exists);

    /// <summary>Runs the command in <paramref name="processes"/> ranks (at most <paramref name="timeout"/>; the job is killed after it).</summary>
    public static (int Exit, string Output) Run(int processes, TimeSpan timeout, params string[] args)
    {
        string mpiexec = Mpiexec ?? throw new InvalidOperationException("mpiexec not found: install MPICH (apt-get install mpich)");
        return Start(mpiexec, ["-n", processes.ToString(System.Globalization.CultureInfo.InvariantCulture), Dotnet, Cli, .. args], timeout, null);
    }

    /// <summary>Runs the command as one plain process with extra environment variables.</summary>
    public static (int Exit, string Output) RunAlone(IReadOnlyDictionary<string, string> environment, TimeSpan timeout, params string[] args) =>
        Start(Dotnet, [Cli, .. args], timeout, environment);

    private static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    private static string Cli => Path.Combine(AppContext.BaseDirectory, "FastRcnn.Cli.dll");

    private static (int, string) Start(string program, IEnumerable<string> args, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment)
    {
        var info = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["COLUMNS"] = "400";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) info.Environment[key] = value;
        var output = new StringBuilder();
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {program}");
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.Append(e.Data).Append('\n'); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.Append(e.Data).Append('\n'); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            lock (output) throw new TimeoutException($"{program} {string.Join(' ', info.ArgumentList)} ran longer than {timeout}:\n{output}");
        }
        process.WaitForExit();
        lock (output) return (process.ExitCode, output.ToString());
    }
}

/// <summary>A test that launches an MPI job: skipped (with the reason) only where no <c>mpiexec</c> is installed.</summary>
internal sealed class MpiFactAttribute : FactAttribute
{
    public MpiFactAttribute()
    {
        if (MpiJob.Mpiexec is null) Skip = "mpiexec not found: install MPICH (apt-get install mpich) to run the MPI tests";
    }
}

/// <summary>MPI jobs use every core: they run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MpiCollection
{
    public const string Name = "MPI jobs";
}
