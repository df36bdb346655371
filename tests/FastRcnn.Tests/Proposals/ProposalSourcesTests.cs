using FastRcnn.Modeling;
using FastRcnn.Proposals;
using static FastRcnn.Tests.Modeling.ModelingTestData;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Proposals;

public sealed class ProposalSourcesTests
{
    [Fact]
    public void Precomputed_proposals_are_clipped_and_degenerate_boxes_dropped()
    {
        IProposalSource source = new PrecomputedProposals(new Dictionary<string, Tensor>
        {
            ["img1"] = Boxes([-4, 2, 30, 20], [90, 10, 120, 50], [100, 0, 130, 10], [5, 5, 5, 9]),
        });
        var boxes = source.ProposalsFor("img1", imageWidth: 100, imageHeight: 40);
        Assert.True(Same(Boxes([0, 2, 30, 20], [90, 10, 100, 40]), boxes));
    }

    [Fact]
    public void Unknown_images_and_bad_shapes_are_errors_naming_the_origin()
    {
        var source = new PrecomputedProposals(new Dictionary<string, Tensor> { ["a"] = Boxes([0, 0, 1, 1]) }, "voc07_ss.json");
        var error = Assert.Throws<KeyNotFoundException>(() => source.ProposalsFor("b", 10, 10));
        Assert.Contains("voc07_ss.json", error.Message);
        Assert.Contains("'b'", error.Message);
        Assert.Throws<ArgumentException>(() => new PrecomputedProposals(new Dictionary<string, Tensor> { ["a"] = zeros(3, 5) }));
    }
}
