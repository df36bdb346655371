using FastRcnn.Compression;
using FastRcnn.Inference;
using FastRcnn.Modeling;
using FastRcnn.Modeling.RoiHeads;
using FastRcnn.Ops;
using FastRcnn.Tests.Modeling;
using static FastRcnn.Tests.Modeling.ModelingTestData;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Compression;

/// <summary>Truncated SVD of a whole model's box head ("small": fc6 512×6400, fc7 512×512).</summary>
public class ModelCompressionTests
{
    private static readonly string[] ClassNames = ["a", "b", "c"];

    private static TwoStageModel Model(long seed = 5) => new("small", numClasses: 3, seed: seed);

    /// <summary>Pooled RoIs (R, 256, 5, 5) for the head, non-negative like ReLU outputs.</summary>
    private static Tensor Pooled(int rois = 7) => rand(new long[] { rois, 256, 5, 5 }, generator: new Generator(11));

    private static SvdCompressionOptions Ranks(int? fc6, int? fc7) => new()
    {
        Fc6 = fc6 is int t6 ? LayerTruncation.ToRank(t6) : null,
        Fc7 = fc7 is int t7 ? LayerTruncation.ToRank(t7) : null,
    };

    [Fact]
    public void Each_layers_reconstruction_error_equals_its_discarded_singular_values_energy()
    {
        using var scope = NewDisposeScope();
        using var model = Model();
        var (compressed, report) = ModelCompression.Compress(model, Ranks(100, 40));
        using var _ = compressed;
        Assert.Equal((100, 40), (compressed.BoxHead.Ranks.Fc6, compressed.BoxHead.Ranks.Fc7));
        foreach (var layer in report.Layers)
        {
            var w = model.BoxHead.Weight(layer.Layer).to_type(ScalarType.Float64);
            var approx = compressed.BoxHead.Weight(layer.Layer).to_type(ScalarType.Float64);
            double error = (w - approx).Square().sum().item<double>();        // ‖W − U_t Σ_t V_tᵀ‖_F²
            double discarded = linalg.svdvals(w)[layer.Rank..].Square().sum().item<double>();
            Assert.Equal(discarded, error, discarded * 1e-4);
            Assert.Equal(discarded, layer.DiscardedEnergy, discarded * 1e-9);
            Assert.Equal(w.Square().sum().item<double>(), layer.TotalEnergy, layer.TotalEnergy * 1e-9);
            var squares = linalg.svdvals(w).Square();                           // σ_i², from libtorch's SVD (the code under test uses eigh of W Wᵀ)
            double kept = squares[..layer.Rank].sum().item<double>() / squares.sum().item<double>();
            Assert.Equal(kept, layer.KeptEnergyFraction, 1e-9);
            Assert.Equal(1 - discarded / layer.TotalEnergy, layer.KeptEnergyFraction, 1e-9);
            Assert.True(Same(model.BoxHead.Bias(layer.Layer), compressed.BoxHead.Bias(layer.Layer)));   // the bias moves unchanged
        }
    }

