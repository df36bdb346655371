using FastRcnn.Data.Transforms;
using FastRcnn.Modeling;
using FastRcnn.Modeling.Backbones;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Modeling.Backbones;

public sealed class BackboneTests
{
    // Actual feature-map sizes for a 224×320 input. VGG16 and the small trunk divide exactly (4 halvings);
    // AlexNet (11×11/4 conv, two unpadded 3×3/2 pools) and VGG_CNN_M_1024 (7×7/2, 5×5/2 pad 1, two ceil-mode
    // 3×3/2 pools) lose a cell: 224 → 13 and 320 → 19 (e.g. M: 224 → 109 → 54 → 26 → 13).
    [Theory]
    [InlineData("vgg16", 512, 14, 20)]
    [InlineData("vgg_cnn_m_1024", 512, 13, 19)]
    [InlineData("alexnet", 256, 13, 19)]
    [InlineData("small", 256, 14, 20)]
    public void Trunk_has_stride_16_and_the_spec_channels(string name, int channels, int height, int width)
    {
        var backbone = BackboneFactory.Create(name, seed: 1);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var features = backbone.Trunk.forward(randn(1, 3, 224, 320));
        Assert.Equal(new long[] { 1, channels, height, width }, features.shape);
        Assert.Equal(channels, backbone.Spec.OutputChannels);
        Assert.Equal(1.0 / 16, backbone.Spec.SpatialScale);
    }

    [Theory]
    [InlineData("vgg16")]
    [InlineData("vgg_cnn_m_1024")]
    [InlineData("alexnet")]
    [InlineData("small")]
    public void Min_input_side_is_the_smallest_image_the_trunk_takes(string name)
    {
        var backbone = BackboneFactory.Create(name, seed: 1);
        using var noGrad = no_grad();
        bool Works(int side)
        {
            using var scope = NewDisposeScope();
            try { return backbone.Trunk.forward(zeros(1, 3, side, side)).shape[2] >= 1; }
            catch (System.Runtime.InteropServices.ExternalException) { return false; }   // libtorch: "Output size is too small"
        }
        int smallest = Enumerable.Range(1, 64).First(Works);
        Assert.Equal(smallest, backbone.Spec.MinInputSide);
        Assert.True(Works(smallest + 1) && Works(smallest + 7));
    }

    [Fact]
    public void Small_trunk_rounds_odd_sizes_up()
    {
        var trunk = BackboneFactory.Create("small").Trunk;
        using var noGrad = no_grad();
        Assert.Equal(new long[] { 2, 256, 7, 9 }, trunk.forward(zeros(2, 3, 100, 130)).shape);   // ⌈100/16⌉, ⌈130/16⌉
    }

    [Fact]
    public void Vgg16_state_dict_names_and_shapes_are_torchvisions_without_the_last_pool()
    {
        var trunk = BackboneFactory.Create("vgg16").Trunk;
        var state = trunk.state_dict();
        int[] convIndices = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28];
        Assert.Equal(convIndices.SelectMany(i => new[] { $"{i}.weight", $"{i}.bias" }), state.Keys);
        Assert.Equal(new long[] { 64, 3, 3, 3 }, state["0.weight"].shape);
        Assert.Equal(new long[] { 512, 512, 3, 3 }, state["28.weight"].shape);
        Assert.Equal(30, trunk.Count);                                  // features.30 (the 5th max-pool) is gone
        Assert.IsType<ReLU>(trunk.children().Last());
    }

    [Fact]
    public void Alexnet_and_vgg_cnn_m_layouts()
    {
        var alex = BackboneFactory.Create("alexnet").Trunk.state_dict();
        Assert.Equal(new[] { 0, 3, 6, 8, 10 }.SelectMany(i => new[] { $"{i}.weight", $"{i}.bias" }), alex.Keys);
        Assert.Equal(new long[] { 64, 3, 11, 11 }, alex["0.weight"].shape);
        var m = BackboneFactory.Create("vgg_cnn_m_1024").Trunk;
        var mState = m.state_dict();
        Assert.Equal(new long[] { 96, 3, 7, 7 }, mState["0.weight"].shape);
        Assert.Equal(new long[] { 256, 96, 5, 5 }, mState["4.weight"].shape);
        Assert.Equal(new long[] { 512, 512, 3, 3 }, mState["12.weight"].shape);
        Assert.IsType<LocalResponseNorm>(m.children().ElementAt(2));
    }

    [Fact]
    public void Specs_carry_the_papers_numbers()
    {
        var vgg = BackboneFactory.Spec("vgg16");
        Assert.Equal((7, 4096, 4096, 25088), (vgg.PooledSize, vgg.Fc6Width, vgg.Fc7Width, vgg.Fc6Inputs));
        Assert.Equal(Enumerable.Range(0, 8).Select(i => $"features.{i}."), vgg.FrozenPrefixes);
        Assert.Equal(("classifier.0", "classifier.3"), (vgg.TorchvisionFc6, vgg.TorchvisionFc7));
        Assert.Same(PixelPreprocessing.TorchvisionRgb, vgg.Pixels);

        var m = BackboneFactory.Spec("VGG_CNN_M_1024");
        Assert.Equal((6, 4096, 1024, 512 * 36), (m.PooledSize, m.Fc6Width, m.Fc7Width, m.Fc6Inputs));
        Assert.Equal(["features.0."], m.FrozenPrefixes);
        Assert.Same(PixelPreprocessing.CaffeBgr, m.Pixels);

        var alex = BackboneFactory.Spec("alexnet");
        Assert.Equal((6, 9216), (alex.PooledSize, alex.Fc6Inputs));
        Assert.Equal(("classifier.1", "classifier.4"), (alex.TorchvisionFc6, alex.TorchvisionFc7));
        Assert.Equal(["features.0."], alex.FrozenPrefixes);

        Assert.Empty(BackboneFactory.Spec("small").FrozenPrefixes);
        var error = Assert.Throws<ArgumentException>(() => BackboneFactory.Spec("resnet50"));
        Assert.Contains("resnet50", error.Message);
    }

    [Fact]
    public void Init_is_he_normal_with_zero_biases_and_seeded()
    {
        var a = BackboneFactory.Create("small", seed: 7).Trunk.state_dict();
        var b = BackboneFactory.Create("small", seed: 7).Trunk.state_dict();
        var c = BackboneFactory.Create("small", seed: 8).Trunk.state_dict();
        Assert.True(ModelingTestData.Same(a["4.weight"], b["4.weight"]));
        Assert.False(ModelingTestData.Same(a["4.weight"], c["4.weight"]));
        Assert.Equal(0f, a["4.bias"].abs().max().item<float>());
        // conv3 128×64×3×3: std √(2 / (128·9)) = 0.0417 over 73 728 draws.
        Assert.Equal(Math.Sqrt(2.0 / (128 * 9)), a["4.weight"].std().item<float>(), 0.001);
    }

    [Fact]
    public void Model_state_dict_nests_the_trunk_under_features()
    {
        using var model = new TwoStageModel("small", numClasses: 3);
        var names = model.state_dict().Keys.ToList();
        Assert.Contains("features.0.weight", names);
        Assert.Contains("features.8.bias", names);
        Assert.Contains("box_head.fc6.weight", names);
        Assert.Contains("box_head.fc7.bias", names);
        Assert.Contains("predictor.cls_score.weight", names);
        Assert.Contains("predictor.bbox_pred.bias", names);
        Assert.Equal(10 + 4 + 4, names.Count);
    }
}
