using FastRcnn.Modeling.Backbones;
using FastRcnn.Modeling.Matching;
using FastRcnn.Modeling.Rpn;

namespace FastRcnn.Tests.Modeling.Rpn;

public sealed class RpnOptionsTests
{
    [Fact]
    public void Defaults_are_faster_rcnns()
    {
        var o = new RpnOptions();
        Assert.Equal([128.0, 256, 512], o.AnchorSizes);
        Assert.Equal([0.5, 1, 2], o.AspectRatios);
        Assert.Equal(9, o.AnchorsPerCell);
        Assert.Equal(512, o.HeadChannels);
        Assert.Equal(MatcherOptions.Rpn, o.MatcherOptions);
        Assert.Equal(BalancedSamplerOptions.Rpn, o.SamplerOptions);
        Assert.Equal((0.0, 3.0), (o.AllowedBorder, o.Sigma));
        Assert.Equal(ProposalLayerOptions.Training, o.ProposalOptions(training: true));
        Assert.Equal(ProposalLayerOptions.Test, o.ProposalOptions(training: false));
        o.Validate();
    }

    [Fact]
    public void Shapes_preset_is_valid_and_fits_the_small_backbone()
    {
        var o = RpnOptions.ShapesSmall;
        o.Validate();
        Assert.Equal([24.0, 48, 96, 192], o.AnchorSizes);
        Assert.Equal(12, o.AnchorsPerCell);
        Assert.Equal(BackboneFactory.Spec("small").OutputChannels, o.HeadChannels);
    }

    [Theory]
    [InlineData("sizes", "anchor sizes must be a non-empty list of positive numbers")]
    [InlineData("ratios", "aspect ratios must be a non-empty list of positive numbers, got [1, 0]")]
    [InlineData("channels", "head channels must be positive, got 0")]
    [InlineData("iou", "IoU thresholds need 0 ≤ background low ≤ background high ≤ foreground ≤ 1, got 0, 0.8, 0.7")]
    [InlineData("batch", "anchors per image must be positive, got 0")]
    [InlineData("fraction", "the positive fraction must lie in [0, 1], got 1.5")]
    [InlineData("border", "the allowed border must be non-negative and finite, got -1")]
    [InlineData("sigma", "sigma must be positive and finite, got 0")]
    [InlineData("topn", "top-N counts must be positive, got 12000/2000 (training), 6000/0 (test)")]
    [InlineData("nms", "the NMS threshold must lie in [0, 1], got 1.2")]
    [InlineData("minsize", "the minimum proposal size must be non-negative and finite, got -2")]
    public void Validate_names_the_bad_setting(string what, string message)
    {
        var o = new RpnOptions();
        o = what switch
        {
            "sizes" => o with { AnchorSizes = [] },
            "ratios" => o with { AspectRatios = [1, 0] },
            "channels" => o with { HeadChannels = 0 },
            "iou" => o with { BackgroundIoUHigh = 0.8 },
            "batch" => o with { BatchSizePerImage = 0 },
            "fraction" => o with { PositiveFraction = 1.5 },
            "border" => o with { AllowedBorder = -1 },
            "sigma" => o with { Sigma = 0 },
            "topn" => o with { PostNmsTopNTest = 0 },
            "nms" => o with { NmsThreshold = 1.2 },
            _ => o with { MinSize = -2 },
        };
        var error = Assert.Throws<ArgumentException>(o.Validate);
        Assert.StartsWith("RPN options: " + message, error.Message);
    }
}
