using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using FastRcnn.Imaging;

namespace FastRcnn.Tests.Imaging;

/// <summary><see cref="ImageIO.MaxPixels"/>: images declaring more pixels are refused from the header, before allocating.</summary>
[Collection(PixelLimitCollection.Name)]
public sealed class ImagePixelLimitTests
{
    /// <summary>
    /// A PNG whose IHDR declares <paramref name="width"/>×<paramref name="height"/> RGB pixels but whose IDAT holds
    /// one zlib-compressed row of zeros: a few hundred bytes (a "decompression bomb" header), written by hand.
    /// </summary>
    internal static byte[] PngDeclaring(int width, int height)
    {
        static byte[] Chunk(string type, byte[] data)
        {
            var body = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
            var chunk = new byte[12 + data.Length];
            BinaryPrimitives.WriteInt32BigEndian(chunk, data.Length);
            body.CopyTo(chunk, 4);
            BinaryPrimitives.WriteUInt32BigEndian(chunk.AsSpan(8 + data.Length), Crc32(body));
            return chunk;
        }
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8;   // bit depth
        ihdr[9] = 2;   // colour type RGB; compression, filter, interlace 0
        using var idat = new MemoryStream();
        using (var z = new ZLibStream(idat, CompressionLevel.SmallestSize, leaveOpen: true)) z.Write(new byte[1 + 3 * Math.Min(width, 4096)]);
        return [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, .. Chunk("IHDR", ihdr), .. Chunk("IDAT", idat.ToArray()), .. Chunk("IEND", [])];
    }

    /// <summary>CRC-32 (ISO 3309, reflected polynomial 0xEDB88320), as PNG chunks carry it; bit by bit.</summary>
    private static uint Crc32(byte[] data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }
        return ~crc;
    }

    [Fact]
    public void Png_declaring_a_huge_size_is_refused_from_its_header_before_allocating()
    {
        Assert.Equal(ImageIO.DefaultMaxPixels, ImageIO.MaxPixels);
        using var dir = new TempDir();
        string path = dir.Combine("bomb.png");
        File.WriteAllBytes(path, PngDeclaring(23000, 23000));
        Assert.InRange(new FileInfo(path).Length, 50, 400);

        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ImageDecodeException>(() => ImageIO.Read(path));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 1_000_000, $"{allocated} bytes allocated before refusing");   // not the 2.1 GB of RGBA
        Assert.Contains(path, e.Message);
        Assert.Contains("declares 23000x23000 pixels (529 megapixels), more than the limit of 50000000 (50 megapixels; --max-image-pixels", e.Message);
        Assert.Contains("23000x23000", Assert.Throws<ImageDecodeException>(() => ImageIO.ReadHeader(path)).Message);
        Assert.Equal(ImageDecodeFailure.TooManyPixels, e.Failure);
    }

    [Fact]
    public void The_header_of_bytes_in_memory_gives_the_size_and_refuses_a_bomb_without_decoding()
    {
        var png = new MemoryStream();
        ImageIO.EncodePng(RgbImage.Filled(20, 30, new Rgb(1, 2, 3)), png);
        Assert.Equal(new ImageHeader(20, 30, ExifOrientation.Normal, "PNG"), ImageIO.ReadHeader(png.ToArray()));

        byte[] bomb = PngDeclaring(23000, 23000);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ImageDecodeException>(() => ImageIO.ReadHeader(bomb, "upload 'bomb.png'"));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1_000_000);
        Assert.Equal(ImageDecodeFailure.TooManyPixels, e.Failure);
        Assert.Equal("upload 'bomb.png'", e.ImageSource);
        Assert.Contains("declares 23000x23000 pixels", e.Message);
        var text = Assert.Throws<ImageDecodeException>(() => ImageIO.ReadHeader("hello, not an image"u8.ToArray()));
        Assert.Equal(ImageDecodeFailure.NotAnImage, text.Failure);
    }

    [Fact]
    public async Task The_limit_is_configurable_process_wide_and_per_operation()
    {
        using var dir = new TempDir();
        string path = dir.Combine("small.png");
        ImageIO.WritePng(RgbImage.Filled(20, 30, new Rgb(1, 2, 3)), path);          // 600 pixels
        var scope = ImageIO.LimitPixels(599);
        Assert.Equal(599, ImageIO.MaxPixels);
        Assert.Contains("more than the limit of 599", Assert.Throws<ImageDecodeException>(() => ImageIO.Read(path)).Message);
        Assert.Equal(599, await Task.Run(() => ImageIO.MaxPixels));                 // flows into the tasks it starts
        using (ImageIO.LimitPixels(600)) Assert.Equal(30, ImageIO.Read(path).Height);
        Assert.Equal(599, ImageIO.MaxPixels);
        scope.Dispose();
        Assert.Equal(ImageIO.DefaultMaxPixels, ImageIO.MaxPixels);
        try
        {
            ImageIO.MaxPixels = 500;
            Assert.Throws<ImageDecodeException>(() => ImageIO.Read(path));
            Assert.Throws<ArgumentOutOfRangeException>(() => ImageIO.MaxPixels = 0);
        }
        finally { ImageIO.MaxPixels = ImageIO.DefaultMaxPixels; }
        Assert.Equal(20, ImageIO.Read(path).Width);
    }
}

/// <summary>Tests that set the process-wide <see cref="ImageIO.MaxPixels"/> run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PixelLimitCollection
{
    public const string Name = "process-wide image pixel limit";
}
