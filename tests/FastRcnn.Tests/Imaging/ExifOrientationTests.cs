using FastRcnn.Data;
using FastRcnn.Imaging;
using FastRcnn.Tests.Data;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Imaging;

/// <summary>
/// JPEGs with an EXIF orientation decode as displayed (orientations 1–8), header sizes are displayed sizes, and
/// an annotation made on the stored orientation is reported as a size mismatch that names the orientation.
/// </summary>
public sealed class ExifOrientationTests
{
    /// <summary>
    /// <paramref name="jpeg"/> with an APP1 "Exif" segment holding only IFD0's Orientation tag, inserted right after
    /// the SOI marker (SkiaSharp's encoder writes no EXIF). Layout, all big-endian:
    /// <code>
    /// FF E1, length (2 bytes, counts itself and the payload)
    /// "Exif\0\0"
    /// TIFF header: "MM" (big-endian), 0x002A, offset of IFD0 = 8
    /// IFD0: entry count 1; entry: tag 0x0112 (Orientation), type 3 (SHORT), count 1, value (2 bytes) + 2 pad bytes;
    ///       offset of the next IFD = 0 (none)
    /// </code>
    /// </summary>
    internal static byte[] WithExifOrientation(byte[] jpeg, int orientation)
    {
        Assert.True(jpeg[0] == 0xFF && jpeg[1] == 0xD8, "not a JPEG (no SOI marker)");
        byte[] payload =
        [
            .. "Exif\0\0"u8,
            (byte)'M', (byte)'M', 0x00, 0x2A, 0x00, 0x00, 0x00, 0x08,        // TIFF header
            0x00, 0x01,                                                      // one IFD0 entry
            0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01,                  // Orientation, SHORT, count 1
            0x00, (byte)orientation, 0x00, 0x00,                             // the value, left-aligned in 4 bytes
            0x00, 0x00, 0x00, 0x00,                                          // no next IFD
        ];
        int length = 2 + payload.Length;
        return [0xFF, 0xD8, 0xFF, 0xE1, (byte)(length >> 8), (byte)length, .. payload, .. jpeg[2..]];
    }

    /// <summary>A 48×32 image of six flat 16×16 blocks of different colours: every turn and mirror of it differs.</summary>
    private static RgbImage Blocks()
    {
        byte[][] colours = [[230, 30, 30], [30, 200, 30], [30, 30, 220], [240, 240, 40], [40, 220, 220], [200, 40, 200]];
        var data = new byte[3 * 48 * 32];
        for (int y = 0; y < 32; y++)
            for (int x = 0; x < 48; x++)
                colours[(y / 16) * 3 + x / 16].CopyTo(data, 3 * (y * 48 + x));
        return new RgbImage(48, 32, data);
    }

    /// <summary>The displayed image of stored pixels with tag <paramref name="orientation"/>, by tensor flips and turns (PIL's exif_transpose).</summary>
    private static Tensor Display(Tensor hwc, int orientation) => orientation switch
    {
        2 => hwc.flip(1),                          // FLIP_LEFT_RIGHT
        3 => hwc.flip(0, 1),                       // ROTATE_180
        4 => hwc.flip(0),                          // FLIP_TOP_BOTTOM
        5 => hwc.permute(1, 0, 2),                 // TRANSPOSE
        6 => rot90(hwc, -1, (0, 1)),               // ROTATE_270 (counter-clockwise), i.e. 90° clockwise
        7 => hwc.permute(1, 0, 2).flip(0, 1),      // TRANSVERSE
        8 => rot90(hwc, 1, (0, 1)),                // ROTATE_90, counter-clockwise
        _ => hwc.alias(),
    };

    /// <summary>The stored pixels that display as <paramref name="hwc"/> under <paramref name="orientation"/> (6 and 8 undo each other).</summary>
    private static Tensor Store(Tensor hwc, int orientation) => Display(hwc, orientation switch { 6 => 8, 8 => 6, _ => orientation });

    private static Tensor Hwc(RgbImage image) => tensor(image.Data, [image.Height, image.Width, 3]);

    private static RgbImage Image(Tensor hwc)
    {
        using var c = hwc.contiguous();
        return new RgbImage((int)c.shape[1], (int)c.shape[0], c.data<byte>().ToArray());
    }

