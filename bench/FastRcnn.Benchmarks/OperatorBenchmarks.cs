using BenchmarkDotNet.Attributes;
using FastRcnn.Ops;
using static TorchSharp.torch;

namespace FastRcnn.Benchmarks;

/// <summary>
/// BenchmarkDotNet micro-benchmarks of the core operators on the <see cref="Workloads"/> inputs
/// (<c>dotnet run -c Release --project bench/FastRcnn.Benchmarks -- --filter '*'</c>). The side-by-side
/// comparison with torchvision is the <c>ops</c> command (<see cref="SideBySide"/>).
/// </summary>
[MemoryDiagnoser]
public class RoiPoolBenchmarks
{
    private Tensor _features = null!, _rois = null!, _gradient = null!;

    [GlobalSetup]
    public void Setup()
    {
        (_features, _rois) = Workloads.RoiPooling();
        _gradient = Workloads.RoiPoolingGradient();
    }

    [Benchmark(Description = "RoI pooling inference forward, 2000 RoIs 7x7")]
    public void Inference()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        RoiPool.Apply(_features, _rois, 7, 7, 1.0 / 16);
    }

    [Benchmark(Description = "RoI pooling forward + backward, 2000 RoIs 7x7")]
    public void ForwardBackward()
    {
        using var scope = NewDisposeScope();
        var x = _features.detach().requires_grad_();
        RoiPool.Apply(x, _rois, 7, 7, 1.0 / 16).backward([_gradient]);
    }
}

[MemoryDiagnoser]
public class BoxBenchmarks
{
    private Tensor _nmsBoxes = null!, _nmsScores = null!, _iouA = null!, _iouB = null!, _proposals = null!, _deltas = null!;

    [GlobalSetup]
    public void Setup()
    {
        (_nmsBoxes, _nmsScores) = Workloads.Nms();
        (_iouA, _iouB) = Workloads.PairwiseIoU();
        (_proposals, _deltas) = Workloads.Decode();
    }

    [Benchmark(Description = "NMS 6000 boxes at 0.7")]
    public long Nms()
    {
        using var scope = NewDisposeScope();
        return FastRcnn.Ops.Nms.Greedy(_nmsBoxes, _nmsScores, 0.7).numel();
    }

    [Benchmark(Description = "Pairwise IoU 2000x50")]
    public void PairwiseIoU()
    {
        using var scope = NewDisposeScope();
        BoxOps.PairwiseIoU(_iouA, _iouB);
    }

    [Benchmark(Description = "Box decode 2000x21 classes")]
    public void Decode()
    {
        using var scope = NewDisposeScope();
        BoxCoder.Unit.Decode(_deltas, _proposals);
    }
}
