using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace FastRcnn.Modeling.RoiHeads;

/// <summary>
/// The two sibling outputs of Fast R-CNN (SPEC §3.6) on the box head's features (R, D):
/// <c>cls_score</c> (R, K+1) class logits (softmax at test time; column 0 = background) and
/// <c>bbox_pred</c> (R, 4(K+1)) class-specific box deltas, columns 4u..4u+3 = (dx, dy, dw, dh) of class
/// u in the <c>BoxCoder</c>'s normalisation. The background block (columns 0–3) is never trained
/// nor used; it is kept so that column indices equal class indices.
/// </summary>
/// <remarks>Init (the paper's): <c>cls_score</c> N(0, 0.01²), <c>bbox_pred</c> N(0, 0.001²), zero biases, from a seeded generator.</remarks>
public sealed class FastRcnnPredictor : nn.Module<Tensor, (Tensor ClassLogits, Tensor BoxDeltas)>
{
    [ComponentName(Name = "cls_score")] private readonly Linear _clsScore;
    [ComponentName(Name = "bbox_pred")] private readonly Linear _bboxPred;

    /// <summary>Outputs for <paramref name="numClasses"/> object classes K (plus background) from <paramref name="inputs"/> features.</summary>
    public FastRcnnPredictor(int inputs, int numClasses, Generator generator) : base(nameof(FastRcnnPredictor))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numClasses, 1);
        NumClasses = numClasses;
        _clsScore = nn.Linear(inputs, numClasses + 1);
        _bboxPred = nn.Linear(inputs, 4 * (numClasses + 1));
        RegisterComponents();
        using var noGrad = no_grad();
        _clsScore.weight!.normal_(0, 0.01, generator);
        _bboxPred.weight!.normal_(0, 0.001, generator);
        _clsScore.bias!.zero_();
        _bboxPred.bias!.zero_();
    }

    /// <summary>K, the number of object classes.</summary>
    public int NumClasses { get; }

    public override (Tensor ClassLogits, Tensor BoxDeltas) forward(Tensor features) =>
        (_clsScore.forward(features), _bboxPred.forward(features));
}
