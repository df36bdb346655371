using System.Runtime.InteropServices;

namespace FastRcnn.Distributed;

/// <summary>
/// <see cref="ICommunicator"/> over the MPI C API of the system's MPI library, loaded at run time: MPICH
/// (<c>libmpich.so.12</c>, Debian's <c>mpich</c>) or another library of the MPICH ABI (<c>libmpi.so.12</c>: Intel MPI,
/// MVAPICH), or the file named by <c>FASTRCNN_MPI_LIBRARY</c>. The MPICH ABI makes handles plain integers
/// (<c>MPI_COMM_WORLD</c> = 0x44000000, …), so the calls need no header. Collectives run on <c>MPI_COMM_WORLD</c>; MPI's
/// default error handler ends the job on a failed call. Call it from one thread.
/// </summary>
public sealed unsafe class MpiCommunicator : ICommunicator
{
    /// <summary>The environment variable that names the MPI library to load instead of the defaults.</summary>
    public const string LibraryVariable = "FASTRCNN_MPI_LIBRARY";

    /// <summary>The libraries tried, in order, when <see cref="LibraryVariable"/> is not set.</summary>
    public static readonly IReadOnlyList<string> DefaultLibraries = ["libmpich.so.12", "libmpi.so.12"];

    private const int CommWorld = 0x44000000;
    private const int MpiByte = 0x4c00010d;
    private const int MpiInt = 0x4c000405;
    private const int MpiFloat = 0x4c00040a;
    private const int MpiDouble = 0x4c00080b;
    private const int MpiSum = 0x58000003;
    private const int Chunk = 1 << 30;   // MPI counts are ints: larger buffers go in pieces
    private static readonly void* InPlace = (void*)-1;

    private readonly nint _library;
    private readonly delegate* unmanaged<int*, int> _finalized;
    private readonly delegate* unmanaged<int> _finalize;
    private readonly delegate* unmanaged<void*, void*, int, int, int, int, int> _allreduce;
    private readonly delegate* unmanaged<void*, int, int, int, int, int> _bcast;
    private readonly delegate* unmanaged<int, int> _barrier;
    private readonly delegate* unmanaged<int, int, int> _abort;
    private readonly delegate* unmanaged<void*, int, int, void*, int, int, int, int, int> _gather;
    private readonly delegate* unmanaged<void*, int, int, void*, int*, int*, int, int, int, int> _gatherv;
    private bool _disposed;

    private MpiCommunicator(nint library, string path)
    {
        _library = library;
        LibraryPath = path;
        var init = (delegate* unmanaged<int*, byte***, int>)Export("MPI_Init");
        var initialized = (delegate* unmanaged<int*, int>)Export("MPI_Initialized");
        var rank = (delegate* unmanaged<int, int*, int>)Export("MPI_Comm_rank");
        var size = (delegate* unmanaged<int, int*, int>)Export("MPI_Comm_size");
        _finalized = (delegate* unmanaged<int*, int>)Export("MPI_Finalized");
        _finalize = (delegate* unmanaged<int>)Export("MPI_Finalize");
        _allreduce = (delegate* unmanaged<void*, void*, int, int, int, int, int>)Export("MPI_Allreduce");
        _bcast = (delegate* unmanaged<void*, int, int, int, int, int>)Export("MPI_Bcast");
        _barrier = (delegate* unmanaged<int, int>)Export("MPI_Barrier");
        _abort = (delegate* unmanaged<int, int, int>)Export("MPI_Abort");
        _gather = (delegate* unmanaged<void*, int, int, void*, int, int, int, int, int>)Export("MPI_Gather");
        _gatherv = (delegate* unmanaged<void*, int, int, void*, int*, int*, int, int, int, int>)Export("MPI_Gatherv");
        int flag = 0, r = 0, s = 0;
        Check(initialized(&flag), "MPI_Initialized");
        if (flag == 0) Check(init(null, null), "MPI_Init");
        Check(rank(CommWorld, &r), "MPI_Comm_rank");
        Check(size(CommWorld, &s), "MPI_Comm_size");
        Rank = r;
        Size = s;
    }

    /// <summary>The file the MPI library was loaded from.</summary>
    public string LibraryPath { get; }

    public int Rank { get; }

    public int Size { get; }

