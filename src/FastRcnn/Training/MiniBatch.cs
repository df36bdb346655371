using FastRcnn.Data;
using FastRcnn.Data.Transforms;
using FastRcnn.Imaging;
using FastRcnn.Modeling;
using FastRcnn.Proposals;
using TorchSharp;
using static TorchSharp.torch;

namespace FastRcnn.Training;

/// <summary>
/// How one sampled training image is augmented: its <see cref="Orientation"/> (the paper: a left–right flip
/// with p = ½) and, optionally, a new order of its R, G, B channels (<see cref="TrainingOptions.PermuteChannels"/>).
/// </summary>
/// <param name="Orientation">Transpose and flips, applied to the image, its ground truth and its proposals.</param>
/// <param name="ChannelOrder">Input channel c of the result is channel ChannelOrder[c] of the decoded RGB image; null = unchanged.</param>
public sealed record SampleAugmentation(Orientation Orientation, (int, int, int)? ChannelOrder = null)
{
    /// <summary>No augmentation.</summary>
    public static SampleAugmentation None { get; } = new(Orientation.Identity);

    /// <summary>The paper's left–right flip alone.</summary>
    public static SampleAugmentation HorizontalFlip { get; } = new(Orientation.HorizontalFlip);

    public override string ToString() =>
        ChannelOrder is var (r, g, b) ? $"{Orientation}, channels {"RGB"[r]}{"RGB"[g]}{"RGB"[b]}" : Orientation.ToString();
}

/// <summary>
/// How one image of a mini-batch was drawn and transformed: the original H×W, the scaled H'×W', the
/// factor s = <see cref="ImageScaling.ScaleFactor"/>(H, W, shorter side, max size), and its augmentation
/// (applied before scaling; flipping and scaling commute for boxes: W·s − x·s = (W − x)·s).
/// </summary>
/// <param name="Id">Image id in the dataset.</param>
/// <param name="Position">Position p = (i − 1)·N + slot in the run's stream of sampled images (i: 1-based iteration).</param>
/// <param name="OriginalHeight">H.</param>
/// <param name="OriginalWidth">W.</param>
/// <param name="Height">H' = round(H·s) (W·s when the image was transposed).</param>
/// <param name="Width">W' = round(W·s) (H·s when the image was transposed).</param>
/// <param name="ShortSide">The drawn shorter side (one of <see cref="TrainingOptions.Scales"/>).</param>
/// <param name="ScaleFactor">s.</param>
/// <param name="Augmentation">The orientation and channel order applied to the image, its boxes and its proposals.</param>
/// <param name="ProposalCount">P, proposals of the image (before ground truth is appended).</param>
public sealed record MiniBatchImage(
    string Id, long Position, int OriginalHeight, int OriginalWidth, int Height, int Width,
    int ShortSide, double ScaleFactor, SampleAugmentation Augmentation, int ProposalCount)
{
    /// <summary>Whether the image, its boxes and its proposals were flipped left–right.</summary>
    public bool Flipped => Augmentation.Orientation.FlipX;
}

/// <summary>
/// A mini-batch ready for <see cref="TwoStageModel.Loss"/>: N preprocessed images padded into
/// <see cref="Images"/> (N,3,H'max,W'max) (zeros at the bottom and right: the mean colour after
/// preprocessing, as py-faster-rcnn) and per image the proposals and ground truth in its scaled pixels.
/// Owns its tensors: dispose it after the step.
/// </summary>
public sealed class MiniBatch(long iteration, Tensor images, IReadOnlyList<ImageTargets> targets, IReadOnlyList<MiniBatchImage> info) : IDisposable
{
    /// <summary>The iteration (1-based) this batch belongs to.</summary>
    public long Iteration { get; } = iteration;

    /// <summary>(N,3,H'max,W'max) float32 network input.</summary>
    public Tensor Images { get; } = images;

    /// <summary>Per image: proposals (P,4), gt boxes (G,4), gt classes (G), crowd flags (G), all in scaled pixels.</summary>
    public IReadOnlyList<ImageTargets> Targets { get; } = targets;

    /// <summary>How each image was drawn and transformed.</summary>
    public IReadOnlyList<MiniBatchImage> Info { get; } = info;

    /// <summary>Each image's scaled size before padding and its scale factor, as the model takes them.</summary>
    public IReadOnlyList<Modeling.ProposalGenerators.InputImageSize> Sizes =>
        Info.Select(i => new Modeling.ProposalGenerators.InputImageSize(i.Height, i.Width, i.ScaleFactor)).ToArray();

    public void Dispose()
    {
        Images.Dispose();
        foreach (var t in Targets) DisposeTargets(t);
    }

    internal static void DisposeTargets(ImageTargets t)
    {
        t.ProposalBoxes.Dispose();
        t.GtBoxes.Dispose();
        t.GtClasses.Dispose();
        t.GtIgnore?.Dispose();
    }
}

