using System.Diagnostics;
using System.Text.Json;
using FastRcnn.Data;
using FastRcnn.Distributed;
using FastRcnn.Imaging;
using FastRcnn.Modeling;
using FastRcnn.Ops;

namespace FastRcnn.Proposals;

/// <summary>
/// Proposals for whole datasets (SPEC §11.5: compute proposals for new images without MATLAB): compute
/// them with selective search — in parallel, through a content-keyed <see cref="ProposalCache"/>,
/// resumable — or read them from a <see cref="ProposalFile"/> made by any tool.
/// </summary>
/// <example>
/// A trainer's <c>--proposals auto</c> and <c>--proposals FILE</c>:
/// <code>
/// IProposalSource source = auto
///     ? DatasetProposals.ComputeOrLoad(dataset, new SelectiveSearchOptions(), cacheDir: null, progress, ct)
///     : DatasetProposals.Load("voc07_trainval_ss.npz", dataset);
/// </code>
/// </example>
public static class DatasetProposals
{
    /// <summary>
    /// Proposals for every image of <paramref name="dataset"/>: from the cache in <paramref name="cacheDir"/>
    /// (null: <see cref="ProposalCache.DefaultDirectory"/>) where the image and settings match, computed
    /// (and cached) otherwise. Boxes are in original-image pixels, keyed by image id.
    /// </summary>
    /// <exception cref="FileNotFoundException">An image file is missing (named in the message).</exception>
    /// <exception cref="ImageDecodeException">An image file cannot be decoded (named in the message).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancel"/> fired; finished images are already cached.</exception>
    public static PrecomputedProposals ComputeOrLoad(DetectionDataset dataset, SelectiveSearchOptions? options = null, string? cacheDir = null,
        IProgress<ProposalProgress>? progress = null, CancellationToken cancel = default)
    {
        var run = new ProposalRunOptions { Search = options ?? new SelectiveSearchOptions(), CacheDirectory = cacheDir };
        return Compute(dataset, run, progress, cancel).Proposals.ToSource();
    }

    /// <summary>Reads a proposal file for <paramref name="dataset"/> (see <see cref="Import"/>); every image must have an entry.</summary>
    /// <exception cref="InvalidDataException">The file is malformed, or images of the dataset have no entry; the message names the file.</exception>
    public static PrecomputedProposals Load(string npzPath, DetectionDataset dataset) => Import(npzPath, dataset).Proposals.ToSource();

