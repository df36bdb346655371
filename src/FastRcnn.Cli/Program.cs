using FastRcnn.Cli;
using FastRcnn.Runtime;

// Large tensors are allocated and freed every iteration: keep freed memory for reuse (see CpuRuntime).
CpuRuntime.RetainFreedMemory(true);
return CliApp.Build().Parse(args).Invoke();