/// <summary>
/// One training image prepared as SPEC §2, §3 and §5 say: decoded to RGB; flipped left–right when
/// drawn (image, ground truth and proposals: x ↦ W − x, so (x1, x2) ↦ (W − x2, W − x1)) — or turned to any
/// <see cref="Orientation"/>, its channels reordered, when the options ask for more augmentation; preprocessed
/// for the backbone (<see cref="PixelPreprocessing"/>, before resizing as the original subtracts the
/// means first); resized bilinearly by s; ground truth and proposals multiplied by the same s.
/// </summary>
/// <remarks>
/// Ground truth: every object, "difficult" ones included unless <see cref="TrainingOptions.UseDifficult"/> is
/// off (the original Fast R-CNN kept them; py-faster-rcnn's <c>use_diff = False</c> drops them); COCO crowd
/// regions become ignore regions (<see cref="ImageTargets.GtIgnore"/>: never matched, never sampled).
/// </remarks>
public static class TrainingSample
{
    /// <summary>The ground truth used for training (see the remarks): boxes (G,4), classes (G) int64, ignore flags (G) bool.</summary>
    public static (Tensor Boxes, Tensor Classes, Tensor Ignore) GroundTruth(ImageRecord image, bool useDifficult)
    {
        var objects = image.Objects.Where(o => useDifficult || !o.Difficult).ToList();
        var boxes = new float[objects.Count * 4];
        for (int i = 0; i < objects.Count; i++)
        {
            var b = objects[i].Box;
            (boxes[4 * i], boxes[4 * i + 1], boxes[4 * i + 2], boxes[4 * i + 3]) = (b.X1, b.Y1, b.X2, b.Y2);
        }
        return (tensor(boxes, [objects.Count, 4], ScalarType.Float32),
            tensor(objects.Select(o => (long)o.ClassIndex).ToArray(), [objects.Count], ScalarType.Int64),
            tensor(objects.Select(o => o.Crowd).ToArray(), [objects.Count], ScalarType.Bool));
    }

    /// <summary>True when the image has a ground-truth box that is not an ignore region (otherwise it can give no RoI).</summary>
    public static bool HasTrainableObjects(ImageRecord image, bool useDifficult) =>
        image.Objects.Any(o => !o.Crowd && (useDifficult || !o.Difficult));

    /// <summary>
    /// Loads <paramref name="image"/>, augments it as <paramref name="augmentation"/> says, scales it to shorter side
    /// <paramref name="shortSide"/> capped at <paramref name="maxSize"/> and preprocesses it with
    /// <paramref name="pixels"/>: the network input (3,H',W') and its targets in the same pixels.
    /// </summary>
    /// <exception cref="FileNotFoundException">The image file is missing.</exception>
    /// <exception cref="ImageDecodeException">The image file cannot be decoded (the message names it).</exception>
    public static (Tensor Input, ImageTargets Targets, MiniBatchImage Info) Load(
        ImageRecord image, IProposalSource proposals, PixelPreprocessing pixels, SampleAugmentation augmentation, int shortSide, int maxSize,
        bool useDifficult, long position = 0)
    {
        ArgumentNullException.ThrowIfNull(augmentation);
        using var scope = NewDisposeScope();
        var rgb = ImageIO.ReadTensor(image.ImagePath);                             // (3,H,W) uint8
        int h = (int)rgb.shape[1], w = (int)rgb.shape[2];
        var proposalBoxes = proposals.ProposalsFor(image.Id, w, h);              // (P,4) clipped, original pixels
        var (gtBoxes, gtClasses, gtIgnore) = GroundTruth(image, useDifficult);
        if (augmentation.ChannelOrder is var (r, g, b))
            rgb = rgb.index_select(0, tensor(new long[] { r, g, b }));
        var orientation = augmentation.Orientation;
        if (!orientation.IsIdentity)
        {
            rgb = orientation.Image(rgb);
            gtBoxes = orientation.Boxes(gtBoxes, w, h);
            proposalBoxes = orientation.Boxes(proposalBoxes, w, h);
        }
        var (oh, ow) = orientation.Size(h, w);
        double factor = ImageScaling.ScaleFactor(oh, ow, shortSide, maxSize);
        var input = ImageScaling.Rescale(pixels.Apply(rgb), factor).Image;       // (3,H',W') float32
        var targets = new ImageTargets(
            ImageScaling.ScaleBoxes(proposalBoxes, factor).MoveToOuterDisposeScope(),
            ImageScaling.ScaleBoxes(gtBoxes, factor).MoveToOuterDisposeScope(),
            gtClasses.MoveToOuterDisposeScope(),
            gtIgnore.MoveToOuterDisposeScope());
        var info = new MiniBatchImage(image.Id, position, h, w, (int)input.shape[1], (int)input.shape[2],
            shortSide, factor, augmentation, (int)proposalBoxes.shape[0]);
        return (input.MoveToOuterDisposeScope(), targets, info);
    }
}
