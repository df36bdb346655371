using FastRcnn.Modeling;
using FastRcnn.Modeling.Backbones;
using FastRcnn.Modeling.RegionFeatures;
using TorchSharp;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Modeling.RegionFeatures;

public sealed class WarpedRegionExtractorTests
{
    /// <summary>
    /// The per-pixel reference: output pixel (v, u) of a region samples the image bilinearly (pixel i's centre at
    /// i + ½, zero outside the tensor) at the point (u + ½)/S of the box dilated by S/(S − 2p) about its centre.
    /// </summary>
    private static float[,,] Reference(float[,,] image, float[] box, int s, int p)
    {
        int channels = image.GetLength(0), height = image.GetLength(1), width = image.GetLength(2);
        double dilation = (double)s / (s - 2 * p);
        double w = (box[2] - box[0]) * dilation, h = (box[3] - box[1]) * dilation;
        double left = 0.5 * (box[0] + box[2]) - 0.5 * w, top = 0.5 * (box[1] + box[3]) - 0.5 * h;
        var output = new float[channels, s, s];
        for (int v = 0; v < s; v++)
            for (int u = 0; u < s; u++)
            {
                double x = left + (u + 0.5) * w / s - 0.5, y = top + (v + 0.5) * h / s - 0.5; // in pixel-index coordinates
                int x0 = (int)Math.Floor(x), y0 = (int)Math.Floor(y);
                double fx = x - x0, fy = y - y0;
                for (int c = 0; c < channels; c++)
                {
                    double Pixel(int yy, int xx) => yy < 0 || xx < 0 || yy >= height || xx >= width ? 0 : image[c, yy, xx];
                    output[c, v, u] = (float)((1 - fy) * ((1 - fx) * Pixel(y0, x0) + fx * Pixel(y0, x0 + 1))
                        + fy * ((1 - fx) * Pixel(y0 + 1, x0) + fx * Pixel(y0 + 1, x0 + 1)));
                }
            }
        return output;
    }

    [Fact]
    public void WarpsWithContextAsThePerPixelLoopAndFillsTheMeanOutside()
    {
        const int s = 24, p = 4;
        var rng = new Random(3);
        // Two images of a batch; the second is smaller and zero-padded, as Batching pads after preprocessing.
        var pixels = new float[2, 3, 30, 40];
        for (int n = 0; n < 2; n++)
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < 30; y++)
                    for (int x = 0; x < 40; x++)
                        pixels[n, c, y, x] = n == 1 && (y >= 20 || x >= 25) ? 0 : (float)(rng.NextDouble() * 2 - 1);
        var flat = new float[2 * 3 * 30 * 40];
        Buffer.BlockCopy(pixels, 0, flat, 0, flat.Length * sizeof(float));
        using var images = tensor(flat, [2, 3, 30, 40]);
        float[][] rois = [[1, 5, 6, 20, 18], [0, 0, 0, 40, 30], [0, 30.5f, 2.25f, 39, 29], [1, 2, 3, 7, 5], [0, 10, 10, 11.5f, 25]];
        var spec = BackboneFactory.Spec("small");
        var backbone = BackboneFactory.Create("small", 1);
        var extractor = new WarpedRegionExtractor(backbone.Trunk, spec, inputSize: s, context: p);
        using var crops = extractor.Warp(images, tensor(rois.SelectMany(r => r).ToArray(), [rois.Length, 5]));
        Assert.Equal([rois.Length, 3, s, s], crops.shape);
        var got = crops.data<float>().ToArray();
        for (int i = 0; i < rois.Length; i++)
        {
            int n = (int)rois[i][0];
            var image = new float[3, 30, 40];
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < 30; y++)
                    for (int x = 0; x < 40; x++)
                        image[c, y, x] = pixels[n, c, y, x];
            var expected = Reference(image, rois[i][1..], s, p);
            for (int c = 0; c < 3; c++)
                for (int v = 0; v < s; v++)
                    for (int u = 0; u < s; u++)
                        Assert.Equal((double)expected[c, v, u], got[((i * 3 + c) * s + v) * s + u], 1e-4);
        }
        // The whole-image box carries context beyond the border: its outer p pixels are the mean (0).
        Assert.Equal(0f, got[(1 * 3 * s + 0) * s + 0]);
    }

    [Fact]
    public void RunsTheWholeNetworkPerRegion()
    {
        var spec = BackboneFactory.Spec("small");
        Assert.Equal(80, WarpedRegionExtractor.InputSizeFor(spec));
        Assert.Equal(224, WarpedRegionExtractor.InputSizeFor(BackboneFactory.Spec("vgg16")));
        Assert.Equal(227, WarpedRegionExtractor.InputSizeFor(BackboneFactory.Spec("alexnet")));
        Assert.Equal(16, WarpedRegionExtractor.ContextFor(227));
        Assert.Equal(16, WarpedRegionExtractor.ContextFor(224));

        var backbone = BackboneFactory.Create("small", 2);
        var extractor = new WarpedRegionExtractor(backbone.Trunk, spec, batchSize: 2);
        using var images = randn(1, 3, 64, 96, generator: new Generator(4));
        using var rois = tensor(new float[] { 0, 4, 4, 40, 30, 0, 10, 20, 90, 60, 0, 0, 0, 96, 64 }, [3, 5]);
        using var noGrad = no_grad();
        using var features = extractor.Extract(new RegionSource(images, empty(0)), rois);
        Assert.Equal([3L, spec.OutputChannels, spec.PooledSize, spec.PooledSize], features.shape);
        // Region by region: warp, trunk, the 5×5 max pool of the 5×5 map (80 / 16 = 5 cells: the identity).
        using var crops = extractor.Warp(images, rois);
        using var expected = nn.functional.adaptive_max_pool2d(backbone.Trunk.forward(crops), [5, 5]);
        Assert.True(features.allclose(expected, rtol: 1e-5, atol: 1e-5));
        Assert.False(extractor.ReadsFeatureMap);
        Assert.Equal(spec.Fc6Inputs, extractor.OutputWidth);
    }

    [Fact]
    public void AnRcnnModelScoresWithoutTheWholeImageTrunkPass()
    {
        using var model = new TwoStageModel("small", 2, seed: 1, new TwoStageOptions { Architecture = DetectorArchitecture.Rcnn });
        Assert.IsType<WarpedRegionExtractor>(model.RoiHeads.Extractor);
        using var image = randn(1, 3, 64, 80, generator: new Generator(5));
        var (probabilities, boxes) = model.Predict(image, tensor(new float[] { 2, 2, 30, 40, 10, 5, 70, 60 }, [2, 4]));
        Assert.Equal([2L, 3], probabilities.shape);
        Assert.Equal([2L, 12], boxes.shape);
        Assert.True(probabilities.sum(1).allclose(ones(2)));
    }
}
