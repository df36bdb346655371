using FastRcnn.Inference;
using FastRcnn.Ops;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Inference;

public class RoiDeduplicationTests
{
    [Fact]
    public void Rois_on_the_same_feature_cells_collapse_and_the_inverse_restores_every_row()
    {
        var rois = tensor(new float[]
        {
            0, 0, 0, 100, 100,
            0, 3, 5, 98, 103,      // same cells at 1/16: 0,0,6,6 (100/16 = 6.25; 98/16 = 6.125; 103/16 = 6.44)
            1, 0, 0, 100, 100,     // same box on another image: distinct
            0, 8, 0, 100, 100,     // 8/16 = 0.5 rounds away from zero to 1: distinct
            0, 0, 0, 100, 100,     // exact repeat
        }).reshape(5, 5);
        var (unique, inverse) = RoiDeduplication.Run(rois, 1.0 / 16);
        Assert.Equal(3, unique.shape[0]);
        Assert.Equal(new long[] { 0, 0, 1, 2, 0 }, inverse.data<long>().ToArray());
        Assert.Equal(rois[0].data<float>().ToArray(), unique[0].data<float>().ToArray());   // first appearance kept

        // Pooling the distinct rows and expanding equals pooling all rows.
        var features = randn(2, 4, 10, 10, generator: manual_seed(1));
        var all = RoiPool.Forward(features, rois, 3, 3, 1.0 / 16).Output;
        var viaUnique = RoiPool.Forward(features, unique, 3, 3, 1.0 / 16).Output.index_select(0, inverse);
        Assert.True(all.equal(viaUnique).all().item<bool>());
    }

    [Fact]
    public void No_rois_give_empty_results()
    {
        var (unique, inverse) = RoiDeduplication.Run(zeros(0, 5), 1.0 / 16);
        Assert.Equal(0, unique.shape[0]);
        Assert.Equal(0, inverse.shape[0]);
    }
}
