using FastRcnn.Modeling;
using FastRcnn.Modeling.RoiHeads;
using FastRcnn.Ops;
using static FastRcnn.Tests.Modeling.ModelingTestData;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Modeling;

public sealed class RoiSamplerTests
{
    private static List<float[]> Rows(Tensor boxes) =>
        Enumerable.Range(0, (int)boxes.shape[0]).Select(i => boxes[i].data<float>().ToArray()).ToList();

    private static bool HasRow(Tensor boxes, float[] row) => Rows(boxes).Any(r => r.SequenceEqual(row));

    [Fact]
    public void Thresholds_iou_half_is_foreground_one_tenth_is_background_below_is_neither()
    {
        // GT (0,0,10,10), area 100. Each proposal shares its top-left corner, so IoU = its area / 100.
        float[] half = [0, 0, 10, 5], justBelowHalf = [0, 0, 10, 4.99f], tenth = [0, 0, 10, 1], belowTenth = [0, 0, 10, 0.999f], far = [50, 50, 60, 60];
        var image = new ImageTargets(Boxes(half, justBelowHalf, tenth, belowTenth, far), Boxes([0, 0, 10, 10]), tensor(new long[] { 2 }));
        using var sampler = new RoiSampler();

        var sample = sampler.Sample(image);

        Assert.Equal((2, 2), (sample.ForegroundCount, sample.BackgroundCount));
        var fg = sample.ProposalBoxes.narrow(0, 0, 2);
        var bg = sample.ProposalBoxes.narrow(0, 2, 2);
        Assert.True(HasRow(fg, half));
        Assert.True(HasRow(fg, [0, 0, 10, 10]));            // the appended ground truth itself
        Assert.True(HasRow(bg, justBelowHalf));
        Assert.True(HasRow(bg, tenth));
        Assert.False(HasRow(sample.ProposalBoxes, belowTenth));
        Assert.False(HasRow(sample.ProposalBoxes, far));
        Assert.Equal(new long[] { 2, 2, 0, 0 }, sample.GtClasses.data<long>().ToArray());
        Assert.True(Same(Boxes([0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10]), sample.MatchedGtBoxes));
    }

    [Fact]
    public void Foreground_takes_the_class_of_the_best_matching_gt()
    {
        var image = new ImageTargets(Boxes([1, 1, 11, 11], [30, 30, 40, 41]), Boxes([0, 0, 10, 10], [30, 30, 40, 40]), tensor(new long[] { 3, 1 }));
        using var sampler = new RoiSampler(new RoiSamplerOptions(AddGroundTruth: false));
        var sample = sampler.Sample(image);
        Assert.Equal(2, sample.ForegroundCount);
        var classes = sample.GtClasses.data<long>().ToArray();
        for (int i = 0; i < 2; i++)
        {
            float x1 = sample.ProposalBoxes[i, 0].item<float>();
            Assert.Equal(x1 < 20 ? 3L : 1L, classes[i]);
            Assert.Equal(x1 < 20 ? 0f : 30f, sample.MatchedGtBoxes[i, 0].item<float>());
        }
    }

    /// <summary>One GT (0,0,100,100); <paramref name="fg"/> proposals with IoU ≥ 0.7 and <paramref name="bg"/> with IoU in [0.2, 0.4], all distinct.</summary>
    private static ImageTargets Crowded(int fg, int bg)
    {
        var rows = new List<float[]>();
        for (int i = 0; i < fg; i++) rows.Add([0, 0, 100, 75 + i * 0.5f]);     // IoU 0.75 … < 1
        for (int i = 0; i < bg; i++) rows.Add([0, 0, 100, 20 + i * 0.2f]);     // IoU 0.2 … 0.4
        return new ImageTargets(Boxes(rows.ToArray()), Boxes([0, 0, 100, 100]), tensor(new long[] { 1 }));
    }

