using FastRcnn.Ops;
using static TorchSharp.torch;

namespace FastRcnn.Modeling;

/// <summary>The loss names of the family, as torchvision and detectron2 spell them.</summary>
public static class LossNames
{
    /// <summary>RoI heads: softmax cross-entropy over K+1 classes (L_cls).</summary>
    public const string Classification = "loss_cls";

    /// <summary>RoI heads: λ·smooth-L1 of the true class's box deltas (λ·L_loc).</summary>
    public const string BoxRegression = "loss_box_reg";

    /// <summary>Region proposal network: objectness (binary cross-entropy over sampled anchors).</summary>
    public const string RpnClassification = "loss_rpn_cls";

    /// <summary>Region proposal network: smooth-L1 (σ = 3) of the positive anchors' deltas.</summary>
    public const string RpnBoxRegression = "loss_rpn_box_reg";
}

/// <summary>
/// The named scalar losses of one training step, in the order they were added; the step's objective is their sum
/// (<see cref="Total"/>). The trainer, the progress line, the loss log, the divergence check and the report take
/// their columns from <see cref="Names"/>, so a new member of the family adds its losses without changing them.
/// </summary>
public sealed class NamedLosses : IDisposable
{
    private readonly List<KeyValuePair<string, Tensor>> _losses = [];
    private readonly Dictionary<string, double> _normalizers = [];

    /// <summary>The losses as (name, scalar tensor) pairs, in order.</summary>
    public IReadOnlyList<KeyValuePair<string, Tensor>> Items => _losses;

    /// <summary>The names, in order.</summary>
    public IReadOnlyList<string> Names => _losses.Select(l => l.Key).ToArray();

    /// <summary>The loss named <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No such loss.</exception>
    public Tensor this[string name] => _losses.FirstOrDefault(l => l.Key == name).Value
        ?? throw new KeyNotFoundException($"No loss named '{name}' (have: {string.Join(", ", Names)}).");

    /// <summary>Whether a loss named <paramref name="name"/> is present.</summary>
    public bool Contains(string name) => _losses.Any(l => l.Key == name);

    /// <summary>
    /// What the loss named <paramref name="name"/> was divided by (e.g. R, the batch's RoIs, for a mean over them; 1 when
    /// the loss was added without one). Data-parallel training weighs each process's loss by its share of the summed
    /// normalisers, so that the summed gradients are those of one process with every image.
    /// </summary>
    public double NormalizerOf(string name) =>
        Contains(name) ? _normalizers.GetValueOrDefault(name, 1) : throw new KeyNotFoundException($"No loss named '{name}' (have: {string.Join(", ", Names)}).");

    /// <summary>Adds a scalar loss, a sum over the batch divided by <paramref name="normalizer"/> (<see cref="NormalizerOf"/>); names are unique.</summary>
    public NamedLosses Add(string name, Tensor loss, double normalizer = 1)
    {
        if (Contains(name)) throw new ArgumentException($"Loss '{name}' is already present.", nameof(name));
        if (loss.numel() != 1) throw new ArgumentException($"Loss '{name}' must be a scalar, got {BoxOps.ShapeText(loss)}.", nameof(loss));
        _losses.Add(new(name, loss));
        _normalizers[name] = normalizer;
        return this;
    }

    /// <summary>Adds every loss of <paramref name="other"/> (which keeps owning nothing: its tensors move here).</summary>
    public NamedLosses AddRange(NamedLosses other)
    {
        foreach (var (name, loss) in other._losses) Add(name, loss, other.NormalizerOf(name));
        other._losses.Clear();
        other._normalizers.Clear();
        return this;
    }

    /// <summary>The objective: the sum of every loss (a new scalar with the graph of all of them; 0 without losses).</summary>
    public Tensor Total()
    {
        if (_losses.Count == 0) return zeros(Array.Empty<long>());
        var total = _losses[0].Value.alias();
        for (int i = 1; i < _losses.Count; i++) total = total.Add(_losses[i].Value);
        return total;
    }

    /// <summary>The values as doubles, by name, in order.</summary>
    public IReadOnlyList<KeyValuePair<string, double>> Values() =>
        _losses.Select(l => new KeyValuePair<string, double>(l.Key, l.Value.detach().item<float>())).ToArray();

    /// <summary>Moves every loss out of the current dispose scope.</summary>
    public NamedLosses MoveToOuterDisposeScope()
    {
        foreach (var (_, loss) in _losses) loss.MoveToOuterDisposeScope();
        return this;
    }

    public void Dispose()
    {
        foreach (var (_, loss) in _losses) loss.Dispose();
        _losses.Clear();
        _normalizers.Clear();
    }
}
