using FastRcnn.Modeling.Backbones;
using FastRcnn.Modeling.RoiHeads;
using FastRcnn.Ops;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace FastRcnn.Modeling;

/// <summary>
/// The Fast R-CNN network (SPEC §3): conv trunk at stride 16 → RoI pooling (PH×PW, scale 1/16) →
/// box head (fc6, fc7) → predictor (<c>cls_score</c> K+1, <c>bbox_pred</c> 4(K+1)). Training samples
/// RoIs per image and returns the multi-task loss (<see cref="Loss"/>); inference scores and decodes
/// one image's proposals (<see cref="Predict"/>). Shape shorthand: N images, R RoIs, K object classes.
/// </summary>
/// <remarks>
/// State-dict names: <c>features.*</c> (torchvision's), <c>box_head.fc6.*</c>, <c>box_head.fc7.*</c>
/// (<c>box_head.fc6.0.weight</c>, <c>.1.weight</c>, <c>.1.bias</c> when factored, <see cref="BoxHead"/>),
/// <c>predictor.cls_score.*</c>, <c>predictor.bbox_pred.*</c>. All initial weights and the RoI sampler
/// derive from the seed; dropout draws from libtorch's global generator (<c>torch.random.manual_seed</c>).
/// The caller picks the mode: <c>train()</c> before <see cref="Loss"/>; <see cref="Predict"/> always
/// runs as in <c>eval()</c>.
/// </remarks>
public sealed class FastRcnnModel : nn.Module
{
    [ComponentName(Name = "features")] private readonly Sequential _features;
    [ComponentName(Name = "roi_pool")] private readonly RoiPoolLayer _roiPool;
    [ComponentName(Name = "box_head")] private readonly BoxHead _boxHead;
    [ComponentName(Name = "predictor")] private readonly FastRcnnPredictor _predictor;
    private readonly RoiSampler _sampler;

