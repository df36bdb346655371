using FastRcnn.Data.Transforms;
using FastRcnn.Modeling.Backbones;
using FastRcnn.Modeling.ProposalGenerators;
using FastRcnn.Modeling.RegionFeatures;
using FastRcnn.Modeling.RoiHeads;
using FastRcnn.Modeling.Rpn;
using FastRcnn.Modeling.Svm;
using FastRcnn.Ops;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace FastRcnn.Modeling;

/// <summary>
/// The composition root of the two-stage family (torchvision's <c>GeneralizedRCNN</c>): a conv trunk, a proposal
/// generator (<see cref="IProposalGenerator"/>: external proposals for Fast R-CNN, a region proposal network for
/// Faster R-CNN), a region feature extractor (<see cref="IRegionFeatureExtractor"/>: RoI pooling) and the RoI heads
/// (<see cref="StandardRoiHeads"/>: sampling, box head, predictor, loss). <see cref="Forward"/> is the one forward
/// path: with targets it returns the named losses of a training step, without them the scored and decoded RoIs of
/// one image; <see cref="Loss"/> and <see cref="Predict(TestImage, Tensor?, PredictOptions?, StageClock?)"/> call it.
/// </summary>
/// <remarks>
/// <para>Shape shorthand: N images of a batch (at test time: L pyramid levels of one image), R RoIs, K object classes,
/// C trunk channels, h×w feature map (stride 16), PH×PW pooled grid.</para>
/// <para>State-dict names: <c>features.*</c> (torchvision's), <c>rpn.*</c> (Faster R-CNN), <c>box_head.fc6.*</c>,
/// <c>box_head.fc7.*</c> (<c>box_head.fc6.0.weight</c>, <c>.1.weight</c>, <c>.1.bias</c> when factored,
/// <see cref="BoxHead"/>), <c>predictor.cls_score.*</c>, <c>predictor.bbox_pred.*</c>. All initial weights and the
/// samplers derive from the seed; dropout draws from libtorch's global generator (<c>torch.random.manual_seed</c>).
/// The caller picks the mode: <c>train()</c> before <see cref="Loss"/>; <see cref="Predict(TestImage, Tensor?, PredictOptions?, StageClock?)"/>
/// always runs as in <c>eval()</c>.</para>
/// </remarks>
public sealed class TwoStageModel : nn.Module, IRegionFeatureSource
{
    [ComponentName(Name = "features")] private readonly Sequential _features;
    [ComponentName(Name = "roi_pool")] private readonly RoiPoolExtractor _roiPool;
    [ComponentName(Name = "box_head")] private readonly BoxHead _boxHead;
    [ComponentName(Name = "predictor")] private readonly FastRcnnPredictor _predictor;
    [ComponentName(Name = "rpn")] private readonly RegionProposalNetwork? _rpn;
    private readonly RoiSampler _sampler;
    private readonly StandardRoiHeads _roiHeads;
    private readonly IProposalGenerator _proposals;

