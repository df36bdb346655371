using System.Diagnostics;
using FastRcnn.Proposals;
using Xunit.Abstractions;

namespace FastRcnn.Tests.Proposals;

public class SelectiveSearchTests(ITestOutputHelper output)
{
    [Fact]
    public void FastModeFindsTheSixShapesOfTheSyntheticScene()
    {
        var scene = SyntheticScene.Standard();
        var ss = new SelectiveSearch();
        ss.Run(scene.Rgb, scene.Width, scene.Height);                       // warm-up (JIT)
        var sw = Stopwatch.StartNew();
        var proposals = ss.Run(scene.Rgb, scene.Width, scene.Height);
        sw.Stop();
        double r5 = SyntheticScene.Recall(proposals, scene.Objects, 0.5), r7 = SyntheticScene.Recall(proposals, scene.Objects, 0.7);
        output.WriteLine($"{proposals.Count} boxes, recall@0.5 {r5:F3}, recall@0.7 {r7:F3}, {sw.Elapsed.TotalMilliseconds:F0} ms");
        Assert.Equal(8, proposals.StrategyCount);
        Assert.True(r5 >= 0.95, $"recall@0.5 = {r5}");
        Assert.InRange(proposals.Count, 50, 20000);
    }
}
