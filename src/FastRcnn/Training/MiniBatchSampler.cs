using FastRcnn.Data;
using FastRcnn.Data.Transforms;
using FastRcnn.Modeling;
using FastRcnn.Proposals;
using static TorchSharp.torch;

namespace FastRcnn.Training;

/// <summary>
/// Image-centric mini-batches (SPEC §5): iteration i (1-based) takes the N images at positions p = (i − 1)·N … (i − 1)·N + N − 1
/// of an endless stream of epochs, epoch e being a permutation of the trainable images drawn from
/// (seed, e); image p is flipped with probability <see cref="TrainingOptions.FlipProbability"/> (and, when the options
/// ask, transposed, flipped top–bottom and its channels reordered: <see cref="AugmentationAt"/>) and scaled to a
/// shorter side drawn from <see cref="TrainingOptions.Scales"/>, all from (seed, p) (<see cref="SeedSequence"/>).
/// So batch i is a pure function of (dataset, proposals, options, i): a resumed run sees the same batches.
/// Each image's targets carry its key (<see cref="SeedSequence.Stream.ImageKey"/>, from (seed, p)), from which its RoIs,
/// anchors and dropout masks are drawn.
/// </summary>
/// <remarks>
/// Data-parallel training over P processes: the global batch of iteration i holds P·N images, positions
/// (i − 1)·P·N … i·P·N − 1, and process r (<see cref="Rank"/>) takes the N of slots r·N … r·N + N − 1; so P processes
/// with N images each see exactly the images, augmentation and keys of one process with P·N.
/// </remarks>
/// <remarks>
/// Images without a trainable ground-truth box (no objects, or only crowd regions) can give no RoI — no
/// foreground and, with no box to measure IoU against, no background — and are filtered out up front
/// (<see cref="FilteredImages"/>), as the original filters its roidb. Images whose proposals still yield no
/// RoI in a batch are skipped by the model and counted there. <see cref="Next"/> prefetches batch i + 1 on
/// a worker thread (decoding, flipping, preprocessing, resizing) while batch i trains.
/// </remarks>
public sealed class MiniBatchSampler : IDisposable
{
    private readonly IProposalSource _proposals;
    private readonly PixelPreprocessing _pixels;
    private readonly Dictionary<long, int[]> _epochs = [];
    private readonly object _gate = new();
    private Task<MiniBatch>? _prefetch;
    private long _prefetchIteration = -1;