    /// <summary>
    /// Loads the MPI library and initialises MPI (<c>MPI_Init</c>, unless it already was).
    /// </summary>
    /// <exception cref="DllNotFoundException">No MPI library of the MPICH ABI could be loaded (the message names what was tried and how to install one).</exception>
    public static MpiCommunicator Open()
    {
        var candidates = Environment.GetEnvironmentVariable(LibraryVariable) is { Length: > 0 } given ? [given] : DefaultLibraries;
        foreach (var name in candidates)
        {
            if (NativeLibrary.TryLoad(name, out var handle)) return new MpiCommunicator(handle, name);
        }
        throw new DllNotFoundException(
            $"This process was started by an MPI launcher, but no MPI library of the MPICH ABI could be loaded (tried {string.Join(", ", candidates)}). " +
            $"Install MPICH (Debian/Ubuntu: apt-get install mpich) or name the library in {LibraryVariable}.");
    }

    public void AllReduceSum(Span<float> values)
    {
        fixed (float* p = values) InPieces(p, values.Length, sizeof(float), MpiFloat);
    }

    public void AllReduceSum(Span<double> values)
    {
        fixed (double* p = values) InPieces(p, values.Length, sizeof(double), MpiDouble);
    }

    public void Broadcast(Span<float> values, int root = 0)
    {
        fixed (float* p = values)
        {
            for (long start = 0; start < values.Length; start += Chunk)
                Check(_bcast((byte*)p + start * sizeof(float), (int)Math.Min(Chunk, values.Length - start), MpiFloat, root, CommWorld), "MPI_Bcast");
        }
    }

    public void Broadcast(Span<byte> bytes, int root = 0)
    {
        fixed (byte* p = bytes)
        {
            for (long start = 0; start < bytes.Length; start += Chunk)
                Check(_bcast(p + start, (int)Math.Min(Chunk, bytes.Length - start), MpiByte, root, CommWorld), "MPI_Bcast");
        }
    }

    public byte[][]? Gather(ReadOnlySpan<byte> bytes, int root = 0)
    {
        int length = bytes.Length;
        var lengths = new int[Size];
        fixed (int* l = lengths) Check(_gather(&length, 1, MpiInt, l, 1, MpiInt, root, CommWorld), "MPI_Gather");
        long total = Rank == root ? lengths.Sum(x => (long)x) : 0;
        if (total > int.MaxValue) throw new InvalidOperationException($"Gather of {total} bytes: more than MPI_Gatherv's int displacements reach.");
        var all = new byte[Rank == root ? total : 0];
        var offsets = new int[Size];
        for (int i = 1; i < Size; i++) offsets[i] = offsets[i - 1] + lengths[i - 1];
        fixed (byte* send = bytes)
        fixed (byte* receive = all)
        fixed (int* l = lengths)
        fixed (int* o = offsets)
        {
            Check(_gatherv(send, length, MpiByte, receive, l, o, MpiByte, root, CommWorld), "MPI_Gatherv");
        }
        if (Rank != root) return null;
        return Enumerable.Range(0, Size).Select(i => all.AsSpan(offsets[i], lengths[i]).ToArray()).ToArray();
    }

    public void Barrier() => Check(_barrier(CommWorld), "MPI_Barrier");

    public void Abort(int exitCode)
    {
        Console.Out.Flush();
        Console.Error.Flush();
        _abort(CommWorld, exitCode);
        Environment.Exit(exitCode);   // MPI_Abort does not return; if it did, end this process at least
    }

    /// <summary>Finalises MPI (<c>MPI_Finalize</c>); every rank must call it.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        int done = 0;
        Check(_finalized(&done), "MPI_Finalized");
        if (done == 0) Check(_finalize(), "MPI_Finalize");
    }

    private void InPieces(void* data, int length, int elementSize, int type)
    {
        for (long start = 0; start < length; start += Chunk)
            Check(_allreduce(InPlace, (byte*)data + start * elementSize, (int)Math.Min(Chunk, length - start), type, MpiSum, CommWorld), "MPI_Allreduce");
    }

    private nint Export(string name) =>
        NativeLibrary.TryGetExport(_library, name, out var address)
            ? address
            : throw new EntryPointNotFoundException($"{LibraryPath}: no symbol {name}; is this an MPI library of the MPICH ABI?");

    private static void Check(int code, string call)
    {
        if (code != 0) throw new InvalidOperationException($"{call} failed with MPI error {code}.");
    }
}
