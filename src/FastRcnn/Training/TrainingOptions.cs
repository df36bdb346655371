using System.Text.Json.Serialization;
using FastRcnn.Modeling;
using FastRcnn.Modeling.Backbones;
using FastRcnn.Modeling.RoiHeads;
using FastRcnn.Ops;

namespace FastRcnn.Training;

/// <summary>
/// Everything that decides a training run (SPEC §5); the defaults are the paper's VGG16 / VOC07 recipe:
/// N = 2 images × 64 RoIs (25% foreground at IoU ≥ 0.5, background at IoU in [0.1, 0.5)), SGD with
/// momentum 0.9 and weight decay 0.0005, lr 0.001 for 30k iterations then 0.0001 until 40k, shorter side
/// 600 capped at 1000, horizontal flips with p = 0.5. Serialised as JSON by <see cref="TrainingConfig"/>
/// (snake_case names), saved with every checkpoint and model.
/// </summary>
/// <remarks>
/// Notation: N images per mini-batch, R = N·<see cref="RoisPerImage"/> RoIs, s the shorter side of a scaled
/// image, i = 1 … <see cref="Iterations"/> the iteration (numbered from 1 everywhere: logs, checkpoints,
/// messages). The learning rate of iteration i is <c>lr · γ^|{t ∈ LearningRateSteps : i &gt; t}|</c>, so steps
/// [30000] mean 0.001 for iterations 1–30000 and 0.0001 from 30001 (Caffe's "multistep" policy); biases
/// train at twice that rate without decay (<see cref="OptimizerSetup.Sgd"/>).
/// </remarks>
public sealed record TrainingOptions
{
    /// <summary>The paper's multi-scale training sides s ∈ {480, 576, 688, 864, 1200} (max size 2000).</summary>
    public static IReadOnlyList<int> MultiScaleSides { get; } = [480, 576, 688, 864, 1200];

    /// <summary>
    /// The built-in Shapes benchmark's settings for the <c>small</c> backbone trained from scratch: Shapes
    /// images are 320–500 px, so s = 400 capped at 666 (the paper's 600/1000 ratio); lr 0.01 (no
    /// ImageNet initialisation, a small network: the paper's 0.001 learns too slowly), 6000 iterations with a
    /// step at 4500 (the paper's 3:4 ratio), nothing frozen.
    /// </summary>
    public static TrainingOptions ShapesSmall { get; } = new()
    {
        Backbone = "small", Scales = [400], MaxSize = 666, LearningRate = 0.01,
        Iterations = 6000, LearningRateSteps = [4500], CheckpointEvery = 1000,
    };

    /// <summary>The backbone a run uses when neither the command line nor a config file names one: <c>small</c>.</summary>
    public const string DefaultBackbone = "small";

    /// <summary>
    /// The defaults a run of <paramref name="backbone"/> starts from (null: <see cref="DefaultBackbone"/>), the same
    /// with and without a config file (<see cref="TrainingConfig.Load(string, string?)"/>): <see cref="ShapesSmall"/>
    /// for the <c>small</c> backbone, the paper's recipe (these properties' initial values) for the ImageNet-sized ones.
    /// </summary>
    /// <exception cref="ArgumentException">An unknown backbone name.</exception>
    public static TrainingOptions DefaultsFor(string? backbone) =>
        backbone is null || BackboneFactory.Spec(backbone).Name == "small"
            ? ShapesSmall with { Backbone = backbone ?? DefaultBackbone }
            : new TrainingOptions { Backbone = backbone };

    // ---- inputs (recorded for reproducibility; the CLI reads them, the library takes loaded objects) ----

    /// <summary>Dataset path (VOC directory or COCO json), as given.</summary>
    public string? Dataset { get; init; }

    /// <summary>Dataset split trained on.</summary>
    public string? Split { get; init; }

    /// <summary>Proposals: an <c>.npz</c> path, <c>auto</c> (selective search, Fast mode), or <c>rpn</c> (Faster R-CNN's own; <see cref="Proposals.ProposalSpec"/>).</summary>
    public string? Proposals { get; init; }

