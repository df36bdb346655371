using FastRcnn.Data;
using FastRcnn.Imaging;
using FastRcnn.IO;
using FastRcnn.Modeling;
using FastRcnn.Ops;
using FastRcnn.Proposals;
using static TorchSharp.torch;

namespace FastRcnn.Training;

/// <summary>
/// Where training gets its proposals (SPEC §1: external to Fast R-CNN): a NumPy <c>.npz</c> file with one
/// float32 (R,4) array (x1, y1, x2, y2, original-image pixels) per image id, or <c>auto</c> — selective
/// search in Fast mode computed here for every image (<see cref="SelectiveSearchAll"/>).
/// </summary>
public static class TrainingProposals
{
    /// <summary>The value of <c>--proposals</c> that asks for selective search.</summary>
    public const string Auto = "auto";

    /// <summary>
    /// The proposals named by <paramref name="spec"/> (<see cref="Auto"/> or an .npz path) for <paramref name="images"/>.
    /// </summary>
    public static PrecomputedProposals Open(string spec, IReadOnlyList<ImageRecord> images, IProgress<int>? progress = null, CancellationToken cancel = default) =>
        string.Equals(spec, Auto, StringComparison.OrdinalIgnoreCase)
            ? SelectiveSearchAll(images, progress: progress, cancel: cancel)
            : FromNpz(spec, images);

    /// <summary>
    /// Reads an .npz of per-image proposal arrays keyed by image id and checks that every image of
    /// <paramref name="images"/> has one, of shape (R,4) (R may be 0) and finite.
    /// </summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="InvalidDataException">Unreadable archive, a wrong shape, or images without proposals (the message names the file and the ids).</exception>
    public static PrecomputedProposals FromNpz(string path, IReadOnlyList<ImageRecord> images)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such proposals file (expected an .npz with one (R,4) array per image id, or 'auto')", path);
        var arrays = Npz.Read(path);
        var missing = images.Select(i => i.Id).Where(id => !arrays.ContainsKey(id)).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidDataException(
                $"{path}: no proposals for {missing.Count} of the {images.Count} images, e.g. {string.Join(", ", missing.Take(5).Select(id => $"'{id}'"))}" +
                $" (the file has {arrays.Count} arrays{(arrays.Count > 0 ? $", e.g. '{arrays.Keys.First()}'" : "")}; keys must be image ids).");
        }
        var boxes = new Dictionary<string, Tensor>(images.Count);
        foreach (var image in images)
        {
            if (boxes.ContainsKey(image.Id)) continue;
            var a = arrays[image.Id];
            if (!(a.Shape.Length == 2 && a.Shape[1] == 4) && !(a.Shape.Length == 1 && a.Shape[0] == 0))
                throw new InvalidDataException($"{path}: proposals of image '{image.Id}' have shape [{string.Join(", ", a.Shape)}]; expected (R, 4).");
            if (a.Data.Any(v => !float.IsFinite(v)))
                throw new InvalidDataException($"{path}: proposals of image '{image.Id}' contain a non-finite coordinate.");
            boxes[image.Id] = tensor(a.Data, [a.Data.Length / 4, 4], ScalarType.Float32);
        }
        return new PrecomputedProposals(boxes, path);
    }

    /// <summary>
    /// Selective search (Fast mode unless <paramref name="options"/> say otherwise) on every image, in
    /// parallel over images (<see cref="Parallelism.Threads"/>), boxes in original-image pixels.
    /// <paramref name="progress"/> receives the number of images done.
    /// </summary>
    /// <remarks>
    /// Nothing is cached: every run recomputes. This is the seam where a content-keyed proposal cache
    /// (SPEC §11.6) plugs in — it replaces this call and returns the same <see cref="PrecomputedProposals"/>.
    /// </remarks>
    public static PrecomputedProposals SelectiveSearchAll(
        IReadOnlyList<ImageRecord> images, SelectiveSearchOptions? options = null, IProgress<int>? progress = null, CancellationToken cancel = default)
    {
        var distinct = images.DistinctBy(i => i.Id).ToArray();
        int threads = Parallelism.Threads;
        // Many images: one image per thread, each search serial; few images: the search's own parallelism.
        bool outer = distinct.Length >= threads;
        var search = new SelectiveSearch((options ?? new SelectiveSearchOptions()) with { Parallel = !outer });
        var results = new float[distinct.Length][];
        int done = 0;
        void One(int i)
        {
            var rgb = ImageIO.Read(distinct[i].ImagePath);
            var set = search.Run(rgb.Data, rgb.Width, rgb.Height);
            results[i] = set.Boxes.AsSpan(0, 4 * set.Count).ToArray();
            progress?.Report(Interlocked.Increment(ref done));
        }
        try
        {
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = outer ? threads : 1, CancellationToken = cancel };
            Parallel.For(0, distinct.Length, parallel, One);
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerExceptions[0]);
        }
        var boxes = new Dictionary<string, Tensor>(distinct.Length);
        for (int i = 0; i < distinct.Length; i++)
            boxes[distinct[i].Id] = tensor(results[i], [results[i].Length / 4, 4], ScalarType.Float32);
        return new PrecomputedProposals(boxes, "selective search (fast mode)");
    }
}
