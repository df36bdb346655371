namespace FastRcnn.Distributed;

/// <summary>The job of one process: rank 0 of 1; every collective leaves the data as it is. Nothing is loaded.</summary>
public sealed class SingleProcess : ICommunicator
{
    /// <summary>The one instance.</summary>
    public static SingleProcess Instance { get; } = new();

    private SingleProcess()
    {
    }

    public int Rank => 0;

    public int Size => 1;

    public void AllReduceSum(Span<float> values)
    {
    }

    public void AllReduceSum(Span<double> values)
    {
    }

    public void Broadcast(Span<float> values, int root = 0) => CheckRoot(root);

    public void Broadcast(Span<byte> bytes, int root = 0) => CheckRoot(root);

    public byte[][]? Gather(ReadOnlySpan<byte> bytes, int root = 0)
    {
        CheckRoot(root);
        return [bytes.ToArray()];
    }

    public void Barrier()
    {
    }

    public void Abort(int exitCode) => Environment.Exit(exitCode);

    public void Dispose()
    {
    }

    private static void CheckRoot(int root) => ArgumentOutOfRangeException.ThrowIfNotEqual(root, 0);
}
