using System.Text.Json.Nodes;
using FastRcnn.Evaluation;
using FastRcnn.Tests.Data;
using static FastRcnn.Tests.Evaluation.EvaluationTestData;

namespace FastRcnn.Tests.Evaluation;

public class ResultFilesTests
{
    private static readonly string[] Classes = ["__background__", "cat", "dog"];

    [Fact]
    public void VOC_results_files_use_the_devkit_format_and_1_based_corners()
    {
        using var tmp = new TempDir();
        var paths = ResultFiles.WriteVoc(tmp.Path, "test", Classes,
            [Det("000005", 1, 0.9f, Box(0, 9, 10, 20)), Det("000007", 2, 0.25f, Box(4.5f, 5, 6, 7))]);
        Assert.Equal(2, paths.Count);
        Assert.Equal("000005 0.900000 1.0 10.0 10.0 20.0", File.ReadAllText(tmp.Combine("comp4_det_test_cat.txt")).Trim());
        Assert.Equal("000007 0.250000 5.5 6.0 6.0 7.0", File.ReadAllText(tmp.Combine("comp4_det_test_dog.txt")).Trim());
    }

    [Fact]
    public void COCO_results_json_has_xywh_boxes_and_numeric_ids_where_possible()
    {
        using var tmp = new TempDir();
        string path = tmp.Combine("results.json");
        ResultFiles.WriteCoco(path, [Det("42", 2, 0.5f, Box(10, 20, 40, 60)), Det("img_a", 1, 0.75f, Box(0, 0, 1, 1))], categoryIds: [18, 3]);
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsArray();
        Assert.Equal(42, (long)json[0]!["image_id"]!);
        Assert.Equal(3, (int)json[0]!["category_id"]!);
        Assert.Equal(new[] { 10.0, 20.0, 30.0, 40.0 }, json[0]!["bbox"]!.AsArray().Select(v => (double)v!));
        Assert.Equal("img_a", (string)json[1]!["image_id"]!);
        Assert.Equal(18, (int)json[1]!["category_id"]!);
    }

    [Fact]
    public void COCO_results_carry_the_datasets_category_ids_and_read_back_to_the_same_detections()
    {
        using var tmp = new TempDir();
        string path = tmp.Combine("results.json");
        var dataset = new FastRcnn.Data.DetectionDataset(Classes, [Image("42"), Image("7")], "val", FastRcnn.Data.LoadReport.Empty, CategoryIds: [13, 83]);
        Detection[] dets = [Det("42", 2, 0.5f, Box(10, 20, 40, 60)), Det("7", 1, 0.75f, Box(0, 0, 1, 1))];
        ResultFiles.WriteCoco(path, dets, dataset.CategoryIds);
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsArray();
        Assert.Equal([83, 13], json.Select(d => (int)d!["category_id"]!));
        Assert.Equal(dets, ResultFiles.ReadCoco(path, dataset));

        // Category ids that are not the dataset's (here the class indices 1..K) are refused, naming the file and the ids.
        ResultFiles.WriteCoco(path, dets);
        var e = Assert.Throws<InvalidDataException>(() => ResultFiles.ReadCoco(path, dataset));
        Assert.Contains(path, e.Message);
        Assert.Contains("category_id 2 is not a category of the dataset (13, 83)", e.Message);
    }

    [Fact]
    public void COCO_results_of_a_dataset_without_category_ids_use_the_class_index_and_numbers_match_zero_padded_ids()
    {
        using var tmp = new TempDir();
        string path = tmp.Combine("results.json");
        var dataset = new FastRcnn.Data.DetectionDataset(Classes, [Image("000005"), Image("img_a")], "test", FastRcnn.Data.LoadReport.Empty);
        Detection[] dets = [Det("000005", 2, 0.5f, Box(10, 20, 40, 60)), Det("img_a", 1, 0.25f, Box(1, 2, 3, 4))];
        ResultFiles.WriteCoco(path, dets);
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsArray();
        Assert.Equal(5, (long)json[0]!["image_id"]!);     // a VOC id is written as the number COCO tools expect
        Assert.Equal(dets, ResultFiles.ReadCoco(path, dataset));

        File.WriteAllText(path, """[{"image_id": 6, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.5}]""");
        Assert.Contains("entry 0: image 6 is not in the split", Assert.Throws<InvalidDataException>(() => ResultFiles.ReadCoco(path, dataset)).Message);
        File.WriteAllText(path, """[{"image_id": "img_a", "category_id": 1, "bbox": [0, 0, 1], "score": 0.5}]""");
        Assert.Contains("bbox is not [x, y, w, h]", Assert.Throws<InvalidDataException>(() => ResultFiles.ReadCoco(path, dataset)).Message);
        File.WriteAllText(path, """{"image_id": 5}""");
        Assert.Contains("not a COCO results JSON array", Assert.Throws<InvalidDataException>(() => ResultFiles.ReadCoco(path, dataset)).Message);
    }

    [Fact]
    public void Summary_csv_and_json_carry_every_class_and_the_means()
    {
        using var tmp = new TempDir();
        var images = new[] { Image("a", Object(1, Box(0, 0, 10, 10))) };
        var dets = new[] { Det("a", 1, 0.9f, Box(0, 0, 10, 10)) };
        var voc07 = VocEvaluator.Evaluate(images, dets, 2);
        var voc10 = VocEvaluator.Evaluate(images, dets, 2, VocApMetric.Area);
        var coco = CocoEvaluator.Evaluate(images, dets, 2);
        ResultFiles.WriteSummaryCsv(tmp.Combine("s.csv"), Classes, voc07, voc10, coco);
        ResultFiles.WriteSummaryJson(tmp.Combine("s.json"), Classes, voc07, voc10, coco);
        var lines = File.ReadAllLines(tmp.Combine("s.csv"));
        Assert.Equal("cat,1,1,1.0000,1.0000,1.0000", lines[1]);
        Assert.StartsWith("dog,0,0,NaN", lines[2]);
        Assert.Equal("mean,,,1.0000,1.0000,1.0000", lines[3]);
        var json = JsonNode.Parse(File.ReadAllText(tmp.Combine("s.json")))!;
        Assert.Equal(1.0, (double)json["map_voc07"]!);
        Assert.Null(json["classes"]!["dog"]!["ap_voc07"]);
    }
}
