using FastRcnn.Data;
using static FastRcnn.Tests.Data.DataTestFiles;

namespace FastRcnn.Tests.Data;

/// <summary>Malformed VOC input: each error names the offending file; each fix is counted.</summary>
public class VocErrorTests
{
    private static readonly string[] Cat = ["cat"];

    [Fact]
    public void Malformed_xml_names_the_annotation_file()
    {
        using var tmp = new TempDir();
        var xml = WriteVocImage(tmp.Path, "", rawXml: "<annotation><object><name>cat</name></annotation>", classes: Cat);
        AssertFormatError(() => VocReader.Read(tmp.Path, "all"), xml, "malformed XML");
    }

    [Fact]
    public void Wrong_root_element_names_the_annotation_file()
    {
        using var tmp = new TempDir();
        var xml = WriteVocImage(tmp.Path, "", rawXml: "<notes/>", classes: Cat);
        AssertFormatError(() => VocReader.Read(tmp.Path, "all"), xml, "<annotation>");
    }

    [Fact]
    public void Missing_annotation_file_names_it()
    {
        using var tmp = new TempDir();
        WriteVocImage(tmp.Path, "", classes: Cat);
        File.AppendAllText(tmp.Combine("ImageSets", "Main", "all.txt"), "ghost\n");
        AssertFormatError(() => VocReader.Read(tmp.Path, "all"), tmp.Combine("Annotations", "ghost.xml"), "not found");
    }

    [Fact]
    public void Missing_split_file_names_it_and_lists_the_available_splits()
    {
        using var tmp = new TempDir();
        WriteVocImage(tmp.Path, "", classes: Cat);
        AssertFormatError(() => VocReader.Read(tmp.Path, "test"), tmp.Combine("ImageSets", "Main", "test.txt"), "available splits: all");
    }

    [Fact]
    public void Missing_image_names_the_image_or_is_skipped_and_counted()
    {
        using var tmp = new TempDir();
        WriteVocImage(tmp.Path, VocObject("cat", "1", "1", "5", "5"), classes: Cat, writeImage: false);
        WriteVocImage(tmp.Path, "", id: "good");
        var e = AssertFormatError(() => VocReader.Read(tmp.Path, "all"), tmp.Combine("JPEGImages", "img.jpg"), "not found");
        Assert.Contains(tmp.Combine("Annotations", "img.xml"), e.Message);

        var ds = VocReader.Read(tmp.Path, "all", new DatasetLoadOptions { SkipUnreadableImages = true });
        Assert.Equal(["good"], ds.Images.Select(i => i.Id));
        Assert.Equal(1, ds.Report.SkippedImages);

        var unchecked_ = VocReader.Read(tmp.Path, "all", new DatasetLoadOptions { CheckImages = false });
        Assert.Equal(2, unchecked_.Images.Count); // size from the XML, file never opened
    }

    [Fact]
    public void Corrupt_image_names_the_image_or_is_skipped_and_counted()
    {
        using var tmp = new TempDir();
        WriteVocImage(tmp.Path, "", classes: Cat);
        File.WriteAllBytes(tmp.Combine("JPEGImages", "img.jpg"), [0xFF, 0xD8, 0x00, 0x13, 0x37, 0x42, 0x00]);
        AssertFormatError(() => VocReader.Read(tmp.Path, "all"), tmp.Combine("JPEGImages", "img.jpg"), "not a readable image");
        var ds = VocReader.Read(tmp.Path, "all", new DatasetLoadOptions { SkipUnreadableImages = true });
        Assert.Empty(ds.Images);
        Assert.Equal(1, ds.Report.SkippedImages);
    }

    [Fact]
    public void Truncated_image_data_is_found_by_pixel_verification_or_skipped_and_counted()
    {
        using var tmp = new TempDir();
        WriteVocImage(tmp.Path, "", width: 64, height: 48, classes: Cat);
        string image = tmp.Combine("JPEGImages", "img.jpg");
        byte[] png = File.ReadAllBytes(image);
        File.WriteAllBytes(image, png[..(png.Length / 2)]);           // header intact, pixels cut off

        Assert.Single(VocReader.Read(tmp.Path, "all").Images);         // a header check cannot see it
        var verify = new DatasetLoadOptions { VerifyPixels = true };
        AssertFormatError(() => VocReader.Read(tmp.Path, "all", verify), image, "truncated");
        var ds = VocReader.Read(tmp.Path, "all", verify with { SkipUnreadableImages = true });
        Assert.Empty(ds.Images);
        Assert.Equal(1, ds.Report.SkippedImages);
    }

