using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using FastRcnn.Ops;
using static TorchSharp.torch;

namespace FastRcnn.Modeling.RoiHeads;

/// <summary>A fully connected layer of the box head.</summary>
public enum BoxHeadLayer
{
    Fc6,
    Fc7,
}

/// <summary>
/// Which box-head layers are factored by truncated SVD (SPEC §7) and at which rank t; null = dense.
/// A factored layer W (u×v, bias b) is two layers without a nonlinearity between them: Σ_t V_tᵀ
/// (v → t, no bias), then U_t (t → u, bias b).
/// </summary>
public sealed record BoxHeadRanks(int? Fc6 = null, int? Fc7 = null)
{
    /// <summary>Both layers dense (the trained network).</summary>
    public static BoxHeadRanks Dense { get; } = new();

    /// <summary>Whether no layer is factored.</summary>
    public bool IsDense => Fc6 is null && Fc7 is null;

    /// <summary>The rank of <paramref name="layer"/>, or null when it is dense.</summary>
    public int? this[BoxHeadLayer layer] => layer == BoxHeadLayer.Fc6 ? Fc6 : Fc7;

    /// <summary>These ranks with <paramref name="layer"/>'s set to <paramref name="rank"/>.</summary>
    public BoxHeadRanks With(BoxHeadLayer layer, int? rank) => layer == BoxHeadLayer.Fc6 ? this with { Fc6 = rank } : this with { Fc7 = rank };
}

/// <summary>
/// The fully connected layers between RoI pooling and the two sibling outputs (SPEC §3.5):
/// <c>fc6 → ReLU → dropout 0.5 → fc7 → ReLU → dropout 0.5</c>. Input: pooled RoIs (R, C, PH, PW),
/// flattened to (R, C·PH·PW); output (R, fc7 width). Dropout acts only in training mode
/// (<c>train()</c>/<c>eval()</c>). Either layer may be factored by truncated SVD (<see cref="BoxHeadRanks"/>).
/// </summary>
/// <remarks>
/// State-dict names of a dense layer: <c>fc6.weight</c> (u, v), <c>fc6.bias</c> (u); of a factored one
/// (as PyTorch's <c>nn.Sequential</c> of two <c>nn.Linear</c> names them): <c>fc6.0.weight</c> = Σ_t V_tᵀ
/// (t, v), <c>fc6.1.weight</c> = U_t (u, t), <c>fc6.1.bias</c> (u); likewise fc7. Initial weights are He
/// normal, <c>std = √(2 / fan_in)</c>, biases zero, from a seeded generator (for trunks trained from
/// scratch; ImageNet fc6/fc7 replace them, see <c>BackboneWeights</c>); a factored layer draws Σ_t V_tᵀ
/// with <c>std = √(1 / v)</c> and U_t with <c>std = √(2 / t)</c>, so that their product has He variance.
/// </remarks>
public sealed class BoxHead : nn.Module<Tensor, Tensor>
{
    [ComponentName(Name = "fc6")] private readonly nn.Module<Tensor, Tensor> _fc6;
    [ComponentName(Name = "fc7")] private readonly nn.Module<Tensor, Tensor> _fc7;
    [ComponentName(Name = "dropout6")] private readonly Dropout _dropout6;
    [ComponentName(Name = "dropout7")] private readonly Dropout _dropout7;
    private readonly int _inputs, _fc6Width, _fc7Width;
    private readonly double _dropout;

    /// <summary>
    /// fc6: <paramref name="inputs"/> (C·PH·PW) → <paramref name="fc6Width"/>; fc7: → <paramref name="fc7Width"/>;
    /// factored where <paramref name="ranks"/> gives a rank (1 ≤ t ≤ min(u, v)).
    /// </summary>
    public BoxHead(int inputs, int fc6Width, int fc7Width, Generator generator, double dropout = 0.5, BoxHeadRanks? ranks = null) : base(nameof(BoxHead))
    {
        Ranks = ranks ?? BoxHeadRanks.Dense;
        if (RankError(inputs, fc6Width, fc7Width, Ranks) is string error) throw new ArgumentException(error, nameof(ranks));
        (_inputs, _fc6Width, _fc7Width) = (inputs, fc6Width, fc7Width);
        _fc6 = Layer(inputs, fc6Width, Ranks.Fc6, generator);
        _fc7 = Layer(fc6Width, fc7Width, Ranks.Fc7, generator);
        _dropout = dropout;
        _dropout6 = nn.Dropout(dropout);
        _dropout7 = nn.Dropout(dropout);
        RegisterComponents();
    }

    /// <summary>A dense layer, or a factored one as "0" (no bias) then "1" (bias), He-initialised from <paramref name="generator"/>.</summary>
    private static nn.Module<Tensor, Tensor> Layer(int inputs, int outputs, int? rank, Generator generator)
    {
        using var noGrad = no_grad();
        if (rank is not int t)
        {
            var dense = nn.Linear(inputs, outputs);
            dense.weight!.normal_(0, Math.Sqrt(2.0 / inputs), generator);
            dense.bias!.zero_();
            return dense;
        }
        var first = nn.Linear(inputs, t, hasBias: false);
        var second = nn.Linear(t, outputs);
        first.weight!.normal_(0, Math.Sqrt(1.0 / inputs), generator);
        second.weight!.normal_(0, Math.Sqrt(2.0 / t), generator);
        second.bias!.zero_();
        return nn.Sequential(("0", first), ("1", second));
    }

