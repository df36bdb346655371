using BenchmarkDotNet.Running;
using FastRcnn.Benchmarks;

if (args.Length > 0 && args[0] == "ops")
    return SideBySide.Run(args[1..]);
if (args.Length > 0 && args[0] == "train")
    return TrainStepBenchmark.Run(args[1..]);
if (args.Length > 0 && args[0] == "all")
    return AllBenchmarks.Run(args[1..]);
if (args.Length > 0 && args[0] == "detect")
    return DetectBenchmark.Run(args[1..]);
if (args.Length > 0 && args[0] == "bf16")
    return Bf16Benchmark.Run(args[1..]);
if (args.Length > 0 && args[0] == "faster")
    return FasterRcnnBenchmark.Run(args[1..]);
if (args.Length > 0 && args[0] == "onnx")
    return OnnxBenchmark.Run(args[1..]);
if (args.Length > 0 && args[0] == "proposals")
    return ProposalsComparison.Run(args[1..]);
if (args.Length > 0 && args[0] == "anchors")
    return AnchorCoverage.Run(args[1..]);
if (args.Length > 0 && args[0] == "serve")
    return ServeBenchmark.Run(args[1..]);
if (args.Length > 0 && args[0] == "distributed")
    return DistributedReport.Run(args[1..]);
if (args.Length > 0 && args[0] == "proposals-sweep")
    return ProposalsSweep.Run(args[1..]);
BenchmarkSwitcher.FromAssembly(typeof(Workloads).Assembly).Run(args);
return 0;
