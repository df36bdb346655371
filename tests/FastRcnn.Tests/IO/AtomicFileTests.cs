using FastRcnn.IO;
using FastRcnn.Proposals;

namespace FastRcnn.Tests.IO;

public sealed class AtomicFileTests
{
    /// <summary>A process id no system hands out (Linux caps them at 2^22).</summary>
    private const int DeadPid = int.MaxValue;

    [Fact]
    public void Writes_the_file_whole_and_leaves_no_temporary()
    {
        using var dir = new TempDir();
        string path = dir.Combine("sub", "a.txt");
        AtomicFile.WriteAllText(path, "first");
        AtomicFile.WriteAllText(path, "second");
        Assert.Equal("second", File.ReadAllText(path));
        Assert.Equal(["a.txt"], Directory.GetFiles(dir.Combine("sub")).Select(Path.GetFileName));
        Assert.Equal(!OperatingSystem.IsWindows(), AtomicFile.FlushDirectory(dir.Combine("sub")));
    }

    [Fact]
    public void A_failed_write_keeps_the_old_file_and_deletes_its_temporary()
    {
        using var dir = new TempDir();
        string path = dir.Combine("proposals.npz");
        File.WriteAllText(path, "old");
        // A full disk: the writer fails after many bytes.
        var e = Assert.Throws<IOException>(() => AtomicFile.Write(path, s =>
        {
            s.Write(new byte[4 << 20]);
            throw new IOException("No space left on device");
        }));
        Assert.Equal("No space left on device", e.Message);
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Equal(["proposals.npz"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void Leftover_temporaries_of_dead_writers_never_block_a_rerun_and_are_removed()
    {
        using var dir = new TempDir();
        string path = dir.Combine("out.npz");
        string legacy = path + ".tmp";                                                  // the name writers used before
        string dead = dir.Combine($".out.npz.{DeadPid}.0123456789abcdef.tmp");          // left by kill -9
        string live = dir.Combine($".out.npz.{Environment.ProcessId}.fedcba9876543210.tmp"); // a running writer's
        string other = dir.Combine($".other.npz.{DeadPid}.0123456789abcdef.tmp");       // another target's
        foreach (var f in new[] { legacy, dead, live, other }) File.WriteAllText(f, "partial");

        Assert.Equal([dead, legacy], AtomicFile.StaleTemporaries(path).Order(StringComparer.Ordinal));
        ProposalFile.Write(path, [KeyValuePair.Create("img", new ProposalSet([1, 2, 3, 4], 1, 10, 10))]);

        Assert.Equal([1f, 2, 3, 4], ProposalFile.Read(path)["img"]);
        Assert.False(File.Exists(legacy));
        Assert.False(File.Exists(dead));
        Assert.True(File.Exists(live));
        Assert.True(File.Exists(other));
    }

    [Fact]
    public void Npz_write_over_a_leftover_tmp_succeeds()
    {
        using var dir = new TempDir();
        string path = dir.Combine("p.npz");
        File.WriteAllText(path + ".tmp", "left by a killed run");
        Npz.Write(path, [KeyValuePair.Create("a", new NpyArray([1, 4], [0, 0, 5, 5]))]);
        Assert.Equal([0f, 0, 5, 5], Npz.Read(path)["a"].Data);
        Assert.Equal(["p.npz"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void A_writer_that_throws_mid_archive_leaves_neither_target_nor_temporary()
    {
        using var dir = new TempDir();
        string path = dir.Combine("p.npz");
        Assert.Throws<ArgumentException>(() => Npz.Write(path,
            [KeyValuePair.Create("a", new NpyArray([1, 4], [0, 0, 5, 5])), KeyValuePair.Create("b", new NpyArray([2, 4], [0, 0, 5, 5]))]));
        Assert.Empty(Directory.GetFiles(dir.Path));
    }
}
