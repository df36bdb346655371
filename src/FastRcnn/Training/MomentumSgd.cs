using FastRcnn.Modeling;
using FastRcnn.Ops;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FastRcnn.Training;

/// <summary>
/// The solver of SPEC §5 for training loops: SGD with momentum μ on the trainable parameters, weights at
/// rate η with weight decay λ, biases at 2η without decay (Caffe's <c>lr_mult: 2, decay_mult: 0</c>, as
/// <see cref="OptimizerSetup.Sgd"/>). The update is torch.optim.SGD's, per parameter p with gradient g:
/// <c>d = g + λ·p</c>; <c>v = d</c> at the first step, else <c>v = μ·v + d</c>; <c>p = p − η·v</c>.
/// </summary>
/// <remarks>
/// Unlike the general-purpose optimizer it works in place — d overwrites the gradient, which the step then
/// frees (PyTorch's <c>zero_grad(set_to_none=True)</c>) — so a step allocates nothing after the first and
/// between steps no gradient memory is held: for VGG16 that is 0.55 GB of decayed-gradient temporaries and
/// 0.55 GB of gradients less at the memory peak (the next forward pass). Momentum buffers are named by
/// parameter, for checkpoints.
/// </remarks>
public sealed class MomentumSgd : IDisposable
{
    private readonly (string Name, Parameter Parameter, bool IsBias)[] _parameters;
    private readonly Dictionary<string, Tensor> _momentum = [];

    /// <summary>An optimizer of <paramref name="model"/>'s trainable parameters (frozen ones are left out).</summary>
    public MomentumSgd(nn.Module model, double learningRate, double momentum = 0.9, double weightDecay = 0.0005)
    {
        ArgumentNullException.ThrowIfNull(model);
        _parameters = model.named_parameters().Where(p => p.parameter.requires_grad)
            .Select(p => (p.name, p.parameter, p.name == "bias" || p.name.EndsWith(".bias", StringComparison.Ordinal))).ToArray();
        LearningRate = learningRate;
        Momentum = momentum;
        WeightDecay = weightDecay;
    }

    /// <summary>η, the weights' rate (biases: 2η); the trainer sets it every iteration.</summary>
    public double LearningRate { get; set; }

    public double Momentum { get; }

    public double WeightDecay { get; }

    /// <summary>The names of the parameters trained.</summary>
    public IEnumerable<string> ParameterNames => _parameters.Select(p => p.Name);

    /// <summary>The momentum buffers v by parameter name (absent before a parameter's first update).</summary>
    public IReadOnlyDictionary<string, Tensor> MomentumBuffers => _momentum;

    /// <summary>Frees every gradient (a parameter without one is skipped by <see cref="Step"/>).</summary>
    public void ZeroGrad()
    {
        foreach (var (_, p, _) in _parameters) p.grad = null;
    }

    /// <summary>One update of every parameter that has a gradient; the gradients are consumed and freed.</summary>
    public void Step()
    {
        using var noGrad = no_grad();
        foreach (var (name, p, isBias) in _parameters)
        {
            using var g = p.grad;
            if (g is null) continue;
            // Scalars are created and disposed explicitly: an implicit one can be finalized by the GC while
            // libtorch still reads it (its handle is a plain pointer), which corrupts the call at random.
            using var step = (-(isBias ? 2 : 1) * LearningRate).ToScalar();
            if (!isBias && WeightDecay != 0)
            {
                using var decay = WeightDecay.ToScalar();
                g.add_(p, alpha: decay);                                          // d = g + λp, in place
            }
            if (Momentum != 0)
            {
                using var momentum = Momentum.ToScalar();
                if (_momentum.TryGetValue(name, out var v)) v.mul_(momentum).Add_(g);
                else _momentum[name] = v = g.detach().clone().DetachFromDisposeScope();
                p.add_(v, alpha: step);
            }
            else
            {
                p.add_(g, alpha: step);
            }
            p.grad = null;
        }
    }

    /// <summary>Replaces the momentum buffers (copies; names must be trained parameters of the same shapes).</summary>
    /// <exception cref="ArgumentException">An unknown name or a wrong shape (the message names the parameter).</exception>
    public void LoadMomentum(IReadOnlyDictionary<string, Tensor> buffers)
    {
        var shapes = _parameters.ToDictionary(p => p.Name, p => p.Parameter.shape);
        foreach (var (name, buffer) in buffers)
        {
            if (!shapes.TryGetValue(name, out var shape))
                throw new ArgumentException($"momentum for '{name}', which this optimizer does not train (other frozen layers?)");
            if (!buffer.shape.SequenceEqual(shape))
                throw new ArgumentException($"momentum for '{name}' has shape [{string.Join(", ", buffer.shape)}], the parameter [{string.Join(", ", shape)}]");
        }
        ClearMomentum();
        foreach (var (name, buffer) in buffers)
            _momentum[name] = buffer.detach().to_type(ScalarType.Float32).clone().DetachFromDisposeScope();
    }

    private void ClearMomentum()
    {
        foreach (var v in _momentum.Values) v.Dispose();
        _momentum.Clear();
    }

    public void Dispose() => ClearMomentum();
}
