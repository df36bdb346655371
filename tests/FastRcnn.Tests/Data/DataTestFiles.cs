using FastRcnn.Data;
using SkiaSharp;

namespace FastRcnn.Tests.Data;

/// <summary>Builders for small datasets on disk.</summary>
public static class DataTestFiles
{
    /// <summary>Writes a flat-grey W×H PNG (extension decides nothing: the codec sniffs the bytes).</summary>
    public static void WriteImage(string path, int width, int height)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        using var bmp = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        bmp.Erase(new SKColor(120, 130, 140));
        using var data = bmp.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
    }

    /// <summary>A VOC object element with 1-based inclusive coordinates.</summary>
    public static string VocObject(string name, string xmin, string ymin, string xmax, string ymax, int difficult = 0) =>
        $"<object><name>{name}</name><difficult>{difficult}</difficult>" +
        $"<bndbox><xmin>{xmin}</xmin><ymin>{ymin}</ymin><xmax>{xmax}</xmax><ymax>{ymax}</ymax></bndbox></object>";

    /// <summary>
    /// Writes a one-image VOC dataset: <c>Annotations/img.xml</c> with <paramref name="objects"/>,
    /// a <paramref name="width"/>×<paramref name="height"/> image, split "all", and an optional class file.
    /// Returns the annotation path.
    /// </summary>
    public static string WriteVocImage(string root, string objects, int width = 100, int height = 80,
        string[]? classes = null, string id = "img", bool writeImage = true, string? rawXml = null)
    {
        var xmlPath = System.IO.Path.Combine(root, "Annotations", id + ".xml");
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(xmlPath)!);
        File.WriteAllText(xmlPath, rawXml ??
            $"<annotation><filename>{id}.jpg</filename><size><width>{width}</width><height>{height}</height><depth>3</depth></size>{objects}</annotation>");
        if (writeImage) { WriteImage(System.IO.Path.Combine(root, "JPEGImages", id + ".jpg"), width, height); }
        var splitDir = System.IO.Path.Combine(root, "ImageSets", "Main");
        Directory.CreateDirectory(splitDir);
        var splitFile = System.IO.Path.Combine(splitDir, "all.txt");
        File.AppendAllText(splitFile, id + "\n");
        if (classes is not null) { File.WriteAllLines(System.IO.Path.Combine(root, VocReader.ClassFileName), classes); }
        return xmlPath;
    }

    /// <summary>Asserts that loading throws a <see cref="DatasetFormatException"/> that names <paramref name="file"/>.</summary>
    public static DatasetFormatException AssertFormatError(Func<object> load, string file, string? mentions = null)
    {
        var e = Assert.Throws<DatasetFormatException>(load);
        Assert.Equal(System.IO.Path.GetFullPath(file), e.FilePath);
        Assert.Contains(System.IO.Path.GetFullPath(file), e.Message);
        if (mentions is not null) { Assert.Contains(mentions, e.Message); }
        return e;
    }
}
