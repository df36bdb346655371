using System.Text.Json;
using FastRcnn.Export;
using FastRcnn.Imaging;
using FastRcnn.Inference;
using FastRcnn.Modeling;
using FastRcnn.Modeling.RoiHeads;
using FastRcnn.Ops;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;

namespace FastRcnn.Tests.Export;

/// <summary>
/// The ONNX export of a demo-sized (<c>small</c>) Fast R-CNN, reloaded in ONNX Runtime and compared with the TorchSharp
/// engine: scores within 1e-4, boxes within 1e-3 px, the same detections after NMS; ONNX Runtime's <c>MaxRoiPool</c>
/// against torchvision's (= this library's) RoI pooling on the recorded fixtures.
/// </summary>
public class OnnxExportTests
{
    private static readonly string[] Classes = ["circle", "square", "triangle"];

    /// <summary>A random-weight model whose outputs are far from uniform: sharper class scores, box deltas that move boxes by pixels.</summary>
    private static TwoStageModel Model(long seed, BoxHeadRanks? ranks = null)
    {
        var model = new TwoStageModel("small", Classes.Length, seed, new TwoStageOptions { HeadRanks = ranks ?? BoxHeadRanks.Dense });
        using var noGrad = no_grad();
        foreach (var (name, p) in model.named_parameters())
        {
            if (name == "predictor.cls_score.weight") p.Mul_(300.0);
            if (name == "predictor.bbox_pred.weight") p.Mul_(3000.0);
        }
        return model;
    }

    private static RgbImage Scene()
    {
        var image = RgbImage.Filled(200, 150, new Rgb(40, 60, 80));
        for (int y = 30; y < 100; y++)
            for (int x = 20; x < 90; x++)
                image.Data[3 * (y * 200 + x)] = 230;
        for (int y = 60; y < 140; y++)
            for (int x = 120; x < 190; x++)
                image.Data[3 * (y * 200 + x) + 1] = 210;
        return image;
    }

    private static Tensor Proposals(int count, int seed)
    {
        var random = new Random(seed);
        var values = new float[4 * count];
        for (int i = 0; i < count; i++)
        {
            float x1 = random.Next(-10, 180), y1 = random.Next(-10, 130);
            values[4 * i] = x1; values[4 * i + 1] = y1;
            values[4 * i + 2] = x1 + random.Next(4, 120); values[4 * i + 3] = y1 + random.Next(4, 100);
        }
        return tensor(values).reshape(count, 4);
    }

    [Fact]
    public void Exported_graph_equals_the_torch_forward_and_carries_its_metadata()
    {
        using var dir = new TempDir();
        using var model = Model(seed: 3, ranks: new BoxHeadRanks(Fc6: 48, Fc7: 24));
        var test = new DetectorOptions(Scales: [150], MaxSize: 400, Postprocess: new PostprocessOptions(ScoreThreshold: 0.1));
        var written = OnnxExporter.Export(model, Classes, dir.Combine("model.onnx"), new OnnxExportOptions(Test: test));
        Assert.Null(written.ExternalDataPath);
        Assert.Equal(new FileInfo(written.ModelPath).Length, written.ModelBytes);

        using var scope = NewDisposeScope();
        var image = model.Pixels.Apply(Scene().ToTensor()).unsqueeze(0).contiguous();
        var proposals = Proposals(300, seed: 1);
        var (probabilities, boxes) = model.Predict(image, proposals);      // clipped proposals, boxes decoded and clipped
        var clipped = BoxOps.Clip(proposals, 150, 200);
        var rois = cat([zeros(300, 1), clipped], 1).contiguous();

        using var session = new InferenceSession(written.ModelPath);
        var outputs = OnnxRuntimeEngine.Run(session, [("image", image), ("rois", rois)], ["scores", "boxes", "deltas"]);
        Assert.True(probabilities.max().item<float>() > 0.9f);           // the scores are not uniform
        Assert.True(outputs[0].sub(probabilities).abs().max().item<float>() <= 1e-4f);
        var onnxBoxes = BoxOps.Clip(outputs[1].reshape(-1, 4), 150, 200).reshape(300, -1);
        Assert.True(onnxBoxes.sub(boxes).abs().max().item<float>() <= 1e-3f);
        Assert.True(boxes.reshape(300, -1, 4).select(1, 1).sub(clipped).abs().max().item<float>() > 1);   // the deltas move boxes

        var meta = session.ModelMetadata.CustomMetadataMap;
        Assert.Equal(OnnxMetadata.FormatVersion, meta[OnnxMetadata.Format]);
        Assert.Equal(Classes, JsonSerializer.Deserialize<string[]>(meta[OnnxMetadata.Classes]));
        Assert.Equal("[150]", meta[OnnxMetadata.TestScales]);
        Assert.Equal("400", meta[OnnxMetadata.MaxSize]);
        Assert.Equal("{\"fc6\":48,\"fc7\":24}", meta[OnnxMetadata.SvdRanks]);
        Assert.Contains("\"score_threshold\":0.1", meta[OnnxMetadata.Postprocess]);
        Assert.Contains("\"order\":\"rgb\"", meta[OnnxMetadata.Pixels]);
    }

