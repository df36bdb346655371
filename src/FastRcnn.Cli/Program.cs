using FastRcnn.Cli;
using FastRcnn.Runtime;

// Before libtorch allocates anything: large tensors in 2 MiB pages (see CpuRuntime).
CpuRuntime.UseTransparentHugePages();
// Large tensors are allocated and freed every iteration: keep freed memory for reuse (see CpuRuntime;
// `fastrcnn train` turns this off unless --retain-freed-memory: training's peak memory matters more).
CpuRuntime.RetainFreedMemory(true);
// Under `mpiexec -n P` (P ≥ 2) this process is one rank of an MPI job; otherwise a single process, nothing loaded.
FastRcnn.Distributed.ICommunicator communicator;
try
{
    communicator = Distribution.Start();
}
catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or NotSupportedException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}
using var job = communicator;
if (Distribution.IsDistributed && !Distribution.RunsDistributed(args))
{
    if (Distribution.IsLead)
        Console.Error.WriteLine($"error: under mpiexec only 'train', 'eval' and 'proposals' (selective search) run, split across the ranks; run '{string.Join(' ', args.Take(2))}' as one process.");
    return Distribution.Finish(2);
}
int exitCode;
try
{
    exitCode = CliApp.Build().Parse(args).Invoke();
}
catch (Exception e) when (Distribution.IsDistributed)
{
    return Distribution.Finish(1, e.ToString());
}
return Distribution.Finish(exitCode);
