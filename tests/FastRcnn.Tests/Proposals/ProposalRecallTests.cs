using FastRcnn.Data;
using FastRcnn.Proposals;

namespace FastRcnn.Tests.Proposals;

public sealed class ProposalRecallTests
{
    private static ObjectAnnotation Gt(float x1, float y1, float x2, float y2, bool difficult = false, bool crowd = false) =>
        new(new BoundingBox(x1, y1, x2, y2), 1, difficult, crowd);

    [Fact]
    public void Recall_is_read_off_at_each_budget_and_ignores_difficult_and_crowd_boxes()
    {
        var recall = new ProposalRecall([1, 2]);
        // Image 1: object A (0,0,10,10) is hit exactly by proposal 2; object B (20,0,30,10) at IoU 0.6 by proposal 1 (20,0,30,6 → 60/100).
        recall.Add([Gt(0, 0, 10, 10), Gt(20, 0, 30, 10), Gt(50, 50, 60, 60, difficult: true)],
            [20, 0, 30, 6, /**/ 0, 0, 10, 10, /**/ 100, 100, 110, 110]);
        // Image 2: one object, no proposals at all.
        recall.Add([Gt(0, 0, 5, 5), Gt(0, 0, 50, 50, crowd: true)], []);
        var r = recall.Report("test");
        Assert.Equal((2, 3, 2), (r.Images, r.GtBoxes, r.IgnoredGtBoxes));
        Assert.Equal(new int?[] { 1, 2, null }, r.Points.Select(p => p.Budget));
        Assert.Equal(new[] { 0.5, 1.0, 1.5 }, r.Points.Select(p => p.MeanProposals));  // min(N, R) averaged: (1+0)/2, (2+0)/2, (3+0)/2
        // Top 1: only B at 0.6 → recall@0.5 = 1/3, recall@0.7 = 0; AR: B passes 0.5 and 0.55 and 0.6 → (3 hits over 10 thresholds) / 3 objects.
        Assert.Equal(1 / 3.0, r.Points[0].Recall50, 9);
        Assert.Equal(0.0, r.Points[0].Recall70, 9);
        Assert.Equal(3 / 30.0, r.Points[0].AverageRecall, 9);
        // Top 2 and all: A exact (10 thresholds), B 3 thresholds.
        Assert.Equal(2 / 3.0, r.All.Recall50, 9);
        Assert.Equal(1 / 3.0, r.All.Recall70, 9);
        Assert.Equal(13 / 30.0, r.All.AverageRecall, 9);
        Assert.Equal(r.Points[1], r.All with { Budget = 2, MeanProposals = 1.0 });
    }

    [Fact]
    public void IoU_uses_continuous_coordinates()
    {
        Assert.Equal(1.0, ProposalRecall.IoU(new BoundingBox(0, 0, 10, 10), [0, 0, 10, 10]));
        Assert.Equal(25 / 175.0, ProposalRecall.IoU(new BoundingBox(0, 0, 10, 10), [5, 5, 15, 15]), 9);
        Assert.Equal(0.0, ProposalRecall.IoU(new BoundingBox(0, 0, 10, 10), [10, 0, 20, 10]));
        Assert.Throws<ArgumentException>(() => new ProposalRecall([0]));
    }
}
