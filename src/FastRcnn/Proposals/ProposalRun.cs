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
    /// <inheritdoc />
    public override string ToString() =>
        $"{Path}: {Images} images, {Boxes} boxes ({(Images == 0 ? 0 : (double)Boxes / Images):F0} per image); clipped {ClippedBoxes}, " +
        $"dropped {DroppedBoxes} empty; {UnusedEntries} entries for other images ignored; {MissingImages} images without proposals";
}
