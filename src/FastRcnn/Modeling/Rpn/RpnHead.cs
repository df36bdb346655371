using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace FastRcnn.Modeling.Rpn;

/// <summary>
/// The RPN's small network slid over the trunk's feature map (Faster R-CNN §3.1): a 3×3 convolution
/// C → M (padding 1; M = 512 for VGG16) and ReLU, then two sibling 1×1 convolutions: <c>cls_logits</c>
/// M → A objectness logits (one per anchor, object probability = sigmoid, trained by binary cross-entropy as
/// torchvision does; py-faster-rcnn's 2A-way softmax is equivalent) and <c>bbox_pred</c> M → 4A box deltas
/// (channel 4a + k = coordinate k of anchor a, as both originals lay them out).
/// Shape shorthand: N images, C trunk channels, h×w feature map, A anchors per cell.
/// </summary>
/// <remarks>
/// State-dict names: <c>conv.weight</c> (M, C, 3, 3), <c>conv.bias</c>, <c>cls_logits.weight</c> (A, M, 1, 1),
/// <c>cls_logits.bias</c>, <c>bbox_pred.weight</c> (4A, M, 1, 1), <c>bbox_pred.bias</c>. Init (the paper's): every
/// weight N(0, 0.01²), biases 0, drawn from the given generator (conv, then cls_logits, then bbox_pred).
/// </remarks>
public sealed class RpnHead : nn.Module<Tensor, (Tensor Objectness, Tensor Deltas)>
{
    [ComponentName(Name = "conv")] private readonly Conv2d _conv;
    [ComponentName(Name = "cls_logits")] private readonly Conv2d _clsLogits;
    [ComponentName(Name = "bbox_pred")] private readonly Conv2d _bboxPred;

    /// <summary>A head on <paramref name="inChannels"/> (C) trunk channels with <paramref name="channels"/> (M) hidden ones, for A = <paramref name="anchorsPerCell"/>.</summary>
    public RpnHead(int inChannels, int anchorsPerCell, Generator generator, int channels = 512) : base(nameof(RpnHead))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inChannels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(anchorsPerCell, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentNullException.ThrowIfNull(generator);
        AnchorsPerCell = anchorsPerCell;
        _conv = nn.Conv2d(inChannels, channels, 3, padding: 1);
        _clsLogits = nn.Conv2d(channels, anchorsPerCell, 1);
        _bboxPred = nn.Conv2d(channels, 4 * anchorsPerCell, 1);
        RegisterComponents();
        using var noGrad = no_grad();
        foreach (var layer in new[] { _conv, _clsLogits, _bboxPred })
        {
            layer.weight!.normal_(0, 0.01, generator);
            layer.bias!.zero_();
        }
    }

    /// <summary>A, anchors per feature-map cell.</summary>
    public int AnchorsPerCell { get; }

    /// <summary>Objectness logits (N, A, h, w) and box deltas (N, 4A, h, w) of trunk features (N, C, h, w).</summary>
    public override (Tensor Objectness, Tensor Deltas) forward(Tensor features)
    {
        if (features.dim() != 4)
            throw new ArgumentException($"RPN head input must be (N,C,h,w), got ({string.Join(",", features.shape)}).", nameof(features));
        using var scope = NewDisposeScope();
        var hidden = nn.functional.relu(_conv.forward(features), inplace: true);
        return (_clsLogits.forward(hidden).MoveToOuterDisposeScope(), _bboxPred.forward(hidden).MoveToOuterDisposeScope());
    }

    /// <summary>Objectness (N, A, h, w) → (N, h·w·A), in <see cref="AnchorGenerator.Anchors"/> order (y, x, a).</summary>
    public static Tensor FlattenObjectness(Tensor objectness)
    {
        if (objectness.dim() != 4)
            throw new ArgumentException($"Objectness must be (N,A,h,w), got ({string.Join(",", objectness.shape)}).", nameof(objectness));
        return objectness.permute(0, 2, 3, 1).reshape(objectness.shape[0], -1);
    }

    /// <summary>Deltas (N, 4A, h, w) → (N, h·w·A, 4), in <see cref="AnchorGenerator.Anchors"/> order (y, x, a).</summary>
    public static Tensor FlattenDeltas(Tensor deltas)
    {
        if (deltas.dim() != 4 || deltas.shape[1] % 4 != 0)
            throw new ArgumentException($"Deltas must be (N,4A,h,w), got ({string.Join(",", deltas.shape)}).", nameof(deltas));
        long n = deltas.shape[0], a = deltas.shape[1] / 4, h = deltas.shape[2], w = deltas.shape[3];
        using var scope = NewDisposeScope();
        return deltas.view(n, a, 4, h, w).permute(0, 3, 4, 1, 2).reshape(n, -1, 4).MoveToOuterDisposeScope();
    }
}
