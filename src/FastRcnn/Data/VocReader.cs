using System.Xml;
using System.Xml.Linq;

namespace FastRcnn.Data;

/// <summary>
/// Reads a PASCAL VOC-layout dataset:
/// <code>
/// root/Annotations/&lt;id&gt;.xml       one file per image
/// root/JPEGImages/&lt;filename&gt;      the images (the XML's &lt;filename&gt;, else &lt;id&gt;.jpg)
/// root/ImageSets/Main/&lt;split&gt;.txt one id per line
/// root/classes.txt                 optional: one object class per line, in index order 1..K
/// </code>
/// Without <c>classes.txt</c> the classes are the distinct object names of all files in
/// <c>Annotations/</c>, sorted ordinally (for VOC2007 this is the standard 20-class order), so
/// every split of one root gets the same class indices.
/// </summary>
/// <remarks>
/// Coordinates: VOC's <c>xmin, ymin, xmax, ymax</c> are 1-based inclusive pixel indices. The
/// project's continuous convention (SPEC §2) is obtained as
/// x1 = xmin − 1, y1 = ymin − 1, x2 = xmax, y2 = ymax, so a box's width x2 − x1 equals
/// VOC's xmax − xmin + 1. Files that (wrongly) use xmin = 0 give x1 = −1, which is clipped to 0
/// and counted in <see cref="LoadReport.ZeroCoordinateBoxes"/> — the original implementation
/// stored these in unsigned integers, underflowed, and crashed when flipping.
/// Boxes reaching outside the image are clipped and counted; boxes empty after clipping are a
/// <see cref="DatasetFormatException"/> unless <see cref="DatasetLoadOptions.SkipDegenerateBoxes"/>.
/// The non-standard element <c>&lt;crowd&gt;1&lt;/crowd&gt;</c> (written by <see cref="VocWriter"/>) is read as
/// <see cref="ObjectAnnotation.Crowd"/>.
/// </remarks>
public static class VocReader
{
    /// <summary>The optional class file at the dataset root.</summary>
    public const string ClassFileName = "classes.txt";

    /// <summary>True when <paramref name="root"/> looks like a VOC-layout directory (has <c>Annotations/</c>).</summary>
    public static bool IsVocRoot(string root) => Directory.Exists(Path.Combine(root, "Annotations"));

    /// <summary>The split names available under <c>ImageSets/Main/</c> (per-class files like <c>cat_train.txt</c> excluded).</summary>
    public static IReadOnlyList<string> AvailableSplits(string root)
    {
        var dir = Path.Combine(root, "ImageSets", "Main");
        if (!Directory.Exists(dir)) { return []; }
        var all = Directory.EnumerateFiles(dir, "*.txt").Select(p => Path.GetFileNameWithoutExtension(p)!).ToHashSet();
        // "<class>_<split>.txt" are VOC's per-class lists of the split "<split>.txt".
        return all.Where(s => !all.Any(t => t != s && s.EndsWith("_" + t, StringComparison.Ordinal)))
            .Order(StringComparer.Ordinal).ToArray();
    }

    /// <summary>
    /// Reads one split. <paramref name="split"/> null: every <c>Annotations/*.xml</c>, in ordinal file-name order.
    /// </summary>
    /// <exception cref="DatasetFormatException">A file is missing or malformed; the message names it.</exception>
    public static DetectionDataset Read(string root, string? split, DatasetLoadOptions? options = null)
    {
        options ??= DatasetLoadOptions.Default;
        root = Path.GetFullPath(root);
        var annotationDir = Path.Combine(root, "Annotations");
        if (!Directory.Exists(annotationDir))
        {
            throw new DatasetFormatException(root, "not a VOC-layout dataset: no Annotations/ directory");
        }
        var ids = split is null ? AllIds(annotationDir) : ReadSplitFile(root, split);
        var classFile = Path.Combine(root, ClassFileName);
        bool fixedClasses = File.Exists(classFile);
        var classNames = fixedClasses ? ReadClassFile(classFile) : ScanClassNames(annotationDir);
        var classIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int k = 1; k < classNames.Count; k++) { classIndex[classNames[k]] = k; }

        var report = new LoadReportBuilder();
        var images = new List<ImageRecord>(ids.Count);
        foreach (var id in ids)
        {
            var xmlPath = Path.Combine(annotationDir, id + ".xml");
            var image = VocAnnotationParser.Parse(root, id, xmlPath, classIndex, fixedClasses ? classFile : null, options, report);
            if (image is not null) { images.Add(image); }
        }
        return new DetectionDataset(classNames, images, split ?? "all", report.Build(), root);
    }

    /// <summary>Reads a class file: one name per line; blank lines and <c>#</c> comments ignored; a leading <c>__background__</c> is dropped.</summary>
    public static IReadOnlyList<string> ReadClassFile(string path)
    {
        var names = File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        if (names.Count > 0 && names[0] == DetectionDataset.Background) { names.RemoveAt(0); }
        if (names.Count == 0) { throw new DatasetFormatException(path, "class file lists no classes"); }
        try
        {
            return DetectionDataset.MakeClassNames(names);
        }
        catch (ArgumentException e)
        {
            throw new DatasetFormatException(path, e.Message, e);
        }
    }

    private static List<string> AllIds(string annotationDir) =>
        Directory.EnumerateFiles(annotationDir, "*.xml").Select(p => Path.GetFileNameWithoutExtension(p)!)
            .Order(StringComparer.Ordinal).ToList();

    private static List<string> ReadSplitFile(string root, string split)
    {
        var path = Path.Combine(root, "ImageSets", "Main", split + ".txt");
        if (!File.Exists(path))
        {
            var available = AvailableSplits(root);
            throw new DatasetFormatException(path, $"split '{split}' not found; available splits: " +
                (available.Count == 0 ? "none" : string.Join(", ", available)));
        }
        var ids = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int lineNo = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNo++;
            var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0) { continue; }
            var id = parts[0];
            if (id.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || id is "." or "..")
            {
                throw new DatasetFormatException(path, $"line {lineNo}: '{id}' is not a valid image id");
            }
            if (!seen.Add(id)) { throw new DatasetFormatException(path, $"line {lineNo}: image id '{id}' listed twice"); }
            ids.Add(id);
        }
        return ids;
    }

    /// <summary>The distinct <c>object/name</c> values of all annotation files, sorted ordinally.</summary>
    private static IReadOnlyList<string> ScanClassNames(string annotationDir)
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var file in AllIds(annotationDir).Select(id => Path.Combine(annotationDir, id + ".xml")))
        {
            try
            {
                var doc = XDocument.Load(file);
                foreach (var obj in doc.Root?.Elements("object") ?? [])
                {
                    var name = obj.Element("name")?.Value.Trim();
                    if (!string.IsNullOrEmpty(name)) { names.Add(name); }
                }
            }
            catch (XmlException e)
            {
                throw new DatasetFormatException(file, $"malformed XML (line {e.LineNumber}): {e.Message}", e);
            }
        }
        if (names.Count == 0)
        {
            throw new DatasetFormatException(annotationDir,
                $"no object names in any annotation and no {ClassFileName}: cannot determine the classes");
        }
        return DetectionDataset.MakeClassNames(names);
    }
}
