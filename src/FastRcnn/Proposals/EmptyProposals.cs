using static TorchSharp.torch;

namespace FastRcnn.Proposals;

/// <summary>No external proposals: for training a model that proposes its own (Faster R-CNN's RPN).</summary>
public sealed class EmptyProposals : IProposalSource
{
    /// <summary>The one instance.</summary>
    public static EmptyProposals Instance { get; } = new();

    /// <summary>An empty (0,4) float32 tensor for every image.</summary>
    public Tensor ProposalsFor(string imageId, int imageWidth, int imageHeight) => zeros(0, 4, ScalarType.Float32);
}
