using System.Runtime.InteropServices;
using FastRcnn.IO;
using SkiaSharp;
using static TorchSharp.torch;

namespace FastRcnn.Imaging;

/// <summary>
/// Image decoding and encoding (SkiaSharp). Decodes JPEG, PNG and BMP (and whatever else Skia
/// decodes: GIF first frame, WebP, ICO) into 8-bit RGB; encodes PNG (lossless) and JPEG.
/// </summary>
/// <remarks>
/// Decoding returns the image as displayed: the EXIF orientation is applied (<see cref="ExifOrientation"/>,
/// as browsers, annotation tools and detectron2's <c>read_image</c> do, so boxes drawn on the displayed
/// image fit), with no colour-profile conversion; grey and palette images are expanded to RGB; an alpha
/// channel is dropped (not composited). Sizes (<see cref="ReadHeader(string)"/>, <see cref="TryReadSize"/>) are
/// displayed sizes too. An image of more than <see cref="MaxPixels"/> pixels is refused from its header,
/// before any pixel memory is allocated. Every decoding failure is an <see cref="ImageDecodeException"/>
/// naming the source. File writes are atomic: the bytes go to a temporary file in the target
/// directory, which is then renamed over the target, so readers never see a partial image.
/// </remarks>
public static class ImageIO
{
    /// <summary>Default JPEG quality (1–100).</summary>
    public const int DefaultJpegQuality = 95;

    /// <summary>
    /// The default of <see cref="MaxPixels"/>: 50 megapixels (an 8660×5773 photo; decoding needs 7 bytes a pixel,
    /// 0.35 GB, and training or detection more). Cameras reach 50 MP; a file that declares more is usually a
    /// mistake or a decompression bomb (a 213-byte PNG can declare 23000×23000).
    /// </summary>
    public const long DefaultMaxPixels = 50_000_000;

    private static long s_maxPixels = DefaultMaxPixels;
    private static readonly AsyncLocal<long?> ScopedMaxPixels = new();