    [Fact]
    public void Full_rank_reproduces_the_head_outputs_and_the_detections()
    {
        using var scope = NewDisposeScope();
        using var model = Model();
        model.eval();
        var (compressed, report) = ModelCompression.Compress(model, Ranks(512, 512));
        using var _ = compressed;
        Assert.All(report.Layers, l => Assert.True(l.DiscardedEnergyFraction < 1e-9));

        var pooled = Pooled();
        Assert.True(compressed.BoxHead.forward(pooled).allclose(model.BoxHead.forward(pooled), rtol: 1e-4, atol: 1e-5));
        Assert.True(compressed.BoxHead.Fc6(pooled).allclose(model.BoxHead.Fc6(pooled), rtol: 1e-4, atol: 1e-5));

        var rng = new Random(2);
        var (rgb, gt, _) = Scene(rng, 96, 128);
        var proposals = ModelingTestData.Proposals(rng, gt, 96, 128);
        var (p1, b1) = model.Predict(model.Pixels.Apply(rgb).unsqueeze(0), proposals);
        var (p2, b2) = compressed.Predict(compressed.Pixels.Apply(rgb).unsqueeze(0), proposals);
        Assert.True(p2.allclose(p1, rtol: 1e-4, atol: 1e-6));
        Assert.True(b2.allclose(b1, rtol: 1e-4, atol: 1e-3));

        var options = new DetectorOptions(Scales: [96], MaxSize: 200, Postprocess: new(ScoreThreshold: 0.0, MaxDetections: 20));
        var dense = new Detector(model, ClassNames, options);             // the models' own usings dispose them
        var factored = new Detector(compressed, ClassNames, options);
        var expected = dense.Detect(rgb, proposals).Objects;
        var actual = factored.Detect(rgb, proposals).Objects;
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].ClassIndex, actual[i].ClassIndex);
            Assert.Equal(expected[i].Score, actual[i].Score, 1e-5);
            Assert.Equal(expected[i].Box.X1, actual[i].Box.X1, 1e-2);
            Assert.Equal(expected[i].Box.Y2, actual[i].Box.Y2, 1e-2);
        }
    }

    [Fact]
    public void Parameters_drop_from_u_v_to_t_u_plus_v_plus_the_bias()
    {
        using var model = Model();
        var (compressed, report) = ModelCompression.Compress(model, Ranks(64, 32));
        using var _ = compressed;
        var fc6 = report.Layers.Single(l => l.Layer == BoxHeadLayer.Fc6);
        var fc7 = report.Layers.Single(l => l.Layer == BoxHeadLayer.Fc7);
        Assert.Equal((512, 6400, 512L * 6400 + 512, 64L * (512 + 6400) + 512), (fc6.Outputs, fc6.Inputs, fc6.ParametersBefore, fc6.ParametersAfter));
        Assert.Equal((512L * 512 + 512, 32L * (512 + 512) + 512), (fc7.ParametersBefore, fc7.ParametersAfter));
        Assert.Equal(fc6.ParametersBefore + fc7.ParametersBefore, report.ParametersBefore);

        static long Count(TwoStageModel m) => m.parameters().Sum(p => p.numel());
        Assert.Equal(Count(model) - report.ParametersBefore + report.ParametersAfter, Count(compressed));
        var names = compressed.state_dict().Keys.Where(k => k.StartsWith("box_head.", StringComparison.Ordinal)).Order().ToArray();
        Assert.Equal(["box_head.fc6.0.weight", "box_head.fc6.1.bias", "box_head.fc6.1.weight",
            "box_head.fc7.0.weight", "box_head.fc7.1.bias", "box_head.fc7.1.weight"], names);
    }

    [Fact]
    public void Only_the_chosen_layers_change_and_every_other_weight_is_copied()
    {
        using var model = Model();
        var (compressed, report) = ModelCompression.Compress(model, Ranks(null, 16));
        using var _ = compressed;
        Assert.Equal(BoxHeadLayer.Fc7, Assert.Single(report.Layers).Layer);
        Assert.Null(compressed.BoxHead.Ranks.Fc6);
        var original = model.state_dict();
        var copy = compressed.state_dict();
        Assert.All(original.Where(p => !p.Key.StartsWith("box_head.fc7", StringComparison.Ordinal)), p => Assert.True(Same(p.Value, copy[p.Key]), p.Key));
        Assert.Equal((model.Seed, model.Options.BoxCoder, model.Pixels.Name), (compressed.Seed, compressed.Options.BoxCoder, compressed.Pixels.Name));
    }

    [Fact]
    public void An_energy_fraction_keeps_the_fewest_singular_values_holding_it()
    {
        using var model = Model();
        var options = new SvdCompressionOptions { Fc6 = LayerTruncation.ToEnergy(0.5), Fc7 = LayerTruncation.ToEnergy(0.9) };
        var (compressed, report) = ModelCompression.Compress(model, options);
        using var _ = compressed;
        foreach (var (layer, fraction) in new[] { (BoxHeadLayer.Fc6, 0.5), (BoxHeadLayer.Fc7, 0.9) })
        {
            var r = report.Layers.Single(l => l.Layer == layer);
            using var w = model.BoxHead.Weight(layer);
            // Independently: σ_i² from libtorch's SVD, largest first; the fewest leading ones holding the fraction.
            using var sv = linalg.svdvals(w.to_type(ScalarType.Float64));
            var squares = sv.data<double>().Select(v => v * v).ToArray();
            double total = squares.Sum(), held = 0;
            int rank = 0;
            while (held < fraction * total) held += squares[rank++];
            Assert.Equal(rank, r.Rank);
            Assert.Equal(held / total, r.KeptEnergyFraction, 1e-9);
            Assert.Equal(TruncatedSvd.RankForEnergy(w, fraction), r.Rank);
            Assert.Equal(r.Rank, compressed.BoxHead.Ranks[layer]);
        }
    }

    [Fact]
    public void Ranks_outside_1_to_min_u_v_are_errors_naming_the_layer()
    {
        using var model = Model();
        var error = Assert.Throws<ArgumentException>(() => ModelCompression.Compress(model, Ranks(null, 513)));
        Assert.Contains("fc7 is 512×512", error.Message);
        Assert.Contains("1 to 512", error.Message);
        Assert.Contains("6400", Assert.Throws<ArgumentException>(() => ModelCompression.Compress(model, Ranks(1000, null))).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => LayerTruncation.ToRank(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => LayerTruncation.ToEnergy(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => LayerTruncation.ToEnergy(1.5));
        Assert.Throws<ArgumentException>(() => ModelCompression.Compress(model, Ranks(null, null)));
    }

    [Fact]
    public void A_factored_layer_is_factored_again_from_its_product()
    {
        using var scope = NewDisposeScope();
        using var model = Model();
        var (once, _) = ModelCompression.Compress(model, Ranks(null, 64));
        using var __ = once;
        var (twice, report) = ModelCompression.Compress(once, Ranks(null, 16));
        using var ___ = twice;
        var layer = Assert.Single(report.Layers);
        Assert.Equal((64, 16), (layer.RankBefore, layer.Rank));
        Assert.Equal(64L * 1024 + 512, layer.ParametersBefore);

        // Truncating the rank-64 product to 16 equals truncating the original to 16 (same leading singular vectors).
        var (direct, _) = ModelCompression.Compress(model, Ranks(null, 16));
        using var ____ = direct;
        var fc7 = twice.BoxHead.Weight(BoxHeadLayer.Fc7);
        Assert.True(fc7.allclose(direct.BoxHead.Weight(BoxHeadLayer.Fc7), rtol: 1e-3, atol: 1e-5));

        var error = Assert.Throws<ArgumentException>(() => ModelCompression.Compress(once, Ranks(null, 128)));
        Assert.Contains("already factored at rank 64", error.Message);
        var (energy, energyReport) = ModelCompression.Compress(once, new SvdCompressionOptions { Fc6 = null, Fc7 = LayerTruncation.ToEnergy(1.0) });
        using var _____ = energy;
        Assert.Equal(64, Assert.Single(energyReport.Layers).Rank);
    }

    [Fact]
    public void The_paper_settings_are_the_defaults()
    {
        var options = new SvdCompressionOptions();
        Assert.Equal((1024, 256), (options.Fc6!.Rank, options.Fc7!.Rank));
        Assert.Equal("rank 1024", options.Fc6.ToString());
        Assert.Equal("energy 0.95", LayerTruncation.ToEnergy(0.95).ToString());
    }
}
