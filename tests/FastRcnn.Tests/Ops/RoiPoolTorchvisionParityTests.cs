using System.Globalization;
using System.Text.Json;
using FastRcnn.Ops;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Ops;

/// <summary>
/// Outputs and feature gradients of torchvision 0.14's <c>roi_pool</c> (CPU) for seeded cases,
/// recorded by Fixtures/make_roi_pool_fixtures.py into Fixtures/roi_pool_torchvision.json.
/// </summary>
public class RoiPoolTorchvisionParityTests
{
    private sealed record Case(long[] Shape, int PooledHeight, int PooledWidth, double Scale,
        float[] Features, float[] Rois, float[] GradOutput, float[] Output, float[] GradFeatures);

    private static readonly Lazy<Dictionary<string, Case>> Cases = new(Load);

    private static Dictionary<string, Case> Load()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Ops", "Fixtures", "roi_pool_torchvision.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        static float[] F(JsonElement e) => e.EnumerateArray()
            .Select(v => v.ValueKind == JsonValueKind.String
                ? float.Parse(v.GetString()!, NumberStyles.Float, CultureInfo.InvariantCulture)
                : (float)v.GetDouble())
            .ToArray();
        return doc.RootElement.GetProperty("cases").EnumerateArray().ToDictionary(
            c => c.GetProperty("name").GetString()!,
            c => new Case(
                c.GetProperty("shape").EnumerateArray().Select(v => v.GetInt64()).ToArray(),
                c.GetProperty("pooled")[0].GetInt32(), c.GetProperty("pooled")[1].GetInt32(),
                c.GetProperty("scale").GetDouble(),
                F(c.GetProperty("features")), F(c.GetProperty("rois")), F(c.GetProperty("grad_output")),
                F(c.GetProperty("output")), F(c.GetProperty("grad_features"))));
    }

    public static TheoryData<string> CaseNames() => new(Cases.Value.Keys);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void Forward_and_backward_equal_torchvision(string name)
    {
        var c = Cases.Value[name];
        using var scope = NewDisposeScope();
        var features = tensor(c.Features).reshape(c.Shape).requires_grad_();
        var rois = tensor(c.Rois).reshape(c.Rois.Length / 5, 5);
        var output = RoiPool.Apply(features, rois, c.PooledHeight, c.PooledWidth, c.Scale);
        Assert.Equal(c.Output, output.data<float>().ToArray());
        output.backward([tensor(c.GradOutput).reshape(output.shape)]);
        Assert.Equal(c.GradFeatures, features.grad!.data<float>().ToArray());
    }
}
