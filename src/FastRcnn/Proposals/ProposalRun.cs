using FastRcnn.Modeling;

namespace FastRcnn.Proposals;

/// <summary>How <see cref="DatasetProposals"/> computes proposals for a dataset.</summary>
public sealed record ProposalRunOptions
{
    /// <summary>The selective-search settings (default: Fast mode).</summary>
    public SelectiveSearchOptions Search { get; init; } = new();

    /// <summary>Look results up in, and add them to, the content-keyed <see cref="ProposalCache"/> (default on).</summary>
    public bool UseCache { get; init; } = true;

    /// <summary>The cache directory, or null for <see cref="ProposalCache.DefaultDirectory"/>.</summary>
    public string? CacheDirectory { get; init; }

    /// <summary>Images computed at once (one thread each), or 0 for <see cref="FastRcnn.Ops.Parallelism.Threads"/>.</summary>
    public int Threads { get; init; }

    /// <summary>The effective cache directory.</summary>
    public string EffectiveCacheDirectory => CacheDirectory ?? ProposalCache.DefaultDirectory;
}

/// <summary>Where a run over a dataset stands; reported after every image.</summary>
/// <param name="Done">Images finished.</param>
/// <param name="Total">Images in the dataset.</param>
/// <param name="Reused">Images answered by the cache or the journal of an interrupted run.</param>
/// <param name="Computed">Images computed by selective search.</param>
/// <param name="Elapsed">Time since the run started.</param>
public sealed record ProposalProgress(int Done, int Total, int Reused, int Computed, TimeSpan Elapsed)
{
    /// <summary>Images finished per second so far.</summary>
    public double ImagesPerSecond => Done / Math.Max(Elapsed.TotalSeconds, 1e-9);
}

/// <summary>What a run did.</summary>
/// <param name="Images">Images in the dataset.</param>
/// <param name="Computed">Images computed by selective search.</param>
/// <param name="FromCache">Images answered by the cache.</param>
/// <param name="FromJournal">Images taken from the journal of an interrupted run.</param>
/// <param name="CorruptCacheEntries">Cache entries found damaged, discarded and recomputed.</param>
/// <param name="CacheDirectory">The cache used, or null.</param>
/// <param name="JournalNote">What happened to an earlier journal that could not be reused, or null.</param>
/// <param name="Fingerprint">The settings (<see cref="SelectiveSearchOptions.Fingerprint"/>).</param>
/// <param name="Elapsed">Wall-clock time of the run.</param>
public sealed record ProposalRunStats(
    int Images, int Computed, int FromCache, int FromJournal, int CorruptCacheEntries,
    string? CacheDirectory, string? JournalNote, string Fingerprint, TimeSpan Elapsed);

/// <summary>Proposals of every image of a dataset, by image id, each clipped to its image and best-ranked first.</summary>
/// <param name="Proposals">Image id → proposals, in original-image pixels.</param>
/// <param name="Origin">Where they came from (a file name or a description), used in error messages.</param>
public sealed record DatasetProposalSet(IReadOnlyDictionary<string, ProposalSet> Proposals, string Origin)
{
    /// <summary>Mean boxes per image.</summary>
    public double MeanBoxes => Proposals.Count == 0 ? 0 : Proposals.Values.Average(p => p.Count);

    /// <summary>The boxes of image <paramref name="imageId"/> as R×4 values (empty when the image has none or is unknown).</summary>
    public float[] BoxesOf(string imageId) =>
        Proposals.TryGetValue(imageId, out var p) ? p.Boxes[..(4 * p.Count)] : [];

    /// <summary>A trainer's proposal source (float32 (R,4) tensors by image id; tensors are created here, once).</summary>
    public PrecomputedProposals ToSource() =>
        new(Proposals.ToDictionary(p => p.Key, p => p.Value.ToTensor(), StringComparer.Ordinal), Origin);
}

/// <summary>Counts of what reading a proposal file fixed, dropped or could not match.</summary>
/// <param name="Path">The file.</param>
/// <param name="Images">Dataset images given proposals.</param>
/// <param name="Boxes">Boxes kept, over all images.</param>
/// <param name="ClippedBoxes">Boxes reaching outside their image, clipped to it.</param>
/// <param name="DroppedBoxes">Boxes left without area (x2 ≤ x1 or y2 ≤ y1) after clipping, dropped.</param>
/// <param name="UnusedEntries">Arrays in the file for ids that are not in the dataset (another split), ignored.</param>
/// <param name="MissingImages">Dataset images without an array in the file (given no proposals).</param>
/// <param name="MissingExamples">Up to 10 of the missing image ids.</param>
public sealed record ProposalImportReport(
    string Path, int Images, int Boxes, int ClippedBoxes, int DroppedBoxes, int UnusedEntries, int MissingImages,
    IReadOnlyList<string> MissingExamples)
{
    /// <summary><see cref="DroppedBoxes"/> by reason.</summary>
    public ProposalDrops Drops { get; init; }

    /// <summary>Images that have an entry in the file but no usable box in it (all dropped, or an empty array), in dataset order.</summary>
    public IReadOnlyList<ImageWithoutProposals> ImagesWithoutBoxes { get; init; } = [];

    /// <inheritdoc />
    public override string ToString() =>
        $"{Path}: {Images} images, {Boxes} boxes ({(Images == 0 ? 0 : (double)Boxes / Images):F0} per image); clipped {ClippedBoxes}, " +
        $"dropped {DroppedBoxes}{(DroppedBoxes > 0 ? $" ({Drops})" : "")}; {UnusedEntries} entries for other images ignored; " +
        $"{MissingImages} images without proposals" + (ImagesWithoutBoxes.Count > 0 ? $", {ImagesWithoutBoxes.Count} left without a usable box" : "");
}

/// <summary>Proposal boxes that could not be used, by reason (<see cref="ProposalFile.SanitizeWithReasons"/>).</summary>
/// <param name="Empty">Zero width or height (x2 = x1 or y2 = y1).</param>
/// <param name="Swapped">Corners in the wrong order (x2 &lt; x1 or y2 &lt; y1).</param>
/// <param name="Outside">Wholly outside the image: nothing left after clipping to it.</param>
public readonly record struct ProposalDrops(int Empty, int Swapped, int Outside)
{
    /// <summary>All dropped boxes.</summary>
    public int Total => Empty + Swapped + Outside;

    /// <summary>The sum of two counts.</summary>
    public static ProposalDrops operator +(ProposalDrops a, ProposalDrops b) =>
        new(a.Empty + b.Empty, a.Swapped + b.Swapped, a.Outside + b.Outside);

    /// <inheritdoc />
    public override string ToString() =>
        $"{Empty} empty (x2 = x1 or y2 = y1), {Swapped} swapped (x2 < x1 or y2 < y1), {Outside} outside the image";
}

/// <summary>An image whose entry in a proposal file gave no usable box.</summary>
/// <param name="ImageId">The image id.</param>
/// <param name="Given">Boxes in its array.</param>
/// <param name="Drops">Why they were dropped.</param>
public sealed record ImageWithoutProposals(string ImageId, int Given, ProposalDrops Drops)
{
    /// <inheritdoc />
    public override string ToString() =>
        Given == 0 ? $"image '{ImageId}' has an empty array" : $"all {Given} boxes of image '{ImageId}' were dropped: {Drops}";
}
