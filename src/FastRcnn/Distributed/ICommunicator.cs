namespace FastRcnn.Distributed;

/// <summary>
/// The processes of one job and the collective operations between them (MPI's, over <c>MPI_COMM_WORLD</c>). Every
/// process calls the same collectives in the same order; a collective returns when all have reached it.
/// <see cref="SingleProcess"/> is the job of one process, where each collective is the identity.
/// </summary>
public interface ICommunicator : IDisposable
{
    /// <summary>This process's rank, 0 … <see cref="Size"/> − 1; rank 0 writes the job's outputs.</summary>
    int Rank { get; }

    /// <summary>P, the number of processes.</summary>
    int Size { get; }

    /// <summary>Replaces <paramref name="values"/> on every rank by the element-wise sum over the ranks.</summary>
    void AllReduceSum(Span<float> values);

    /// <summary>Replaces <paramref name="values"/> on every rank by the element-wise sum over the ranks.</summary>
    void AllReduceSum(Span<double> values);

    /// <summary>Copies <paramref name="values"/> of rank <paramref name="root"/> into the same-sized span of every other rank.</summary>
    void Broadcast(Span<float> values, int root = 0);

    /// <summary>Copies <paramref name="bytes"/> of rank <paramref name="root"/> into the same-sized span of every other rank.</summary>
    void Broadcast(Span<byte> bytes, int root = 0);

    /// <summary>Rank <paramref name="root"/> receives every rank's <paramref name="bytes"/> (any length), in rank order; the others null.</summary>
    byte[][]? Gather(ReadOnlySpan<byte> bytes, int root = 0);

    /// <summary>Returns when every rank has called it.</summary>
    void Barrier();

    /// <summary>Ends every process of the job with <paramref name="exitCode"/> (<c>MPI_Abort</c>); does not return.</summary>
    void Abort(int exitCode);
}