    [Fact]
    public void Caps_foreground_at_a_quarter_and_fills_with_background_without_replacement()
    {
        using var sampler = new RoiSampler(seed: 5);
        var sample = sampler.Sample(Crowded(fg: 40, bg: 100));
        Assert.Equal((16, 48), (sample.ForegroundCount, sample.BackgroundCount));
        var rows = Rows(sample.ProposalBoxes).Select(r => string.Join(",", r)).ToList();
        Assert.Equal(64, rows.Distinct().Count());
        Assert.All(Rows(sample.ProposalBoxes.narrow(0, 0, 16)), r => Assert.True(r[3] >= 75));
        Assert.All(Rows(sample.ProposalBoxes.narrow(0, 16, 48)), r => Assert.True(r[3] < 41));
        Assert.Equal(16, sample.GtClasses.narrow(0, 0, 16).Eq(1).sum().item<long>());
        Assert.Equal(0, sample.GtClasses.narrow(0, 16, 48).abs().sum().item<long>());
    }

    [Fact]
    public void Fewer_foreground_means_more_background()
    {
        using var sampler = new RoiSampler();
        var sample = sampler.Sample(Crowded(fg: 3, bg: 100));
        Assert.Equal((4, 60), (sample.ForegroundCount, sample.BackgroundCount));  // 3 proposals + the appended GT

        var few = sampler.Sample(Crowded(fg: 1, bg: 5));
        Assert.Equal((2, 5), (few.ForegroundCount, few.BackgroundCount));
    }

    [Fact]
    public void Same_seed_same_sample_other_seed_other_sample()
    {
        Tensor Draw(long seed)
        {
            using var sampler = new RoiSampler(seed: seed);
            return sampler.Sample(Crowded(fg: 40, bg: 100)).ProposalBoxes;
        }
        Assert.True(Same(Draw(11), Draw(11)));
        Assert.False(Same(Draw(11), Draw(12)));

        using var sampler = new RoiSampler(seed: 11);       // successive draws of one sampler differ
        Assert.False(Same(sampler.Sample(Crowded(40, 100)).ProposalBoxes, sampler.Sample(Crowded(40, 100)).ProposalBoxes));
    }

    [Fact]
    public void Images_without_usable_rois_give_an_empty_sample()
    {
        using var sampler = new RoiSampler();
        var noGt = sampler.Sample(new ImageTargets(Boxes([0, 0, 10, 10]), Boxes(), zeros(0, int64)));
        Assert.True(noGt.IsEmpty);
        Assert.Equal(new long[] { 0, 4 }, noGt.ProposalBoxes.shape);

        using var noGtAppend = new RoiSampler(new RoiSamplerOptions(AddGroundTruth: false));
        var allFar = noGtAppend.Sample(new ImageTargets(Boxes([50, 50, 60, 60]), Boxes([0, 0, 10, 10]), tensor(new long[] { 1 })));
        Assert.True(allFar.IsEmpty);

        var noProposals = sampler.Sample(new ImageTargets(Boxes(), Boxes([0, 0, 10, 10]), tensor(new long[] { 1 })));
        Assert.Equal((1, 0), (noProposals.ForegroundCount, noProposals.BackgroundCount));   // the GT alone
    }

    [Fact]
    public void Ignored_gt_is_neither_matched_nor_appended()
    {
        // GT 0 is a crowd region; the proposal overlapping only it must not become foreground.
        var image = new ImageTargets(Boxes([0, 0, 10, 10], [40, 40, 50, 48]), Boxes([0, 0, 10, 10], [40, 40, 50, 50]),
            tensor(new long[] { 1, 2 }), tensor(new[] { true, false }));
        using var sampler = new RoiSampler();
        var sample = sampler.Sample(image);
        Assert.Equal((2, 0), (sample.ForegroundCount, sample.BackgroundCount));   // (40,40,50,48) and the appended GT 1
        Assert.False(HasRow(sample.ProposalBoxes, [0, 0, 10, 10]));
        Assert.Equal(new long[] { 2, 2 }, sample.GtClasses.data<long>().ToArray());

        var onlyCrowd = image with { GtIgnore = tensor(new[] { true, true }) };
        Assert.True(sampler.Sample(onlyCrowd).IsEmpty);
    }

    [Fact]
    public void Options_defaults_are_the_papers()
    {
        var o = new RoiSamplerOptions();
        Assert.Equal((64, 16, 0.5, 0.5, 0.1, true), (o.RoisPerImage, o.ForegroundPerImage, o.ForegroundIoU, o.BackgroundIoUHigh, o.BackgroundIoULow, o.AddGroundTruth));
    }
}
