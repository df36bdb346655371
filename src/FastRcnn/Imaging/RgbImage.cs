using FastRcnn.Ops;
using TorchSharp;
using static TorchSharp.torch;

namespace FastRcnn.Imaging;

/// <summary>
/// An 8-bit RGB image held in managed memory: <see cref="Width"/> × <see cref="Height"/> pixels,
/// interleaved row-major HWC (<c>R,G,B,R,G,B,…</c>, <c>3·W</c> bytes per row, no padding).
/// </summary>
/// <remarks>
/// Immutable by convention: no member of the library writes into <see cref="Data"/> of an image it
/// did not create (drawing works on a copy). Pixel (x, y) covers the continuous square
/// [x, x+1) × [y, y+1) of the box convention (SPEC §2).
/// </remarks>
public sealed class RgbImage
{
    /// <summary>Wraps <paramref name="data"/> (length <c>3·W·H</c>, HWC RGB) without copying.</summary>
    public RgbImage(int width, int height, byte[] data)
    {
        if (width <= 0 || height <= 0)
            throw new ArgumentException($"Image size must be positive, got {width}x{height} (WxH).");
        ArgumentNullException.ThrowIfNull(data);
        long expected = 3L * width * height;
        if (data.LongLength != expected)
            throw new ArgumentException(
                $"RGB data of a {width}x{height} image must have {expected} bytes, got {data.LongLength}.", nameof(data));
        Width = width;
        Height = height;
        Data = data;
    }

    /// <summary>Width W in pixels.</summary>
    public int Width { get; }

    /// <summary>Height H in pixels.</summary>
    public int Height { get; }

    /// <summary>Pixels, HWC interleaved RGB, <c>3·W·H</c> bytes.</summary>
    public byte[] Data { get; }

    /// <summary>An image of one colour.</summary>
    public static RgbImage Filled(int width, int height, Rgb color)
    {
        var img = new RgbImage(width, height, new byte[3L * Math.Max(width, 0) * Math.Max(height, 0)]);
        var d = img.Data;
        for (int i = 0; i < d.Length; i += 3)
        {
            d[i] = color.R;
            d[i + 1] = color.G;
            d[i + 2] = color.B;
        }
        return img;
    }

    /// <summary>A deep copy.</summary>
    public RgbImage Clone() => new(Width, Height, (byte[])Data.Clone());

    /// <summary>The pixel at column <paramref name="x"/>, row <paramref name="y"/>.</summary>
    public Rgb this[int x, int y]
    {
        get
        {
            if ((uint)x >= (uint)Width || (uint)y >= (uint)Height)
                throw new ArgumentOutOfRangeException(nameof(x), $"Pixel ({x},{y}) is outside the {Width}x{Height} image.");
            int i = 3 * (y * Width + x);
            return new Rgb(Data[i], Data[i + 1], Data[i + 2]);
        }
    }

    /// <summary>
    /// The image as a CPU tensor (3,H,W), RGB, of <paramref name="dtype"/>: <c>Byte</c> (uint8)
    /// or <c>Float32</c> (values 0–255, not normalised; see <c>PixelPreprocessing</c>).
    /// </summary>
    public Tensor ToTensor(ScalarType dtype = ScalarType.Byte)
    {
        if (dtype != ScalarType.Byte && dtype != ScalarType.Float32)
            throw new ArgumentException($"dtype must be Byte or Float32, got {dtype}.", nameof(dtype));
        using var scope = NewDisposeScope();
        var hwc = tensor(Data, new long[] { Height, Width, 3 });
        var chw = hwc.permute(2, 0, 1);
        var result = dtype == ScalarType.Byte ? chw.contiguous() : chw.to_type(ScalarType.Float32).contiguous();
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// An image from a tensor (3,H,W) RGB: uint8 as is; any other dtype is rounded to the
    /// nearest integer and clamped to 0–255 (e.g. the inverse of a pixel preprocessing).
    /// </summary>
    public static RgbImage FromTensor(Tensor chw)
    {
        ArgumentNullException.ThrowIfNull(chw);
        if (chw.dim() != 3 || chw.shape[0] != 3)
            throw new ArgumentException($"Expected an RGB tensor (3,H,W), got ({string.Join(",", chw.shape)}).", nameof(chw));
        using var scope = NewDisposeScope();
        var t = chw.to(CPU);
        if (t.dtype != ScalarType.Byte)
            t = t.to_type(ScalarType.Float32).round().Clamp(0, 255).to_type(ScalarType.Byte);
        var hwc = t.permute(1, 2, 0).contiguous();
        int h = checked((int)chw.shape[1]), w = checked((int)chw.shape[2]);
        return new RgbImage(w, h, hwc.data<byte>().ToArray());
    }

    /// <inheritdoc/>
    public override string ToString() => $"RgbImage {Width}x{Height}";
}