    /// <summary>ImageNet weights (torchvision names, safetensors) the trunk and fc6/fc7 started from, or null.</summary>
    public string? Weights { get; init; }

    // ---- network ----

    /// <summary>The member of the family (<c>fast-rcnn</c>, the paper's; <c>faster-rcnn</c> adds a region proposal network).</summary>
    public DetectorArchitecture Architecture { get; init; } = DetectorArchitecture.FastRcnn;

    /// <summary>
    /// How Faster R-CNN is trained: <c>joint</c> (approximate joint training: one SGD step on the sum of the four
    /// losses, proposals detached) or <c>alternating</c> (the paper's 4 steps; <see cref="TrainingSchedule.Alternating"/>).
    /// </summary>
    public TrainingSchedule Schedule { get; init; } = TrainingSchedule.Joint;

    /// <summary>
    /// Iterations of the alternating schedule's four steps (RPN, Fast R-CNN, RPN with shared convs frozen, Fast R-CNN
    /// head with shared convs frozen); null = <see cref="Iterations"/> for each. <see cref="LearningRateSteps"/> scale
    /// with each step's length.
    /// </summary>
    public IReadOnlyList<int>? AlternatingIterations { get; init; }

    /// <summary>Region proposal network settings (Faster R-CNN); null = the backbone's defaults (<see cref="Modeling.Rpn.RpnOptions.For"/>).</summary>
    public Modeling.Rpn.RpnOptions? Rpn { get; init; }

    /// <summary>SPPnet's pyramid levels and test scales; null = the backbone's (<see cref="Modeling.RegionFeatures.SppOptions.For"/>). SPPnet only.</summary>
    public Modeling.RegionFeatures.SppOptions? Spp { get; init; }

    /// <summary>Backbone name (<see cref="BackboneFactory.Names"/>); the paper's L model, VGG16.</summary>
    public string Backbone { get; init; } = "vgg16";

    /// <summary>State-dict prefixes to freeze; null = the backbone's (VGG16 conv1_1–conv2_2, conv1 for S/M), empty = none.</summary>
    public IReadOnlyList<string>? FrozenPrefixes { get; init; }

    /// <summary>Regression-target normalisation weights (wx, wy, ww, wh); (10, 10, 5, 5) = fixed stds 0.1, 0.1, 0.2, 0.2.</summary>
    public IReadOnlyList<double> BoxCoderWeights { get; init; } = [10, 10, 5, 5];

    /// <summary>λ, the weight of the box-regression loss (1).</summary>
    public double BoxLossWeight { get; init; } = 1;

    // ---- mini-batches ----

    /// <summary>N, images per mini-batch (2).</summary>
    public int ImagesPerBatch { get; init; } = 2;

    /// <summary>RoIs sampled per image (64; R = 128 over N = 2).</summary>
    public int RoisPerImage { get; init; } = 64;

    /// <summary>Share of each image's RoIs reserved for foreground (0.25 → 16 of 64).</summary>
    public double ForegroundFraction { get; init; } = 0.25;

    /// <summary>Foreground: max IoU with a ground-truth box ≥ this (0.5).</summary>
    [JsonPropertyName("foreground_iou")]
    public double ForegroundIoU { get; init; } = 0.5;

    /// <summary>Background: max IoU ≥ this (0.1, the paper's hard-example floor) …</summary>
    [JsonPropertyName("background_iou_low")]
    public double BackgroundIoULow { get; init; } = 0.1;

    /// <summary>… and below this (0.5).</summary>
    [JsonPropertyName("background_iou_high")]
    public double BackgroundIoUHigh { get; init; } = 0.5;

    /// <summary>Keep VOC "difficult" objects as ground truth (true, as the original Fast R-CNN; py-faster-rcnn drops them).</summary>
    public bool UseDifficult { get; init; } = true;

    /// <summary>Shorter-side choices s; one is drawn per sampled image ({600}; multi-scale: <see cref="MultiScaleSides"/>).</summary>
    public IReadOnlyList<int> Scales { get; init; } = [600];

