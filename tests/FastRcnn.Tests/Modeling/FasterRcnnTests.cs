using System.Diagnostics;
using FastRcnn.Inference;
using FastRcnn.Modeling;
using FastRcnn.Modeling.RoiHeads;
using FastRcnn.Modeling.Rpn;
using FastRcnn.Ops;
using Xunit.Abstractions;
using static FastRcnn.Tests.Modeling.ModelingTestData;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Modeling;

/// <summary>Faster R-CNN on the composition root: the RPN's losses join the heads', it trains end to end, saves and loads.</summary>
[Collection(FastRcnn.Tests.Training.TrainingCollection.Name)]   // training draws dropout from libtorch's global generator
public sealed class FasterRcnnTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("faster-rcnn-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>RPN settings for 128×128 scenes with 24–56 px objects: two anchor sizes, fewer anchors and proposals.</summary>
    private static readonly RpnOptions SmallScenes = new()
    {
        AnchorSizes = [32, 64], HeadChannels = 64, BatchSizePerImage = 64, MinSize = 4,
        PreNmsTopNTrain = 600, PostNmsTopNTrain = 100, PreNmsTopNTest = 300, PostNmsTopNTest = 50,
    };

    private static TwoStageModel Model(long seed) => new("small", numClasses: 3, seed, new TwoStageOptions
    {
        Architecture = DetectorArchitecture.FasterRcnn,
        Rpn = SmallScenes,
        Sampler = new RoiSamplerOptions(RoisPerImage: 32),
    });

    [Fact]
    public void Joint_training_returns_the_four_named_losses_and_trains_images_without_objects()
    {
        using var model = Model(seed: 3);
        Assert.True(model.ComputesProposals);
        var (images, targets) = Batch(model, seed: 5, count: 2, height: 96, width: 128);
        var empty = new ImageTargets(zeros(0, 4), zeros(0, 4), zeros(0, ScalarType.Int64));
        model.train();
        using var output1 = model.Loss(images, [targets[0], empty]);
        Assert.Equal([LossNames.RpnClassification, LossNames.RpnBoxRegression, LossNames.Classification, LossNames.BoxRegression], output1.Losses.Names);
        Assert.Equal(1, output1.Stats.SkippedImages);                // the empty image gives no RoI, but its anchors train the RPN
        using var onlyEmpty = model.Loss(images.narrow(0, 1, 1), [empty]);
        Assert.Equal([LossNames.RpnClassification, LossNames.RpnBoxRegression], onlyEmpty.Losses.Names);
        Assert.True(onlyEmpty.Losses[LossNames.RpnClassification].item<float>() > 0);
        Assert.Equal(0f, onlyEmpty.Losses[LossNames.RpnBoxRegression].item<float>());

        model.Phase = TrainingPhase.RegionProposals;
        using var rpnOnly = model.Loss(images, targets);
        Assert.Equal([LossNames.RpnClassification, LossNames.RpnBoxRegression], rpnOnly.Losses.Names);
        model.Phase = TrainingPhase.Detection;                        // the heads on the targets' own proposals
        using var headsOnly = model.Loss(images, targets);
        Assert.Equal([LossNames.Classification, LossNames.BoxRegression], headsOnly.Losses.Names);
        using var fast = new TwoStageModel("small", numClasses: 3, seed: 3);
        Assert.Throws<InvalidOperationException>(() => fast.Phase = TrainingPhase.RegionProposals);
    }

    [Fact]
    public void The_other_parts_start_from_the_same_weights_as_fast_rcnn()
    {
        using var faster = Model(seed: 9);
        using var fast = new TwoStageModel("small", numClasses: 3, seed: 9);
        var fastState = fast.state_dict();
        foreach (var (name, value) in faster.state_dict())
        {
            if (name.StartsWith("rpn.", StringComparison.Ordinal)) continue;
            Assert.True(Same(fastState[name], value), name);
        }
        Assert.Contains("rpn.head.conv.weight", faster.state_dict().Keys);
    }

    [Fact]
    public void Saved_faster_rcnn_loads_with_its_rpn_settings_and_detects_the_same()
    {
        using var model = Model(seed: 11);
        ModelFiles.Save(_dir, model, ["r", "g", "b"]);
        var loaded = ModelFiles.Load(_dir);
        using var copy = loaded.Model;
        Assert.Equal(DetectorArchitecture.FasterRcnn, loaded.Info.Architecture);
        Assert.Equal(SmallScenes.AnchorSizes, loaded.Info.Rpn!.AnchorSizes);
        Assert.Equal(SmallScenes.PostNmsTopNTest, copy.Rpn!.Options.PostNmsTopNTest);

        var (rgb, _, _) = Scene(new Random(2), 96, 128);
        var options = new DetectorOptions(Scales: [96], MaxSize: 200, Postprocess: new(ScoreThreshold: 0.0));
        using var a = new Detector(model, ["r", "g", "b"], options);
        using var b = new Detector(copy, ["r", "g", "b"], options);
        Assert.False(a.NeedsProposals);
        var ra = a.Detect(rgb, null);
        var rb = b.Detect(rgb, null);
        Assert.True(ra.ProposalCount is > 0 and <= 50, $"{ra.ProposalCount} proposals");
        Assert.Equal(ra.ProposalCount, rb.ProposalCount);
        Assert.Equal(ra.Objects, rb.Objects);
        Assert.True(ra.Times.Proposals > TimeSpan.Zero);
    }

    [Fact]
    public void Faster_rcnn_overfits_a_few_images_and_then_finds_their_objects()
    {
        const int count = 4, size = 128, iterations = 400;
        using var model = Model(seed: 17);
        var rng = new Random(23);
        var scenes = Enumerable.Range(0, count).Select(_ => Scene(rng, size, size)).ToArray();
        var images = stack(scenes.Select(s => model.Pixels.Apply(s.Rgb)).ToArray(), 0);
        var targets = scenes.Select(s => new ImageTargets(zeros(0, 4), Boxes(s.GtBoxes), tensor(s.GtClasses))).ToArray();
        using var optimizer = OptimizerSetup.Sgd(model, learningRate: 0.01);
        var clock = Stopwatch.StartNew();
        model.train();
        var losses = new List<float>();
        for (int it = 0; it < iterations; it++)
        {
            using var scope = NewDisposeScope();
            model.ReseedSampler(1000 + it);
            TorchSharp.torch.random.manual_seed(2000 + it);                // dropout, as the trainer reseeds it
            int first = 2 * it % count;
            using var result = model.Loss(images.narrow(0, first, 2), [targets[first], targets[first + 1]]);
            var total = result.Total();
            optimizer.zero_grad();
            total.backward();
            optimizer.step();
            losses.Add(total.item<float>());
        }
        output.WriteLine($"{iterations} iterations in {clock.Elapsed.TotalSeconds:F1} s; loss {losses.Take(4).Average():F3} → {losses.TakeLast(20).Average():F3}");

        using var detector = new Detector(model, ["r", "g", "b"], new DetectorOptions(Scales: [size], MaxSize: size));
        int found = 0, objects = 0;
        foreach (var (rgb, gtBoxes, gtClasses) in scenes)
        {
            var result = detector.Detect(rgb, null);
            for (int g = 0; g < gtBoxes.Length; g++)
            {
                objects++;
                var gt = Boxes(gtBoxes[g]);
                if (result.Objects.Any(o => o.ClassIndex == gtClasses[g] && o.Score >= 0.5 &&
                        BoxOps.PairwiseIoU(Boxes([o.Box.X1, o.Box.Y1, o.Box.X2, o.Box.Y2]), gt).item<float>() >= 0.5))
                    found++;
            }
        }
        output.WriteLine($"found {found} of {objects} training objects");
        Assert.True(losses.TakeLast(20).Average() < 0.5 * losses.Take(4).Average());
        Assert.Equal(objects, found);
    }
}
