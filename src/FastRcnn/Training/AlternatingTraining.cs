using FastRcnn.Data;
using FastRcnn.Modeling;
using FastRcnn.Proposals;
using static TorchSharp.torch;

namespace FastRcnn.Training;

/// <summary>One step of <see cref="AlternatingTraining"/> about to run (hooks attach progress displays to its trainer).</summary>
/// <param name="Step">1 … 4.</param>
/// <param name="Name">The step's folder name, e.g. <c>step1-rpn</c>.</param>
/// <param name="Description">What it trains, in words.</param>
/// <param name="Trainer">The step's trainer.</param>
public sealed record AlternatingStep(int Step, string Name, string Description, Trainer Trainer);

/// <summary>How an alternating run ended: the final model (owned by the caller) and each step's result.</summary>
public sealed record AlternatingResult(TwoStageModel Model, IReadOnlyList<TrainingResult> Steps, bool Cancelled, string? ModelDirectory);

/// <summary>
/// Faster R-CNN's 4-step alternating training (Ren et al. 2015, §3.2), one <see cref="Trainer"/> per step:
/// <list type="number">
/// <item>the RPN (<see cref="TrainingPhase.RegionProposals"/>), trunk and RPN from the initial weights;</item>
/// <item>Fast R-CNN (<see cref="TrainingPhase.Detection"/>) on step 1's proposals, again from the initial weights;</item>
/// <item>the RPN on step 2's network with the shared conv layers (and the RoI heads) frozen; its RPN starts from step 1's;</item>
/// <item>the RoI heads (fc6, fc7, predictor) on step 3's proposals, with the shared conv layers and the RPN frozen.</item>
/// </list>
/// The result is one network whose RPN and detector share step 2's trunk. Each step writes into its own folder of the
/// output directory (<c>step1-rpn</c>, …: checkpoints, loss log, model) and the proposals of steps 1 and 3 into
/// <c>proposals.npz</c> there; a rerun skips finished steps and resumes an interrupted one from its newest checkpoint.
/// Proposals for training come from the RPN at test settings with 2000 kept after NMS (py-faster-rcnn's
/// <c>rpn_generate</c>), on the middle training scale.
/// </summary>
public sealed class AlternatingTraining
{
    /// <summary>The folders of the four steps.</summary>
    public static IReadOnlyList<string> StepNames { get; } = ["step1-rpn", "step2-fast-rcnn", "step3-rpn", "step4-fast-rcnn"];

    /// <summary>Proposals kept per image for training the detector in steps 2 and 4.</summary>
    public const int TrainingProposalsPerImage = 2000;

    private static readonly string[] Descriptions =
    [
        "RPN from the initial weights",
        "Fast R-CNN on step 1's proposals, from the initial weights",
        "RPN on step 2's trunk, shared conv layers frozen",
        "Fast R-CNN head on step 3's proposals, shared conv layers frozen",
    ];

    private readonly DetectionDataset _dataset;
    private readonly Action<TwoStageModel>? _initialize;

    /// <summary>
    /// Training of a Faster R-CNN model on <paramref name="dataset"/>; <paramref name="initialize"/> loads the initial
    /// (e.g. ImageNet) weights into a fresh model, as steps 1 and 2 need.
    /// </summary>
    public AlternatingTraining(DetectionDataset dataset, TrainingOptions options, string? outputDirectory, Action<TwoStageModel>? initialize = null)
    {
        _dataset = dataset ?? throw new ArgumentNullException(nameof(dataset));
        Options = options ?? throw new ArgumentNullException(nameof(options));
        options.Validate();
        if (options.Architecture != DetectorArchitecture.FasterRcnn)
            throw new ArgumentException($"alternating training is Faster R-CNN's; the options say {options.Architecture.Name()}");
        OutputDirectory = outputDirectory is null ? null : Path.GetFullPath(outputDirectory);
        _initialize = initialize;
    }

    public TrainingOptions Options { get; }

    /// <summary>The run's directory, or null (nothing written).</summary>
    public string? OutputDirectory { get; }

    /// <summary>Before each step's training (its trainer is ready; attach progress here).</summary>
    public event EventHandler<AlternatingStep>? StepStarting;

    /// <summary>Runs one step's trainer; the default calls <see cref="Trainer.Run"/>. A CLI replaces it to show progress.</summary>
    public Func<AlternatingStep, CancellationToken, TrainingResult> RunStep { get; set; } = (step, cancel) => step.Trainer.Run(cancel);

    /// <summary>The iterations of step <paramref name="step"/> (1 … 4).</summary>
    public int IterationsOf(int step) => Options.AlternatingIterations is { } list ? list[step - 1] : Options.Iterations;

    /// <summary>The options one step trains with: its iterations, and the learning-rate steps scaled to them.</summary>
    public TrainingOptions OptionsOf(int step)
    {
        int n = IterationsOf(step);
        double ratio = Options.Iterations == 0 ? 1 : (double)n / Options.Iterations;
        var lrSteps = Options.LearningRateSteps.Select(s => (int)Math.Round(s * ratio)).Where(s => s > 0).Distinct().ToArray();
        return Options with { Iterations = n, LearningRateSteps = lrSteps };
    }

