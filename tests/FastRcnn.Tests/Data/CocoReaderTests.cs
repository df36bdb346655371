using FastRcnn.Data;
using static FastRcnn.Tests.Data.DataTestFiles;

namespace FastRcnn.Tests.Data;

public class CocoReaderTests
{
    // Sparse category ids (3, 7, 18) listed out of order; image 2 has no annotations; one crowd region;
    // one box reaching past the right border of image 1 (100×80).
    private const string SampleJson = """
        {
          "info": {"description": "hand-written"},
          "images": [
            {"id": 1, "file_name": "one.png", "width": 100, "height": 80},
            {"id": 2, "file_name": "two.png", "width": 64, "height": 48},
            {"id": 5, "file_name": "five.png", "width": 50, "height": 50}
          ],
          "categories": [
            {"id": 18, "name": "dog", "supercategory": "animal"},
            {"id": 3, "name": "car"},
            {"id": 7, "name": "person"}
          ],
          "annotations": [
            {"id": 10, "image_id": 1, "category_id": 18, "bbox": [10.5, 20, 30, 40.25], "iscrowd": 0, "area": 1200},
            {"id": 11, "image_id": 1, "category_id": 7, "bbox": [0, 0, 100, 80], "iscrowd": 1},
            {"id": 12, "image_id": 5, "category_id": 3, "bbox": [1, 2, 3, 4]},
            {"id": 13, "image_id": 1, "category_id": 3, "bbox": [90, 70, 20, 5]}
          ]
        }
        """;

    private static string WriteCoco(TempDir tmp, string json, bool images = true)
    {
        var annotations = tmp.Combine("annotations");
        Directory.CreateDirectory(annotations);
        var path = Path.Combine(annotations, "instances_val.json");
        File.WriteAllText(path, json);
        if (images)
        {
            WriteImage(tmp.Combine("val", "one.png"), 100, 80);
            WriteImage(tmp.Combine("val", "two.png"), 64, 48);
            WriteImage(tmp.Combine("val", "five.png"), 50, 50);
        }
        return path;
    }

    [Fact]
    public void Reads_categories_crowd_regions_and_empty_images()
    {
        using var tmp = new TempDir();
        var ds = CocoReader.Read(WriteCoco(tmp, SampleJson));

        // Category ids 3, 7, 18 → classes 1, 2, 3 in id order, names and ids kept.
        Assert.Equal([DetectionDataset.Background, "car", "person", "dog"], ds.ClassNames);
        Assert.Equal([3L, 7, 18], ds.CategoryIds!);
        Assert.Equal(18, ds.CategoryIdOf(3));
        Assert.Equal(2, ds.ClassIndexOfCategory(7));
        Assert.Equal(-1, ds.ClassIndexOfCategory(1));
        Assert.Equal("val", ds.Split);
        Assert.Equal(["1", "2", "5"], ds.Images.Select(i => i.Id));
        Assert.Equal(tmp.Combine("val", "one.png"), ds.Images[0].ImagePath);

        var one = ds.Images[0].Objects;
        Assert.Equal(3, one.Count);
        Assert.Equal(new ObjectAnnotation(new BoundingBox(10.5f, 20, 40.5f, 60.25f), 3), one[0]); // xywh → x1y1x2y2
        Assert.Equal(new ObjectAnnotation(new BoundingBox(0, 0, 100, 80), 2, Crowd: true), one[1]);
        Assert.Equal(new BoundingBox(90, 70, 100, 75), one[2].Box); // clipped at x = 100
        Assert.Equal(1, one[2].ClassIndex);
        Assert.Empty(ds.Images[1].Objects);
        Assert.Equal(new BoundingBox(1, 2, 4, 6), ds.Images[2].Objects.Single().Box);
        Assert.Equal(1, ds.Report.ClippedBoxes);
    }