    [Fact]
    public void Unknown_class_names_the_file_and_the_class_file()
    {
        using var tmp = new TempDir();
        var xml = WriteVocImage(tmp.Path, VocObject("cat", "1", "1", "5", "5") + VocObject("dgo", "1", "1", "5", "5"), classes: Cat);
        var e = AssertFormatError(() => VocReader.Read(tmp.Path, "all"), xml, "unknown class 'dgo'");
        Assert.Contains("object #2", e.Message);
        Assert.Contains("classes.txt", e.Message);
    }

    [Theory]
    [InlineData("<object><name>cat</name></object>", "has no <bndbox>")]
    [InlineData("<object><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object>", "has no <name>")]
    [InlineData("<object><name>cat</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax></bndbox></object>", "no <ymax>")]
    [InlineData("<object><name>cat</name><bndbox><xmin>one</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object>", "'one' is not a number")]
    [InlineData("<object><name>cat</name><difficult>maybe</difficult><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>5</xmax><ymax>5</ymax></bndbox></object>", "<difficult> 'maybe'")]
    public void Malformed_objects_name_the_file(string objectXml, string mentions)
    {
        using var tmp = new TempDir();
        var xml = WriteVocImage(tmp.Path, objectXml, classes: Cat);
        AssertFormatError(() => VocReader.Read(tmp.Path, "all"), xml, mentions);
    }

    [Fact]
    public void Xmin_zero_is_clipped_to_zero_and_counted_not_underflowed()
    {
        using var tmp = new TempDir();
        WriteVocImage(tmp.Path, VocObject("cat", "0", "0", "10", "20"), classes: Cat);
        var ds = VocReader.Read(tmp.Path, "all");
        // x1 = xmin − 1 = −1 → clipped to 0; same for y1.
        Assert.Equal(new BoundingBox(0, 0, 10, 20), ds.Images.Single().Objects.Single().Box);
        Assert.Equal(1, ds.Report.ZeroCoordinateBoxes);
        Assert.Equal(1, ds.Report.ClippedBoxes);
        Assert.Contains(tmp.Combine("Annotations", "img.xml"), ds.Report.Notes.Single());
    }

    [Fact]
    public void Boxes_outside_the_image_are_clipped_and_counted()
    {
        using var tmp = new TempDir();
        WriteVocImage(tmp.Path, VocObject("cat", "90", "70", "130", "95") + VocObject("cat", "1", "1", "5", "5"),
            width: 100, height: 80, classes: Cat);
        var ds = VocReader.Read(tmp.Path, "all");
        Assert.Equal(new BoundingBox(89, 69, 100, 80), ds.Images.Single().Objects[0].Box);
        Assert.Equal(1, ds.Report.ClippedBoxes);
        Assert.Equal(0, ds.Report.ZeroCoordinateBoxes);
    }

    [Theory]
    [InlineData("50", "10", "40", "20")]   // xmax < xmin
    [InlineData("120", "10", "150", "20")] // entirely right of the 100-px image: empty after clipping
    [InlineData("10", "30", "20", "29")]   // ymax = ymin − 1: zero height
    public void Degenerate_boxes_throw_naming_file_and_object_or_are_skipped_and_counted(string xmin, string ymin, string xmax, string ymax)
    {
        using var tmp = new TempDir();
        var xml = WriteVocImage(tmp.Path, VocObject("cat", "1", "1", "5", "5") + VocObject("cat", xmin, ymin, xmax, ymax),
            width: 100, height: 80, classes: Cat);
        var e = AssertFormatError(() => VocReader.Read(tmp.Path, "all"), xml, "object #2 ('cat')");
        Assert.Contains("empty after clipping", e.Message);

        var ds = VocReader.Read(tmp.Path, "all", new DatasetLoadOptions { SkipDegenerateBoxes = true });
        Assert.Single(ds.Images.Single().Objects);
        Assert.Equal(1, ds.Report.SkippedDegenerateBoxes);
    }

    [Fact]
    public void Size_mismatch_uses_the_image_file_and_is_counted()
    {
        using var tmp = new TempDir();
        WriteVocImage(tmp.Path, VocObject("cat", "1", "1", "5", "5"), width: 100, height: 80, classes: Cat);
        WriteImage(tmp.Combine("JPEGImages", "img.jpg"), 60, 40);
        var ds = VocReader.Read(tmp.Path, "all");
        Assert.Equal((60, 40), (ds.Images[0].Width, ds.Images[0].Height));
        Assert.Equal(1, ds.Report.SizeMismatches);
    }

    [Fact]
    public void Bad_class_file_names_it()
    {
        using var tmp = new TempDir();
        WriteVocImage(tmp.Path, "", classes: ["cat", "dog", "cat"]);
        AssertFormatError(() => VocReader.Read(tmp.Path, "all"), tmp.Combine("classes.txt"), "appears twice");
    }
}