    /// <summary>Why <paramref name="ranks"/> do not fit a head of these widths (a rank must be 1 ≤ t ≤ min(u, v)), or null when they do.</summary>
    public static string? RankError(int inputs, int fc6Width, int fc7Width, BoxHeadRanks ranks)
    {
        foreach (var (layer, outputs, layerInputs) in new[] { (BoxHeadLayer.Fc6, fc6Width, inputs), (BoxHeadLayer.Fc7, fc7Width, fc6Width) })
        {
            if (ranks[layer] is int t && (t < 1 || t > Math.Min(outputs, layerInputs)))
                return $"{Name(layer)} ({outputs}×{layerInputs}) takes a rank from 1 to {Math.Min(outputs, layerInputs)}, got {t}";
        }
        return null;
    }

    /// <summary>Which layers are factored, and at which rank.</summary>
    public BoxHeadRanks Ranks { get; }

    /// <summary>Width of fc7's output, the predictor's input.</summary>
    public int OutputWidth => _fc7Width;

    /// <summary>The state-dict name of <paramref name="layer"/> inside the head: <c>fc6</c> or <c>fc7</c>.</summary>
    public static string Name(BoxHeadLayer layer) => layer == BoxHeadLayer.Fc6 ? "fc6" : "fc7";

    /// <summary>The shape (u outputs, v inputs) of <paramref name="layer"/>'s weight W.</summary>
    public (int Outputs, int Inputs) Shape(BoxHeadLayer layer) =>
        layer == BoxHeadLayer.Fc6 ? (_fc6Width, _inputs) : (_fc7Width, _fc6Width);

    /// <summary>
    /// The weight W (u, v) that <paramref name="layer"/> applies: a copy of a dense layer's, or the product
    /// U_t · Σ_t V_tᵀ of a factored one (rank ≤ t). A new tensor without gradient.
    /// </summary>
    public Tensor Weight(BoxHeadLayer layer)
    {
        using var noGrad = no_grad();
        var (first, second, _) = Parameters(layer);
        return first is null ? second.detach().clone() : second.matmul(first).detach();
    }

    /// <summary>A copy of <paramref name="layer"/>'s bias (u).</summary>
    public Tensor Bias(BoxHeadLayer layer)
    {
        using var noGrad = no_grad();
        return Parameters(layer).Bias.detach().clone();
    }

    /// <summary>Sets a dense <paramref name="layer"/>'s weight (u, v) and bias (u).</summary>
    public void SetDense(BoxHeadLayer layer, Tensor weight, Tensor bias)
    {
        var (first, second, b) = Parameters(layer);
        if (first is not null) throw new InvalidOperationException($"{Name(layer)} is factored at rank {Ranks[layer]}, not dense");
        Copy(layer, second, weight);
        Copy(layer, b, bias);
    }

    /// <summary>Sets a factored <paramref name="layer"/>'s first factor Σ_t V_tᵀ (t, v), second factor U_t (u, t) and bias (u).</summary>
    public void SetFactors(BoxHeadLayer layer, Tensor first, Tensor second, Tensor bias)
    {
        var (f, s, b) = Parameters(layer);
        if (f is null) throw new InvalidOperationException($"{Name(layer)} is dense, not factored");
        Copy(layer, f, first);
        Copy(layer, s, second);
        Copy(layer, b, bias);
    }

    private static void Copy(BoxHeadLayer layer, Parameter target, Tensor value)
    {
        if (!value.shape.SequenceEqual(target.shape))
            throw new ArgumentException($"{Name(layer)}: got [{string.Join(", ", value.shape)}], the layer needs [{string.Join(", ", target.shape)}]");
        using var noGrad = no_grad();
        target.copy_(value.to_type(target.dtype));
    }

    /// <summary>A layer's parameters: (null, W, b) when dense; (Σ_t V_tᵀ, U_t, b) when factored.</summary>
    private (Parameter? First, Parameter Second, Parameter Bias) Parameters(BoxHeadLayer layer)
    {
        var module = layer == BoxHeadLayer.Fc6 ? _fc6 : _fc7;
        if (module is Linear dense) return (null, dense.weight!, dense.bias!);
        var parts = ((Sequential)module).children().Cast<Linear>().ToArray();
        return (parts[0].weight!, parts[1].weight!, parts[1].bias!);
    }