    /// <summary>Cap on the longer side after scaling (1000; 2000 for multi-scale).</summary>
    public int MaxSize { get; init; } = 1000;

    /// <summary>Probability of a horizontal flip of each sampled image (0.5).</summary>
    public double FlipProbability { get; init; } = 0.5;

    /// <summary>
    /// Probability of a top–bottom flip of each sampled image (0: the paper flips left–right only). With
    /// <see cref="TransposeProbability"/> and <see cref="FlipProbability"/> at 0.5 each, every rotation by a multiple of
    /// 90° and every mirror image is equally likely (<see cref="Data.Transforms.Orientation"/>): for objects that
    /// appear at any angle, as in aerial or microscope images and the built-in Shapes benchmark.
    /// </summary>
    public double VerticalFlipProbability { get; init; }

    /// <summary>Probability of transposing each sampled image, x ↔ y (0; see <see cref="VerticalFlipProbability"/>).</summary>
    public double TransposeProbability { get; init; }

    /// <summary>
    /// Reorder each sampled image's R, G, B channels at random, uniformly over the 6 orders (false). For classes
    /// that colour does not define (Shapes: any shape in any colour); wrong for VOC, where sky is blue.
    /// </summary>
    public bool PermuteChannels { get; init; }

    // ---- solver ----

    /// <summary>Base learning rate of the weights (0.001); biases use twice this.</summary>
    public double LearningRate { get; init; } = 0.001;

    /// <summary>SGD momentum (0.9).</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>L2 weight decay of the weights (0.0005; none on biases).</summary>
    public double WeightDecay { get; init; } = 0.0005;

    /// <summary>Iterations at which the rate is multiplied by <see cref="LearningRateGamma"/> ({30000}).</summary>
    public IReadOnlyList<int> LearningRateSteps { get; init; } = [30000];

    /// <summary>γ, the factor applied at each step (0.1).</summary>
    public double LearningRateGamma { get; init; } = 0.1;

    /// <summary>Total SGD iterations (40000).</summary>
    public int Iterations { get; init; } = 40000;

    // ---- run ----

    /// <summary>Seed of everything: initial weights, data order, flips and other augmentation, scale draws, RoI sampling, dropout.</summary>
    public long Seed { get; init; }

    /// <summary>Write a checkpoint every this many iterations (10000; 0 = only at the end).</summary>
    public int CheckpointEvery { get; init; } = 10000;

    /// <summary>Run the validation callback every this many iterations (0 = never).</summary>
    public int ValidateEvery { get; init; }

    /// <summary>Decode the next mini-batch on a background thread while the current one trains (true).</summary>
    public bool Prefetch { get; init; } = true;

    /// <summary>
    /// The box head's arithmetic (<see cref="Runtime.Precision"/>): <c>fp32</c> (the default) or <c>bf16</c>, mixed
    /// precision — fc6 and fc7 multiply in bfloat16 (forward and backward) from float32 master weights, while the
    /// optimizer's state, the losses and the checkpoints stay float32, so a run resumes in either setting; <c>auto</c>
    /// is bf16 where the CPU computes it natively and faster (<see cref="Runtime.Bf16Support.Pays"/>).
    /// </summary>
    public Runtime.Precision Precision { get; init; } = Runtime.Precision.Fp32;

    /// <summary>The learning rate of the weights at iteration <paramref name="iteration"/> (1-based).</summary>
    public double LearningRateAt(long iteration) =>
        LearningRate * Math.Pow(LearningRateGamma, LearningRateSteps.Count(step => iteration > step));

    /// <summary>These options with every orientation equally likely: left–right flip, top–bottom flip and transpose at 0.5 each.</summary>
    public TrainingOptions WithAnyOrientation() =>
        this with { FlipProbability = 0.5, VerticalFlipProbability = 0.5, TransposeProbability = 0.5 };

