namespace FastRcnn.Modeling.ProposalGenerators;

using static TorchSharp.torch;

/// <summary>The size of one input image of a batch (before padding) and its scale factor from the original image.</summary>
/// <param name="Height">H', rows of the scaled image.</param>
/// <param name="Width">W', columns of the scaled image.</param>
/// <param name="ScaleFactor">s: scaled = original · s.</param>
public readonly record struct InputImageSize(int Height, int Width, double ScaleFactor);

/// <summary>Per image proposals (P_i,4), float32, in the pixels of that scaled input image, and the generator's losses.</summary>
public sealed record ProposalOutput(IReadOnlyList<Tensor> Proposals, NamedLosses Losses);

/// <summary>
/// Where a <see cref="TwoStageModel"/>'s RoIs come from. Fast R-CNN's are external (<see cref="ExternalProposals"/>: the
/// ones each training image carries in its <see cref="ImageTargets"/>, or the ones a caller passes at test time);
/// Faster R-CNN's come from a region proposal network on the shared features, which also returns its own losses in
/// training.
/// </summary>
public interface IProposalGenerator
{
    /// <summary>Whether proposals are computed from the features (true) or must be supplied (false).</summary>
    bool ComputesProposals { get; }

    /// <summary>
    /// Proposals of each image of the batch: <paramref name="features"/> (N,C,h,w); <paramref name="images"/> the N
    /// images' sizes; <paramref name="targets"/> their ground truth (training) or null (inference).
    /// </summary>
    ProposalOutput Propose(Tensor features, IReadOnlyList<InputImageSize> images, IReadOnlyList<ImageTargets>? targets);
}

/// <summary>Fast R-CNN's proposals: external, carried by each training image's <see cref="ImageTargets.ProposalBoxes"/>.</summary>
public sealed class ExternalProposals : IProposalGenerator
{
    /// <summary>The one instance.</summary>
    public static ExternalProposals Instance { get; } = new();

    public bool ComputesProposals => false;

    /// <exception cref="InvalidOperationException">No targets: at test time external proposals are passed to the model directly.</exception>
    public ProposalOutput Propose(Tensor features, IReadOnlyList<InputImageSize> images, IReadOnlyList<ImageTargets>? targets) =>
        targets is null
            ? throw new InvalidOperationException("This model takes external proposals (selective search or a proposal file); pass them to Predict.")
            : new ProposalOutput(targets.Select(t => t.ProposalBoxes).ToArray(), new NamedLosses());
}
