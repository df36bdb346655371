using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using FastRcnn.Data;
using FastRcnn.Imaging;
using FastRcnn.Inference;
using FastRcnn.IO;
using FastRcnn.Ops;
using static TorchSharp.torch;

namespace FastRcnn.Modeling.Svm;

/// <summary>Which boxes' pool5 features a <see cref="FeatureCache"/> stores.</summary>
/// <param name="RegressionIoU">Proposals whose largest IoU with a ground-truth box exceeds this (R-CNN's box regression examples, 0.6) get their pool5 feature stored, as do the ground-truth boxes.</param>
/// <param name="Pool5ForAllBoxes">Store pool5 for every box (R-CNN's own cache; for VGG16 about 100 KB per box).</param>
public sealed record FeatureCacheOptions(double RegressionIoU = 0.6, bool Pool5ForAllBoxes = false);

/// <summary>
/// R-CNN's feature cache on disk: for every training image, the fc7 features of its ground-truth boxes and proposals,
/// the pool5 features of the boxes the box regressors learn from (<see cref="FeatureCacheOptions"/>), and each box's
/// overlaps with the ground truth. One safetensors file per image and an <c>index.json</c>, each written atomically;
/// <see cref="TotalBytes"/> is the disk it takes (part of the cost Fast R-CNN's Table 4 compares).
/// </summary>
public sealed class FeatureCache
{
    /// <summary>The index file's name inside the cache directory.</summary>
    public const string IndexFileName = "index.json";
    private const string Format = "fastrcnn-feature-cache";
    private const int Version = 1;

    private FeatureCache(string directory, int numClasses, int fc7Width, int pool5Width, IReadOnlyList<string> imageIds,
        IReadOnlyList<string> files, long totalBytes, FeatureCacheOptions options)
    {
        Directory = directory;
        NumClasses = numClasses;
        Fc7Width = fc7Width;
        Pool5Width = pool5Width;
        ImageIds = imageIds;
        _files = files;
        TotalBytes = totalBytes;
        Options = options;
    }

    private readonly IReadOnlyList<string> _files;

    /// <summary>The cache directory.</summary>
    public string Directory { get; }

    /// <summary>K, the object classes.</summary>
    public int NumClasses { get; }

    /// <summary>D7.</summary>
    public int Fc7Width { get; }

    /// <summary>D5.</summary>
    public int Pool5Width { get; }

    /// <summary>The cached images' ids, in cache order.</summary>
    public IReadOnlyList<string> ImageIds { get; }

    /// <summary>The images cached.</summary>
    public int Count => ImageIds.Count;

    /// <summary>Bytes on disk, the index included.</summary>
    public long TotalBytes { get; }

    /// <summary>What was stored.</summary>
    public FeatureCacheOptions Options { get; }

    /// <summary>
    /// Computes and writes the cache of <paramref name="dataset"/>'s images into <paramref name="directory"/> (created;
    /// an existing cache there is replaced): each image is read, transformed by <paramref name="transform"/> and its
    /// ground-truth boxes (difficult and crowd objects left out) and proposals (<paramref name="proposalsFor"/>, (P,4) in
    /// its pixels; clipped, invalid ones dropped) go through <paramref name="source"/>. <paramref name="progress"/>
    /// receives the number of images done.
    /// </summary>
    public static FeatureCache Build(IRegionFeatureSource source, DetectionDataset dataset, ImageTransform transform,
        Func<ImageRecord, Tensor> proposalsFor, string directory, FeatureCacheOptions? options = null,
        PredictOptions? predictOptions = null, IProgress<int>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(dataset);
        options ??= new FeatureCacheOptions();
        IEnumerable<FeatureCacheEntry> Entries()
        {
            for (int i = 0; i < dataset.Images.Count; i++)
            {
                cancellation.ThrowIfCancellationRequested();
                var image = dataset.Images[i];
                FeatureCacheEntry entry;
                using (var scope = NewDisposeScope())
                {
                    var rgb = ImageIO.Read(image.ImagePath);
                    using var test = transform.Apply(rgb.ToTensor());
                    entry = Describe(image, proposalsFor(image), dataset.NumClasses, options);
                    using var boxes = tensor(entry.Boxes, [entry.Rows, 4]);
                    using var features = source.RegionFeatures(test, boxes, predictOptions);
                    var fc7 = Values<float>(features.Fc7.to_type(ScalarType.Float32));
                    var rows = tensor(entry.Pool5Rows, [entry.Pool5Rows.Length]);
                    var pool5 = Values<float>(features.Pool5.to_type(ScalarType.Float32).index_select(0, rows));
                    entry = entry with { Fc7 = fc7, Fc7Width = source.Fc7Width, Pool5 = pool5, Pool5Width = source.Pool5Width };
                }
                yield return entry;
                progress?.Report(i + 1);
            }
        }
        return Write(directory, dataset.NumClasses, source.Fc7Width, source.Pool5Width, options, Entries());
    }

