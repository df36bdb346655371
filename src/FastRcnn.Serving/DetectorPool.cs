using System.Collections.Concurrent;
using FastRcnn.Inference;
using FastRcnn.Runtime;

namespace FastRcnn.Serving;

/// <summary>
/// A bounded pool of detectors, each on a thread of its own with its own thread budget (<see cref="CpuRuntime.SetThreads"/>
/// on that thread), behind a bounded queue. A request first takes one of <see cref="Capacity"/> admission slots
/// (<see cref="TryAdmit"/>: workers + queue places; none left, the caller answers 503) before it reads its body, so the
/// requests held in memory are bounded too; its work then runs on the next free detector (<see cref="RunAsync{T}"/>).
/// Work whose cancellation token is cancelled before a detector takes it is skipped.
/// </summary>
public sealed class DetectorPool : IDisposable
{
    private readonly BlockingCollection<Job> _jobs = new(new ConcurrentQueue<Job>());
    private readonly Detector[] _detectors;
    private readonly Thread[] _threads;
    private readonly ManualResetEventSlim _running = new(initialState: true);
    private int _admitted, _busy, _waiting, _disposed;
    private long _skipped;

    /// <summary>Creates <paramref name="workers"/> detectors with <paramref name="create"/> (disposed with the pool) and starts their threads.</summary>
    public DetectorPool(Func<Detector> create, int workers, int threadsPerWorker, int queueCapacity)
    {
        ArgumentNullException.ThrowIfNull(create);
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(threadsPerWorker, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(queueCapacity);
        ThreadsPerWorker = threadsPerWorker;
        QueueCapacity = queueCapacity;
        _detectors = new Detector[workers];
        try
        {
            for (int i = 0; i < workers; i++) _detectors[i] = create();
        }
        catch
        {
            foreach (var d in _detectors) d?.Dispose();
            throw;
        }
        _threads = new Thread[workers];
        for (int i = 0; i < workers; i++)
        {
            var detector = _detectors[i];
            _threads[i] = new Thread(() => Work(detector)) { IsBackground = true, Name = $"detector {i + 1}/{workers}" };
            _threads[i].Start();
        }
    }

    /// <summary>Detectors (requests detected at the same time).</summary>
    public int Workers => _detectors.Length;

    public int ThreadsPerWorker { get; }

    /// <summary>Requests that may wait for a free detector.</summary>
    public int QueueCapacity { get; }

    /// <summary>Admission slots: <see cref="Workers"/> + <see cref="QueueCapacity"/>.</summary>
    public int Capacity => Workers + QueueCapacity;

    /// <summary>Work waiting for a detector.</summary>
    public int QueueLength => Volatile.Read(ref _waiting);

    /// <summary>Detectors working now.</summary>
    public int Busy => Volatile.Read(ref _busy);

    /// <summary>Admission slots held now (requests being read, waiting or detected).</summary>
    public int Admitted => Volatile.Read(ref _admitted);

    /// <summary>Work skipped because it was cancelled before a detector took it.</summary>
    public long Skipped => Interlocked.Read(ref _skipped);

    /// <summary>One of the detectors, for what does not change between them (class names, options); not for detecting.</summary>
    public Detector Prototype => _detectors[0];

    /// <summary>Takes an admission slot, or returns null when all <see cref="Capacity"/> are held. Dispose it when the request ends.</summary>
    public Admission? TryAdmit()
    {
        while (true)
        {
            int now = Volatile.Read(ref _admitted);
            if (now >= Capacity || Volatile.Read(ref _disposed) != 0) return null;
            if (Interlocked.CompareExchange(ref _admitted, now + 1, now) == now) return new Admission(this);
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> on the next free detector, on its thread. The admission slot is held until the work
    /// is done or skipped, even when the caller stops waiting. The task is cancelled when <paramref name="cancel"/> is
    /// cancelled before a detector takes the work; work already running runs to its end.
    /// </summary>
    public Task<T> RunAsync<T>(Admission admission, Func<Detector, T> work, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(admission);
        ArgumentNullException.ThrowIfNull(work);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        admission.AddHolder();
        var job = new Job(
            detector =>
            {
                try { done.TrySetResult(work(detector)); }
                catch (Exception e) { done.TrySetException(e); }
            },
            () => done.TrySetCanceled(cancel), admission, cancel);
        Interlocked.Increment(ref _waiting);
        try { _jobs.Add(job, CancellationToken.None); }
        catch (InvalidOperationException)
        {
            Interlocked.Decrement(ref _waiting);
            admission.Dispose();
            throw new ObjectDisposedException(nameof(DetectorPool));
        }
        return done.Task;
    }

    /// <summary>Tests: detectors stop before their next piece of work until <see cref="Resume"/>.</summary>
    internal void Pause() => _running.Reset();

    internal void Resume() => _running.Set();

    private void Work(Detector detector)
    {
        CpuRuntime.SetThreads(ThreadsPerWorker);   // libtorch's intra-op threads are set per thread
        foreach (var job in _jobs.GetConsumingEnumerable())
        {
            _running.Wait();
            Interlocked.Decrement(ref _waiting);
            try
            {
                if (job.Cancel.IsCancellationRequested)
                {
                    Interlocked.Increment(ref _skipped);
                    job.Skip();
                    continue;
                }
                Interlocked.Increment(ref _busy);
                try { job.Run(detector); }
                finally { Interlocked.Decrement(ref _busy); }
            }
            finally { job.Admission.Dispose(); }
        }
    }

    /// <summary>Finishes the work already queued, stops the threads and disposes the detectors.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _jobs.CompleteAdding();
        _running.Set();
        foreach (var t in _threads) t.Join();
        foreach (var d in _detectors) d.Dispose();
        _jobs.Dispose();
        _running.Dispose();
    }

    private sealed record Job(Action<Detector> Run, Action Skip, Admission Admission, CancellationToken Cancel);

    /// <summary>An admission slot of a <see cref="DetectorPool"/>: returned when the request and its work (if any) are both done.</summary>
    public sealed class Admission : IDisposable
    {
        private readonly DetectorPool _pool;
        private int _holders = 1;

        internal Admission(DetectorPool pool) => _pool = pool;

        internal void AddHolder() => Interlocked.Increment(ref _holders);

        /// <summary>Releases the caller's hold (the pool releases its own when the work is done).</summary>
        public void Dispose()
        {
            if (Interlocked.Decrement(ref _holders) == 0) Interlocked.Decrement(ref _pool._admitted);
        }
    }
}
