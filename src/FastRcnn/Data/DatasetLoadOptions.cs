using FastRcnn.Imaging;

namespace FastRcnn.Data;

/// <summary>How strict a dataset reader is.</summary>
public sealed record DatasetLoadOptions
{
    /// <summary>The defaults: strict about boxes, images checked, stop on a bad image.</summary>
    public static DatasetLoadOptions Default { get; } = new();

    /// <summary>
    /// Drop (and count) boxes with x2 ≤ x1 or y2 ≤ y1 after clipping instead of throwing
    /// a <see cref="DatasetFormatException"/> (CLI: <c>--skip-degenerate-boxes</c>, which the message names).
    /// </summary>
    public bool SkipDegenerateBoxes { get; init; }

    /// <summary>
    /// Drop (and count) images whose file is missing or unreadable (or over <see cref="Imaging.ImageIO.MaxPixels"/>)
    /// instead of throwing (CLI: <c>--skip-bad-images</c>, which the message names).
    /// </summary>
    public bool SkipUnreadableImages { get; init; }

    /// <summary>
    /// Open every image file's header (cheap: no pixels are decoded) to check that it exists,
    /// is a decodable image, and has the annotated size. Off: only annotation files are read.
    /// </summary>
    public bool CheckImages { get; init; } = true;

    /// <summary>
    /// With <see cref="CheckImages"/>, also decode every image's pixels, so truncated or corrupt
    /// image data (which a header check cannot see) is caught at load time. Slow: a full decode.
    /// </summary>
    public bool VerifyPixels { get; init; }
}

/// <summary>A dataset file is malformed; the message names the file and what is wrong.</summary>
public sealed class DatasetFormatException : Exception
{
    /// <summary>Creates the exception; the message becomes "<paramref name="filePath"/>: <paramref name="problem"/>".</summary>
    public DatasetFormatException(string filePath, string problem, Exception? inner = null)
        : base($"{filePath}: {problem}", inner)
    {
        FilePath = filePath;
        Problem = problem;
    }

    /// <summary>The offending file.</summary>
    public string FilePath { get; }

    /// <summary>What is wrong with it.</summary>
    public string Problem { get; }
}

/// <summary>Box sanitising and image-header checks shared by the readers.</summary>
internal static class DatasetChecks
{
    /// <summary>
    /// Clips a box to [0, W] × [0, H] (counted in the report) and rejects or drops it when it is
    /// degenerate afterwards. Returns null when the box is dropped.
    /// </summary>
    public static BoundingBox? Sanitize(BoundingBox box, int width, int height, string file, string what,
        bool zeroCoordinate, DatasetLoadOptions options, LoadReportBuilder report)
    {
        if (!float.IsFinite(box.X1) || !float.IsFinite(box.Y1) || !float.IsFinite(box.X2) || !float.IsFinite(box.Y2))
        {
            throw new DatasetFormatException(file, $"{what}: box {box} has a non-finite coordinate");
        }
        var clipped = box;
        if (box.IsOutside(width, height))
        {
            clipped = box.ClipTo(width, height);
            report.Clipped(zeroCoordinate, $"{file}: {what}: box {box} clipped to the {width}x{height} image: {clipped}");
        }
        if (clipped.IsValid)
        {
            return clipped;
        }
        if (!options.SkipDegenerateBoxes)
        {
            throw new DatasetFormatException(file,
                $"{what}: box {box} is empty after clipping to the {width}x{height} image ({clipped}: needs x2 > x1 and y2 > y1); " +
                "pass --skip-degenerate-boxes to drop such boxes");
        }
        report.Degenerate($"{file}: {what}: degenerate box {box} dropped");
        return null;
    }

    /// <summary>
    /// Reads an image file's header without decoding pixels (<see cref="ImageIO.ReadHeader(string)"/>: the displayed size,
    /// EXIF orientation applied), or with <paramref name="verifyPixels"/> decodes it fully.
    /// Returns null with a reason when the file is missing or not a decodable image.
    /// </summary>
    public static ImageHeader? TryReadImageSize(string path, out string reason, bool verifyPixels = false)
    {
        if (!File.Exists(path))
        {
            reason = "image file not found";
            return null;
        }
        ImageHeader header;
        try
        {
            header = ImageIO.ReadHeader(path);
        }
        catch (ImageDecodeException e)
        {
            reason = $"not a readable image: {e.Problem}";
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            reason = $"cannot read image file: {e.Message}";
            return null;
        }
        try
        {
            if (verifyPixels) ImageIO.Read(path);
            reason = "";
            return header;
        }
        catch (ImageDecodeException e)
        {
            reason = e.Problem;
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            reason = $"cannot read image file: {e.Message}";
            return null;
        }
    }

    /// <summary>"file 600x800", with the stored size and the EXIF orientation when the file is turned for display.</summary>
    public static string DescribeFileSize(ImageHeader header) =>
        header.Orientation == ExifOrientation.Normal
            ? $"file {header.Width}x{header.Height}"
            : $"file {header.Width}x{header.Height} as displayed (stored {header.StoredSize.Width}x{header.StoredSize.Height}, " +
              $"EXIF orientation {ExifOrientation.Describe(header.Orientation)})";
}