    /// <summary>
    /// Writes <paramref name="entries"/> (features filled in, widths <paramref name="fc7Width"/> and
    /// <paramref name="pool5Width"/>) as the cache in <paramref name="directory"/> (created; an existing cache there is
    /// replaced: its index is removed first, written last).
    /// </summary>
    public static FeatureCache Write(string directory, int numClasses, int fc7Width, int pool5Width, FeatureCacheOptions options,
        IEnumerable<FeatureCacheEntry> entries)
    {
        System.IO.Directory.CreateDirectory(directory);
        string indexPath = Path.Combine(directory, IndexFileName);
        if (File.Exists(indexPath)) File.Delete(indexPath);
        var images = new JsonArray();
        int i = 0;
        foreach (var entry in entries)
        {
            if (entry.NumClasses != numClasses || entry.Fc7Width != fc7Width || entry.Pool5Width != pool5Width
                || entry.Fc7.Length != entry.Rows * fc7Width || entry.Pool5.Length != entry.Pool5Rows.Length * pool5Width)
                throw new ArgumentException($"feature cache entry of image '{entry.ImageId}': sizes disagree with the cache's ({numClasses} classes, fc7 {fc7Width}, pool5 {pool5Width})");
            string file = string.Create(CultureInfo.InvariantCulture, $"{i++:D6}.safetensors");
            string path = Path.Combine(directory, file);
            WriteEntry(path, entry);
            images.Add(new JsonObject { ["id"] = entry.ImageId, ["file"] = file, ["bytes"] = new FileInfo(path).Length });
        }
        var index = new JsonObject
        {
            ["format"] = Format,
            ["version"] = Version,
            ["num_classes"] = numClasses,
            ["fc7_width"] = fc7Width,
            ["pool5_width"] = pool5Width,
            ["regression_iou"] = options.RegressionIoU,
            ["pool5_for_all_boxes"] = options.Pool5ForAllBoxes,
            ["images"] = images,
        };
        AtomicFile.WriteAllText(indexPath, index.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        return Open(directory);
    }

    /// <summary>Opens the cache in <paramref name="directory"/>; a missing or malformed index throws, naming the file.</summary>
    public static FeatureCache Open(string directory)
    {
        string path = Path.Combine(directory, IndexFileName);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no feature cache index", path);
        InvalidDataException Bad(string what) => new($"{path}: {what}");
        try
        {
            var root = JsonNode.Parse(File.ReadAllText(path))?.AsObject() ?? throw Bad("empty file");
            if (root["format"]?.GetValue<string>() != Format) throw Bad($"\"format\" must be \"{Format}\"");
            if (root["version"]?.GetValue<int>() != Version) throw Bad($"unsupported version (this build reads {Version})");
            var images = root["images"]!.AsArray();
            var ids = images.Select(n => n!["id"]!.GetValue<string>()).ToList();
            var files = images.Select(n => n!["file"]!.GetValue<string>()).ToList();
            long total = new FileInfo(path).Length;
            foreach (var file in files)
            {
                var info = new FileInfo(Path.Combine(directory, file));
                if (!info.Exists) throw Bad($"lists {file}, which is missing");
                total += info.Length;
            }
            var options = new FeatureCacheOptions(root["regression_iou"]!.GetValue<double>(), root["pool5_for_all_boxes"]!.GetValue<bool>());
            return new FeatureCache(directory, root["num_classes"]!.GetValue<int>(), root["fc7_width"]!.GetValue<int>(),
                root["pool5_width"]!.GetValue<int>(), ids, files, total, options);
        }
        catch (Exception e) when (e is JsonException or NullReferenceException or InvalidOperationException or FormatException)
        {
            throw Bad($"not a feature cache index ({e.Message})");
        }
    }

    /// <summary>Reads image <paramref name="index"/> (cache order).</summary>
    public FeatureCacheEntry Read(int index)
    {
        string path = Path.Combine(Directory, _files[index]);
        var contents = SafeTensors.Read(path);
        try
        {
            T[] Array<T>(string name) where T : unmanaged => Values<T>(contents[name]);
            var entry = new FeatureCacheEntry(ImageIds[index], NumClasses, Array<float>("boxes"), Array<long>("gt_classes"),
                Array<float>("class_iou"), Array<float>("max_iou"), Array<long>("matched_classes"), Array<float>("matched_gt_boxes"),
                Array<float>("fc7"), Fc7Width, Array<long>("pool5_rows"), Array<float>("pool5"), Pool5Width);
            if (entry.Fc7.Length != entry.Rows * Fc7Width || entry.Pool5.Length != entry.Pool5Rows.Length * Pool5Width ||
                entry.ClassIoU.Length != entry.Rows * NumClasses || entry.Boxes.Length != 4 * entry.Rows)
                throw new InvalidDataException($"{path}: tensor sizes disagree with the cache index");
            return entry;
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidDataException($"{path}: not a feature cache entry ({e.Message})");
        }
        finally
        {
            foreach (var (_, t) in contents.Tensors) t.Dispose();
        }
    }

    /// <summary>Every image, read one at a time, in cache order.</summary>
    public IEnumerable<FeatureCacheEntry> Entries()
    {
        for (int i = 0; i < Count; i++) yield return Read(i);
    }

    /// <summary>
    /// The rows of one image, their overlaps and which of them keep pool5 (features left empty): ground-truth boxes
    /// (non-difficult, non-crowd) first, then the valid proposals clipped to the image.
    /// </summary>
    internal static FeatureCacheEntry Describe(ImageRecord image, Tensor proposals, int numClasses, FeatureCacheOptions options)
    {
        var gt = image.Objects.Where(o => !o.Difficult && !o.Crowd && o.Box.IsValid).ToList();
        using var scope = NewDisposeScope();
        var clipped = BoxOps.Clip(proposals.to_type(ScalarType.Float32).reshape(-1, 4), image.Height, image.Width);
        clipped = clipped.index_select(0, BoxOps.IsValid(clipped).nonzero().flatten()).contiguous();
        var proposalBoxes = Values<float>(clipped);
        int g = gt.Count, r = g + proposalBoxes.Length / 4;
        var boxes = new float[4 * r];
        var gtClasses = new long[r];
        for (int i = 0; i < g; i++)
        {
            var b = gt[i].Box;
            (boxes[4 * i], boxes[4 * i + 1], boxes[4 * i + 2], boxes[4 * i + 3]) = (b.X1, b.Y1, b.X2, b.Y2);
            gtClasses[i] = gt[i].ClassIndex;
        }
        proposalBoxes.CopyTo(boxes, 4 * g);
        var classIoU = new float[r * numClasses];
        var maxIoU = new float[r];
        var matchedClasses = new long[r];
        var matched = (float[])boxes.Clone();
        if (g > 0)
        {
            var iou = BoxOps.PairwiseIoU(tensor(boxes, [r, 4]), tensor(boxes.AsSpan(0, 4 * g).ToArray(), [g, 4])).contiguous().data<float>().ToArray();
            for (int row = 0; row < r; row++)
            {
                int best = -1;
                for (int j = 0; j < g; j++)
                {
                    float v = iou[row * g + j];
                    int at = row * numClasses + gt[j].ClassIndex - 1;
                    if (v > classIoU[at]) classIoU[at] = v;
                    if (best < 0 || v > maxIoU[row]) { best = j; maxIoU[row] = v; }
                }
                matchedClasses[row] = gt[best].ClassIndex;
                Array.Copy(boxes, 4 * best, matched, 4 * row, 4);
            }
        }
        var pool5Rows = Enumerable.Range(0, r)
            .Where(row => options.Pool5ForAllBoxes || row < g || maxIoU[row] > options.RegressionIoU)
            .Select(row => (long)row).ToArray();
        return new FeatureCacheEntry(image.Id, numClasses, boxes, gtClasses, classIoU, maxIoU, matchedClasses, matched,
            [], 0, pool5Rows, [], 0);
    }

    /// <summary>A tensor's values in row-major order (an empty array for an empty tensor, which TorchSharp's accessor refuses).</summary>
    private static T[] Values<T>(Tensor t) where T : unmanaged => t.numel() == 0 ? [] : t.contiguous().data<T>().ToArray();

    private static void WriteEntry(string path, FeatureCacheEntry entry)
    {
        int r = entry.Rows;
        using var scope = NewDisposeScope();
        SafeTensors.Write(path, new Dictionary<string, Tensor>
        {
            ["boxes"] = tensor(entry.Boxes, [r, 4]),
            ["gt_classes"] = tensor(entry.GtClasses, [r]),
            ["class_iou"] = tensor(entry.ClassIoU, [r, entry.NumClasses]),
            ["max_iou"] = tensor(entry.MaxIoU, [r]),
            ["matched_classes"] = tensor(entry.MatchedClasses, [r]),
            ["matched_gt_boxes"] = tensor(entry.MatchedGtBoxes, [r, 4]),
            ["fc7"] = tensor(entry.Fc7, [r, entry.Fc7Width]),
            ["pool5_rows"] = tensor(entry.Pool5Rows, [entry.Pool5Rows.Length]),
            ["pool5"] = tensor(entry.Pool5, [entry.Pool5Rows.Length, entry.Pool5Width]),
        }, new Dictionary<string, string> { ["image_id"] = entry.ImageId });
    }
}