    [Fact]
    public void Loader_detects_coco_by_file_and_by_directory_with_split()
    {
        using var tmp = new TempDir();
        var path = WriteCoco(tmp, SampleJson);
        Assert.Equal((DatasetFormat.Coco, path), DatasetLoader.Detect(path));
        Assert.Equal((DatasetFormat.Coco, path), DatasetLoader.Detect(tmp.Path, "val"));
        Assert.Equal(3, DatasetLoader.Load(tmp.Path, "val").Images.Count);
        AssertFormatError(() => DatasetLoader.Load(tmp.Path, "train"), tmp.Combine("annotations", "instances_train.json"), "instances_val.json");
    }

    [Fact]
    public void Bad_json_names_the_file()
    {
        using var tmp = new TempDir();
        var path = WriteCoco(tmp, "{\"images\": [ {\"id\": 1,, } ]", images: false);
        AssertFormatError(() => CocoReader.Read(path), path, "malformed JSON");
    }

    [Theory]
    [InlineData("images", "missing field 'images'")]
    [InlineData("categories", "missing field 'categories'")]
    [InlineData("annotations", "missing field 'annotations'")]
    public void Missing_top_level_arrays_name_the_file(string drop, string mentions)
    {
        using var tmp = new TempDir();
        var fields = new Dictionary<string, string>
        {
            ["images"] = "\"images\": []",
            ["categories"] = "\"categories\": [{\"id\": 1, \"name\": \"a\"}]",
            ["annotations"] = "\"annotations\": []",
        };
        var path = WriteCoco(tmp, "{" + string.Join(",", fields.Where(f => f.Key != drop).Select(f => f.Value)) + "}", images: false);
        AssertFormatError(() => CocoReader.Read(path), path, mentions);
    }

    [Theory]
    [InlineData("""{"id": 1, "image_id": 9, "category_id": 3, "bbox": [1, 2, 3, 4]}""", "image_id 9 is not in 'images'")]
    [InlineData("""{"id": 1, "image_id": 1, "category_id": 4, "bbox": [1, 2, 3, 4]}""", "category_id 4 is not in 'categories'")]
    [InlineData("""{"id": 1, "image_id": 1, "category_id": 3}""", "annotations[0]: missing field 'bbox'")]
    [InlineData("""{"id": 1, "image_id": 1, "category_id": 3, "bbox": [1, 2, 3]}""", "expected [x, y, width, height]")]
    [InlineData("""{"id": 1, "category_id": 3, "bbox": [1, 2, 3, 4]}""", "missing field 'image_id'")]
    [InlineData("""{"id": 1, "image_id": "1", "category_id": 3, "bbox": [1, 2, 3, 4]}""", "expected an integer")]
    [InlineData("""{"id": 1, "image_id": 1, "category_id": 3, "bbox": [1, 2, 0, 4]}""", "empty after clipping")]
    public void Bad_annotations_name_the_file(string annotation, string mentions)
    {
        using var tmp = new TempDir();
        var json = $$"""
            {"images": [{"id": 1, "file_name": "one.png", "width": 100, "height": 80}],
             "categories": [{"id": 3, "name": "car"}],
             "annotations": [{{annotation}}]}
            """;
        var path = WriteCoco(tmp, json);
        AssertFormatError(() => CocoReader.Read(path), path, mentions);
    }

    [Fact]
    public void Missing_image_file_names_it_or_is_skipped()
    {
        using var tmp = new TempDir();
        var path = WriteCoco(tmp, SampleJson);
        File.Delete(tmp.Combine("val", "two.png"));
        var e = AssertFormatError(() => CocoReader.Read(path), tmp.Combine("val", "two.png"), "not found");
        Assert.Contains(path, e.Message);
        var ds = CocoReader.Read(path, options: new DatasetLoadOptions { SkipUnreadableImages = true });
        Assert.Equal(["1", "5"], ds.Images.Select(i => i.Id));
        Assert.Equal(1, ds.Report.SkippedImages);
    }

    [Fact]
    public void Duplicate_category_names_are_an_error()
    {
        using var tmp = new TempDir();
        var path = WriteCoco(tmp, """{"images": [], "annotations": [], "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "a"}]}""", images: false);
        AssertFormatError(() => CocoReader.Read(path), path, "appears twice");
    }
}
