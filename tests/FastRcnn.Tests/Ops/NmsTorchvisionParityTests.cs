using System.Globalization;
using System.Text.Json;
using FastRcnn.Ops;
using TorchSharp;
using static FastRcnn.Tests.Ops.OpsTestData;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Ops;

/// <summary>
/// Keep lists of torchvision 0.14 (CPU) for seeded cases, recorded by Fixtures/make_nms_fixtures.py
/// into Fixtures/nms_torchvision.json. No python is needed at test time.
/// </summary>
public class NmsTorchvisionParityTests
{
    private sealed record Case(string Name, double Threshold, float[] Boxes, float[] Scores, long[]? Classes, long[] Keep);

    private static readonly Lazy<Dictionary<string, Case>> Cases = new(Load);

    private static Dictionary<string, Case> Load()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Ops", "Fixtures", "nms_torchvision.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        // Floats are numpy's shortest float32 representations: parse the text straight to float.
        static float[] F(JsonElement e) =>
            e.EnumerateArray().Select(v => float.Parse(v.GetRawText(), NumberStyles.Float, CultureInfo.InvariantCulture)).ToArray();
        static long[] L(JsonElement e) => e.EnumerateArray().Select(v => v.GetInt64()).ToArray();
        return doc.RootElement.GetProperty("cases").EnumerateArray().Select(c => new Case(
            c.GetProperty("name").GetString()!,
            c.GetProperty("threshold").GetDouble(),
            F(c.GetProperty("boxes")),
            F(c.GetProperty("scores")),
            c.TryGetProperty("classes", out var cls) ? L(cls) : null,
            L(c.GetProperty("keep")))).ToDictionary(c => c.Name);
    }

    public static TheoryData<string> GreedyCases() => new(Cases.Value.Values.Where(c => c.Classes is null).Select(c => c.Name));

    public static TheoryData<string> BatchedCases() => new(Cases.Value.Values.Where(c => c.Classes is not null).Select(c => c.Name));

    [Fact]
    public void Fixture_has_greedy_and_batched_cases()
    {
        Assert.True(GreedyCases().Count >= 6);
        Assert.True(BatchedCases().Count >= 3);
    }

    [Theory]
    [MemberData(nameof(GreedyCases))]
    public void Greedy_keep_list_equals_torchvision(string name)
    {
        using var scope = NewDisposeScope();
        var c = Cases.Value[name];
        var keep = Nms.Greedy(Boxes(c.Boxes), tensor(c.Scores), c.Threshold);
        Assert.Equal(c.Keep, Longs(keep));
        Assert.Equal(NaiveNms(c.Boxes, c.Scores, c.Threshold), c.Keep);   // the naive reference agrees too
    }

    [Theory]
    [MemberData(nameof(BatchedCases))]
    public void Batched_keep_list_equals_torchvision(string name)
    {
        using var scope = NewDisposeScope();
        var c = Cases.Value[name];
        var keep = Longs(Nms.Batched(Boxes(c.Boxes), tensor(c.Scores), tensor(c.Classes!), c.Threshold));
        // torchvision's final sort is not stable: order its (identical) set by (score desc, index asc).
        var expected = c.Keep.OrderByDescending(i => c.Scores[i]).ThenBy(i => i).ToArray();
        Assert.Equal(expected, keep);
        Assert.Equal(c.Keep.Select(i => c.Scores[i]), keep.Select(i => c.Scores[i]));   // same score sequence
    }
}
