using System.Text.Json.Nodes;
using FastRcnn.Data;
using FastRcnn.Evaluation;

namespace FastRcnn.Tests.Evaluation;

/// <summary>
/// Bit-for-bit agreement with the reference evaluation scripts on 150 seeded synthetic sets (integer
/// boxes, IoUs on the thresholds, tied scores, crowds, difficult objects, numeric and string image ids),
/// recorded by Fixtures/make_reference_fixtures.py (numpy 1.24) into Fixtures/reference_evaluation.json:
/// pycocotools' COCOeval transcribed rule for rule, and voc_eval.py's scoring with the project's ≥ 0.5
/// and stable sort. No python is needed at test time.
/// </summary>
public class EvaluationReferenceParityTests
{
    public static TheoryData<int> Cases() => [.. Enumerable.Range(0, Load().Count)];

    private static JsonArray Load() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Evaluation", "Fixtures", "reference_evaluation.json")))!["cases"]!.AsArray();

    private static readonly Lazy<JsonArray> All = new(Load);

    [Theory]
    [MemberData(nameof(Cases))]
    public void COCO_and_VOC_numbers_equal_the_reference_scripts_bit_for_bit(int index)
    {
        var c = All.Value[index]!;
        int k = (int)c["k"]!;
        static BoundingBox Box(JsonArray a, int at) => new((float)a[at]!, (float)a[at + 1]!, (float)a[at + 2]!, (float)a[at + 3]!);
        var images = c["images"]!.AsArray().Select(im => new ImageRecord((string)im![0]!, "x.jpg", 100, 100,
            im[1]!.AsArray().Select(o => new ObjectAnnotation(Box(o!.AsArray(), 1), (int)o[0]!, (int)o[5]! != 0, (int)o[6]! != 0)).ToArray())).ToArray();
        var dets = c["dets"]!.AsArray().Select(d => new Detection((string)d![0]!, (int)d[1]!, (float)(double)d[2]!, Box(d.AsArray(), 3))).ToArray();
        var expected = c["expected"]!;
        static double[] Values(JsonNode n) => n.AsArray().Select(v => v is null ? double.NaN : (double)v).ToArray();

        var coco = CocoEvaluator.Evaluate(images, dets, k);
        Assert.Equal(Values(expected["coco"]!), new[] { coco.Ap, coco.Ap50, coco.Ap75, coco.Ar100 });
        Assert.Equal(Values(expected["coco_classes"]!), coco.PerClassAp);
        var voc07 = VocEvaluator.Evaluate(images, dets, k, VocApMetric.ElevenPoint);
        Assert.Equal(Values(expected["voc07"]!), voc07.Classes.Select(a => a.Ap).Prepend(voc07.MeanAp));
        var voc10 = VocEvaluator.Evaluate(images, dets, k, VocApMetric.Area);
        Assert.Equal(Values(expected["voc10"]!), voc10.Classes.Select(a => a.Ap).Prepend(voc10.MeanAp));
    }
}
