using System.Globalization;
using System.Xml;
using System.Xml.Linq;

namespace FastRcnn.Data;

/// <summary>Parses one VOC annotation file into an <see cref="ImageRecord"/> (conventions: see <see cref="VocReader"/>).</summary>
internal static class VocAnnotationParser
{
    private static readonly string[] ImageExtensions = [".jpg", ".jpeg", ".png", ".bmp", ".webp"];

    /// <summary>
    /// Returns null when the image is skipped (unreadable image with <see cref="DatasetLoadOptions.SkipUnreadableImages"/>).
    /// <paramref name="classFile"/> non-null: names outside <paramref name="classIndex"/> are errors that cite it.
    /// </summary>
    public static ImageRecord? Parse(string root, string id, string xmlPath, IReadOnlyDictionary<string, int> classIndex,
        string? classFile, DatasetLoadOptions options, LoadReportBuilder report)
    {
        if (!File.Exists(xmlPath))
        {
            throw new DatasetFormatException(xmlPath, "annotation file not found");
        }
        XElement ann;
        try
        {
            ann = XDocument.Load(xmlPath).Root ?? throw new DatasetFormatException(xmlPath, "empty XML document");
        }
        catch (XmlException e)
        {
            throw new DatasetFormatException(xmlPath, $"malformed XML (line {e.LineNumber}): {e.Message}", e);
        }
        if (ann.Name.LocalName != "annotation")
        {
            throw new DatasetFormatException(xmlPath, $"root element is <{ann.Name.LocalName}>, expected <annotation>");
        }

        var imagePath = ResolveImagePath(root, id, ann.Element("filename")?.Value.Trim());
        int width = OptionalInt(ann.Element("size")?.Element("width"), xmlPath, "size/width");
        int height = OptionalInt(ann.Element("size")?.Element("height"), xmlPath, "size/height");
        if (options.CheckImages || width <= 0 || height <= 0)
        {
            var size = DatasetChecks.TryReadImageSize(imagePath, out var reason, options.VerifyPixels);
            if (size is null)
            {
                if (options.SkipUnreadableImages)
                {
                    report.SkippedImage($"{imagePath}: {reason} (annotation {xmlPath}); image skipped");
                    return null;
                }
                throw new DatasetFormatException(imagePath, $"{reason} (annotated in {xmlPath}); pass --skip-bad-images to skip such images");
            }
            var (fileWidth, fileHeight) = (size.Value.Width, size.Value.Height);
            if ((width > 0 || height > 0) && (width, height) != (fileWidth, fileHeight))
            {
                report.SizeMismatch($"{xmlPath}: annotated size {width}x{height}, image {DatasetChecks.DescribeFileSize(size.Value)}; file size used");
            }
            (width, height) = (fileWidth, fileHeight);
        }

        var objects = new List<ObjectAnnotation>();
        int objectNo = 0;
        foreach (var obj in ann.Elements("object"))
        {
            objectNo++;
            var parsed = ParseObject(obj, objectNo, xmlPath, width, height, classIndex, classFile, options, report);
            if (parsed is not null) { objects.Add(parsed); }
        }
        return new ImageRecord(id, imagePath, width, height, objects.AsReadOnly());
    }

    private static ObjectAnnotation? ParseObject(XElement obj, int objectNo, string xmlPath, int width, int height,
        IReadOnlyDictionary<string, int> classIndex, string? classFile, DatasetLoadOptions options, LoadReportBuilder report)
    {
        var name = obj.Element("name")?.Value.Trim();
        var what = $"object #{objectNo}" + (string.IsNullOrEmpty(name) ? "" : $" ('{name}')");
        if (string.IsNullOrEmpty(name))
        {
            throw new DatasetFormatException(xmlPath, $"{what} has no <name>");
        }
        if (!classIndex.TryGetValue(name, out int classIdx))
        {
            throw new DatasetFormatException(xmlPath, $"{what}: unknown class '{name}'" +
                (classFile is null ? "" : $" (not in {classFile})"));
        }
        var bnd = obj.Element("bndbox") ?? throw new DatasetFormatException(xmlPath, $"{what} has no <bndbox>");
        double xmin = Coordinate(bnd, "xmin", xmlPath, what), ymin = Coordinate(bnd, "ymin", xmlPath, what);
        double xmax = Coordinate(bnd, "xmax", xmlPath, what), ymax = Coordinate(bnd, "ymax", xmlPath, what);
        // 1-based inclusive → continuous: x1 = xmin − 1, x2 = xmax (in double, then rounded once to float).
        var box = new BoundingBox((float)(xmin - 1), (float)(ymin - 1), (float)xmax, (float)ymax);
        bool zero = xmin - 1 < 0 || ymin - 1 < 0;
        var clean = DatasetChecks.Sanitize(box, width, height, xmlPath, what, zero, options, report);
        if (clean is null) { return null; }
        return new ObjectAnnotation(clean.Value, classIdx,
            Difficult: Flag(obj, "difficult", xmlPath, what),
            Crowd: Flag(obj, "crowd", xmlPath, what),
            Truncated: Flag(obj, "truncated", xmlPath, what));
    }

    private static string ResolveImagePath(string root, string id, string? fileName)
    {
        var dir = Path.Combine(root, "JPEGImages");
        if (!string.IsNullOrEmpty(fileName) && fileName.IndexOfAny(Path.GetInvalidFileNameChars()) < 0)
        {
            var named = Path.Combine(dir, fileName);
            if (File.Exists(named)) { return named; }
        }
        foreach (var ext in ImageExtensions)
        {
            var candidate = Path.Combine(dir, id + ext);
            if (File.Exists(candidate)) { return candidate; }
        }
        // Missing: report the path the annotation asks for.
        return Path.Combine(dir, string.IsNullOrEmpty(fileName) ? id + ".jpg" : Path.GetFileName(fileName));
    }

    private static double Coordinate(XElement bnd, string field, string xmlPath, string what)
    {
        var text = bnd.Element(field)?.Value.Trim();
        if (string.IsNullOrEmpty(text))
        {
            throw new DatasetFormatException(xmlPath, $"{what}: <bndbox> has no <{field}>");
        }
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
        {
            throw new DatasetFormatException(xmlPath, $"{what}: <{field}> '{text}' is not a number");
        }
        return v;
    }

    private static int OptionalInt(XElement? e, string xmlPath, string field)
    {
        var text = e?.Value.Trim();
        if (string.IsNullOrEmpty(text)) { return 0; }
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || v < 0 || v != Math.Floor(v) || v > int.MaxValue)
        {
            throw new DatasetFormatException(xmlPath, $"<{field}> '{text}' is not a non-negative integer");
        }
        return (int)v;
    }

    private static bool Flag(XElement obj, string field, string xmlPath, string what)
    {
        var text = obj.Element(field)?.Value.Trim();
        return text switch
        {
            null or "" or "0" or "false" or "False" => false,
            "1" or "true" or "True" => true,
            _ => throw new DatasetFormatException(xmlPath, $"{what}: <{field}> '{text}' is not 0 or 1"),
        };
    }
}
