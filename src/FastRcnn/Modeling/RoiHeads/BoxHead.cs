using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace FastRcnn.Modeling.RoiHeads;

/// <summary>
/// The fully connected layers between RoI pooling and the two sibling outputs (SPEC §3.5):
/// <c>fc6 → ReLU → dropout 0.5 → fc7 → ReLU → dropout 0.5</c>. Input: pooled RoIs (R, C, PH, PW),
/// flattened to (R, C·PH·PW); output (R, fc7 width). Dropout acts only in training mode
/// (<c>train()</c>/<c>eval()</c>).
/// </summary>
/// <remarks>
/// State-dict names <c>fc6.weight</c>, <c>fc6.bias</c>, <c>fc7.weight</c>, <c>fc7.bias</c>. Initial weights are
/// He normal, <c>std = √(2 / fan_in)</c>, biases zero, from a seeded generator (for trunks trained from
/// scratch; ImageNet fc6/fc7 replace them, see <c>BackboneWeights</c>).
/// </remarks>
public sealed class BoxHead : nn.Module<Tensor, Tensor>
{
    [ComponentName(Name = "fc6")] private readonly Linear _fc6;
    [ComponentName(Name = "fc7")] private readonly Linear _fc7;
    [ComponentName(Name = "dropout6")] private readonly Dropout _dropout6;
    [ComponentName(Name = "dropout7")] private readonly Dropout _dropout7;

    /// <summary>fc6: <paramref name="inputs"/> (C·PH·PW) → <paramref name="fc6Width"/>; fc7: → <paramref name="fc7Width"/>.</summary>
    public BoxHead(int inputs, int fc6Width, int fc7Width, Generator generator, double dropout = 0.5) : base(nameof(BoxHead))
    {
        _fc6 = nn.Linear(inputs, fc6Width);
        _fc7 = nn.Linear(fc6Width, fc7Width);
        _dropout6 = nn.Dropout(dropout);
        _dropout7 = nn.Dropout(dropout);
        RegisterComponents();
        using var noGrad = no_grad();
        foreach (var fc in new[] { _fc6, _fc7 })
        {
            fc.weight!.normal_(0, Math.Sqrt(2.0 / fc.weight.shape[1]), generator);
            fc.bias!.zero_();
        }
    }

    /// <summary>Width of fc7's output, the predictor's input.</summary>
    public int OutputWidth => (int)_fc7.weight!.shape[0];

    public override Tensor forward(Tensor pooled) => Fc7(Fc6(pooled));

    /// <summary>fc6 → ReLU → dropout on pooled RoIs (R, C, PH, PW): (R, fc6 width).</summary>
    public Tensor Fc6(Tensor pooled) => _dropout6.forward(nn.functional.relu(_fc6.forward(pooled.flatten(1)), inplace: true));

    /// <summary>fc7 → ReLU → dropout on fc6's output: (R, fc7 width).</summary>
    public Tensor Fc7(Tensor fc6Output) => _dropout7.forward(nn.functional.relu(_fc7.forward(fc6Output), inplace: true));
}
