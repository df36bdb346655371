using FastRcnn.Ops;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FastRcnn.Distributed;

/// <summary>
/// The gradients of a fixed list of parameters in one contiguous float32 buffer, followed by <see cref="ExtraCount"/>
/// extra values, so that one collective call sums all of them across processes (fused, not one call per tensor).
/// </summary>
public sealed class FusedGradients : IDisposable
{
    private readonly Parameter[] _parameters;
    private readonly long[] _offsets;
    private readonly Tensor _buffer;

    /// <summary>A buffer for the gradients of <paramref name="parameters"/> (in this order) and <paramref name="extraCount"/> values.</summary>
    public FusedGradients(IEnumerable<Parameter> parameters, int extraCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(extraCount);
        _parameters = parameters.ToArray();
        _offsets = new long[_parameters.Length + 1];
        for (int i = 0; i < _parameters.Length; i++) _offsets[i + 1] = _offsets[i] + _parameters[i].numel();
        GradientCount = _offsets[^1];
        ExtraCount = extraCount;
        _buffer = TensorMemory.EmptyLarge([GradientCount + extraCount], ScalarType.Float32).DetachFromDisposeScope();
    }

    /// <summary>Gradient elements (the parameters' total size).</summary>
    public long GradientCount { get; }

    /// <summary>Extra values after the gradients.</summary>
    public int ExtraCount { get; }

    /// <summary>Bytes summed per call: 4 per gradient element and extra value.</summary>
    public long Bytes => 4 * (GradientCount + ExtraCount);

    /// <summary>The extra values (read and write; valid while this object lives).</summary>
    public Span<float> Extra => TensorMemory.Span<float>(_buffer).Slice(checked((int)GradientCount), ExtraCount);

    /// <summary>Copies each parameter's gradient into the buffer (zeros for a parameter without one).</summary>
    public void Pack()
    {
        using var noGrad = no_grad();
        for (int i = 0; i < _parameters.Length; i++)
        {
            using var slice = _buffer.narrow(0, _offsets[i], _offsets[i + 1] - _offsets[i]);
            using var grad = _parameters[i].grad;
            if (grad is null)
            {
                slice.zero_();
            }
            else
            {
                using var flat = grad.reshape(-1);
                slice.copy_(flat);
            }
        }
    }

    /// <summary>Sums the buffer over the processes of <paramref name="communicator"/> (in place, one call).</summary>
    public void AllReduce(ICommunicator communicator)
    {
        ArgumentNullException.ThrowIfNull(communicator);
        if (communicator.Size > 1) communicator.AllReduceSum(Span());
    }

    /// <summary>Makes each parameter's gradient its part of the buffer (a view: valid until the next <see cref="Pack"/>).</summary>
    public void Unpack()
    {
        for (int i = 0; i < _parameters.Length; i++)
        {
            using var slice = _buffer.narrow(0, _offsets[i], _offsets[i + 1] - _offsets[i]);
            _parameters[i].grad = slice.view(_parameters[i].shape);
        }
    }

    /// <summary>Copies rank <paramref name="root"/>'s values of <paramref name="parameters"/> to every process (one broadcast of a fused buffer).</summary>
    public static void BroadcastValues(IReadOnlyList<Parameter> parameters, ICommunicator communicator, int root = 0)
    {
        ArgumentNullException.ThrowIfNull(communicator);
        if (communicator.Size == 1 || parameters.Count == 0) return;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var flat = cat(parameters.Select(p => p.detach().to_type(ScalarType.Float32).reshape(-1)).ToArray(), 0).contiguous();
        communicator.Broadcast(TensorMemory.Span<float>(flat), root);
        long offset = 0;
        foreach (var p in parameters)
        {
            p.copy_(flat.narrow(0, offset, p.numel()).view(p.shape).to_type(p.dtype));
            offset += p.numel();
        }
    }

    private Span<float> Span() => TensorMemory.Span<float>(_buffer);

    public void Dispose() => _buffer.Dispose();
}
