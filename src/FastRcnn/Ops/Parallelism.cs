namespace FastRcnn.Ops;

/// <summary>How many threads the hand-written CPU kernels use (default: one per processor).</summary>
public static class Parallelism
{
    private static ParallelOptions s_options = new() { MaxDegreeOfParallelism = Environment.ProcessorCount };

    internal static ParallelOptions Options => s_options;

    /// <summary>Threads for the kernels in <see cref="FastRcnn.Ops"/>; at least 1.</summary>
    public static int Threads
    {
        get => s_options.MaxDegreeOfParallelism;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            s_options = new ParallelOptions { MaxDegreeOfParallelism = value };
        }
    }
}