    /// <summary>Batches of <paramref name="dataset"/>'s trainable images with <paramref name="proposals"/>, preprocessed with <paramref name="pixels"/>.</summary>
    /// <remarks>
    /// Images without a trainable object are left out (they give no RoI), unless <paramref name="keepImagesWithoutObjects"/>:
    /// a region proposal network learns from them too (every sampled anchor negative). Data-parallel training: <paramref name="rank"/> (0 … <paramref name="ranks"/> − 1) is this process's share of each global
    /// batch of <paramref name="ranks"/>·N images (1: one process).
    /// </remarks>
    /// <exception cref="ArgumentException">No image of the dataset has a trainable object (the message names the dataset).</exception>
    public MiniBatchSampler(DetectionDataset dataset, IProposalSource proposals, TrainingOptions options, PixelPreprocessing pixels,
        bool keepImagesWithoutObjects = false, int rank = 0, int ranks = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ranks, 1);
        if (rank < 0 || rank >= ranks) throw new ArgumentOutOfRangeException(nameof(rank), $"rank {rank} is not in 0..{ranks - 1}");
        (Rank, Ranks) = (rank, ranks);
        ArgumentNullException.ThrowIfNull(dataset);
        Options = options ?? throw new ArgumentNullException(nameof(options));
        _proposals = proposals ?? throw new ArgumentNullException(nameof(proposals));
        _pixels = pixels ?? throw new ArgumentNullException(nameof(pixels));
        options.Validate();
        Images = dataset.Images.Where(i => keepImagesWithoutObjects || TrainingSample.HasTrainableObjects(i, options.UseDifficult)).ToArray();
        FilteredImages = dataset.Images.Count - Images.Count;
        if (Images.Count == 0)
        {
            string where = dataset.Source is { Length: > 0 } s ? $"{s} (split '{dataset.Split}')" : $"split '{dataset.Split}'";
            throw new ArgumentException(dataset.Images.Count == 0
                ? $"{where}: the split has no images."
                : $"{where}: none of its {dataset.Images.Count} images has an object to train on (crowd regions{(options.UseDifficult ? "" : " and difficult objects")} do not count).");
        }
    }

    public TrainingOptions Options { get; }

    /// <summary>This process's share of each global batch (0 in a single process).</summary>
    public int Rank { get; }

    /// <summary>P, the processes sharing each global batch (1 in a single process).</summary>
    public int Ranks { get; }

    /// <summary>The stream position of slot <paramref name="slot"/> of this process's batch <paramref name="iteration"/>.</summary>
    public long PositionOf(long iteration, int slot) =>
        ((iteration - 1) * Ranks + Rank) * Options.ImagesPerBatch + slot;

    /// <summary>The trainable images, in dataset order.</summary>
    public IReadOnlyList<ImageRecord> Images { get; }

    /// <summary>Images of the dataset left out because they have no trainable object.</summary>
    public int FilteredImages { get; }

    /// <summary>The image at stream position <paramref name="position"/> (= (iteration − 1)·N + slot).</summary>
    public ImageRecord ImageAt(long position)
    {
        long epoch = position / Images.Count;
        int[] order;
        lock (_gate)
        {
            if (!_epochs.TryGetValue(epoch, out order!))
            {
                if (_epochs.Count > 4) _epochs.Remove(_epochs.Keys.Min());
                order = SeedSequence.Permutation(Options.Seed, SeedSequence.Stream.Shuffle, epoch, Images.Count);
                _epochs[epoch] = order;
            }
        }
        return Images[order[position % Images.Count]];
    }

    /// <summary>Whether the image at <paramref name="position"/> is flipped.</summary>
    public bool FlipAt(long position) =>
        SeedSequence.Unit(Options.Seed, SeedSequence.Stream.Flip, position) < Options.FlipProbability;

    /// <summary>
    /// The augmentation drawn for the image at <paramref name="position"/>: the left–right flip of <see cref="FlipAt"/>,
    /// a transpose and a top–bottom flip with <see cref="TrainingOptions.TransposeProbability"/> and
    /// <see cref="TrainingOptions.VerticalFlipProbability"/>, and with <see cref="TrainingOptions.PermuteChannels"/> one
    /// of the 6 channel orders, uniformly; each from its own stream, so adding one leaves the others' draws unchanged.
    /// </summary>
    public SampleAugmentation AugmentationAt(long position)
    {
        var o = Options;
        bool transpose = SeedSequence.Unit(o.Seed, SeedSequence.Stream.Transpose, position) < o.TransposeProbability;
        bool flipY = SeedSequence.Unit(o.Seed, SeedSequence.Stream.VerticalFlip, position) < o.VerticalFlipProbability;
        (int, int, int)? channels = null;
        if (o.PermuteChannels)
        {
            var order = SeedSequence.Permutation(o.Seed, SeedSequence.Stream.Channels, position, 3);
            channels = (order[0], order[1], order[2]);
        }
        return new SampleAugmentation(new Orientation(transpose, FlipAt(position), flipY), channels);
    }

    /// <summary>The shorter side drawn for the image at <paramref name="position"/>.</summary>
    public int ScaleAt(long position) =>
        Options.Scales[SeedSequence.Below(Options.Seed, SeedSequence.Stream.Scale, position, Options.Scales.Count)];

    /// <summary>Builds batch <paramref name="iteration"/> on the calling thread.</summary>
    public MiniBatch Build(long iteration)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(iteration, 1);
        int n = Options.ImagesPerBatch;
        var inputs = new List<Tensor>(n);
        var targets = new List<ImageTargets>(n);
        var info = new List<MiniBatchImage>(n);
        try
        {
            for (int slot = 0; slot < n; slot++)
            {
                long p = PositionOf(iteration, slot);
                var (input, target, image) = TrainingSample.Load(ImageAt(p), _proposals, _pixels, AugmentationAt(p), ScaleAt(p),
                    Options.MaxSize, Options.UseDifficult, p);
                inputs.Add(input);
                targets.Add(target with { SampleKey = SeedSequence.Derive(Options.Seed, SeedSequence.Stream.ImageKey, p) });
                info.Add(image);
            }
            var batch = Batching.Pad(inputs, sizeDivisor: 1, padValue: 0);
            return new MiniBatch(iteration, batch.Images, targets, info);
        }
        catch
        {
            foreach (var t in targets) MiniBatch.DisposeTargets(t);
            throw;
        }
        finally
        {
            foreach (var t in inputs) t.Dispose();
        }
    }

    /// <summary>
    /// Batch <paramref name="iteration"/> (from the prefetch when it was started for it), and with
    /// <see cref="TrainingOptions.Prefetch"/> and <paramref name="prefetchNext"/> the start of batch
    /// <paramref name="iteration"/> + 1 on a worker thread.
    /// </summary>
    public MiniBatch Next(long iteration, bool prefetchNext = true)
    {
        MiniBatch batch;
        if (_prefetch is { } pending && _prefetchIteration == iteration)
        {
            _prefetch = null;
            batch = pending.GetAwaiter().GetResult();     // rethrows a loading error with its own message
        }
        else
        {
            DiscardPrefetch();
            batch = Build(iteration);
        }
        if (Options.Prefetch && prefetchNext)
        {
            long next = iteration + 1;
            _prefetchIteration = next;
            _prefetch = Task.Run(() => Build(next));
        }
        return batch;
    }

    /// <summary>Waits for and disposes a pending prefetch (its errors are dropped: nobody asked for that batch).</summary>
    private void DiscardPrefetch()
    {
        if (_prefetch is not { } pending) return;
        _prefetch = null;
        try { pending.GetAwaiter().GetResult().Dispose(); }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or Imaging.ImageDecodeException or KeyNotFoundException) { }
    }

    public void Dispose() => DiscardPrefetch();
}
