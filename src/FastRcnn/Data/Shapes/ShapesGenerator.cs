using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace FastRcnn.Data;

/// <summary>Settings of <see cref="ShapesGenerator"/>.</summary>
public sealed record ShapesOptions
{
    /// <summary>Images in the <c>train</c> split.</summary>
    public int TrainImages { get; init; } = 1000;

    /// <summary>Images in the <c>test</c> split.</summary>
    public int TestImages { get; init; } = 300;

    /// <summary>The seed; output bytes depend only on it, the counts and the generator version.</summary>
    public int Seed { get; init; }

    /// <summary>Smallest image side in pixels (each of W, H is uniform in [min, max]).</summary>
    public int MinImageSize { get; init; } = 320;

    /// <summary>Largest image side in pixels.</summary>
    public int MaxImageSize { get; init; } = 500;

    /// <summary>JPEG quality (fixed settings: 4:2:0 chroma subsampling).</summary>
    public int JpegQuality { get; init; } = 90;

    /// <summary>Worker threads; ≤ 0: all processors. Output does not depend on it.</summary>
    public int Threads { get; init; }

    /// <summary>Replace an existing Shapes dataset in the output directory.</summary>
    public bool Overwrite { get; init; }
}

/// <summary>What <see cref="ShapesGenerator.Generate"/> wrote.</summary>
/// <param name="Root">The dataset root (VOC layout).</param>
/// <param name="Images">Images written (train + test).</param>
/// <param name="Objects">Annotated objects.</param>
/// <param name="Difficult">Of those, marked difficult.</param>
/// <param name="Elapsed">Wall time.</param>
public sealed record ShapesResult(string Root, int Images, int Objects, int Difficult, TimeSpan Elapsed)
{
    /// <summary>Images per second of wall time.</summary>
    public double ImagesPerSecond => Images / Math.Max(Elapsed.TotalSeconds, 1e-9);
}

/// <summary>
/// The Shapes benchmark: a synthetic, deterministic detection dataset of eight 2-D shape classes
/// (<see cref="ShapeClass"/>) on textured, cluttered backgrounds with non-class distractors, partial
/// occlusion and border truncation, written in the PASCAL VOC layout (splits <c>train</c> and <c>test</c>).
/// </summary>
/// <remarks>
/// Image i of split s is rendered from its own <see cref="Random"/> seeded with
/// SplitMix64(seed, s, i), so the bytes are the same on every run and independent of thread scheduling
/// (same build of SkiaSharp and same CPU features: Skia's rasteriser and libjpeg-turbo pick SIMD paths at run time).
/// Boxes: the tight bounds of the full shape geometry — occluded parts included — rounded outwards to whole
/// pixels and clipped to the image. Difficult: less than 40% of the shape's pixels visible (occlusion or the
/// border), or a clipped box with √(w·h) &lt; 16 px. Shapes with less than 10% visible are not annotated.
/// Truncated: the full geometry reaches beyond the border.
/// </remarks>
public static class ShapesGenerator
{
    /// <summary>Bumped whenever the rendering changes the output for a seed.</summary>
    public const int Version = 1;

    /// <summary>The class list: <c>__background__</c>, then the <see cref="ShapeClass"/> names in index order.</summary>
    public static IReadOnlyList<string> ClassNames { get; } = DetectionDataset.MakeClassNames(ShapeGeometry.Names);

    /// <summary>The split names written.</summary>
    public static readonly string[] Splits = ["train", "test"];

    /// <summary>
    /// Writes the dataset under <paramref name="root"/>. <paramref name="progress"/> receives the number of images done.
    /// </summary>
    /// <exception cref="IOException">The directory already holds a dataset and <see cref="ShapesOptions.Overwrite"/> is off.</exception>
    public static ShapesResult Generate(string root, ShapesOptions options, IProgress<int>? progress = null, CancellationToken cancel = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(options.TrainImages);
        ArgumentOutOfRangeException.ThrowIfNegative(options.TestImages);
        if (options.MinImageSize < 32 || options.MaxImageSize < options.MinImageSize)
        {
            throw new ArgumentException($"image sizes must satisfy 32 ≤ min ≤ max (got {options.MinImageSize}, {options.MaxImageSize})");
        }
        if (options.JpegQuality is < 1 or > 100) { throw new ArgumentException($"JPEG quality {options.JpegQuality} outside 1..100"); }
        root = Path.GetFullPath(root);
        PrepareDirectory(root, options.Overwrite);
        VocWriter.WriteClassFile(ClassNames, root);
        var imageDir = Path.Combine(root, "JPEGImages");
        Directory.CreateDirectory(imageDir);
        Directory.CreateDirectory(Path.Combine(root, "Annotations"));

        var watch = Stopwatch.StartNew();
        int done = 0, objects = 0, difficult = 0;
        var parallel = new ParallelOptions
        {
            MaxDegreeOfParallelism = options.Threads > 0 ? options.Threads : Environment.ProcessorCount,
            CancellationToken = cancel,
        };
        foreach (var (split, splitIndex) in Splits.Select((s, i) => (s, i)))
        {
            int count = split == "train" ? options.TrainImages : options.TestImages;
            var ids = Enumerable.Range(0, count).Select(i => $"{split}_{i:D6}").ToArray();
            try
            {
                Parallel.For(0, count, parallel, i => RenderOne(i));
            }
            catch (AggregateException e) when (e.InnerExceptions.Count > 0)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerExceptions[0]);
            }
            VocWriter.WriteSplit(root, split, ids);