    /// <summary>
    /// Reads a <see cref="ProposalFile"/> made by this library or another tool and fits it to
    /// <paramref name="dataset"/>: arrays must be (R, 4) and finite (float32 or float64); boxes are
    /// clipped to their image and boxes without area dropped, keeping the order; entries for ids outside
    /// the dataset are ignored. Everything is counted in the report.
    /// </summary>
    /// <param name="npzPath">The file.</param>
    /// <param name="dataset">The images the proposals are for.</param>
    /// <param name="allowMissing">Give images without an entry no proposals instead of failing.</param>
    /// <exception cref="InvalidDataException">A malformed file or array, or (unless <paramref name="allowMissing"/>) missing images; the message names the file.</exception>
    public static (DatasetProposalSet Proposals, ProposalImportReport Report) Import(string npzPath, DetectionDataset dataset, bool allowMissing = false)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        var raw = ProposalFile.Read(npzPath);
        var result = new Dictionary<string, ProposalSet>(StringComparer.Ordinal);
        var missing = new List<string>();
        var withoutBoxes = new List<ImageWithoutProposals>();
        int boxes = 0, clipped = 0;
        var drops = new ProposalDrops();
        foreach (var image in dataset.Images)
        {
            if (!raw.TryGetValue(image.Id, out var data))
            {
                missing.Add(image.Id);
                result[image.Id] = new ProposalSet([], 0, image.Width, image.Height);
                continue;
            }
            var (kept, c, d) = ProposalFile.SanitizeWithReasons(data, image.Width, image.Height);
            result[image.Id] = kept;
            boxes += kept.Count;
            clipped += c;
            drops += d;
            if (kept.Count == 0) withoutBoxes.Add(new ImageWithoutProposals(image.Id, data.Length / 4, d));
        }
        var ids = dataset.Images.Select(i => i.Id).ToHashSet(StringComparer.Ordinal);
        int unused = raw.Keys.Count(k => !ids.Contains(k));
        var report = new ProposalImportReport(Path.GetFullPath(npzPath), dataset.Images.Count - missing.Count, boxes, clipped, drops.Total, unused,
            missing.Count, missing.Take(10).ToArray()) { Drops = drops, ImagesWithoutBoxes = withoutBoxes };
        if (missing.Count > 0 && !allowMissing)
            throw new InvalidDataException($"{report.Path}: no proposals for {missing.Count} of {dataset.Images.Count} images of split " +
                $"'{dataset.Split}' (e.g. {string.Join(", ", missing.Take(5).Select(m => $"'{m}'"))}); the file has {raw.Count} entries");
        return (new DatasetProposalSet(result, report.Path), report);
    }

    /// <summary>
    /// Computes (or reuses) proposals for every image of <paramref name="dataset"/>, images in parallel.
    /// With <paramref name="journalPath"/>, finished images are also appended to that journal, and images
    /// already in it (from an interrupted run with the same settings and unchanged image bytes) are reused.
    /// </summary>
    public static (DatasetProposalSet Proposals, ProposalRunStats Stats) Compute(DetectionDataset dataset, ProposalRunOptions? run = null,
        IProgress<ProposalProgress>? progress = null, CancellationToken cancel = default, string? journalPath = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        run ??= new ProposalRunOptions();
        using var journal = journalPath is null ? null : PartialProposalStore.Open(journalPath, run.Search);
        return Compute(dataset, run, progress, cancel, journal);
    }

    /// <summary>
    /// Computes proposals for <paramref name="dataset"/> and writes them to <paramref name="outPath"/> (a
    /// <see cref="ProposalFile"/>, written atomically) with the settings beside it (<c>.json</c>). The run is
    /// resumable: finished images go to the journal <c>&lt;outPath&gt;.partial</c> as they complete, a new
    /// run picks them up, and the journal is deleted once the file is written.
    /// With a <paramref name="communicator"/> of P processes (<c>mpiexec -n P fastrcnn proposals</c>), each computes every
    /// P-th image (<see cref="Shards"/>; its own journal, <c>&lt;outPath&gt;.partial.rank-R-of-P</c>) and rank 0 writes
    /// the file — the same bytes as one process writes — and returns the whole run's counts (the others their own).
    /// </summary>
    public static ProposalRunStats Export(DetectionDataset dataset, string outPath, ProposalRunOptions? run = null,
        IProgress<ProposalProgress>? progress = null, CancellationToken cancel = default, ICommunicator? communicator = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentException.ThrowIfNullOrEmpty(outPath);
        run ??= new ProposalRunOptions();
        communicator ??= SingleProcess.Instance;
        outPath = Path.GetFullPath(outPath);
        string journalPath = communicator.Size == 1 ? JournalPath(outPath) : $"{JournalPath(outPath)}.rank-{communicator.Rank}-of-{communicator.Size}";
        var journal = PartialProposalStore.Open(journalPath, run.Search);
        try
        {
            var shard = communicator.Size == 1 ? dataset : dataset with { Images = Shards.Of(dataset.Images, communicator) };
            var (proposals, stats) = Compute(shard, run, progress, cancel, journal);
            var all = Shards.Gather(communicator, dataset.Images.Count, shard.Images.Select(i => (Set: proposals.Proposals[i.Id], Stats: stats)).ToArray(),
                WriteShardResult, ReadShardResult);
            if (all is not null)
            {
                if (communicator.Size > 1)
                {
                    var perRank = Enumerable.Range(0, Math.Min(communicator.Size, all.Count)).Select(r => all[r].Stats).ToArray();
                    stats = stats with
                    {
                        Images = dataset.Images.Count, Computed = perRank.Sum(s => s.Computed), FromCache = perRank.Sum(s => s.FromCache),
                        FromJournal = perRank.Sum(s => s.FromJournal), CorruptCacheEntries = perRank.Sum(s => s.CorruptCacheEntries),
                    };
                    proposals = proposals with { Proposals = dataset.Images.Select((image, k) => KeyValuePair.Create(image.Id, all[k].Set)).ToDictionary(StringComparer.Ordinal) };
                }
                ProposalFile.Write(outPath, dataset.Images.Select(i => KeyValuePair.Create(i.Id, proposals.Proposals[i.Id])));
                WriteSettings(outPath, dataset, proposals, stats);
            }
            communicator.Barrier();   // the file is written: every rank's journal can go
            journal.Delete();
            return stats;
        }
        finally
        {
            journal.Dispose();
        }
    }

    private static void WriteShardResult(BinaryWriter writer, (ProposalSet Set, ProposalRunStats Stats) result)
    {
        var (set, stats) = result;
        writer.Write(set.Count);
        writer.Write(set.ImageWidth);
        writer.Write(set.ImageHeight);
        writer.Write(set.StrategyCount);
        for (int k = 0; k < 4 * set.Count; k++) writer.Write(set.Boxes[k]);
        writer.Write(stats.Computed);
        writer.Write(stats.FromCache);
        writer.Write(stats.FromJournal);
        writer.Write(stats.CorruptCacheEntries);
    }

    private static (ProposalSet Set, ProposalRunStats Stats) ReadShardResult(BinaryReader reader)
    {
        int count = reader.ReadInt32(), width = reader.ReadInt32(), height = reader.ReadInt32(), strategies = reader.ReadInt32();
        var boxes = new float[4 * count];
        for (int k = 0; k < boxes.Length; k++) boxes[k] = reader.ReadSingle();
        var stats = new ProposalRunStats(0, reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32(), null, null, "", TimeSpan.Zero);
        return (new ProposalSet(boxes, count, width, height, strategies), stats);
    }

    /// <summary>The journal of an export to <paramref name="outPath"/>.</summary>
    public static string JournalPath(string outPath) => Path.GetFullPath(outPath) + ".partial";

    /// <summary>The settings file written beside <paramref name="outPath"/>: <c>x.npz</c> → <c>x.json</c>.</summary>
    public static string SettingsPath(string outPath) =>
        outPath.EndsWith(".npz", StringComparison.OrdinalIgnoreCase) ? Path.ChangeExtension(outPath, ".json") : outPath + ".json";

    private static (DatasetProposalSet, ProposalRunStats) Compute(DetectionDataset dataset, ProposalRunOptions run,
        IProgress<ProposalProgress>? progress, CancellationToken cancel, PartialProposalStore? journal)
    {
        var images = dataset.Images;
        int threads = run.Threads > 0 ? run.Threads : Parallelism.Threads;
        // Images in parallel, one thread each; a run of fewer images than threads parallelises inside instead.
        var search = new SelectiveSearch(run.Search with { Parallel = images.Count < threads && run.Search.Parallel });
        var cache = run.UseCache ? new ProposalCache(run.EffectiveCacheDirectory, run.Search) : null;
        var results = new ProposalSet[images.Count];
        int done = 0, computed = 0, fromCache = 0, fromJournal = 0;
        var watch = Stopwatch.StartNew();
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = threads, CancellationToken = cancel };
        try
        {
            Parallel.For(0, images.Count, parallel, i =>
            {
                var image = images[i];
                byte[] bytes = ReadImageFile(image.ImagePath);
                byte[] hash = ProposalRecord.Hash(bytes);
                ProposalSet? result = journal?.TryGet(image.Id, hash);
                if (result is not null) Interlocked.Increment(ref fromJournal);
                else
                {
                    result = cache?.TryGet(hash);
                    if (result is not null) Interlocked.Increment(ref fromCache);
                    else
                    {
                        var rgb = ImageIO.Decode(bytes, image.ImagePath);
                        result = search.Run(rgb.Data, rgb.Width, rgb.Height);
                        cache?.Put(hash, result);
                        Interlocked.Increment(ref computed);
                    }
                    journal?.Append(image.Id, hash, result);
                }
                results[i] = result;
                int finished = Interlocked.Increment(ref done);
                progress?.Report(new ProposalProgress(finished, images.Count, Volatile.Read(ref fromCache) + Volatile.Read(ref fromJournal),
                    Volatile.Read(ref computed), watch.Elapsed));
            });
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerExceptions[0]);
        }
        var byId = new Dictionary<string, ProposalSet>(images.Count, StringComparer.Ordinal);
        for (int i = 0; i < images.Count; i++) byId[images[i].Id] = results[i];
        string origin = $"selective search on {(dataset.Source.Length > 0 ? dataset.Source : "the dataset")} ({dataset.Split})";
        var stats = new ProposalRunStats(images.Count, computed, fromCache, fromJournal, cache?.Corrupt ?? 0, cache?.Directory,
            journal?.Discarded is { } why ? $"{journal.Path}: discarded, {why}" : null, run.Search.Fingerprint(), watch.Elapsed);
        return (new DatasetProposalSet(byId, origin), stats);
    }

    private static byte[] ReadImageFile(string path)
    {
        try { return File.ReadAllBytes(path); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FileNotFoundException($"{path}: image file not found", path, e);
        }
    }

    private static void WriteSettings(string outPath, DetectionDataset dataset, DatasetProposalSet proposals, ProposalRunStats stats)
    {
        var info = new
        {
            format = "npz: one float32 (R, 4) array (x1, y1, x2, y2) per image id, best-ranked first (docs/formats.md)",
            settings = stats.Fingerprint,
            dataset = dataset.Source,
            split = dataset.Split,
            images = stats.Images,
            meanBoxes = Math.Round(proposals.MeanBoxes, 1),
            computed = stats.Computed,
            fromCache = stats.FromCache,
            fromJournal = stats.FromJournal,
            seconds = Math.Round(stats.Elapsed.TotalSeconds, 2),
            createdUtc = DateTime.UtcNow.ToString("O"),
        };
        FastRcnn.IO.AtomicFile.WriteAllText(SettingsPath(outPath), JsonSerializer.Serialize(info, new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }
}
