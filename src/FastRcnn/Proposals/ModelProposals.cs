using FastRcnn.Data;
using FastRcnn.Imaging;
using FastRcnn.Inference;
using FastRcnn.Modeling;
using static TorchSharp.torch;

namespace FastRcnn.Proposals;

/// <summary>
/// Proposals of a whole dataset from a model's own region proposal network (Faster R-CNN): each image scaled to one
/// shorter side (capped at a max size), run through the trunk and the RPN in test mode, and the proposals mapped back
/// to the original pixels, best first. The result is an ordinary <see cref="DatasetProposalSet"/>: written as an
/// <c>.npz</c> by <c>fastrcnn proposals --model</c>, compared with selective search by <c>proposals eval</c>, or given to
/// Fast R-CNN training (the alternating schedule's steps 2 and 4).
/// </summary>
public static class ModelProposals
{
    /// <summary>
    /// The RPN proposals of every image of <paramref name="dataset"/>; <paramref name="postNmsTopN"/> overrides the
    /// model's test-time count kept after NMS (the alternating schedule keeps 2000, as py-faster-rcnn's
    /// <c>rpn_generate</c>).
    /// </summary>
    /// <exception cref="ArgumentException">The model has no region proposal network.</exception>
    public static DatasetProposalSet Compute(TwoStageModel model, DetectionDataset dataset, int shortSide, int maxSize, int? postNmsTopN = null,
        IProgress<ProposalProgress>? progress = null, CancellationToken cancel = default)
    {
        if (!model.ComputesProposals)
            throw new ArgumentException($"a {model.Architecture.Name()} model has no region proposal network to propose with");
        var transform = new ImageTransform([shortSide], maxSize, model.Pixels);
        var result = new Dictionary<string, ProposalSet>(StringComparer.Ordinal);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var topN = model.OverrideTestProposals(postNmsTopN);
        int done = 0;
        foreach (var image in dataset.Images)
        {
            cancel.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            using var rgb = ImageIO.ReadTensor(image.ImagePath);
            using var input = transform.Apply(rgb);
            var boxes = model.Propose(input).contiguous();
            int count = (int)boxes.shape[0];
            result[image.Id] = new ProposalSet(boxes.data<float>().ToArray(), count, input.Width, input.Height);
            done++;
            progress?.Report(new ProposalProgress(done, dataset.Images.Count, 0, done, clock.Elapsed));
        }
        return new DatasetProposalSet(result, $"RPN proposals of a {model.Spec.Name} {model.Architecture.Name()} model");
    }
}
