using FastRcnn.IO;
using FastRcnn.Modeling;
using FastRcnn.Modeling.Backbones;
using FastRcnn.Modeling.RegionFeatures;
using FastRcnn.Ops;
using FastRcnn.Tests.Ops;
using static FastRcnn.Tests.Modeling.ModelingTestData;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Modeling.RegionFeatures;

public sealed class SpatialPyramidPoolingTests
{
    private static (float[] X, float[] Rois) RandomCase(Random rng, int n, int c, int h, int w, int count)
    {
        var x = Enumerable.Range(0, n * c * h * w).Select(_ => (float)Math.Round(rng.NextDouble() * 8 - 4, 2)).ToArray();
        var rois = new float[5 * count];
        for (int i = 0; i < count; i++)
        {
            float x1 = (float)(rng.NextDouble() * w * 16), y1 = (float)(rng.NextDouble() * h * 16);
            rois[5 * i] = rng.Next(n);
            rois[5 * i + 1] = x1;
            rois[5 * i + 2] = y1;
            rois[5 * i + 3] = x1 + 8 * rng.Next(0, 2 * w);   // multiples of 8: corners that round half away from zero
            rois[5 * i + 4] = y1 + (float)(rng.NextDouble() * h * 12);
        }
        return (x, rois);
    }

    [Theory]
    [InlineData(new[] { 6, 3, 2, 1 }, 1)]   // the paper's pyramid
    [InlineData(new[] { 5, 3, 2, 1 }, 2)]   // the small backbone's
    [InlineData(new[] { 4, 1 }, 3)]
    public void Every_level_equals_the_slow_roi_pooling_reference_and_levels_concatenate_finest_first(int[] levels, int seed)
    {
        const int n = 2, c = 7, h = 9, w = 12;
        var rng = new Random(seed);
        var (x, rois) = RandomCase(rng, n, c, h, w, 40);
        using var scope = NewDisposeScope();
        using var spp = new SpatialPyramidPooling(c, levels, 1.0 / 16);
        var output = spp.forward(tensor(x).reshape(n, c, h, w), tensor(rois).reshape(40, 5));

        Assert.Equal(c * levels.Sum(l => l * l), spp.OutputWidth);
        Assert.Equal(new long[] { 40, spp.OutputWidth }, output.shape);
        long offset = 0;
        foreach (int level in levels)
        {
            var (expected, _) = RoiPoolReference.Forward(x, n, c, h, w, rois, level, level, 1f / 16);
            long width = c * level * level;
            var slice = output.narrow(1, offset, width).contiguous().data<float>().ToArray();
            Assert.Equal(expected, slice);   // (R, C·L·L) rows = the reference's (R, C, L, L) flattened
            offset += width;
        }
    }