            void RenderOne(int i)
            {
                var imagePath = Path.Combine(imageDir, ids[i] + ".jpg");
                var (record, jpeg) = ShapesScene.Render(ImageSeed(options.Seed, splitIndex, i), ids[i], imagePath, options);
                File.WriteAllBytes(imagePath, jpeg);
                VocWriter.WriteAnnotation(record, ClassNames, root);
                Interlocked.Add(ref objects, record.Objects.Count);
                Interlocked.Add(ref difficult, record.Objects.Count(o => o.Difficult));
                int finished = Interlocked.Increment(ref done); // outside ?.: must run without a progress sink too
                progress?.Report(finished);
            }
        }
        WriteInfo(root, options);
        return new ShapesResult(root, done, objects, difficult, watch.Elapsed);
    }

    /// <summary>The per-image seed: SplitMix64 finaliser of (seed, split, index), folded to 31 bits.</summary>
    public static int ImageSeed(int seed, int split, int index)
    {
        ulong z = ((ulong)(uint)seed << 32) ^ ((ulong)(uint)split << 24) ^ (uint)index;
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (int)(z & 0x7FFFFFFF);
    }

    private static void PrepareDirectory(string root, bool overwrite)
    {
        var generated = new[] { "Annotations", "JPEGImages", "ImageSets" };
        bool exists = generated.Any(d => Directory.Exists(Path.Combine(root, d))) || File.Exists(Path.Combine(root, VocReader.ClassFileName));
        if (exists && !overwrite)
        {
            throw new IOException($"{root} already holds a dataset (Annotations/, JPEGImages/, ImageSets/ or classes.txt); choose another directory or overwrite it (ShapesOptions.Overwrite, CLI: --force)");
        }
        foreach (var d in generated.Select(d => Path.Combine(root, d)).Where(Directory.Exists)) { Directory.Delete(d, recursive: true); }
        foreach (var f in new[] { VocReader.ClassFileName, InfoFileName }.Select(f => Path.Combine(root, f)).Where(File.Exists)) { File.Delete(f); }
        Directory.CreateDirectory(root);
    }

    /// <summary>Generation parameters, written next to the data (content key for caches).</summary>
    public const string InfoFileName = "shapes.json";

    /// <summary>
    /// Whether <paramref name="root"/> holds a complete Shapes dataset generated with <paramref name="options"/>'
    /// seed, counts and settings by this generator version (then it need not be generated again).
    /// </summary>
    public static bool IsGenerated(string root, ShapesOptions options)
    {
        string info = Path.Combine(root, InfoFileName);
        if (!File.Exists(info) || Splits.Any(split => !File.Exists(Path.Combine(root, "ImageSets", "Main", split + ".txt")))) return false;
        try
        {
            return File.ReadAllText(info) == InfoJson(options) + "\n";
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static void WriteInfo(string root, ShapesOptions o) =>
        File.WriteAllText(Path.Combine(root, InfoFileName), InfoJson(o) + "\n", new UTF8Encoding(false));

    private static string InfoJson(ShapesOptions o)
    {
        var info = new
        {
            generator = "FastRcnn.Data.ShapesGenerator",
            version = Version,
            seed = o.Seed,
            train = o.TrainImages,
            test = o.TestImages,
            minImageSize = o.MinImageSize,
            maxImageSize = o.MaxImageSize,
            jpegQuality = o.JpegQuality,
            classes = ClassNames.Skip(1).ToArray(),
        };
        return JsonSerializer.Serialize(info, new JsonSerializerOptions { WriteIndented = true });
    }
}
