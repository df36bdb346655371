using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace FastRcnn.IO;

/// <summary>
/// The few POSIX calls .NET does not expose: opening a file without taking its advisory lock (.NET's
/// <see cref="FileStream"/> takes a <c>flock</c> on every open, so a file held with <see cref="FileShare.None"/>
/// cannot otherwise be read), and <c>fsync</c> of a directory (which .NET cannot open).
/// </summary>
internal static class UnixFiles
{
    private const int ReadOnly = 0; // O_RDONLY on Linux and macOS

    /// <summary>Reads a whole (small) file without locking it; null where that is not possible (Windows, no such file).</summary>
    public static byte[]? ReadUnlocked(string path, int maxBytes = 1 << 16)
    {
        if (OperatingSystem.IsWindows()) return null;
        try
        {
            int fd = Open(path, ReadOnly);
            if (fd < 0) return null;
            using var handle = new SafeFileHandle(fd, ownsHandle: true);
            var buffer = new byte[maxBytes];
            int total = 0, n;
            while (total < buffer.Length && (n = RandomAccess.Read(handle, buffer.AsSpan(total), total)) > 0) total += n;
            return buffer[..total];
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return null;
        }
    }

    /// <summary>
    /// Flushes a directory's entries (a rename into it) to the disk. Best effort: false where the system
    /// has no such call or refuses it (Windows, some network file systems).
    /// </summary>
    public static bool FsyncDirectory(string directory)
    {
        if (OperatingSystem.IsWindows()) return false;
        try
        {
            int fd = Open(directory, ReadOnly);
            if (fd < 0) return false;
            using var handle = new SafeFileHandle(fd, ownsHandle: true);
            return Fsync(handle) == 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static extern int Fsync(SafeFileHandle fd);
}