    /// <summary>
    /// The most pixels (W·H) an image may have: larger ones are refused with an <see cref="ImageDecodeException"/>
    /// naming the file, its size and this limit, checked from the header before anything is allocated — by every
    /// decode and by <see cref="ReadHeader(string)"/> (so dataset loading finds such files up front). Process-wide, default
    /// <see cref="DefaultMaxPixels"/>; <see cref="LimitPixels"/> overrides it for one operation (the CLI's
    /// <c>--max-image-pixels</c>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to less than 1.</exception>
    public static long MaxPixels
    {
        get => ScopedMaxPixels.Value ?? Volatile.Read(ref s_maxPixels);
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            Volatile.Write(ref s_maxPixels, value);
        }
    }

    /// <summary>
    /// Sets <see cref="MaxPixels"/> to <paramref name="maxPixels"/> for the calling flow — this thread and the tasks,
    /// threads and parallel loops it starts — until the result is disposed; other threads keep theirs.
    /// </summary>
    public static IDisposable LimitPixels(long maxPixels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPixels, 1);
        var previous = ScopedMaxPixels.Value;
        ScopedMaxPixels.Value = maxPixels;
        return new Restore(() => ScopedMaxPixels.Value = previous);
    }

    private sealed class Restore(Action restore) : IDisposable
    {
        public void Dispose() => restore();
    }

    /// <summary>Reads and decodes the image file at <paramref name="path"/>.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ImageDecodeException">The file is empty, corrupt, truncated or unsupported.</exception>
    public static RgbImage Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Decode(File.ReadAllBytes(path), path);
    }

    /// <summary>Reads the image at <paramref name="path"/> as a CPU tensor (3,H,W) RGB, uint8 or float32 (0–255).</summary>
    public static Tensor ReadTensor(string path, ScalarType dtype = ScalarType.Byte) => Read(path).ToTensor(dtype);

    /// <summary>Decodes an encoded image; <paramref name="sourceName"/> names it in error messages.</summary>
    public static RgbImage Decode(byte[] encoded, string sourceName = "<bytes>")
    {
        ArgumentNullException.ThrowIfNull(encoded);
        if (encoded.Length == 0)
            throw new ImageDecodeException(sourceName, "the data is empty (0 bytes).", ImageDecodeFailure.Empty);
        using var codec = SKCodec.Create(new SKMemoryStream(encoded), out var created);
        if (codec is null)
            throw new ImageDecodeException(sourceName, DescribeCreateFailure(created, encoded, encoded.Length), ImageDecodeFailure.NotAnImage);
        return DecodePixels(codec, sourceName, encoded.Length);
    }

    /// <summary>Decodes an image read to the end of <paramref name="stream"/>.</summary>
    public static RgbImage Decode(Stream stream, string sourceName = "<stream>")
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return Decode(buffer.ToArray(), sourceName);
    }

    /// <summary>Decodes an encoded image to a CPU tensor (3,H,W) RGB, uint8 or float32 (0–255).</summary>
    public static Tensor DecodeTensor(byte[] encoded, ScalarType dtype = ScalarType.Byte, string sourceName = "<bytes>") =>
        Decode(encoded, sourceName).ToTensor(dtype);

    /// <summary>
    /// Reads only the header of the image file at <paramref name="path"/> to get its size
    /// (displayed orientation). False when the file is missing or not a recognised image.
    /// </summary>
    public static bool TryReadSize(string path, out int width, out int height)
    {
        width = height = 0;
        try
        {
            (width, height, _, _) = ReadHeader(path);
            return true;
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }

    /// <summary>
    /// Reads only the header of the image file at <paramref name="path"/>: its displayed size, EXIF orientation
    /// and format. No pixels are decoded, so truncated or corrupt image data is not noticed here.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ImageDecodeException">The file is empty, not a recognised image, its header gives no valid size, or more than <see cref="MaxPixels"/> pixels.</exception>
    public static ImageHeader ReadHeader(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: image file not found", path);
        using var file = File.OpenRead(path);
        int length = (int)Math.Min(file.Length, int.MaxValue);
        if (length == 0) throw new ImageDecodeException(path, "the data is empty (0 bytes).", ImageDecodeFailure.Empty);
        var head = new byte[Math.Min(8, length)];
        file.ReadExactly(head);
        file.Position = 0;
        using var codec = SKCodec.Create(file, out var created)   // takes the stream (and closes it when it fails)
            ?? throw new ImageDecodeException(path, DescribeCreateFailure(created, head, length), ImageDecodeFailure.NotAnImage);
        return Header(codec, path);
    }

    /// <summary>
    /// Reads only the header of an encoded image in memory: its displayed size, EXIF orientation and format, with the
    /// same checks as <see cref="ReadHeader(string)"/> (a recognised format, a valid size, at most <see cref="MaxPixels"/>
    /// pixels) and no pixel memory allocated — for refusing a decompression bomb before decoding it.
    /// <paramref name="sourceName"/> names the data in error messages.
    /// </summary>
    /// <exception cref="ImageDecodeException">The data is empty, not a recognised image, its header gives no valid size, or more than <see cref="MaxPixels"/> pixels.</exception>
    public static ImageHeader ReadHeader(byte[] encoded, string sourceName = "<bytes>")
    {
        ArgumentNullException.ThrowIfNull(encoded);
        if (encoded.Length == 0) throw new ImageDecodeException(sourceName, "the data is empty (0 bytes).", ImageDecodeFailure.Empty);
        using var codec = SKCodec.Create(new SKMemoryStream(encoded), out var created)
            ?? throw new ImageDecodeException(sourceName, DescribeCreateFailure(created, encoded, encoded.Length), ImageDecodeFailure.NotAnImage);
        return Header(codec, sourceName);
    }

    /// <summary>Writes <paramref name="image"/> as PNG to <paramref name="path"/> (atomic; creates the directory).</summary>
    public static void WritePng(RgbImage image, string path) =>
        WriteAtomic(path, s => EncodePng(image, s));

    /// <summary>Writes <paramref name="image"/> as JPEG of <paramref name="quality"/> (1–100) to <paramref name="path"/> (atomic).</summary>
    public static void WriteJpeg(RgbImage image, string path, int quality = DefaultJpegQuality) =>
        WriteAtomic(path, s => EncodeJpeg(image, s, quality));

    /// <summary>
    /// Writes <paramref name="image"/> in the format named by the extension of <paramref name="path"/>:
    /// <c>.png</c>, or <c>.jpg</c>/<c>.jpeg</c> with <paramref name="jpegQuality"/>.
    /// </summary>
    public static void Write(RgbImage image, string path, int jpegQuality = DefaultJpegQuality)
    {
        string ext = Path.GetExtension(path).ToLowerInvariant();
        switch (ext)
        {
            case ".png": WritePng(image, path); break;
            case ".jpg" or ".jpeg": WriteJpeg(image, path, jpegQuality); break;
            default:
                throw new ArgumentException($"Cannot write '{path}': unknown image extension '{ext}' (use .png, .jpg or .jpeg).", nameof(path));
        }
    }

    /// <summary>Encodes <paramref name="image"/> as PNG into <paramref name="destination"/>.</summary>
    public static void EncodePng(RgbImage image, Stream destination) =>
        Encode(image, destination, SKEncodedImageFormat.Png, 100);

    /// <summary>Encodes <paramref name="image"/> as JPEG (4:2:0) of <paramref name="quality"/> (1–100) into <paramref name="destination"/>.</summary>
    public static void EncodeJpeg(RgbImage image, Stream destination, int quality = DefaultJpegQuality)
    {
        if (quality is < 1 or > 100)
            throw new ArgumentOutOfRangeException(nameof(quality), quality, "JPEG quality must be in 1..100.");
        Encode(image, destination, SKEncodedImageFormat.Jpeg, quality);
    }

    /// <summary>The header of an opened codec; throws for a size that is not positive or over <see cref="MaxPixels"/>.</summary>
    private static ImageHeader Header(SKCodec codec, string source)
    {
        int w = codec.Info.Width, h = codec.Info.Height;
        string format = codec.EncodedFormat.ToString().ToUpperInvariant();
        if (w <= 0 || h <= 0)
            throw new ImageDecodeException(source, $"the {format} header gives an invalid size {w}x{h}.", ImageDecodeFailure.InvalidSize);
        long limit = MaxPixels;
        if ((long)w * h > limit)
            throw new ImageDecodeException(source, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"the {format} header declares {w}x{h} pixels ({w * (double)h / 1e6:0.#} megapixels), more than the limit of {limit} " +
                $"({limit / 1e6:0.#} megapixels; --max-image-pixels raises it)."), ImageDecodeFailure.TooManyPixels);
        int orientation = (int)codec.EncodedOrigin is >= 1 and <= 8 and var o ? o : ExifOrientation.Normal;
        var (dw, dh) = ExifOrientation.DisplayedSize(w, h, orientation);
        return new ImageHeader(dw, dh, orientation, format);
    }

    private static RgbImage DecodePixels(SKCodec codec, string source, long byteCount)
    {
        var header = Header(codec, source);
        int w = codec.Info.Width, h = codec.Info.Height;
        string format = header.Format;
        if (4L * w * h > Array.MaxLength)
            throw new ImageDecodeException(source, $"the {format} image is too large to decode ({w}x{h}).", ImageDecodeFailure.TooManyPixels);
        var info = new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var rgba = new byte[4 * w * h];
        var handle = GCHandle.Alloc(rgba, GCHandleType.Pinned);
        SKCodecResult result;
        try { result = codec.GetPixels(info, handle.AddrOfPinnedObject()); }
        finally { handle.Free(); }
        if (result != SKCodecResult.Success)
            throw new ImageDecodeException(source, result switch
            {
                SKCodecResult.IncompleteInput =>
                    $"the {format} data ends early: the file is truncated ({byteCount} bytes for a {w}x{h} image).",
                SKCodecResult.ErrorInInput => $"the {format} data is corrupt ({w}x{h}, {byteCount} bytes).",
                _ => $"the {format} decoder failed ({result}).",
            }, result == SKCodecResult.IncompleteInput ? ImageDecodeFailure.Truncated : ImageDecodeFailure.Corrupt);
        return ExifOrientation.Apply(SkiaPixels.FromRgba(rgba, w, h), header.Orientation);
    }

    private static string DescribeCreateFailure(SKCodecResult result, byte[] encoded, int length)
    {
        string head = Convert.ToHexString(encoded, 0, Math.Min(8, encoded.Length));
        return result switch
        {
            SKCodecResult.IncompleteInput =>
                $"the data is too short for an image header ({length} bytes; truncated?), first bytes 0x{head}.",
            SKCodecResult.Unimplemented =>
                $"unsupported image format (first bytes 0x{head}); JPEG, PNG and BMP are supported.",
            _ => $"not a recognised JPEG, PNG or BMP image or a corrupt header ({result}), first bytes 0x{head}.",
        };
    }

    private static void Encode(RgbImage image, Stream destination, SKEncodedImageFormat format, int quality)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(destination);
        var rgba = SkiaPixels.ToRgba(image);
        var info = new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        var handle = GCHandle.Alloc(rgba, GCHandleType.Pinned);
        try
        {
            using var pixmap = new SKPixmap(info, handle.AddrOfPinnedObject(), info.RowBytes);
            using var data = pixmap.Encode(format, quality)
                ?? throw new IOException($"SkiaSharp could not encode a {image.Width}x{image.Height} image as {format}.");
            data.SaveTo(destination);
        }
        finally { handle.Free(); }
    }

    private static void WriteAtomic(string path, Action<Stream> write) => AtomicFile.Write(path, write);
}
