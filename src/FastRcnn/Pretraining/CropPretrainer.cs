using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using FastRcnn.IO;
using FastRcnn.Ops;
using FastRcnn.Modeling.Backbones;
using FastRcnn.Modeling.RoiHeads;
using FastRcnn.Training;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace FastRcnn.Pretraining;

/// <summary>One progress report of <see cref="CropPretrainer"/>.</summary>
/// <param name="Step">Steps done.</param>
/// <param name="Loss">Mean cross-entropy over the steps since the last report.</param>
/// <param name="Accuracy">Mean training batch accuracy since the last report.</param>
/// <param name="Validation">Accuracy on the validation crops (all, and objects only), or null without a validation set.</param>
/// <param name="Seconds">Wall time so far.</param>
public sealed record PretrainingReport(int Step, double Loss, double Accuracy, (double All, double Objects)? Validation, double Seconds);

/// <summary>
/// Classification pre-training of the <c>small</c> backbone, the stand-in for ImageNet (SPEC §3: the paper
/// fine-tunes networks pre-trained on ImageNet classification; nothing can be downloaded here). The network
/// is the detector's own trunk, with a BatchNorm after every convolution, then max pooling to the RoI grid
/// (PH×PW = 5×5, what RoI pooling does to a RoI covering the whole crop), fc6 → ReLU → dropout → fc7 →
/// ReLU → dropout, and a (K+1)-way classifier, trained with SGD on object and background crops
/// (<see cref="CropSampler"/>). The result (<see cref="Save"/>) is an ordinary weights file for
/// <c>fastrcnn train --weights</c>: the trunk with the BatchNorms folded into the convolutions
/// (<see cref="BatchNormFolding"/>), so the detector's plain <c>small</c> trunk computes the same features,
/// and fc6/fc7; the classifier is dropped, as the paper drops ImageNet's fc8.
/// </summary>
public sealed class CropPretrainer : nn.Module<Tensor, Tensor>
{
    [ComponentName(Name = "features")] private readonly Sequential _features;
    [ComponentName(Name = "box_head")] private readonly BoxHead _boxHead;
    [ComponentName(Name = "classifier")] private readonly Linear _classifier;
    private readonly BackboneSpec _spec = BackboneFactory.Spec("small");

    /// <summary>A network for <paramref name="numClasses"/> object classes plus background, initialised from <paramref name="options"/>' seed.</summary>
    public CropPretrainer(int numClasses, CropPretrainingOptions options) : base(nameof(CropPretrainer))
    {
        Options = options;
        using var generator = new Generator((ulong)options.Seed);
        _features = BackboneFactory.SmallWithBatchNorm(generator);
        _boxHead = new BoxHead(_spec.Fc6Inputs, _spec.Fc6Width, _spec.Fc7Width, generator, options.Dropout);
        _classifier = nn.Linear(_spec.Fc7Width, numClasses + 1);
        using (no_grad())
        {
            _classifier.weight!.normal_(0, 0.01, generator);
            _classifier.bias!.zero_();
        }
        RegisterComponents();
    }

    public CropPretrainingOptions Options { get; }

    /// <summary>Class logits (N, K+1) of preprocessed crops (N, 3, S, S).</summary>
    public override Tensor forward(Tensor crops)
    {
        using var scope = NewDisposeScope();
        var features = _features.forward(crops);
        var pooled = nn.functional.adaptive_max_pool2d(features, [_spec.PooledSize, _spec.PooledSize]);
        return _classifier.forward(_boxHead.forward(pooled)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Trains for <see cref="CropPretrainingOptions.Steps"/> steps on crops of <paramref name="trainSet"/>, validating on
    /// <paramref name="validation"/>'s fixed crops (if any) at every report.
    /// </summary>
    public IReadOnlyList<PretrainingReport> Train(CropSampler trainSet, CropSampler? validation, IProgress<PretrainingReport>? progress = null, CancellationToken cancel = default)
    {
        var o = Options;
        random.manual_seed(o.Seed);
        var rng = new Random(unchecked((int)o.Seed));
        var valCrops = validation?.Sample(512, 80, augment: false);
        var reports = new List<PretrainingReport>();
        using var optimizer = new MomentumSgd(this, o.LearningRate);
        var clock = Stopwatch.StartNew();
        double lossSum = 0, accSum = 0;
        int since = 0;
        for (int step = 1; step <= o.Steps; step++)
        {
            cancel.ThrowIfCancellationRequested();
            optimizer.LearningRate = o.LearningRate * Math.Pow(0.1, o.LearningRateSteps.Count(s => step > s));
            train();
            using (var scope = NewDisposeScope())
            {
                int size = o.CropSizes[rng.Next(o.CropSizes.Count)];
                var (crops, labels) = trainSet.Sample(o.BatchSize, size, o.Augment);
                var logits = forward(_spec.Pixels.Apply(crops));
                var loss = nn.functional.cross_entropy(logits, labels);
                optimizer.ZeroGrad();
                loss.backward();
                optimizer.Step();
                lossSum += loss.item<float>();
                accSum += logits.argmax(1).eq(labels).to_type(ScalarType.Float32).mean().item<float>();
                since++;
            }
            if (step % o.ReportEvery == 0 || step == o.Steps)
            {
                var report = new PretrainingReport(step, lossSum / since, accSum / since,
                    valCrops is { } v ? Evaluate(v.Crops, v.Labels) : null, clock.Elapsed.TotalSeconds);
                reports.Add(report);
                progress?.Report(report);
                lossSum = accSum = since = 0;
            }
        }
        if (valCrops is { } vc) { vc.Crops.Dispose(); vc.Labels.Dispose(); }
        eval();
        return reports;
    }

    /// <summary>Accuracy on crops (N,3,S,S) uint8 with labels (N): over all, and over object (label &gt; 0) crops.</summary>
    public (double All, double Objects) Evaluate(Tensor crops, Tensor labels)
    {
        bool wasTraining = training;
        eval();
        try
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            var predicted = forward(_spec.Pixels.Apply(crops)).argmax(1);
            var right = predicted.eq(labels);
            var objects = labels.Gt(0L);
            double all = right.to_type(ScalarType.Float32).mean().item<float>();
            long objectCount = objects.sum().item<long>();
            double objectAcc = objectCount == 0 ? double.NaN : right.logical_and(objects).sum().item<long>() / (double)objectCount;
            return (all, objectAcc);
        }
        finally
        {
            if (wasTraining) train();
        }
    }

    /// <summary>
    /// Writes the pre-trained weights to <paramref name="path"/> (safetensors; via a temporary file):
    /// <c>features.{i}.weight/bias</c> of the plain <c>small</c> trunk (BatchNorms folded) and
    /// <c>box_head.fc6.*</c>, <c>box_head.fc7.*</c>, with <paramref name="metadata"/>.
    /// </summary>
    public void Save(string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        eval();
        var tensors = BatchNormFolding.Fold(_features);
        using (no_grad())
        {
            foreach (var (name, parameter) in _boxHead.named_parameters())
                tensors[$"box_head.{name}"] = parameter.detach().clone();
        }
        var meta = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>())
        {
            ["format"] = "fastrcnn-pretrained-weights",
            ["backbone"] = "small",
            ["pretraining"] = JsonSerializer.Serialize(Options),
        };
        try
        {
            SafeTensors.Write(path, tensors, meta);
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    /// <summary>Invariant-culture number for metadata.</summary>
    public static string Format(double value) => value.ToString("G6", CultureInfo.InvariantCulture);
}
