using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace FastRcnn.IO;

/// <summary>
/// Writes a file so that readers — and a rerun after a crash, <c>kill -9</c> or a full disk — see the old
/// file or the whole new one, never half of one: the bytes go to a temporary file in the same directory
/// with a name no other writer uses (<c>.&lt;name&gt;.&lt;pid&gt;.&lt;random&gt;.tmp</c>), are flushed to the disk
/// (<c>fsync</c>), the temporary file is renamed over the target and the directory is flushed too. A failed
/// write (an exception from the writer, a full disk) deletes the temporary file; temporary files that dead
/// processes left beside the target are deleted by the next write of it, so none ever blocks a rerun.
/// </summary>
public static class AtomicFile
{
    /// <summary>
    /// Writes <paramref name="path"/> through <paramref name="write"/>, atomically. The directory is
    /// created if needed. With <paramref name="durable"/> false the data is not forced to the disk
    /// (for caches, whose damaged entries are detected and recomputed).
    /// </summary>
    /// <exception cref="IOException">Writing failed (e.g. the disk is full); the target is unchanged and no temporary file is left.</exception>
    public static void Write(string path, Action<Stream> write, bool durable = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(write);
        string full = Path.GetFullPath(path);
        string dir = Path.GetDirectoryName(full) ?? throw new IOException($"{full}: cannot write a file at the root");
        Directory.CreateDirectory(dir);
        RemoveStaleTemporaries(full);
        string temp = Path.Combine(dir, string.Create(CultureInfo.InvariantCulture,
            $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp"));
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: durable);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* the original error matters more */ }
            throw;
        }
        if (durable) FlushDirectory(dir);
    }

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> atomically (see <see cref="Write"/>).</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes, bool durable = true)
    {
        byte[] copy = bytes.ToArray();
        Write(path, s => s.Write(copy), durable);
    }

    /// <summary>Writes <paramref name="text"/> as UTF-8 (no byte-order mark) to <paramref name="path"/> atomically (see <see cref="Write"/>).</summary>
    public static void WriteAllText(string path, string text) =>
        Write(path, s =>
        {
            using var writer = new StreamWriter(s, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
            writer.Write(text);
        });

    /// <summary>
    /// Flushes <paramref name="directory"/>'s entries to the disk, so that a rename into it (a directory
    /// moved into place, as <see cref="Write"/> does for files) survives a power cut. Best effort: false
    /// where the system offers no such call (Windows).
    /// </summary>
    public static bool FlushDirectory(string directory) => UnixFiles.FsyncDirectory(Path.GetFullPath(directory));

    /// <summary>
    /// The temporary files of <paramref name="path"/> that this class's writers left behind and that no
    /// running process is writing any more (the pid in the name is gone), and the plain <c>&lt;path&gt;.tmp</c>
    /// of earlier versions. Deleted before each write; a file that cannot be deleted is left alone.
    /// </summary>
    internal static IReadOnlyList<string> StaleTemporaries(string path)
    {
        string full = Path.GetFullPath(path);
        string? dir = Path.GetDirectoryName(full);
        if (dir is null || !Directory.Exists(dir)) return [];
        string name = Path.GetFileName(full);
        var stale = new List<string>();
        if (File.Exists(full + ".tmp")) stale.Add(full + ".tmp");
        foreach (var candidate in Directory.EnumerateFiles(dir, $".{name}.*.tmp"))
        {
            string middle = Path.GetFileName(candidate)[(name.Length + 2)..^4];   // "<pid>.<random>"
            int dot = middle.IndexOf('.', StringComparison.Ordinal);
            if (dot > 0 && int.TryParse(middle[..dot], NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && !IsRunning(pid))
                stale.Add(candidate);
        }
        return stale;
    }

    private static void RemoveStaleTemporaries(string full)
    {
        foreach (var file in StaleTemporaries(full))
        {
            try { File.Delete(file); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* not ours to insist on */ }
        }
    }

    private static bool IsRunning(int pid)
    {
        if (pid == Environment.ProcessId) return true;
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }
}