    /// <summary>Runs the four steps (skipping finished ones); the returned model belongs to the caller.</summary>
    public AlternatingResult Run(CancellationToken cancel = default)
    {
        var results = new List<TrainingResult>();
        TwoStageModel? rpnModel = null, model = null;
        try
        {
            // 1. RPN.
            rpnModel = Fresh();
            var (r1, m1) = RunOne(1, rpnModel, TrainingPhase.RegionProposals, EmptyProposals.Instance, frozen: null, cancel);
            rpnModel = m1;
            results.Add(r1);
            if (r1.Cancelled) return Stop(rpnModel, results, ref rpnModel);

            // 2. Fast R-CNN on step 1's proposals, from the initial weights.
            var proposals1 = Proposals(1, rpnModel, cancel);
            model = Fresh();
            var (r2, m2) = RunOne(2, model, TrainingPhase.Detection, proposals1, frozen: null, cancel);
            model = m2;
            results.Add(r2);
            if (r2.Cancelled) return Stop(model, results, ref model);

            // 3. RPN on step 2's trunk, starting from step 1's RPN; shared convs and heads frozen.
            if (!StepFinished(3)) CopyRpn(rpnModel, model);
            rpnModel.Dispose();
            rpnModel = null;
            var frozen3 = new[] { "features.", "box_head.", "predictor." };
            var (r3, m3) = RunOne(3, model, TrainingPhase.RegionProposals, EmptyProposals.Instance, frozen3, cancel);
            model = m3;
            results.Add(r3);
            if (r3.Cancelled) return Stop(model, results, ref model);

            // 4. Fast R-CNN head on step 3's proposals; shared convs and RPN frozen.
            var proposals3 = Proposals(3, model, cancel);
            var frozen4 = new[] { "features.", "rpn." };
            var (r4, m4) = RunOne(4, model, TrainingPhase.Detection, proposals3, frozen4, cancel);
            model = m4;
            results.Add(r4);
            if (r4.Cancelled) return Stop(model, results, ref model);

            model.SetFrozenPrefixes(Options.FrozenPrefixes ?? model.Spec.FrozenPrefixes);
            model.Phase = TrainingPhase.Joint;
            string? modelDirectory = null;
            if (OutputDirectory is not null)
            {
                ModelFiles.Save(OutputDirectory, model, _dataset.ClassNames.Skip(1).ToArray(), TrainingConfig.ToJsonObject(Options));
                modelDirectory = OutputDirectory;
            }
            var done = new AlternatingResult(model, results, false, modelDirectory);
            model = null;
            return done;
        }
        finally
        {
            rpnModel?.Dispose();
            model?.Dispose();
        }
    }

    private static AlternatingResult Stop(TwoStageModel current, List<TrainingResult> results, ref TwoStageModel? owned)
    {
        owned = null;
        return new AlternatingResult(current, results, true, null);
    }

    private TwoStageModel Fresh()
    {
        var model = Options.CreateModel(_dataset.NumClasses);
        _initialize?.Invoke(model);
        return model;
    }

    private string? StepDirectory(int step) => OutputDirectory is null ? null : Path.Combine(OutputDirectory, StepNames[step - 1]);

    private bool StepFinished(int step) => StepDirectory(step) is { } dir && File.Exists(Path.Combine(dir, ModelFiles.InfoFileName));

    /// <summary>Trains step <paramref name="step"/> on <paramref name="model"/>, or loads its result when it finished before.</summary>
    private (TrainingResult Result, TwoStageModel Model) RunOne(int step, TwoStageModel model, TrainingPhase phase, IProposalSource proposals,
        IReadOnlyList<string>? frozen, CancellationToken cancel)
    {
        string? dir = StepDirectory(step);
        if (dir is not null && StepFinished(step))
        {
            var loaded = ModelFiles.Load(dir).Model;
            model.Dispose();
            return (new TrainingResult(IterationsOf(step), false, double.NaN, 0, 0, 0, 0, dir, null), loaded);
        }
        model.Phase = phase;
        model.SetFrozenPrefixes(frozen is null ? Options.FrozenPrefixes ?? model.Spec.FrozenPrefixes : [.. frozen, .. Options.FrozenPrefixes ?? model.Spec.FrozenPrefixes]);
        using var trainer = new Trainer(model, _dataset, proposals, OptionsOf(step), dir);
        if (dir is not null && TrainingCheckpoint.Newest(Path.Combine(dir, "checkpoints")) is { } newest)
        {
            using var checkpoint = TrainingCheckpoint.Read(newest);
            trainer.Restore(checkpoint);
        }
        var info = new AlternatingStep(step, StepNames[step - 1], Descriptions[step - 1], trainer);
        StepStarting?.Invoke(this, info);
        return (RunStep(info, cancel), model);
    }

    /// <summary>The RPN proposals of every training image after step <paramref name="step"/> (cached in its folder).</summary>
    private PrecomputedProposals Proposals(int step, TwoStageModel model, CancellationToken cancel)
    {
        string? file = StepDirectory(step) is { } dir ? Path.Combine(dir, "proposals.npz") : null;
        if (file is not null && File.Exists(file)) return DatasetProposals.Load(file, _dataset);
        int side = Options.Scales.Order().ElementAt(Options.Scales.Count / 2);
        var set = ModelProposals.Compute(model, _dataset, side, Options.MaxSize, TrainingProposalsPerImage, cancel: cancel);
        if (file is not null) ProposalFile.Write(file, set.Proposals);
        return set.ToSource();
    }

    /// <summary>Copies the <c>rpn.*</c> weights of <paramref name="from"/> into <paramref name="to"/>.</summary>
    private static void CopyRpn(TwoStageModel from, TwoStageModel to)
    {
        var source = from.state_dict();
        using var noGrad = no_grad();
        foreach (var (name, target) in to.state_dict())
            if (name.StartsWith("rpn.", StringComparison.Ordinal)) target.copy_(source[name]);
    }
}