    /// <summary>A detector for <paramref name="numClasses"/> object classes K on backbone <paramref name="backbone"/> (see <see cref="BackboneFactory.Names"/>).</summary>
    public TwoStageModel(string backbone, int numClasses, long seed = 0, TwoStageOptions? options = null) : base(nameof(TwoStageModel))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(numClasses, 1);
        Options = options ?? new TwoStageOptions();
        Seed = seed;
        using var generator = new Generator((ulong)seed);
        (_features, Spec) = BackboneFactory.Create(backbone, generator);
        _roiPool = new RoiPoolExtractor(Spec.OutputChannels, Spec.PooledSize, Spec.SpatialScale);
        _boxHead = new BoxHead(Spec.Fc6Inputs, Spec.Fc6Width, Spec.Fc7Width, generator, ranks: Options.HeadRanks);
        _predictor = new FastRcnnPredictor(Spec.Fc7Width, numClasses, generator);
        _sampler = new RoiSampler(Options.Sampler, seed + 1);
        IRegionFeatureExtractor extractor = Options.Architecture == DetectorArchitecture.Rcnn
            ? new WarpedRegionExtractor(_features, Spec, batchSize: Options.WarpBatchSize)
            : _roiPool;
        _roiHeads = new StandardRoiHeads(extractor, _boxHead, _predictor, _sampler, Options.BoxCoder, Options.BoxLossWeight);
        // The RPN is built last, so that the other parts draw the same initial weights in every architecture.
        _rpn = Options.Architecture == DetectorArchitecture.FasterRcnn
            ? new RegionProposalNetwork(Spec.OutputChannels, 1 / Spec.SpatialScale, generator, Options.Rpn ?? RpnOptions.For(Spec), seed + 2)
            : null;
        _proposals = _rpn is null ? ExternalProposals.Instance : new RpnProposals(_rpn);
        RegisterComponents();
        SetFrozenPrefixes(Options.FrozenPrefixes ?? Spec.FrozenPrefixes);
    }

    public BackboneSpec Spec { get; }
    public TwoStageOptions Options { get; }
    public long Seed { get; }

    /// <summary>Which member of the family this is.</summary>
    public DetectorArchitecture Architecture => Options.Architecture;

    /// <summary>Whether the model computes its own proposals (Faster R-CNN) or needs them supplied (Fast R-CNN).</summary>
    public bool ComputesProposals => _proposals.ComputesProposals;

    /// <summary>The input convention: <see cref="TwoStageOptions.Pixels"/>, else the backbone's.</summary>
    public PixelPreprocessing Pixels => Options.Pixels ?? Spec.Pixels;

    /// <summary>K, the number of object classes (the classifier has K+1 outputs).</summary>
    public int NumClasses => _predictor.NumClasses;

    /// <summary>The state-dict name prefixes whose parameters are frozen (requires_grad false).</summary>
    public IReadOnlyList<string> FrozenPrefixes { get; private set; } = [];

    /// <summary>The fully connected layers fc6 and fc7, for stage-by-stage use (e.g. timing, compression).</summary>
    public BoxHead BoxHead => _boxHead;

    /// <summary>The sibling outputs <c>cls_score</c> and <c>bbox_pred</c>.</summary>
    public FastRcnnPredictor Predictor => _predictor;

    /// <summary>The RoI heads (sampling, region features, box head, predictor, loss).</summary>
    public StandardRoiHeads RoiHeads => _roiHeads;

    /// <summary>The proposal generator.</summary>
    public IProposalGenerator ProposalGenerator => _proposals;

    /// <summary>The region proposal network (Faster R-CNN), or null.</summary>
    public RegionProposalNetwork? Rpn => _rpn;

    /// <summary>
    /// The post-hoc SVM stage of R-CNN and SPPnet (per-class SVMs on fc7, ridge box regressors on pool5), or null. When
    /// set, inference scores every RoI with it instead of the softmax and the box predictor: the predictions' class
    /// scores are SVM scores, not probabilities. The model disposes it with itself.
    /// </summary>
    public SvmStage? SvmStage { get; set; }

    /// <summary>D5, the width of a region feature before fc6 (<see cref="IRegionFeatureExtractor.OutputWidth"/>).</summary>
    public int Pool5Width => _roiHeads.Extractor.OutputWidth;

    /// <summary>D7, the width of fc7.</summary>
    public int Fc7Width => _boxHead.OutputWidth;

    /// <summary>
    /// What a training step trains (<see cref="TrainingPhase.Joint"/> by default; the alternating schedule switches it).
    /// A model without an RPN trains its RoI heads whatever the phase, but cannot train region proposals alone.
    /// </summary>
    public TrainingPhase Phase
    {
        get => _phase;
        set => _phase = value == TrainingPhase.RegionProposals && _rpn is null
            ? throw new InvalidOperationException($"a {Architecture.Name()} model has no region proposal network to train")
            : value;
    }

    private TrainingPhase _phase = TrainingPhase.Joint;

    /// <summary>Freezes exactly the parameters whose names start with one of <paramref name="prefixes"/>; unfreezes the rest.</summary>
    public void SetFrozenPrefixes(IEnumerable<string> prefixes)
    {
        FrozenPrefixes = prefixes.ToArray();
        foreach (var (name, parameter) in named_parameters())
            parameter.requires_grad = !FrozenPrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal));
    }

    /// <summary>Freezes trunk modules <c>features.0</c> … <c>features.<paramref name="lastIndex"/></c> (−1: nothing).</summary>
    public void FreezeUpTo(int lastIndex) => SetFrozenPrefixes(BackboneSpec.FeaturesUpTo(lastIndex));

    /// <summary>Reseeds the RoI sampler's and the proposal generator's draws (<see cref="RoiSampler.Reseed"/>); dropout draws from the global generator.</summary>
    public void ReseedSampler(long seed)
    {
        _sampler.Reseed(seed);
        if (_proposals is IReseedable reseedable) reseedable.Reseed(seed + 1);
    }

    /// <summary>
    /// The one forward path. Training (<paramref name="targets"/> given, one per image of <paramref name="images"/>,
    /// in the same scaled pixels): trunk → proposals (each image's own, or the RPN's with its losses) → RoI sampling,
    /// region features, heads → <see cref="LossNames"/>' losses. Inference (no targets; <paramref name="images"/> are
    /// the L levels of one image, <paramref name="test"/> says how): trunk → proposals (given, or the RPN's on every
    /// level) → each RoI projected to its level → region features, heads → softmax scores and boxes decoded in the
    /// original image's pixels.
    /// </summary>
    public ModelOutput Forward(Tensor images, IReadOnlyList<InputImageSize> sizes, IReadOnlyList<ImageTargets>? targets,
        TestRequest? test = null, StageClock? clock = null)
    {
        if (images.dim() != 4 || images.shape[1] != 3)
            throw new ArgumentException($"Images must be (N,3,H,W), got {BoxOps.ShapeText(images)}.", nameof(images));
        if (sizes.Count != images.shape[0])
            throw new ArgumentException($"Need one size per image: {images.shape[0]} images, {sizes.Count} sizes.", nameof(sizes));
        if (targets is not null)
        {
            if (targets.Count != images.shape[0])
                throw new ArgumentException($"Need one ImageTargets per image: {images.shape[0]} images, {targets.Count} targets.", nameof(targets));
            for (int i = 0; i < targets.Count; i++) targets[i].Validate($"image {i}", NumClasses);
        }
        else if (test is null)
        {
            throw new ArgumentException("Inference needs a TestRequest (the original image size and its proposals, if external).", nameof(test));
        }

        using var scope = NewDisposeScope();
        var features = NeedsFeatureMap ? Features(images) : empty(0);
        clock?.Lap(DetectionStage.Conv);
        var source = new RegionSource(images, features);
        if (targets is not null)
        {
            var proposals = Phase == TrainingPhase.Detection
                ? ExternalProposals.Instance.Propose(features, sizes, targets)
                : _proposals.Propose(features, sizes, targets);
            if (Phase == TrainingPhase.RegionProposals)
                return new ModelOutput(proposals.Losses.MoveToOuterDisposeScope(), new RoiSampleStats(0, 0, 0, double.NaN), null);
            var (headLosses, stats) = _roiHeads.Loss(source, proposals.Proposals, targets);
            var losses = proposals.Losses.AddRange(headLosses).MoveToOuterDisposeScope();
            return new ModelOutput(losses, stats, null);
        }

        // Inference: proposals in the original image's pixels.
        var (height, width) = (test!.Height, test.Width);
        Tensor boxes;
        if (test.Proposals is not null)
        {
            boxes = BoxOps.Clip(test.Proposals.to_type(float32), height, width);
        }
        else
        {
            boxes = GeneratedProposals(features, sizes, height, width);
            clock?.Lap(DetectionStage.Proposals);
        }
        var rois = ProjectToLevels(boxes, sizes, test.CanonicalRoiSize);
        var (scored, inverse) = test.Deduplicate ? _roiHeads.Extractor.Deduplicate(rois) : (rois, null);
        if (SvmStage is { } svm)
        {
            var (pool5, fc7) = Pool5AndFc7(source, scored, clock);
            if (inverse is not null) { pool5 = pool5.index_select(0, inverse); fc7 = fc7.index_select(0, inverse); }
            var (svmScores, svmBoxes) = svm.Score(new RegionFeatureSet(pool5, fc7), boxes, height, width);
            clock?.Lap(DetectionStage.Outputs);
            return new ModelOutput(null, null, new RoiPredictions(boxes.MoveToOuterDisposeScope(), svmScores.MoveToOuterDisposeScope(), svmBoxes.MoveToOuterDisposeScope()));
        }
        var (logits, deltas) = _roiHeads.Score(source, scored, clock);
        if (inverse is not null) { logits = logits.index_select(0, inverse); deltas = deltas.index_select(0, inverse); }
        var probabilities = nn.functional.softmax(logits, 1);
        var decoded = Options.BoxCoder.DecodeClipped(deltas, boxes, height, width);
        clock?.Lap(DetectionStage.Outputs);
        var predictions = new RoiPredictions(boxes.MoveToOuterDisposeScope(), probabilities.MoveToOuterDisposeScope(), decoded.MoveToOuterDisposeScope());
        return new ModelOutput(null, null, predictions);
    }

    /// <summary>
    /// One training step's forward (<see cref="Forward"/> with targets): <paramref name="images"/> (N,3,H,W)
    /// preprocessed and padded; <paramref name="targets"/> N entries in the same scaled pixels;
    /// <paramref name="sizes"/> each image's size before padding and its scale factor (default: the padded size, 1).
    /// </summary>
    public TrainingOutput Loss(Tensor images, IReadOnlyList<ImageTargets> targets, IReadOnlyList<InputImageSize>? sizes = null)
    {
        sizes ??= Enumerable.Repeat(new InputImageSize((int)images.shape[2], (int)images.shape[3], 1.0), (int)images.shape[0]).ToArray();
        var output = Forward(images, sizes, targets);
        return new TrainingOutput(output.Losses!, output.Stats!);
    }

    /// <summary>
    /// Scores and boxes of one image at test time (<see cref="Forward"/> without targets): <paramref name="image"/>'s
    /// levels, and <paramref name="proposals"/> (R,4) in its original pixels (null when the model proposes itself).
    /// Runs without gradients and with dropout off, whatever the mode.
    /// </summary>
    public RoiPredictions Predict(TestImage image, Tensor? proposals, PredictOptions? options = null, StageClock? clock = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (proposals is null && !ComputesProposals)
            throw new ArgumentException($"A {Architecture.Name()} model needs proposals (R,4): selective search or a proposal file.", nameof(proposals));
        if (proposals is not null && (proposals.dim() != 2 || proposals.shape[1] != 4))
            throw new ArgumentException($"Proposals must be (R,4), got {BoxOps.ShapeText(proposals)}.", nameof(proposals));
        options ??= new PredictOptions();
        using var noGrad = no_grad();
        bool wasTraining = training;
        eval();
        try
        {
            var sizes = image.Levels.Select(l => new InputImageSize(l.Height, l.Width, l.Factor)).ToArray();
            var request = new TestRequest(image.Height, image.Width, proposals, options.CanonicalRoiSize, options.Deduplicate);
            return Forward(image.Images, sizes, null, request, clock).Predictions!;
        }
        finally
        {
            if (wasTraining) train();
        }
    }

    /// <summary>
    /// Region features of <paramref name="boxes"/> (R,4) in <paramref name="image"/>'s original pixels (clipped to it):
    /// pool5 (R, <see cref="Pool5Width"/>), the extractor's output flattened, and fc7 (R, <see cref="Fc7Width"/>) after
    /// its ReLU; each box is taken from its pyramid level as in <see cref="Predict(TestImage, Tensor?, PredictOptions?, StageClock?)"/>.
    /// Runs without gradients and with dropout off, whatever the mode (<see cref="IRegionFeatureSource"/>).
    /// </summary>
    public RegionFeatureSet RegionFeatures(TestImage image, Tensor boxes, PredictOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (boxes.dim() != 2 || boxes.shape[1] != 4)
            throw new ArgumentException($"Boxes must be (R,4), got {BoxOps.ShapeText(boxes)}.", nameof(boxes));
        options ??= new PredictOptions();
        using var noGrad = no_grad();
        bool wasTraining = training;
        eval();
        try
        {
            using var scope = NewDisposeScope();
            var sizes = image.Levels.Select(l => new InputImageSize(l.Height, l.Width, l.Factor)).ToArray();
            var source = new RegionSource(image.Images, NeedsFeatureMap ? Features(image.Images) : empty(0));
            var clipped = BoxOps.Clip(boxes.to_type(float32), image.Height, image.Width);
            var (pool5, fc7) = Pool5AndFc7(source, ProjectToLevels(clipped, sizes, options.CanonicalRoiSize), null);
            return new RegionFeatureSet(pool5.MoveToOuterDisposeScope(), fc7.MoveToOuterDisposeScope());
        }
        finally
        {
            if (wasTraining) train();
        }
    }

    /// <summary>The flattened region features (R, D5) of <paramref name="rois"/> (R,5) and fc7 (R, D7) of them.</summary>
    private (Tensor Pool5, Tensor Fc7) Pool5AndFc7(RegionSource source, Tensor rois, StageClock? clock)
    {
        var pool5 = _roiHeads.Extractor.Extract(source, rois).flatten(1);
        clock?.Lap(DetectionStage.RoiPooling);
        var fc6 = _boxHead.Fc6(pool5);
        clock?.Lap(DetectionStage.Fc6);
        var fc7 = _boxHead.Fc7(fc6);
        clock?.Lap(DetectionStage.Fc7);
        return (pool5, fc7);
    }

    /// <summary>
    /// The region proposal network's proposals (P,4) for <paramref name="image"/>, in its original pixels, best first
    /// (every level's, in level order); the test-time top-N unless <see cref="OverrideTestProposals"/> says otherwise.
    /// </summary>
    /// <exception cref="InvalidOperationException">The model has no region proposal network.</exception>
    public Tensor Propose(TestImage image)
    {
        if (_rpn is null) throw new InvalidOperationException($"a {Architecture.Name()} model has no region proposal network");
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        bool wasTraining = training;
        eval();
        try
        {
            var sizes = image.Levels.Select(l => new InputImageSize(l.Height, l.Width, l.Factor)).ToArray();
            return GeneratedProposals(Features(image.Images), sizes, image.Height, image.Width).MoveToOuterDisposeScope();
        }
        finally
        {
            if (wasTraining) train();
        }
    }

    /// <summary>Whether a forward pass needs the trunk's features of the whole images (not for R-CNN's warped crops).</summary>
    private bool NeedsFeatureMap => _rpn is not null || _roiHeads.Extractor.ReadsFeatureMap;

    /// <summary>The proposal generator's boxes of every level, mapped back to the original image's pixels and clipped to it.</summary>
    private Tensor GeneratedProposals(Tensor features, IReadOnlyList<InputImageSize> levels, int height, int width)
    {
        var generated = _proposals.Propose(features, levels, null);
        var boxes = cat(generated.Proposals.Select((p, l) => ImageScaling.ScaleBoxes(p, 1.0 / levels[l].ScaleFactor)).ToArray(), 0);
        return BoxOps.Clip(boxes, height, width);
    }

    /// <summary>
    /// Until the result is disposed, the RPN keeps <paramref name="postNmsTopN"/> proposals per image at test time
    /// (null: no change), e.g. 2000 when its proposals train a detector.
    /// </summary>
    public IDisposable OverrideTestProposals(int? postNmsTopN)
    {
        if (_rpn is null || postNmsTopN is null) return new Restore(() => { });
        var before = _rpn.TestProposalOptions;
        _rpn.TestProposalOptions = (before ?? _rpn.Options.ProposalOptions(training: false)) with { PostNmsTopN = postNmsTopN.Value };
        return new Restore(() => _rpn.TestProposalOptions = before);
    }

    private sealed class Restore(Action undo) : IDisposable
    {
        public void Dispose() => undo();
    }

    /// <summary>
    /// Scores and boxes of one preprocessed image (1,3,H,W) and its proposals (R,4) in its pixels: softmax class
    /// probabilities (R, K+1) and class-specific boxes (R, 4(K+1)) decoded with <see cref="TwoStageOptions.BoxCoder"/>
    /// and clipped to the image (block 0, background, is meaningless). Proposals are clipped to the image first.
    /// </summary>
    public (Tensor ClassProbabilities, Tensor Boxes) Predict(Tensor image, Tensor? proposals)
    {
        if (image.dim() != 4 || image.shape[0] != 1 || image.shape[1] != 3)
            throw new ArgumentException($"Predict takes one image (1,3,H,W), got {BoxOps.ShapeText(image)}.", nameof(image));
        int h = (int)image.shape[2], w = (int)image.shape[3];
        var result = Predict(new TestImage(image, [ImageScale.Identity(h, w)]), proposals, new PredictOptions(Deduplicate: false));
        result.Proposals.Dispose();
        return (result.Probabilities, result.Boxes);
    }

    /// <summary>
    /// Boxes (R,4) of the original image projected onto the levels (R,5) rows (level, x1·s, y1·s, x2·s, y2·s): each box
    /// goes to the level where its scaled area is closest to <paramref name="canonicalSize"/>² (SPEC §6; one level: 0).
    /// </summary>
    private static Tensor ProjectToLevels(Tensor boxes, IReadOnlyList<InputImageSize> levels, double canonicalSize) =>
        ImagePyramid.Project(boxes, levels.Select(l => l.ScaleFactor).ToArray(), canonicalSize).Rois;

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
    /// The images (N,3,H,W) with channels-last strides (a copy laid out N,H,W,3): oneDNN's convolutions then run on
    /// NHWC activations end to end instead of reordering every layer's input and output to their blocked layout and
    /// back (about 10% of a VGG16 training iteration on a 2-core CPU), and RoI pooling reads NHWC features without a
    /// transposing copy. Shapes are unchanged; values differ from the plain layout's by float summation order only
    /// (up to about 3e-6 relative in VGG16's trunk output), since oneDNN picks other kernels for NHWC.
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

    /// <summary>RoI pooling alone: (R, C, PH, PW) from RoIs (R,5) on <paramref name="features"/>.</summary>
    public Tensor PoolRois(Tensor features, Tensor rois) => _roiPool.forward(features, rois);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _sampler.Dispose();
            SvmStage?.Dispose();
            if (_proposals is IDisposable disposable) disposable.Dispose();
        }
        base.Dispose(disposing);
    }
}
