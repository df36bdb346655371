using FastRcnn.Modeling.RoiHeads;
using static TorchSharp.torch;

namespace FastRcnn.Modeling;

/// <summary>What <see cref="TwoStageModel.Forward"/> returns: losses and sampling statistics in training, predictions at test time.</summary>
public sealed record ModelOutput(NamedLosses? Losses, RoiSampleStats? Stats, RoiPredictions? Predictions);

/// <summary>
/// The losses of one training step and what they were computed on. <see cref="Losses"/> holds every named loss of
/// the architecture that had something to learn from (none when no image gave a RoI or an anchor: do not step).
/// </summary>
public sealed record TrainingOutput(NamedLosses Losses, RoiSampleStats Stats) : IDisposable
{
    /// <summary>Whether there is anything to step on.</summary>
    public bool HasLosses => Losses.Items.Count > 0;

    /// <summary>The objective: the sum of the named losses.</summary>
    public Tensor Total() => Losses.Total();

    public void Dispose() => Losses.Dispose();
}

/// <summary>
/// Every scored RoI of one image at test time, in the original image's pixels: the proposals (R,4) (clipped), their
/// softmax class probabilities (R, K+1), and class-specific boxes (R, 4(K+1)) decoded against the proposals and
/// clipped (block 0, background, is meaningless).
/// </summary>
public sealed record RoiPredictions(Tensor Proposals, Tensor Probabilities, Tensor Boxes) : IDisposable
{
    public void Dispose()
    {
        Proposals.Dispose();
        Probabilities.Dispose();
        Boxes.Dispose();
    }
}
