using System.Globalization;
using System.Text;
using System.Xml;
using System.Xml.Linq;

namespace FastRcnn.Data;

/// <summary>
/// Writes a dataset in the PASCAL VOC layout that <see cref="VocReader"/> reads:
/// <c>Annotations/&lt;id&gt;.xml</c>, <c>ImageSets/Main/&lt;split&gt;.txt</c>, <c>classes.txt</c>, and
/// (optionally) copies the images into <c>JPEGImages/</c>.
/// </summary>
/// <remarks>
/// The inverse of the reader's conversion: xmin = x1 + 1, ymin = y1 + 1, xmax = x2, ymax = y2,
/// computed in double and written with round-trip formatting (integers without a decimal point),
/// so that write → read gives back the same float32 boxes bit for bit.
/// Output is byte-deterministic: UTF-8 without BOM, "\n" line ends, fixed element order.
/// </remarks>
public static class VocWriter
{
    /// <summary>
    /// Writes every image of <paramref name="dataset"/> and the split file <c>&lt;dataset.Split&gt;.txt</c>.
    /// Several splits may share one root if they share the class list.
    /// </summary>
    /// <param name="dataset">The dataset; image ids become file stems and must be valid file names.</param>
    /// <param name="root">The dataset root; created if missing.</param>
    /// <param name="copyImages">Copy image files that are not already in <c>root/JPEGImages/</c>.</param>
    public static void Write(DetectionDataset dataset, string root, bool copyImages = true)
    {
        root = Path.GetFullPath(root);
        WriteClassFile(dataset.ClassNames, root);
        var imageDir = Path.Combine(root, "JPEGImages");
        Directory.CreateDirectory(imageDir);
        foreach (var image in dataset.Images)
        {
            WriteAnnotation(image, dataset.ClassNames, root);
            var target = Path.Combine(imageDir, Path.GetFileName(image.ImagePath));
            if (copyImages && !string.Equals(Path.GetFullPath(image.ImagePath), target, StringComparison.Ordinal))
            {
                File.Copy(image.ImagePath, target, overwrite: true);
            }
        }
        WriteSplit(root, dataset.Split, dataset.Images.Select(i => i.Id));
    }

    /// <summary>
    /// Writes <c>root/classes.txt</c> (object classes 1..K, one per line). If the file exists with a
    /// different list, throws <see cref="InvalidOperationException"/> instead of silently renumbering classes.
    /// </summary>
    public static void WriteClassFile(IReadOnlyList<string> classNames, string root)
    {
        Directory.CreateDirectory(root);
        var path = Path.Combine(root, VocReader.ClassFileName);
        var text = string.Concat(classNames.Skip(1).Select(n => n + "\n"));
        if (File.Exists(path))
        {
            var existing = VocReader.ReadClassFile(path);
            if (!existing.SequenceEqual(classNames, StringComparer.Ordinal))
            {
                throw new InvalidOperationException($"{path} already lists different classes: {string.Join(", ", existing.Skip(1))}");
            }
            return;
        }
        File.WriteAllText(path, text, new UTF8Encoding(false));
    }

    /// <summary>Writes <c>root/ImageSets/Main/&lt;split&gt;.txt</c>, one id per line.</summary>
    public static void WriteSplit(string root, string split, IEnumerable<string> ids)
    {
        var dir = Path.Combine(root, "ImageSets", "Main");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, split + ".txt"), string.Concat(ids.Select(id => id + "\n")), new UTF8Encoding(false));
    }

    /// <summary>Writes <c>root/Annotations/&lt;image.Id&gt;.xml</c>. Thread-safe for distinct images.</summary>
    public static void WriteAnnotation(ImageRecord image, IReadOnlyList<string> classNames, string root)
    {
        if (image.Id.Length == 0 || image.Id.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || image.Id is "." or "..")
        {
            throw new ArgumentException($"image id '{image.Id}' is not a valid file name", nameof(image));
        }
        var dir = Path.Combine(root, "Annotations");
        Directory.CreateDirectory(dir);
        var doc = new XElement("annotation",
            new XElement("folder", "JPEGImages"),
            new XElement("filename", Path.GetFileName(image.ImagePath)),
            new XElement("size",
                new XElement("width", image.Width),
                new XElement("height", image.Height),
                new XElement("depth", 3)),
            new XElement("segmented", 0),
            image.Objects.Select(o => ObjectElement(o, classNames, image.Id)));
        var settings = new XmlWriterSettings
        {
            Indent = true,
            IndentChars = "  ",
            NewLineChars = "\n",
            Encoding = new UTF8Encoding(false),
            OmitXmlDeclaration = true,
        };
        using var stream = File.Create(Path.Combine(dir, image.Id + ".xml"));
        using (var writer = XmlWriter.Create(stream, settings))
        {
            doc.WriteTo(writer);
        }
        stream.WriteByte((byte)'\n');
    }

    private static XElement ObjectElement(ObjectAnnotation o, IReadOnlyList<string> classNames, string id)
    {
        if (o.ClassIndex < 1 || o.ClassIndex >= classNames.Count)
        {
            throw new ArgumentException($"image '{id}': class index {o.ClassIndex} outside 1..{classNames.Count - 1}");
        }
        var e = new XElement("object",
            new XElement("name", classNames[o.ClassIndex]),
            new XElement("pose", "Unspecified"),
            new XElement("truncated", o.Truncated ? 1 : 0),
            new XElement("difficult", o.Difficult ? 1 : 0));
        if (o.Crowd) { e.Add(new XElement("crowd", 1)); }
        e.Add(new XElement("bndbox",
            new XElement("xmin", Number((double)o.Box.X1 + 1)),
            new XElement("ymin", Number((double)o.Box.Y1 + 1)),
            new XElement("xmax", Number(o.Box.X2)),
            new XElement("ymax", Number(o.Box.Y2))));
        return e;
    }

    /// <summary>Integers as "48", others in round-trip form ("12.25").</summary>
    private static string Number(double v) =>
        v == Math.Floor(v) && Math.Abs(v) < 1e9 ? ((long)v).ToString(CultureInfo.InvariantCulture) : v.ToString("R", CultureInfo.InvariantCulture);
}