    /// <summary>
    /// The augmentation in words: "left–right flips p = 0.5" (the paper's), "any of the 8 orientations", and
    /// ", random channel order" when <see cref="PermuteChannels"/>.
    /// </summary>
    public string DescribeAugmentation()
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        string orientation = this switch
        {
            { TransposeProbability: 0.5, VerticalFlipProbability: 0.5, FlipProbability: 0.5 } => "any of the 8 orientations",
            { TransposeProbability: 0, VerticalFlipProbability: 0, FlipProbability: 0 } => "no flips",
            { TransposeProbability: 0, VerticalFlipProbability: 0 } => $"left–right flips p = {FlipProbability.ToString(inv)}",
            _ => string.Create(inv, $"flips p = {FlipProbability} left–right, {VerticalFlipProbability} top–bottom, transpose p = {TransposeProbability}"),
        };
        return PermuteChannels ? orientation + ", random channel order" : orientation;
    }

    /// <summary>
    /// R-CNN's fine-tuning batches (Girshick et al. 2014): 128 windows, 32 foreground (IoU ≥ 0.5) and 96 background
    /// (IoU below 0.5, no floor), drawn across images: here 4 images × 32 windows per mini-batch.
    /// </summary>
    public TrainingOptions WithRcnnFineTuning() => this with
    {
        ImagesPerBatch = 4, RoisPerImage = 32, ForegroundFraction = 0.25, ForegroundIoU = 0.5, BackgroundIoULow = 0, BackgroundIoUHigh = 0.5,
    };

    /// <summary>The RoI sampler settings these options describe.</summary>
    public RoiSamplerOptions SamplerOptions() =>
        new(RoisPerImage, ForegroundFraction, ForegroundIoU, BackgroundIoUHigh, BackgroundIoULow);

    /// <summary>The model's training-time options (sampler, box coder, λ, frozen layers).</summary>
    public TwoStageOptions ModelOptions() => new()
    {
        Sampler = SamplerOptions(),
        BoxCoder = new BoxCoder(BoxCoderWeights[0], BoxCoderWeights[1], BoxCoderWeights[2], BoxCoderWeights[3]),
        BoxLossWeight = BoxLossWeight,
        FrozenPrefixes = FrozenPrefixes,
        Architecture = Architecture,
        Rpn = Rpn,
        Spp = Spp,
    };

    /// <summary>A fresh model for <paramref name="numClasses"/> object classes, initialised from <see cref="Seed"/>.</summary>
    public TwoStageModel CreateModel(int numClasses)
    {
        Validate();
        return new TwoStageModel(Backbone, numClasses, Seed, ModelOptions());
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first option that cannot work.</summary>
    public void Validate()
    {
        static void Check(bool ok, string message)
        {
            if (!ok) throw new ArgumentException(message);
        }
        BackboneFactory.Spec(Backbone); // throws "Unknown backbone '…' (known: …)"
        Check(ImagesPerBatch >= 1, $"images_per_batch must be ≥ 1, got {ImagesPerBatch}.");
        Check(RoisPerImage >= 1, $"rois_per_image must be ≥ 1, got {RoisPerImage}.");
        Check(ForegroundFraction is >= 0 and <= 1, $"foreground_fraction must lie in [0, 1], got {ForegroundFraction}.");
        Check(BackgroundIoULow >= 0 && BackgroundIoULow <= BackgroundIoUHigh && BackgroundIoUHigh <= ForegroundIoU && ForegroundIoU <= 1,
            $"IoU thresholds need 0 ≤ background_iou_low ≤ background_iou_high ≤ foreground_iou ≤ 1, got {BackgroundIoULow}, {BackgroundIoUHigh}, {ForegroundIoU}.");
        Check(Scales.Count > 0 && Scales.All(s => s > 0), $"scales must be positive and at least one is needed, got [{string.Join(", ", Scales)}].");
        Check(MaxSize > 0, $"max_size must be positive, got {MaxSize}.");
        Check(FlipProbability is >= 0 and <= 1, $"flip_probability must lie in [0, 1], got {FlipProbability}.");
        Check(VerticalFlipProbability is >= 0 and <= 1, $"vertical_flip_probability must lie in [0, 1], got {VerticalFlipProbability}.");
        Check(TransposeProbability is >= 0 and <= 1, $"transpose_probability must lie in [0, 1], got {TransposeProbability}.");
        Check(LearningRate > 0 && double.IsFinite(LearningRate), $"learning_rate must be positive, got {LearningRate}.");
        Check(Momentum is >= 0 and < 1, $"momentum must lie in [0, 1), got {Momentum}.");
        Check(WeightDecay >= 0 && double.IsFinite(WeightDecay), $"weight_decay must be ≥ 0, got {WeightDecay}.");
        Check(LearningRateGamma > 0 && double.IsFinite(LearningRateGamma), $"learning_rate_gamma must be positive, got {LearningRateGamma}.");
        Check(LearningRateSteps.All(s => s > 0) && LearningRateSteps.Zip(LearningRateSteps.Skip(1)).All(p => p.First < p.Second),
            $"learning_rate_steps must be positive and increasing, got [{string.Join(", ", LearningRateSteps)}].");
        Check(Iterations >= 1, $"iterations must be ≥ 1, got {Iterations}: a run of no iterations would save an untrained model.");
        Check(Schedule == TrainingSchedule.Joint || Architecture == DetectorArchitecture.FasterRcnn,
            $"schedule {Schedule.ToString().ToLowerInvariant()} is Faster R-CNN's; architecture {Architecture.Name()} trains in one stage.");
        Check(AlternatingIterations is null || AlternatingIterations.Count == 4 && AlternatingIterations.All(n => n >= 1),
            $"alternating_iterations needs 4 positive counts (RPN, Fast R-CNN, RPN, Fast R-CNN), got [{string.Join(", ", AlternatingIterations ?? [])}].");
        Rpn?.Validate();
        Spp?.Validate();
        Check(CheckpointEvery >= 0, $"checkpoint_every must be ≥ 0, got {CheckpointEvery}.");
        Check(ValidateEvery >= 0, $"validate_every must be ≥ 0, got {ValidateEvery}.");
        Check(BoxCoderWeights.Count == 4 && BoxCoderWeights.All(w => w > 0 && double.IsFinite(w)),
            $"box_coder_weights needs 4 positive numbers, got [{string.Join(", ", BoxCoderWeights)}].");
        Check(BoxLossWeight >= 0 && double.IsFinite(BoxLossWeight), $"box_loss_weight must be ≥ 0, got {BoxLossWeight}.");
    }

    /// <summary>
    /// Throws when an image of <paramref name="images"/> would be scaled (by the smallest of <see cref="Scales"/>, capped
    /// by <see cref="MaxSize"/>) to a side shorter than the backbone's trunk takes (<see cref="BackboneSpec.MinInputSide"/>),
    /// where libtorch's pooling would fail in the middle of the run.
    /// </summary>
    /// <exception cref="ArgumentException">Names the image file, its scaled size, the backbone's minimum and the options (as CLI flags).</exception>
    public void CheckImageSizes(IEnumerable<Data.ImageRecord> images)
    {
        ArgumentNullException.ThrowIfNull(images);
        var spec = BackboneFactory.Spec(Backbone);
        int scale = Scales.Min();
        foreach (var image in images)
        {
            double factor = Data.Transforms.ImageScaling.ScaleFactor(image.Height, image.Width, scale, MaxSize);
            var (h, w) = Data.Transforms.ImageScaling.ScaledSize(image.Height, image.Width, factor);
            if (Math.Min(h, w) < spec.MinInputSide)
                throw new ArgumentException($"{image.ImagePath}: image '{image.Id}' ({image.Width}x{image.Height}) would be scaled to {w}x{h} pixels " +
                    $"(--scale {scale}, --max-size {MaxSize}; scales and max_size in a config), smaller than the {spec.MinInputSide} pixels a side " +
                    $"that backbone '{spec.Name}' needs for one feature cell; raise --max-size or --scale.");
        }
    }

    /// <summary>Value equality over the list-valued options too (records compare lists by reference).</summary>
    public bool Equals(TrainingOptions? other) =>
        other is not null && TrainingConfig.ToJson(this) == TrainingConfig.ToJson(other);

    public override int GetHashCode() => TrainingConfig.ToJson(this).GetHashCode(StringComparison.Ordinal);
}