    private static byte[] Jpeg(RgbImage image)
    {
        using var stream = new MemoryStream();
        ImageIO.EncodeJpeg(image, stream, 100);
        return stream.ToArray();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    public void Jpeg_with_exif_orientation_decodes_as_displayed(int orientation)
    {
        using var scope = NewDisposeScope();
        var display = Blocks();
        var stored = Image(Store(Hwc(display), orientation));
        byte[] plain = Jpeg(stored), tagged = WithExifOrientation(plain, orientation);

        var storedDecoded = ImageIO.Decode(plain);                     // the same JPEG data without the tag
        var decoded = ImageIO.Decode(tagged, "tagged.jpg");
        Assert.Equal((48, 32), (decoded.Width, decoded.Height));
        // Exactly the stored pixels turned as the tag says …
        Assert.Equal(Image(Display(Hwc(storedDecoded), orientation)).Data, decoded.Data);
        // … which is the image that was meant to be displayed, up to JPEG's error (compared inside the flat blocks).
        for (int y = 0; y < 32; y++)
            for (int x = 0; x < 48; x++)
            {
                if (x % 16 is < 4 or >= 12 || y % 16 is < 4 or >= 12) continue;
                var (got, want) = (decoded[x, y], display[x, y]);
                Assert.True(Math.Abs(got.R - want.R) <= 8 && Math.Abs(got.G - want.G) <= 8 && Math.Abs(got.B - want.B) <= 8,
                    $"pixel ({x}, {y}): decoded {got}, displayed {want}");
            }

        using var dir = new TempDir();
        string path = dir.Combine("photo.jpg");
        File.WriteAllBytes(path, tagged);
        Assert.Equal(new ImageHeader(48, 32, orientation, "JPEG"), ImageIO.ReadHeader(path));
        Assert.Equal((stored.Width, stored.Height), ImageIO.ReadHeader(path).StoredSize);
        Assert.True(ImageIO.TryReadSize(path, out int w, out int h) && (w, h) == (48, 32));
        Assert.Equal(decoded.Data, ImageIO.Read(path).Data);
    }

    [Fact]
    public void Orientation_6_shows_the_stored_top_left_corner_at_the_top_right()
    {
        var stored = Blocks();                                          // red block at the stored top-left
        var shown = ImageIO.Decode(WithExifOrientation(Jpeg(stored), 6));
        Assert.Equal((32, 48), (shown.Width, shown.Height));
        var corner = shown[31, 0];
        Assert.True(corner.R > 200 && corner.G < 60 && corner.B < 60, $"top-right pixel {corner} is not the stored top-left red");
    }

    [Fact]
    public void Annotation_in_stored_orientation_is_a_size_mismatch_naming_the_orientation()
    {
        using var dir = new TempDir();
        // Annotated on the displayed 48×32 image: sizes agree, no mismatch.
        DataTestFiles.WriteVocImage(dir.Path, DataTestFiles.VocObject("cat", "2", "2", "40", "30"), width: 48, height: 32, classes: ["cat"], writeImage: false);
        Directory.CreateDirectory(Path.Combine(dir.Path, "JPEGImages"));
        File.WriteAllBytes(Path.Combine(dir.Path, "JPEGImages", "img.jpg"), WithExifOrientation(Jpeg(Image(Store(Hwc(Blocks()), 6))), 6));
        var ds = VocReader.Read(dir.Path, "all");
        Assert.Equal((48, 32), (ds.Images[0].Width, ds.Images[0].Height));
        Assert.Equal(0, ds.Report.SizeMismatches);

        // Annotated on the stored 32×48 pixels (a tool that ignores EXIF): reported, naming the turn.
        File.WriteAllText(Path.Combine(dir.Path, "Annotations", "img.xml"),
            "<annotation><filename>img.jpg</filename><size><width>32</width><height>48</height><depth>3</depth></size>" +
            DataTestFiles.VocObject("cat", "2", "2", "30", "40") + "</annotation>");
        ds = VocReader.Read(dir.Path, "all");
        Assert.Equal(1, ds.Report.SizeMismatches);
        Assert.Contains("annotated size 32x48, image file 48x32 as displayed (stored 32x48, EXIF orientation 6: turned 90° clockwise)", ds.Report.Notes[0]);
    }
}