    [Fact]
    public void External_data_file_holds_the_weights_and_loads()
    {
        using var dir = new TempDir();
        using var model = Model(seed: 5);
        string path = dir.Combine("model.onnx");
        var written = OnnxExporter.Export(model, Classes, path, new OnnxExportOptions(ExternalData: OnnxExternalData.Always));
        Assert.Equal(path + ".data", written.ExternalDataPath);
        Assert.True(written.ModelBytes < 64 * 1024 && written.ExternalDataBytes > 1_000_000);

        using var scope = NewDisposeScope();
        var image = model.Pixels.Apply(Scene().ToTensor()).unsqueeze(0).contiguous();
        var rois = tensor(new float[] { 0, 10, 20, 90, 100, 0, 100, 50, 190, 140 }).reshape(2, 5);
        var (probabilities, _) = model.Predict(image, rois.narrow(1, 1, 4));
        using var session = new InferenceSession(path);
        var scores = OnnxRuntimeEngine.Run(session, [("image", image), ("rois", rois)], ["scores"])[0];
        Assert.True(scores.sub(probabilities).abs().max().item<float>() <= 1e-4f);

        // Exported again inline: the stale data file goes.
        OnnxExporter.Export(model, Classes, path, new OnnxExportOptions(ExternalData: OnnxExternalData.Never));
        Assert.False(File.Exists(path + ".data"));
    }

    [Theory]
    [InlineData(OnnxArrangement.Split, false)]
    [InlineData(OnnxArrangement.Whole, false)]
    [InlineData(OnnxArrangement.Whole, true)]
    public void OnnxRuntime_detector_finds_the_torch_detectors_objects(OnnxArrangement arrangement, bool fromFile)
    {
        using var dir = new TempDir();
        var options = new DetectorOptions(Scales: [180], MaxSize: 400, Postprocess: new PostprocessOptions(ScoreThreshold: 0.05, MaxDetections: 50));
        using var torchDetector = new Detector(Model(seed: 7), Classes, options);
        string? file = null;
        if (fromFile)
        {
            file = dir.Combine("model.onnx");
            OnnxExporter.Export(torchDetector.Model, Classes, file, new OnnxExportOptions(Test: options));
        }
        using var onnxDetector = new Detector(Model(seed: 7), Classes,
            options with { Engine = InferenceEngine.OnnxRuntime, OnnxArrangement = arrangement, OnnxModelPath = file });
        var image = Scene();
        var proposals = Proposals(400, seed: 2);
        var expected = torchDetector.Detect(image, proposals);
        var actual = onnxDetector.Detect(image, proposals);
        Assert.True(expected.Objects.Count >= 10);
        Assert.Equal(expected.ProposalCount, actual.ProposalCount);
        Assert.Equal(expected.Objects.Select(o => o.ClassName), actual.Objects.Select(o => o.ClassName));
        for (int i = 0; i < expected.Objects.Count; i++)
        {
            var (e, a) = (expected.Objects[i], actual.Objects[i]);
            Assert.InRange(a.Score - e.Score, -1e-4f, 1e-4f);
            Assert.InRange(a.Box.X1 - e.Box.X1, -1e-3f, 1e-3f);
            Assert.InRange(a.Box.Y1 - e.Box.Y1, -1e-3f, 1e-3f);
            Assert.InRange(a.Box.X2 - e.Box.X2, -1e-3f, 1e-3f);
            Assert.InRange(a.Box.Y2 - e.Box.Y2, -1e-3f, 1e-3f);
        }
        Assert.True(actual.Times.Conv > TimeSpan.Zero);
    }