    /// <summary>A detector for <paramref name="numClasses"/> object classes K on backbone <paramref name="backbone"/> (see <see cref="BackboneFactory.Names"/>).</summary>
    public FastRcnnModel(string backbone, int numClasses, long seed = 0, FastRcnnOptions? options = null) : base(nameof(FastRcnnModel))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numClasses, 1);
        Options = options ?? new FastRcnnOptions();
        Seed = seed;
        using var generator = new Generator((ulong)seed);
        (_features, Spec) = BackboneFactory.Create(backbone, generator);
        _roiPool = new RoiPoolLayer(Spec.PooledSize, Spec.PooledSize, Spec.SpatialScale);
        _boxHead = new BoxHead(Spec.Fc6Inputs, Spec.Fc6Width, Spec.Fc7Width, generator, ranks: Options.HeadRanks);
        _predictor = new FastRcnnPredictor(Spec.Fc7Width, numClasses, generator);
        _sampler = new RoiSampler(Options.Sampler, seed + 1);
        RegisterComponents();
        SetFrozenPrefixes(Options.FrozenPrefixes ?? Spec.FrozenPrefixes);
    }

    public BackboneSpec Spec { get; }
    public FastRcnnOptions Options { get; }
    public long Seed { get; }

    /// <summary>The input convention: <see cref="FastRcnnOptions.Pixels"/>, else the backbone's.</summary>
    public Data.Transforms.PixelPreprocessing Pixels => Options.Pixels ?? Spec.Pixels;

    /// <summary>K, the number of object classes (the classifier has K+1 outputs).</summary>
    public int NumClasses => _predictor.NumClasses;

    /// <summary>The state-dict name prefixes whose parameters are frozen (requires_grad false).</summary>
    public IReadOnlyList<string> FrozenPrefixes { get; private set; } = [];

    /// <summary>Freezes exactly the parameters whose names start with one of <paramref name="prefixes"/>; unfreezes the rest.</summary>
    public void SetFrozenPrefixes(IEnumerable<string> prefixes)
    {
        FrozenPrefixes = prefixes.ToArray();
        foreach (var (name, parameter) in named_parameters())
            parameter.requires_grad = !FrozenPrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal));
    }

    /// <summary>Freezes trunk modules <c>features.0</c> … <c>features.<paramref name="lastIndex"/></c> (−1: nothing).</summary>
    public void FreezeUpTo(int lastIndex) => SetFrozenPrefixes(BackboneSpec.FeaturesUpTo(lastIndex));

    /// <summary>Reseeds the RoI sampler's generator (see <see cref="RoiSampler.Reseed"/>); dropout draws from the global generator.</summary>
    public void ReseedSampler(long seed) => _sampler.Reseed(seed);

    /// <summary>Conv features (N, C, ⌈H/16⌉-ish, ⌈W/16⌉-ish) of preprocessed images (N,3,H,W).</summary>
    /// <remarks>
    /// Activations are channels-last (<see cref="ChannelsLast"/>). The leading trunk modules whose parameters are all frozen (VGG16: conv1_1 … conv2_2 and pool2,
    /// <see cref="FrozenTrunkModules"/>) feed no gradient to anything, so they run without autograd and
    /// one image at a time: the same values (up to the convolution's float summation order), while the
    /// batch's largest activations — conv1's 64 channels at full resolution — exist for one image at a time.
    /// </remarks>
    public Tensor Features(Tensor images)
    {
        if (images.requires_grad) return _features.forward(images);
        using var input = ChannelsLast(images);
        int frozen = FrozenTrunkModules;
        if (frozen == 0) return _features.forward(input);
        var modules = _features.children().Cast<nn.Module<Tensor, Tensor>>().ToArray();
        Tensor x;
        using (no_grad())
        {
            var parts = new Tensor[input.shape[0]];
            for (int i = 0; i < parts.Length; i++)
                parts[i] = Run(modules, 0, frozen, input.narrow(0, i, 1));
            x = parts.Length == 1 ? parts[0] : cat(parts, 0);
            if (parts.Length > 1) foreach (var part in parts) part.Dispose();
        }
        if (frozen == modules.Length) return x;
        var features = Run(modules, frozen, modules.Length, x);
        x.Dispose();
        return features;
    }

    /// <summary>
    /// The images (N,3,H,W) with channels-last strides (a copy laid out N,H,W,3): oneDNN's convolutions
    /// then run on NHWC activations end to end instead of reordering every layer's input and output to
    /// their blocked layout and back (about 10% of a VGG16 training iteration on a 2-core CPU); values
    /// and shapes are unchanged, and RoI pooling reads NHWC features without a transposing copy.
    /// </summary>
    private static Tensor ChannelsLast(Tensor images) =>
        images.dim() == 4 ? images.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2) : images.alias();

    /// <summary>
    /// How many leading trunk modules have only frozen parameters (parameter-free modules such as ReLU and
    /// pooling count as frozen when every module with parameters before them is); 0 when the first
    /// convolution trains.
    /// </summary>
    public int FrozenTrunkModules
    {
        get
        {
            int count = 0, lastWithParameters = 0;
            foreach (var module in _features.children())
            {
                var parameters = module.parameters().ToList();
                if (parameters.Any(p => p.requires_grad)) break;
                count++;
                if (parameters.Count > 0) lastWithParameters = count;
            }
            return lastWithParameters == 0 ? 0 : count;
        }
    }

    /// <summary>Modules [<paramref name="from"/>, <paramref name="to"/>) on <paramref name="input"/>, disposing intermediates as <see cref="Sequential"/> does.</summary>
    private static Tensor Run(nn.Module<Tensor, Tensor>[] modules, int from, int to, Tensor input)
    {
        var x = input;
        for (int k = from; k < to; k++)
        {
            var y = modules[k].forward(x);
            if (!ReferenceEquals(x, input) && !ReferenceEquals(x, y)) x.Dispose();
            x = y;
        }
        return ReferenceEquals(x, input) ? input.alias() : x;
    }

    /// <summary>Class logits (R, K+1) and box deltas (R, 4(K+1)) of RoIs (R,5) rows (batch_index, x1, y1, x2, y2) on <paramref name="features"/>.</summary>
    public (Tensor ClassLogits, Tensor BoxDeltas) ScoreRois(Tensor features, Tensor rois) =>
        _predictor.forward(_boxHead.forward(_roiPool.forward(features, rois)));

    /// <summary>RoI pooling alone: (R, C, PH, PW) from RoIs (R,5) on <paramref name="features"/>.</summary>
    public Tensor PoolRois(Tensor features, Tensor rois) => _roiPool.forward(features, rois);

    /// <summary>The fully connected layers fc6 and fc7, for stage-by-stage use (e.g. timing, compression).</summary>
    public BoxHead BoxHead => _boxHead;

    /// <summary>The sibling outputs <c>cls_score</c> and <c>bbox_pred</c>.</summary>
    public FastRcnnPredictor Predictor => _predictor;

    /// <summary>
    /// One training step's forward: samples each image's RoIs (<see cref="RoiSampler"/>), pools all of
    /// them from the batch's features in one call and computes the multi-task loss.
    /// <paramref name="images"/>: (N,3,H,W) preprocessed; <paramref name="targets"/>: N entries in the
    /// same (scaled) pixels. Images without usable RoIs are skipped and counted.
    /// </summary>
    public FastRcnnTrainingOutput Loss(Tensor images, IReadOnlyList<ImageTargets> targets)
    {
        if (images.dim() != 4 || images.shape[1] != 3)
            throw new ArgumentException($"Images must be (N,3,H,W), got {BoxOps.ShapeText(images)}.", nameof(images));
        if (targets.Count != images.shape[0])
            throw new ArgumentException($"Need one ImageTargets per image: {images.shape[0]} images, {targets.Count} targets.", nameof(targets));
        using var scope = NewDisposeScope();
        var samples = new List<(int Image, SampledRois Rois)>();
        for (int i = 0; i < targets.Count; i++)
        {
            targets[i].Validate($"image {i}", NumClasses);
            var sample = _sampler.Sample(targets[i]);
            if (!sample.IsEmpty) samples.Add((i, sample));
        }
        int skipped = targets.Count - samples.Count;
        int fgCount = samples.Sum(s => s.Rois.ForegroundCount), bgCount = samples.Sum(s => s.Rois.BackgroundCount);
        if (samples.Count == 0)
        {
            var zero = zeros(Array.Empty<long>());
            return new FastRcnnTrainingOutput(new FastRcnnLosses(zero.clone().MoveToOuterDisposeScope(),
                zero.clone().MoveToOuterDisposeScope(), zero.MoveToOuterDisposeScope()), 0, 0, skipped, double.NaN);
        }

        var boxes = cat(samples.Select(s => s.Rois.ProposalBoxes).ToArray(), 0);
        var batchIndex = tensor(samples.SelectMany(s => Enumerable.Repeat((float)s.Image, s.Rois.Count)).ToArray()).unsqueeze(1);
        var rois = cat([batchIndex, boxes], 1);
        var gtClasses = cat(samples.Select(s => s.Rois.GtClasses).ToArray(), 0);
        var matchedGt = cat(samples.Select(s => s.Rois.MatchedGtBoxes).ToArray(), 0);
        var (regressionTargets, regressionWeights) = RegressionTargets.Encode(Options.BoxCoder, boxes, matchedGt, gtClasses, NumClasses);

        var (classLogits, boxDeltas) = ScoreRois(Features(images), rois);
        var losses = FastRcnnLoss.Compute(classLogits, boxDeltas, gtClasses, regressionTargets, regressionWeights, Options.BoxLossWeight);
        double accuracy = classLogits.detach().argmax(1).eq(gtClasses).to_type(float32).mean().item<float>();
        return new FastRcnnTrainingOutput(new FastRcnnLosses(losses.Classification.MoveToOuterDisposeScope(),
            losses.BoxRegression.MoveToOuterDisposeScope(), losses.Total.MoveToOuterDisposeScope()), fgCount, bgCount, skipped, accuracy);
    }

    /// <summary>
    /// Scores and boxes of one preprocessed image (1,3,H,W) and its proposals (R,4) in its pixels:
    /// softmax class probabilities (R, K+1) and class-specific boxes (R, 4(K+1)) decoded with
    /// <see cref="FastRcnnOptions.BoxCoder"/> and clipped to the image (block 0, background, is
    /// meaningless). Runs without gradients and with dropout off, whatever the mode.
    /// </summary>
    public (Tensor ClassProbabilities, Tensor Boxes) Predict(Tensor image, Tensor proposals)
    {
        if (image.dim() != 4 || image.shape[0] != 1 || image.shape[1] != 3)
            throw new ArgumentException($"Predict takes one image (1,3,H,W), got {BoxOps.ShapeText(image)}.", nameof(image));
        if (proposals.dim() != 2 || proposals.shape[1] != 4)
            throw new ArgumentException($"Proposals must be (R,4), got {BoxOps.ShapeText(proposals)}.", nameof(proposals));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        bool wasTraining = training;
        eval();
        try
        {
            var boxes = proposals.to_type(float32);
            var rois = cat([zeros(boxes.shape[0], 1, float32), boxes], 1);
            var (classLogits, boxDeltas) = ScoreRois(Features(image), rois);
            var probabilities = nn.functional.softmax(classLogits, 1);
            var decoded = Options.BoxCoder.DecodeClipped(boxDeltas, boxes, image.shape[2], image.shape[3]);
            return (probabilities.MoveToOuterDisposeScope(), decoded.MoveToOuterDisposeScope());
        }
        finally
        {
            if (wasTraining) train();
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _sampler.Dispose();
        base.Dispose(disposing);
    }
}
