using System.Globalization;
using System.Text.Json;
using FastRcnn.Export;
using FastRcnn.Inference;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Export;

/// <summary>
/// ONNX Runtime's <c>MaxRoiPool</c> on the torchvision 0.14 <c>roi_pool</c> fixtures (Ops/Fixtures/roi_pool_torchvision.json,
/// which this library's RoI pooling equals bit for bit): the exported graph pools exactly as Caffe, torchvision and
/// the library do, corners rounded half away from zero, "+1" extents, empty bins 0.
/// </summary>
public class MaxRoiPoolParityTests
{
    public static TheoryData<string> CaseNames()
    {
        var data = new TheoryData<string>();
        foreach (var c in Cases()) data.Add(c.GetProperty("name").GetString()!);
        return data;
    }

    private static List<JsonElement> Cases()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Ops", "Fixtures", "roi_pool_torchvision.json");
        return JsonDocument.Parse(File.ReadAllText(path)).RootElement.GetProperty("cases").EnumerateArray().ToList();
    }

    private static float[] Floats(JsonElement e) => e.EnumerateArray()
        .Select(v => v.ValueKind == JsonValueKind.String ? float.Parse(v.GetString()!, NumberStyles.Float, CultureInfo.InvariantCulture) : (float)v.GetDouble())
        .ToArray();

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void MaxRoiPool_equals_torchvision_roi_pool(string name)
    {
        var c = Cases().Single(e => e.GetProperty("name").GetString() == name);
        var shape = c.GetProperty("shape").EnumerateArray().Select(v => v.GetInt64()).ToArray();
        int ph = c.GetProperty("pooled")[0].GetInt32(), pw = c.GetProperty("pooled")[1].GetInt32();
        var roiValues = Floats(c.GetProperty("rois"));
        using var scope = NewDisposeScope();
        var features = tensor(Floats(c.GetProperty("features"))).reshape(shape).contiguous();
        var rois = tensor(roiValues).reshape(roiValues.Length / 5, 5).contiguous();
        using var session = new InferenceSession(OnnxExporter.MaxRoiPoolBytes((int)shape[1], ph, pw, c.GetProperty("scale").GetDouble()));
        var pooled = OnnxRuntimeEngine.Run(session, [("features", features), ("rois", rois)], ["pooled"])[0];
        Assert.Equal(Floats(c.GetProperty("output")), pooled.data<float>().ToArray());
    }
}
