using FastRcnn.Imaging;
using FastRcnn.Ops;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Imaging;

public class ImageIOTests
{
    [Fact]
    public void SkiaSharp_native_library_loads()
    {
        // The self-contained Linux assets (NoDependencies) must resolve from the test output.
        Assert.NotNull(SkiaSharpVersion.Native);
        Assert.True(SkiaSharpVersion.Native.Major >= 100, $"native Skia milestone {SkiaSharpVersion.Native}");
        using var bitmap = new SKBitmap(4, 4);
        Assert.Equal(4, bitmap.Width);
    }

    [Fact]
    public void Png_round_trip_through_a_file_is_exact()
    {
        using var dir = new TempDir();
        var img = TestImages.Noise(37, 23, seed: 1);
        string path = dir.Combine("sub/dir/noise.png");   // the directory is created
        ImageIO.WritePng(img, path);
        var back = ImageIO.Read(path);
        Assert.Equal((37, 23), (back.Width, back.Height));
        Assert.Equal(img.Data, back.Data);
        Assert.True(ImageIO.TryReadSize(path, out int w, out int h));
        Assert.Equal((37, 23), (w, h));
    }

    [Fact]
    public void Png_round_trip_through_streams_and_bytes_is_exact()
    {
        var img = TestImages.Noise(16, 9, seed: 2);
        using var ms = new MemoryStream();
        ImageIO.EncodePng(img, ms);
        Assert.Equal(img.Data, ImageIO.Decode(ms.ToArray()).Data);
        ms.Position = 0;
        Assert.Equal(img.Data, ImageIO.Decode(ms, "stream.png").Data);
    }

    [Fact]
    public void Jpeg_round_trip_is_close_and_quality_matters()
    {
        using var dir = new TempDir();
        var img = TestImages.Gradient(96, 64);
        ImageIO.WriteJpeg(img, dir.Combine("hi.jpg"), quality: 95);
        ImageIO.WriteJpeg(img, dir.Combine("lo.jpg"), quality: 10);
        var hi = ImageIO.Read(dir.Combine("hi.jpg"));
        var lo = ImageIO.Read(dir.Combine("lo.jpg"));
        double errHi = TestImages.MeanAbsDiff(img, hi), errLo = TestImages.MeanAbsDiff(img, lo);
        Assert.True(errHi < 1.5, $"q95 mean abs error {errHi}");
        Assert.True(errLo > errHi, $"q10 error {errLo} should exceed q95 error {errHi}");
        Assert.True(new FileInfo(dir.Combine("lo.jpg")).Length < new FileInfo(dir.Combine("hi.jpg")).Length);
    }

