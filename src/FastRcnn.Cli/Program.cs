using FastRcnn.Cli;
using FastRcnn.Runtime;

// Before libtorch allocates anything: large tensors in 2 MiB pages (see CpuRuntime).
CpuRuntime.UseTransparentHugePages();
// Large tensors are allocated and freed every iteration: keep freed memory for reuse (see CpuRuntime;
// `fastrcnn train` turns this off unless --retain-freed-memory: training's peak memory matters more).
CpuRuntime.RetainFreedMemory(true);
return CliApp.Build().Parse(args).Invoke();
