using FastRcnn.Data;
using FastRcnn.Inference;
using static TorchSharp.torch;

namespace FastRcnn.Evaluation;

/// <summary>Detections of a whole split and where the time went.</summary>
public sealed record SplitDetections(IReadOnlyList<Detection> Detections, StageTimes Times, int Images);

/// <summary>Runs a <see cref="Detector"/> over every image of a dataset split.</summary>
public static class DatasetDetection
{
    /// <summary>
    /// Detects objects in each image of <paramref name="dataset"/>; <paramref name="proposalsFor"/> gives an
    /// image's proposals (R,4) in its pixels, or null to let the detector run selective search.
    /// <paramref name="progress"/> receives the number of images done.
    /// </summary>
    public static SplitDetections Run(Detector detector, DetectionDataset dataset, Func<ImageRecord, Tensor?>? proposalsFor = null,
        IProgress<int>? progress = null, CancellationToken cancellation = default)
    {
        if (!detector.ClassNames.SequenceEqual(dataset.ClassNames.Skip(1)))
            throw new ArgumentException(
                $"the model's classes ({string.Join(", ", detector.ClassNames)}) differ from the dataset's ({string.Join(", ", dataset.ClassNames.Skip(1))})");
        var detections = new List<Detection>();
        var times = StageTimes.Zero;
        int done = 0;
        foreach (var image in dataset.Images)
        {
            cancellation.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            var result = detector.Detect(image.ImagePath, proposalsFor?.Invoke(image));
            times += result.Times;
            detections.AddRange(result.Objects.Select(o => new Detection(image.Id, o.ClassIndex, o.Score, o.Box)));
            progress?.Report(++done);
        }
        return new SplitDetections(detections, times, done);
    }
}