    [Fact]
    public void Gradients_are_the_sum_of_the_levels_roi_pooling_gradients()
    {
        const int n = 1, c = 5, h = 8, w = 10;
        var rng = new Random(4);
        var (x, rois) = RandomCase(rng, n, c, h, w, 12);
        using var scope = NewDisposeScope();
        int[] levels = [6, 3, 2, 1];
        using var spp = new SpatialPyramidPooling(c, levels, 1.0 / 16);
        var roiTensor = tensor(rois).reshape(12, 5);
        var features = tensor(x).reshape(n, c, h, w).requires_grad_(true);
        var weights = randn(12, spp.OutputWidth, generator: new Generator(5));
        spp.forward(features, roiTensor).mul(weights).sum().backward();

        var perLevel = tensor(x).reshape(n, c, h, w).requires_grad_(true);
        long offset = 0;
        var total = zeros(1);
        foreach (int level in levels)
        {
            long width = c * level * level;
            total = total.Add(RoiPool.Apply(perLevel, roiTensor, level, level, 1.0 / 16).flatten(1).mul(weights.narrow(1, offset, width)).sum());
            offset += width;
        }
        total.backward();
        Assert.True(features.grad!.allclose(perLevel.grad!, rtol: 1e-5, atol: 1e-5));
        Assert.True(features.grad!.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void An_sppnet_model_has_the_pyramid_width_at_fc6_a_frozen_trunk_and_the_backbone_levels()
    {
        Assert.Equal(512 * 50, TwoStageModel.Fc6Inputs(BackboneFactory.Spec("vgg16"), new TwoStageOptions { Architecture = DetectorArchitecture.Sppnet }));
        Assert.Equal(25088, TwoStageModel.Fc6Inputs(BackboneFactory.Spec("vgg16"), new TwoStageOptions()));

        using var model = new TwoStageModel("small", 3, seed: 2, new TwoStageOptions { Architecture = DetectorArchitecture.Sppnet });
        Assert.Equal([5, 3, 2, 1], model.Spp!.Levels);
        Assert.Equal(256 * 39, model.RegionFeatureExtractor.OutputWidth);
        Assert.Equal(256 * 39, model.state_dict()["box_head.fc6.weight"].shape[1]);
        Assert.All(model.named_parameters(), p => Assert.Equal(!p.name.StartsWith("features.", StringComparison.Ordinal), p.parameter.requires_grad));
        model.SetFrozenPrefixes([]);
        Assert.All(model.named_parameters().Where(p => p.name.StartsWith("features.", StringComparison.Ordinal)), p => Assert.False(p.parameter.requires_grad));
    }

    [Fact]
    public void Pre_trained_fc6_weights_go_to_the_level_of_their_grid_and_the_other_levels_start_at_zero()
    {
        string dir = Directory.CreateTempSubdirectory("spp-weights-").FullName;
        try
        {
            using var dense = new TwoStageModel("small", 3, seed: 3);
            string path = Path.Combine(dir, "small.safetensors");
            BackboneWeights.Export(dense, path);
            using var spp = new TwoStageModel("small", 3, seed: 4, new TwoStageOptions { Architecture = DetectorArchitecture.Sppnet });
            var report = BackboneWeights.ImportTorchvision(spp, path);
            Assert.True(report.IsComplete, report.ToString());

            // On any window, the SPPnet fc6 equals the dense model's fc6 on its 5×5 RoI pooling.
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            dense.eval();
            spp.eval();
            var features = randn(1, 256, 6, 8, generator: new Generator(6)).relu();
            var rois = tensor(new float[] { 0, 0, 0, 100, 80, 0, 16, 8, 60, 70, 0, 40, 24, 127, 95 }).reshape(3, 5);
            var expected = dense.BoxHead.Fc6(dense.PoolRois(features, rois));
            var actual = spp.BoxHead.Fc6(spp.PoolRois(features, rois));
            Assert.True(actual.allclose(expected, rtol: 1e-4, atol: 1e-4));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void An_sppnet_model_saves_its_pyramid_and_loads_to_the_same_predictions()
    {
        string dir = Directory.CreateTempSubdirectory("spp-model-").FullName;
        try
        {
            var options = new TwoStageOptions { Architecture = DetectorArchitecture.Sppnet, Spp = new SppOptions { Levels = [4, 2, 1], Scales = [300, 400], CanonicalSize = 80 } };
            using var model = new TwoStageModel("small", 3, seed: 7, options);
            ModelFiles.Save(dir, model, ["circle", "square", "triangle"]);
            var loaded = ModelFiles.Load(dir);
            using var copy = loaded.Model;
            Assert.Equal(DetectorArchitecture.Sppnet, loaded.Info.Architecture);
            Assert.Equal(options.Spp, loaded.Info.Spp);
            Assert.Equal(options.Spp, copy.Spp);

            var image = randn(1, 3, 72, 96, generator: new Generator(3));
            var proposals = Boxes([0, 0, 40, 30], [10, 20, 90, 70], [33, 5, 60, 60]);
            var (p1, b1) = model.Predict(image, proposals);
            var (p2, b2) = copy.Predict(image, proposals);
            Assert.True(Same(p1, p2) && Same(b1, b2));

            using var detector = new FastRcnn.Inference.Detector(copy, loaded.Info.ClassNames);
            Assert.Equal([300, 400], detector.Options.EffectiveScales);
            Assert.Equal(80, detector.Options.CanonicalRoiSize);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
