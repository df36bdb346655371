using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace FastRcnn.IO;

/// <summary>
/// An exclusive, process-wide lock on an output — a directory (<c>&lt;dir&gt;/.lock</c>) or a file
/// (<c>&lt;file&gt;.lock</c> beside it) — held for a whole run so that two runs never write the same output.
/// The lock is the operating system's: the lock file is opened with <see cref="FileShare.None"/> (an
/// exclusive <c>flock</c> on Linux and macOS, a sharing mode on Windows), which the system releases when the
/// process ends however it ends, so a lock file left by a killed process never blocks. The file holds the
/// holder's process id, start time and command line (readable with <c>cat</c>), which a refused run names;
/// it is deleted when the lock is released.
/// </summary>
public sealed class DirectoryLock : IDisposable
{
    /// <summary>The lock file's name inside a locked directory.</summary>
    public const string FileName = ".lock";

    private readonly FileStream _stream;

    private DirectoryLock(string path, FileStream stream)
    {
        LockPath = path;
        _stream = stream;
    }

    /// <summary>The lock file.</summary>
    public string LockPath { get; }

    /// <summary>Locks directory <paramref name="directory"/> (created if missing) through <c>&lt;directory&gt;/.lock</c>.</summary>
    /// <exception cref="OutputLockedException">Another process, or another lock of this one, holds it; the message names the holder.</exception>
    public static DirectoryLock Acquire(string directory)
    {
        string dir = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        Directory.CreateDirectory(dir);
        return AcquireFile(Path.Combine(dir, FileName), dir);
    }

    /// <summary>Locks the output file (or directory written whole) <paramref name="path"/> through <c>&lt;path&gt;.lock</c> beside it.</summary>
    /// <exception cref="OutputLockedException">Another process, or another lock of this one, holds it; the message names the holder.</exception>
    public static DirectoryLock AcquireFor(string path)
    {
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        Directory.CreateDirectory(Path.GetDirectoryName(full) ?? throw new IOException($"{full}: cannot lock a root directory"));
        return AcquireFile(full + ".lock", full);
    }

    /// <summary>What the lock file at <paramref name="lockPath"/> says about its holder, or null when it cannot be read.</summary>
    public static string? DescribeHolder(string lockPath)
    {
        var bytes = UnixFiles.ReadUnlocked(lockPath);
        if (bytes is null || bytes.Length == 0) return null;
        var fields = Encoding.UTF8.GetString(bytes).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ', 2)).Where(p => p.Length == 2).GroupBy(p => p[0]).ToDictionary(g => g.Key, g => g.First()[1]);
        if (!fields.TryGetValue("pid", out var pid)) return null;
        var text = new StringBuilder($"process {pid}");
        if (fields.TryGetValue("started", out var started)) text.Append(CultureInfo.InvariantCulture, $", started {started}");
        if (fields.TryGetValue("command", out var command)) text.Append(CultureInfo.InvariantCulture, $": {command}");
        return text.ToString();
    }

    private static DirectoryLock AcquireFile(string lockPath, string what)
    {
        for (int attempt = 0; ; attempt++)
        {
            FileStream stream;
            try
            {
                stream = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException && File.Exists(lockPath))
            {
                string holder = DescribeHolder(lockPath) ?? "another process (its lock file names none)";
                throw new OutputLockedException(what, lockPath,
                    $"{what} is in use by {holder}; wait for that run to finish or stop it (the lock is {lockPath})", e);
            }
            string token = Guid.NewGuid().ToString("N");
            try
            {
                stream.SetLength(0);
                stream.Write(Encoding.UTF8.GetBytes(Describe(token)));
                stream.Flush();
            }
            catch
            {
                stream.Dispose();
                throw;
            }
            // A holder deletes the file as it releases the lock: a file opened just before that delete is
            // locked but no longer the one at the path. Check that the path still names ours, or start again.
            var atPath = UnixFiles.ReadUnlocked(lockPath);
            if (atPath is null || Encoding.UTF8.GetString(atPath).Contains(token, StringComparison.Ordinal) || attempt >= 10)
                return new DirectoryLock(lockPath, stream);
            stream.Dispose();
        }
    }

    private static string Describe(string token)
    {
        using var self = Process.GetCurrentProcess();
        string started;
        try { started = self.StartTime.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture); }
        catch (Exception e) when (e is InvalidOperationException or NotSupportedException or System.ComponentModel.Win32Exception) { started = "?"; }
        string command = string.Join(' ', Environment.GetCommandLineArgs().Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"\"{a}\"" : a));
        return string.Create(CultureInfo.InvariantCulture,
            $"pid {Environment.ProcessId}\nstarted {started}\ncommand {command.Replace('\n', ' ')}\nhost {Environment.MachineName}\ntoken {token}\n");
    }

    /// <summary>Releases the lock and deletes the lock file (before closing it, so no other process locks a file that is then deleted).</summary>
    public void Dispose()
    {
        if (!OperatingSystem.IsWindows())
        {
            try { File.Delete(LockPath); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* a stale file never blocks */ }
        }
        _stream.Dispose();
        if (OperatingSystem.IsWindows())
        {
            try { File.Delete(LockPath); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* another process has locked it already */ }
        }
    }
}

/// <summary>An output (directory or file) is locked by another run; the message names the holder.</summary>
public sealed class OutputLockedException(string output, string lockPath, string message, Exception? inner = null) : IOException(message, inner)
{
    /// <summary>The locked output.</summary>
    public string Output { get; } = output;

    /// <summary>Its lock file.</summary>
    public string LockPath { get; } = lockPath;
}