    [Fact]
    public void Exported_file_with_other_classes_is_refused()
    {
        using var dir = new TempDir();
        string file = dir.Combine("model.onnx");
        OnnxExporter.Export(Model(seed: 1), Classes, file);
        var e = Assert.Throws<InvalidDataException>(() => new Detector(Model(seed: 1), ["a", "b", "c"],
            new DetectorOptions { Engine = InferenceEngine.OnnxRuntime, OnnxModelPath = file }));
        Assert.Contains(file, e.Message);
    }

    [Theory]
    [InlineData(OnnxArrangement.Split)]
    [InlineData(OnnxArrangement.Whole)]
    public void Faster_rcnn_graph_proposes_and_detects_as_the_torch_engine(OnnxArrangement arrangement)
    {
        static TwoStageModel Faster()
        {
            var model = new TwoStageModel("small", Classes.Length, 11, new TwoStageOptions { Architecture = DetectorArchitecture.FasterRcnn });
            using var noGrad = no_grad();
            foreach (var (name, p) in model.named_parameters())
            {
                if (name == "predictor.cls_score.weight") p.Mul_(300.0);
                if (name == "predictor.bbox_pred.weight") p.Mul_(3000.0);
                if (name.StartsWith("rpn.head.", StringComparison.Ordinal) && name.EndsWith(".weight", StringComparison.Ordinal)) p.Mul_(30.0);
            }
            return model;
        }
        var options = new DetectorOptions(Scales: [160], MaxSize: 400, Postprocess: new PostprocessOptions(ScoreThreshold: 0.05, MaxDetections: 50));
        using var torchDetector = new Detector(Faster(), Classes, options);
        using var onnxDetector = new Detector(Faster(), Classes, options with { Engine = InferenceEngine.OnnxRuntime, OnnxArrangement = arrangement });
        var image = Scene();
        using (var test = new ImageTransform([160], 400, torchDetector.Model.Pixels).Apply(image.ToTensor()))
        {
            using var expected = torchDetector.Model.Propose(test);
            var (_, _, onnxProposals) = OnnxRuntimeEngineProposals(onnxDetector, test);
            Assert.True(expected.shape[0] > 50);
            Assert.Equal(expected.shape, onnxProposals.shape);
            Assert.True(expected.sub(onnxProposals).abs().max().item<float>() <= 5e-3f);   // the same proposals up to the convolutions' float summation order
        }
        var torchResult = torchDetector.Detect(image);
        var onnxResult = onnxDetector.Detect(image);
        Assert.True(torchResult.Objects.Count >= 10);
        Assert.Equal(torchResult.ProposalCount, onnxResult.ProposalCount);
        Assert.Equal(torchResult.Objects.Select(o => o.ClassName), onnxResult.Objects.Select(o => o.ClassName));
        foreach (var (e, a) in torchResult.Objects.Zip(onnxResult.Objects))
        {
            Assert.InRange(a.Score - e.Score, -1e-4f, 1e-4f);
            float boxDiff = new[] { a.Box.X1 - e.Box.X1, a.Box.Y1 - e.Box.Y1, a.Box.X2 - e.Box.X2, a.Box.Y2 - e.Box.Y2 }.Max(Math.Abs);
            Assert.True(boxDiff <= 5e-3f, $"box differs by {boxDiff}");   // decoded against proposals that differ as above (seen 1.8e-3)
        }
    }

    /// <summary>The proposals (in the original image's pixels) of the ONNX Runtime engine of <paramref name="detector"/>.</summary>
    private static (Tensor, Tensor, Tensor) OnnxRuntimeEngineProposals(Detector detector, TestImage test)
    {
        using var engine = new OnnxRuntimeEngine(detector.Model, Classes, detector.Options);
        var predictions = engine.Predict(test, null, new PredictOptions(), new StageClock());
        return (predictions.Probabilities, predictions.Boxes, predictions.Proposals);
    }
}