    [Fact]
    public void Write_picks_the_format_from_the_extension()
    {
        using var dir = new TempDir();
        var img = TestImages.Gradient(8, 8);
        ImageIO.Write(img, dir.Combine("a.PNG"));
        ImageIO.Write(img, dir.Combine("b.jpeg"));
        Assert.Equal((byte)0x89, File.ReadAllBytes(dir.Combine("a.PNG"))[0]);
        Assert.Equal((byte)0xFF, File.ReadAllBytes(dir.Combine("b.jpeg"))[0]);
        Assert.Throws<ArgumentException>(() => ImageIO.Write(img, dir.Combine("c.gif")));
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageIO.WriteJpeg(img, dir.Combine("d.jpg"), 0));
        Assert.False(File.Exists(dir.Combine("d.jpg")));
    }

    [Fact]
    public void Atomic_write_replaces_the_target_and_leaves_no_temporary_files()
    {
        using var dir = new TempDir();
        string path = dir.Combine("img.png");
        ImageIO.WritePng(TestImages.Noise(5, 5, 3), path);
        var second = TestImages.Noise(7, 3, 4);
        ImageIO.WritePng(second, path);
        Assert.Equal(second.Data, ImageIO.Read(path).Data);
        Assert.Equal(new[] { "img.png" }, Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void Bmp_from_an_independent_encoder_decodes_exactly()
    {
        using var dir = new TempDir();
        var img = TestImages.Noise(13, 7, seed: 5);      // 13·3 = 39 bytes a row: padded rows
        string path = dir.Combine("x.bmp");
        File.WriteAllBytes(path, TestImages.Bmp24(img));
        Assert.Equal(img.Data, ImageIO.Read(path).Data);
        Assert.True(ImageIO.TryReadSize(path, out int w, out int h));
        Assert.Equal((13, 7), (w, h));
    }

    [Fact]
    public void Tensors_are_chw_rgb_in_uint8_or_float32()
    {
        using var scope = NewDisposeScope();
        var img = TestImages.Noise(5, 4, seed: 6);
        var bytes = new MemoryStream();
        ImageIO.EncodePng(img, bytes);
        var u8 = ImageIO.DecodeTensor(bytes.ToArray());
        var f32 = img.ToTensor(ScalarType.Float32);
        Assert.Equal(new long[] { 3, 4, 5 }, u8.shape);
        Assert.Equal(ScalarType.Byte, u8.dtype);
        Assert.Equal(ScalarType.Float32, f32.dtype);
        var p = img[3, 2];   // x = 3, y = 2
        Assert.Equal(p.R, u8[0, 2, 3].item<byte>());
        Assert.Equal(p.G, u8[1, 2, 3].item<byte>());
        Assert.Equal(p.B, u8[2, 2, 3].item<byte>());
        Assert.Equal((float)p.B, f32[2, 2, 3].item<float>());
        Assert.Equal(img.Data, RgbImage.FromTensor(u8).Data);
        Assert.Equal(img.Data, RgbImage.FromTensor(f32.Add(0.3f)).Data);      // rounded back
        Assert.Equal(255, RgbImage.FromTensor(SafeScalars.Full([3, 1, 1], 300f)).Data[0]); // clamped
    }

    [Fact]
    public void Garbage_file_is_an_ImageDecodeException_naming_the_file()
    {
        using var dir = new TempDir();
        string path = dir.Combine("notes.jpg");
        File.WriteAllText(path, "this is not an image, just some text pretending to be one");
        var e = Assert.Throws<ImageDecodeException>(() => ImageIO.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("unsupported", e.Message + e.Problem, StringComparison.OrdinalIgnoreCase);
        Assert.IsAssignableFrom<IOException>(e);
        Assert.Equal(ImageDecodeFailure.NotAnImage, e.Failure);
        Assert.False(ImageIO.TryReadSize(path, out _, out _));
    }

    [Fact]
    public void Corrupt_png_data_is_an_ImageDecodeException_naming_the_file()
    {
        using var dir = new TempDir();
        var png = new MemoryStream();
        ImageIO.EncodePng(TestImages.Noise(32, 32, 7), png);
        var bytes = png.ToArray();
        for (int i = 60; i < bytes.Length - 20; i++)   // scramble the compressed pixel data
            bytes[i] ^= 0x5A;
        string path = dir.Combine("corrupt.png");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<ImageDecodeException>(() => ImageIO.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Equal(path, e.ImageSource);
        Assert.Equal(ImageDecodeFailure.Corrupt, e.Failure);
    }

    [Theory]
    [InlineData("png")]
    [InlineData("jpg")]
    [InlineData("bmp")]
    public void Truncated_file_is_an_ImageDecodeException_naming_the_file(string ext)
    {
        using var dir = new TempDir();
        var img = TestImages.Gradient(64, 48);
        var ms = new MemoryStream();
        if (ext == "png") ImageIO.EncodePng(img, ms);
        else if (ext == "jpg") ImageIO.EncodeJpeg(img, ms);
        else ms.Write(TestImages.Bmp24(img));
        var bytes = ms.ToArray();
        string path = dir.Combine("cut." + ext);
        File.WriteAllBytes(path, bytes.AsSpan(0, bytes.Length / 2).ToArray());
        var e = Assert.Throws<ImageDecodeException>(() => ImageIO.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("truncated", e.Message);
        Assert.Equal(ImageDecodeFailure.Truncated, e.Failure);
    }

    [Fact]
    public void Empty_and_missing_files_fail_clearly()
    {
        using var dir = new TempDir();
        string empty = dir.Combine("empty.png");
        File.WriteAllBytes(empty, Array.Empty<byte>());
        var e = Assert.Throws<ImageDecodeException>(() => ImageIO.Read(empty));
        Assert.Contains(empty, e.Message);
        Assert.Contains("empty", e.Message);
        Assert.Equal(ImageDecodeFailure.Empty, e.Failure);
        Assert.Equal(ImageDecodeFailure.Empty, Assert.Throws<ImageDecodeException>(() => ImageIO.ReadHeader([], "upload")).Failure);
        Assert.Throws<FileNotFoundException>(() => ImageIO.Read(dir.Combine("missing.png")));
        Assert.False(ImageIO.TryReadSize(dir.Combine("missing.png"), out _, out _));
    }
}