    /// <summary>
    /// The type fc6 and fc7 compute in: <c>float32</c> (the default) or <c>bfloat16</c>. In bfloat16, <see cref="Fc6"/>
    /// converts its input, the layers multiply in bfloat16 (weights stored in another type — float32 master weights
    /// in mixed-precision training — are converted on the fly, and gradients flow back to them in their own type),
    /// and <see cref="Fc7"/> returns float32 again, so the predictor, the losses and everything after stay float32.
    /// </summary>
    public ScalarType ComputeType
    {
        get => _computeType;
        set => _computeType = value is ScalarType.Float32 or ScalarType.BFloat16
            ? value
            : throw new ArgumentException($"the box head computes in float32 or bfloat16, not {value}", nameof(value));
    }

    private ScalarType _computeType = ScalarType.Float32;

    /// <summary>
    /// Stores fc6's and fc7's parameters in <paramref name="type"/> (converted in place: one copy, half the memory in
    /// bfloat16) and computes in it (<see cref="ComputeType"/>). For inference: a model stored in bfloat16 is no longer
    /// the trained float32 one (do not save or train it); <c>Detector</c> does this for <see cref="Runtime.Precision.Bf16"/>.
    /// </summary>
    public void StoreWeightsAs(ScalarType type)
    {
        ComputeType = type;
        using var noGrad = no_grad();
        _fc6.to(type);
        _fc7.to(type);
    }

    /// <summary>The type fc6's and fc7's parameters are stored in (float32 unless <see cref="StoreWeightsAs"/> changed it).</summary>
    public ScalarType WeightType => Parameters(BoxHeadLayer.Fc6).Second.dtype;

    public override Tensor forward(Tensor pooled) => Fc7(Fc6(pooled));

    /// <summary>
    /// Null (dropout draws from libtorch's global generator), or, for the RoI rows of a training batch in order, one
    /// (rows, key) per image: each image's dropout masks are then drawn from generators seeded by its key and the layer,
    /// the same whichever other images share the batch (<see cref="ImageTargets.SampleKey"/>). The RoI heads set it
    /// for the forward pass of a training step whose images carry keys.
    /// </summary>
    public IReadOnlyList<(long Rows, long Key)>? DropoutKeys { get; set; }

    /// <summary>
    /// fc6 (dense or factored) → ReLU → dropout on pooled RoIs (R, C, PH, PW): (R, fc6 width), in <see cref="ComputeType"/>.
    /// </summary>
    public Tensor Fc6(Tensor pooled)
    {
        var x = pooled.flatten(1);
        if (x.dtype != _computeType) x = x.to_type(_computeType);
        return Drop(_dropout6, nn.functional.relu(Apply(_fc6, x), inplace: true), Fc6KeyMask);
    }

    /// <summary>fc7 (dense or factored) → ReLU → dropout on fc6's output: (R, fc7 width), float32 whatever <see cref="ComputeType"/>.</summary>
    public Tensor Fc7(Tensor fc6Output)
    {
        var x = fc6Output.dtype == _computeType ? fc6Output : fc6Output.to_type(_computeType);
        var y = Drop(_dropout7, nn.functional.relu(Apply(_fc7, x), inplace: true), Fc7KeyMask);
        return y.dtype == ScalarType.Float32 ? y : y.to_type(ScalarType.Float32);
    }

    /// <summary>A dense or factored layer on <paramref name="x"/>, its weights converted to x's type when stored in another.</summary>
    private static Tensor Apply(nn.Module<Tensor, Tensor> layer, Tensor x)
    {
        if (layer is Linear dense) return Linear(dense, x);
        var y = x;
        foreach (var part in ((Sequential)layer).children().Cast<Linear>())
            y = Linear(part, y);
        return y;
    }

    private static Tensor Linear(Linear layer, Tensor x)
    {
        var weight = layer.weight!;
        if (weight.dtype == x.dtype) return layer.forward(x);
        using var w = weight.to_type(x.dtype);
        using var b = layer.bias?.to_type(x.dtype);
        return nn.functional.linear(x, w, b);
    }

    private const long Fc6KeyMask = 0x1B873593_0C2E7A11, Fc7KeyMask = 0x5A0D2E4F_6B3C9D27;

    /// <summary>Dropout of <paramref name="x"/> (R, width): the module's, or with <see cref="DropoutKeys"/> per image from its key (mask = U[0,1) ≥ p, kept values scaled by 1/(1−p), as the module).</summary>
    private Tensor Drop(Dropout module, Tensor x, long layerMask)
    {
        if (DropoutKeys is not { } keys || !training || _dropout == 0) return module.forward(x);
        if (keys.Sum(k => k.Rows) != x.shape[0])
            throw new InvalidOperationException($"Dropout keys cover {keys.Sum(k => k.Rows)} rows, the batch has {x.shape[0]}.");
        using var scope = NewDisposeScope();
        var masks = new Tensor[keys.Count];
        for (int k = 0; k < keys.Count; k++)
        {
            using var generator = new Generator((ulong)(keys[k].Key ^ layerMask));
            masks[k] = rand([keys[k].Rows, x.shape[1]], x.dtype, x.device, generator: generator);
        }
        var keep = cat(masks, 0).Ge(_dropout).to_type(x.dtype).Div_(1 - _dropout);
        return x.mul(keep).MoveToOuterDisposeScope();
    }
}
