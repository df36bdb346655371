using FastRcnn.Data;
using FastRcnn.Distributed;
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
    /// With a <paramref name="communicator"/> of P processes, each detects every P-th image (<see cref="Shards"/>) and rank 0
    /// returns the detections of the whole split in the order one process finds them (times and image count: its own
    /// share); the other ranks return their own share's.
    /// </summary>
    public static SplitDetections Run(Detector detector, DetectionDataset dataset, Func<ImageRecord, Tensor?>? proposalsFor = null,
        IProgress<int>? progress = null, CancellationToken cancellation = default, ICommunicator? communicator = null)
    {
        communicator ??= SingleProcess.Instance;
        if (communicator.Size == 1) return RunImages(detector, dataset, dataset.Images, proposalsFor, progress, cancellation);
        var shard = Shards.Of(dataset.Images, communicator);
        var local = RunImages(detector, dataset, shard, proposalsFor, progress, cancellation);
        var perImage = shard.Select(i => local.Detections.Where(d => d.ImageId == i.Id).ToArray()).ToArray();
        var all = Shards.Gather(communicator, dataset.Images.Count, perImage, WriteDetections, ReadDetections);
        return all is null ? local : local with { Detections = all.SelectMany(d => d).ToArray() };
    }

    private static void WriteDetections(BinaryWriter writer, Detection[] detections)
    {
        writer.Write(detections.Length);
        foreach (var d in detections)
        {
            writer.Write(d.ImageId);
            writer.Write(d.ClassIndex);
            writer.Write(d.Score);
            writer.Write(d.Box.X1);
            writer.Write(d.Box.Y1);
            writer.Write(d.Box.X2);
            writer.Write(d.Box.Y2);
        }
    }

    private static Detection[] ReadDetections(BinaryReader reader)
    {
        var detections = new Detection[reader.ReadInt32()];
        for (int k = 0; k < detections.Length; k++)
            detections[k] = new Detection(reader.ReadString(), reader.ReadInt32(), reader.ReadSingle(),
                new BoundingBox(reader.ReadSingle(), reader.ReadSingle(), reader.ReadSingle(), reader.ReadSingle()));
        return detections;
    }

    private static SplitDetections RunImages(Detector detector, DetectionDataset dataset, IReadOnlyList<ImageRecord> images, Func<ImageRecord, Tensor?>? proposalsFor,
        IProgress<int>? progress, CancellationToken cancellation)
    {
        if (!detector.ClassNames.SequenceEqual(dataset.ClassNames.Skip(1)))
            throw new ArgumentException(
                $"the model's classes ({string.Join(", ", detector.ClassNames)}) differ from the dataset's ({string.Join(", ", dataset.ClassNames.Skip(1))})");
        var detections = new List<Detection>();
        var times = StageTimes.Zero;
        int done = 0;
        foreach (var image in images)
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
