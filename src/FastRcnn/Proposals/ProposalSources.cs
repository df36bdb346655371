using FastRcnn.Ops;
using static TorchSharp.torch;

namespace FastRcnn.Proposals;

/// <summary>
/// Where an image's region proposals come from (SPEC §1: external to Fast R-CNN, e.g. selective
/// search). Boxes are float32 (P,4) (x1, y1, x2, y2) in the pixels of the original image.
/// </summary>
public interface IProposalSource
{
    /// <summary>The proposals of image <paramref name="imageId"/> of size <paramref name="imageWidth"/>×<paramref name="imageHeight"/>.</summary>
    Tensor ProposalsFor(string imageId, int imageWidth, int imageHeight);
}

/// <summary>
/// Proposals computed beforehand and held in memory, by image id. Returned boxes are clipped to the
/// image and boxes left without area are dropped (SPEC §11: validate and clip, never crash on x = 0).
/// </summary>
public sealed class PrecomputedProposals : IProposalSource
{
    private readonly IReadOnlyDictionary<string, Tensor> _boxes;

    /// <summary>Wraps <paramref name="boxesByImage"/> (not copied): image id → (P,4) boxes.</summary>
    public PrecomputedProposals(IReadOnlyDictionary<string, Tensor> boxesByImage, string? origin = null)
    {
        _boxes = boxesByImage ?? throw new ArgumentNullException(nameof(boxesByImage));
        Origin = origin ?? "in-memory proposals";
        foreach (var (id, boxes) in _boxes)
        {
            if (boxes.dim() != 2 || boxes.shape[1] != 4)
                throw new ArgumentException($"{Origin}: proposals of image '{id}' must be (P,4), got {BoxOps.ShapeText(boxes)}.");
        }
    }

    /// <summary>Where the proposals came from (a file name), used in error messages.</summary>
    public string Origin { get; }

    /// <summary>Number of images with proposals.</summary>
    public int Count => _boxes.Count;

    public bool Contains(string imageId) => _boxes.ContainsKey(imageId);

    /// <exception cref="KeyNotFoundException">No proposals for <paramref name="imageId"/> (the message names <see cref="Origin"/>).</exception>
    public Tensor ProposalsFor(string imageId, int imageWidth, int imageHeight)
    {
        if (!_boxes.TryGetValue(imageId, out var boxes))
            throw new KeyNotFoundException($"{Origin}: no proposals for image '{imageId}'.");
        using var scope = NewDisposeScope();
        var clipped = BoxOps.Clip(boxes.to_type(float32), imageHeight, imageWidth);
        var keep = BoxOps.IsValid(clipped).nonzero().reshape(-1);
        return clipped.index_select(0, keep).MoveToOuterDisposeScope();
    }
}
