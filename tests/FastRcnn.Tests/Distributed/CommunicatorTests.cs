using FastRcnn.Distributed;

namespace FastRcnn.Tests.Distributed;

/// <summary>Without an MPI launcher nothing is loaded and every collective is the identity; a launch without a library fails clearly.</summary>
public sealed class CommunicatorTests
{
    [Fact]
    public void Without_a_launcher_the_job_is_one_process()
    {
        Assert.Null(Environment.GetEnvironmentVariable("PMI_SIZE"));
        var communicator = Communicators.FromEnvironment();
        Assert.Same(SingleProcess.Instance, communicator);
        Assert.Equal((0, 1), (communicator.Rank, communicator.Size));
        float[] values = [1, 2, 3];
        communicator.AllReduceSum(values);
        communicator.Broadcast(values.AsSpan());
        communicator.Barrier();
        Assert.Equal([1f, 2, 3], values);
        var gathered = communicator.Gather([7, 8]);
        Assert.Equal([7, 8], Assert.Single(gathered!));
    }

    [Fact]
    public void One_rank_runs_as_a_single_process_and_needs_no_mpi_library()
    {
        // PMI_SIZE=1 is what `mpiexec -n 1` sets: the command must not touch MPI (the named library does not exist).
        var (exit, output) = MpiJob.RunAlone(new Dictionary<string, string> { ["PMI_SIZE"] = "1", ["PMI_RANK"] = "0", [MpiCommunicator.LibraryVariable] = "/nonexistent/libmpich.so.12" },
            TimeSpan.FromMinutes(2), "info");
        Assert.True(exit == 0, output);
        Assert.Contains("native check", output);
    }

    [Fact]
    public void A_launch_of_several_ranks_without_an_mpi_library_fails_with_the_fix()
    {
        var (exit, output) = MpiJob.RunAlone(new Dictionary<string, string> { ["PMI_SIZE"] = "2", ["PMI_RANK"] = "0", [MpiCommunicator.LibraryVariable] = "/nonexistent/libmpich.so.12" },
            TimeSpan.FromMinutes(2), "info");
        Assert.Equal(1, exit);
        Assert.Contains("no MPI library of the MPICH ABI could be loaded (tried /nonexistent/libmpich.so.12)", output);
        Assert.Contains("apt-get install mpich", output);
    }

    [Fact]
    public void Shards_go_round_robin_and_gather_back_in_list_order()
    {
        string[] items = ["a", "b", "c", "d", "e", "f", "g"];
        var sent = new byte[3][];
        // Ranks 1 and 2 send their results (their Gather records the bytes); rank 0 receives all three.
        for (int rank = 1; rank < 3; rank++)
        {
            var fake = new FakeRank(rank, 3, sent);
            var share = Shards.Of(items, fake);
            Assert.Null(Shards.Gather(fake, items.Length, share.Select(s => s.ToUpperInvariant()).ToArray(), (w, s) => w.Write(s), r => r.ReadString()));
        }
        var root = new FakeRank(0, 3, sent);
        Assert.Equal(["a", "d", "g"], Shards.Of(items, root));
        var all = Shards.Gather(root, items.Length, Shards.Of(items, root).Select(s => s.ToUpperInvariant()).ToArray(), (w, s) => w.Write(s), r => r.ReadString());
        Assert.Equal(["A", "B", "C", "D", "E", "F", "G"], all);
        Assert.Equal(["b", "e"], Shards.Of(items, new FakeRank(1, 3, sent)));
    }

    /// <summary>Rank <c>rank</c> of <c>size</c> whose Gather stores its bytes in <c>sent</c>; rank 0's returns them all.</summary>
    private sealed class FakeRank(int rank, int size, byte[][] sent) : ICommunicator
    {
        public int Rank => rank;

        public int Size => size;

        public byte[][]? Gather(ReadOnlySpan<byte> bytes, int root = 0)
        {
            sent[rank] = bytes.ToArray();
            return rank == root ? sent : null;
        }

        public void AllReduceSum(Span<float> values) => throw new NotSupportedException();

        public void AllReduceSum(Span<double> values) => throw new NotSupportedException();

        public void Broadcast(Span<float> values, int root = 0) => throw new NotSupportedException();

        public void Broadcast(Span<byte> bytes, int root = 0) => throw new NotSupportedException();

        public void Barrier() => throw new NotSupportedException();

        public void Abort(int exitCode) => throw new NotSupportedException();

        public void Dispose()
        {
        }
    }
}
