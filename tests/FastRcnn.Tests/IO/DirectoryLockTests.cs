using System.Diagnostics;
using FastRcnn.IO;

namespace FastRcnn.Tests.IO;

public sealed class DirectoryLockTests
{
    [Fact]
    public void A_second_lock_is_refused_naming_the_holder_until_the_first_is_released()
    {
        using var dir = new TempDir();
        string output = dir.Combine("run");
        var first = DirectoryLock.Acquire(output);
        Assert.Equal(Path.Combine(output, DirectoryLock.FileName), first.LockPath);
        string text = Unlocked(first.LockPath);              // cat-able: flock is advisory (.NET's own reads take it)
        Assert.Contains($"pid {Environment.ProcessId}\n", text, StringComparison.Ordinal);
        Assert.Contains("started ", text, StringComparison.Ordinal);
        Assert.Contains("command ", text, StringComparison.Ordinal);

        var e = Assert.Throws<OutputLockedException>(() => DirectoryLock.Acquire(output));
        Assert.Contains($"{output} is in use by process {Environment.ProcessId}, started ", e.Message, StringComparison.Ordinal);
        Assert.Equal(output, e.Output);

        first.Dispose();
        Assert.False(File.Exists(first.LockPath));          // released and cleaned up
        using var second = DirectoryLock.Acquire(output);
        Assert.True(File.Exists(second.LockPath));
    }

    [Fact]
    public void A_file_output_is_locked_beside_it()
    {
        using var dir = new TempDir();
        string output = dir.Combine("proposals.npz");
        using (var held = DirectoryLock.AcquireFor(output))
        {
            Assert.Equal(output + ".lock", held.LockPath);
            Assert.Throws<OutputLockedException>(() => DirectoryLock.AcquireFor(output));
            using var other = DirectoryLock.AcquireFor(dir.Combine("other.npz"));   // another output in the same folder
        }
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void A_lock_file_left_by_a_dead_process_does_not_block()
    {
        using var dir = new TempDir();
        string output = dir.Combine("run");
        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, DirectoryLock.FileName), $"pid {int.MaxValue}\nstarted 2026-01-01 00:00:00Z\ncommand fastrcnn train\n");
        using var held = DirectoryLock.Acquire(output);
        Assert.Contains($"pid {Environment.ProcessId}\n", Unlocked(held.LockPath), StringComparison.Ordinal);
    }

    [Fact]
    public void Another_process_holding_the_lock_is_refused_and_named_and_its_death_releases_it()
    {
        if (OperatingSystem.IsWindows()) return;
        using var dir = new TempDir();
        string output = dir.Combine("run"), lockFile = Path.Combine(output, DirectoryLock.FileName);
        Directory.CreateDirectory(output);
        File.WriteAllText(lockFile, "pid 4242\nstarted 2026-12-06 02:00:00Z\ncommand fastrcnn train --out run\n");
        // util-linux flock(1) takes the same exclusive flock .NET's FileShare.None takes, in another process.
        var info = new ProcessStartInfo("flock", ["--exclusive", "--nonblock", "--close", lockFile, "sleep", "60"]) { UseShellExecute = false };
        Process? holder;
        try { holder = Process.Start(info); }
        catch (System.ComponentModel.Win32Exception) { return; }   // no flock(1) on this system
        Assert.NotNull(holder);
        using (holder)
        {
            try
            {
                var deadline = Stopwatch.StartNew();
                while (!LockedElsewhere(lockFile) && deadline.Elapsed < TimeSpan.FromSeconds(20)) Thread.Sleep(20);
                var e = Assert.Throws<OutputLockedException>(() => DirectoryLock.Acquire(output));
                Assert.Contains("in use by process 4242, started 2026-12-06 02:00:00Z: fastrcnn train --out run", e.Message, StringComparison.Ordinal);
            }
            finally
            {
                holder.Kill(entireProcessTree: true);
                holder.WaitForExit();
            }
        }
        var released = Stopwatch.StartNew();                  // the holder died: the system releases its lock as the process ends
        while (LockedElsewhere(lockFile) && released.Elapsed < TimeSpan.FromSeconds(20)) Thread.Sleep(20);
        using var mine = DirectoryLock.Acquire(output);
        Assert.True(File.Exists(mine.LockPath));
    }

    private static string Unlocked(string path) => System.Text.Encoding.UTF8.GetString(UnixFiles.ReadUnlocked(path) ?? []);

    private static bool LockedElsewhere(string path)
    {
        try
        {
            using var probe = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.None);
            return false;
        }
        catch (IOException) { return true; }
    }
}
