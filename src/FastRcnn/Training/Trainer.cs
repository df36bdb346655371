using System.Diagnostics;
using FastRcnn.Data;
using FastRcnn.Distributed;
using FastRcnn.Modeling;
using FastRcnn.Ops;
using FastRcnn.Proposals;
using FastRcnn.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace FastRcnn.Training;

/// <summary>
/// Single-stage Fast R-CNN training (SPEC §5): each iteration i = 1 … I takes mini-batch i
/// (<see cref="MiniBatchSampler"/>: N images, flipped and scaled), samples R = N·64 RoIs, computes
/// L = L_cls + λ·L_loc and makes one SGD step (<see cref="MomentumSgd"/>: momentum 0.9, decay 0.0005 on
/// weights, biases at 2× lr) at the rate <see cref="TrainingOptions.LearningRateAt"/>(i).
/// </summary>
/// <remarks>
/// <para>Reproducibility: the dropout generator (libtorch's global one) and the RoI sampler are reseeded
/// from (seed, i) before each forward pass and the data stream is a function of (seed, i), so with the same
/// seed a run resumed from a checkpoint (<see cref="Restore"/>) computes the same losses as one that was not
/// interrupted. The global generator is process-wide: do not draw from it on other threads while training.</para>
/// <para>Divergence: a non-finite loss stops training before the update (<see cref="TrainingDivergedException"/>
/// names the iteration and the loss); weights are checked before every checkpoint, so no checkpoint ever
/// holds NaN. Files (with an output directory): <c>checkpoints/checkpoint_NNNNNNN.safetensors</c>,
/// <c>loss_log.csv</c>, <c>validation_log.csv</c>, <c>training_config.json</c> at the start, and
/// <c>model.safetensors</c> + <c>model.json</c> (with the effective config and seed) at the end.</para>
/// <para>Data-parallel training (a <see cref="ICommunicator"/> of P ≥ 2 processes): each process takes its N images of
/// the global batch of P·N (<see cref="MiniBatchSampler"/>), the processes first sum each loss's normaliser (the RoIs,
/// the sampled anchors) and weigh their losses by their share, then sum their gradients in one fused buffer
/// (<see cref="FusedGradients"/>), so that every process makes the step of one process with all P·N images. Rank 0
/// starts everyone from its weights; only the process given an output directory (rank 0) writes files.</para>
/// </remarks>
public sealed class Trainer : IDisposable
{
    /// <summary>Iterations averaged for the progress display's loss and speed.</summary>
    public const int SmoothingWindow = 20;

    /// <summary>The file the effective configuration is written to at the start of a run.</summary>
    public const string ConfigFileName = "training_config.json";

    private readonly MiniBatchSampler _sampler;
    private readonly MomentumSgd _optimizer;
    private readonly IReadOnlyList<string> _classNames;
    private readonly List<ValidationResult> _validations = [];
    private readonly ICommunicator _communicator;
    private readonly string[] _lossNames;
    private FusedGradients? _fused;
    private int _skippedImages, _skippedBatches;
    private double _secondsBefore;

    /// <summary>
    /// A trainer of <paramref name="model"/> (built for <paramref name="dataset"/>'s classes, e.g. by
    /// <see cref="TrainingOptions.CreateModel"/>) on <paramref name="dataset"/> with <paramref name="proposals"/>.
    /// With <paramref name="outputDirectory"/> null nothing is written. With a <paramref name="communicator"/> of P ≥ 2
    /// processes, this one trains its share of each global batch of P·N images (see the remarks).
    /// </summary>
    public Trainer(TwoStageModel model, DetectionDataset dataset, IProposalSource proposals, TrainingOptions options, string? outputDirectory = null,
        ICommunicator? communicator = null)
    {
        _communicator = communicator ?? SingleProcess.Instance;
        Model = model ?? throw new ArgumentNullException(nameof(model));
        ArgumentNullException.ThrowIfNull(dataset);
        Options = options ?? throw new ArgumentNullException(nameof(options));
        options.Validate();
        if (model.NumClasses != dataset.NumClasses)
            throw new ArgumentException($"The model has {model.NumClasses} classes, the dataset {dataset.NumClasses}.");
        if (!string.Equals(model.Spec.Name, Modeling.Backbones.BackboneFactory.Spec(options.Backbone).Name, StringComparison.Ordinal))
            throw new ArgumentException($"The model's backbone is '{model.Spec.Name}', the options say '{options.Backbone}'.");
        _classNames = dataset.ClassNames.Skip(1).ToArray();
        OutputDirectory = outputDirectory is null ? null : Path.GetFullPath(outputDirectory);
        if (model.Architecture != options.Architecture)
            throw new ArgumentException($"The model is {model.Architecture.Name()}, the options say {options.Architecture.Name()}.");
        _sampler = new MiniBatchSampler(dataset, proposals, options, model.Pixels,
            keepImagesWithoutObjects: model.ComputesProposals && model.Phase != TrainingPhase.Detection, _communicator.Rank, _communicator.Size);
        _lossNames = model.ComputesProposals && model.Phase != TrainingPhase.Detection
            ? model.Phase == TrainingPhase.RegionProposals
                ? [LossNames.RpnClassification, LossNames.RpnBoxRegression]
                : [LossNames.RpnClassification, LossNames.RpnBoxRegression, LossNames.Classification, LossNames.BoxRegression]
            : [LossNames.Classification, LossNames.BoxRegression];
        if (model.BoxHead.WeightType != ScalarType.Float32)
            throw new ArgumentException($"The model's box head is stored in {model.BoxHead.WeightType} (converted for detection); training needs its float32 weights.");
        // Mixed precision: the box head multiplies in bfloat16 from these float32 master weights; the optimizer, its
        // momentum buffers, the loss and the checkpoints stay float32.
        model.BoxHead.ComputeType = options.Precision.ComputeType();
        _optimizer = new MomentumSgd(model, options.LearningRate, options.Momentum, options.WeightDecay);
    }

    public TwoStageModel Model { get; }

    public TrainingOptions Options { get; }

    /// <summary>The run's directory, or null.</summary>
    public string? OutputDirectory { get; }

    /// <summary>The mini-batch source (its trainable images and filtered count).</summary>
    public MiniBatchSampler Sampler => _sampler;

    /// <summary>Iterations completed; the next one is <see cref="Iteration"/> + 1.</summary>
    public long Iteration { get; private set; }

    /// <summary>One row per completed iteration.</summary>
    public TrainingLog Log { get; } = new();

    /// <summary>The processes training together (<see cref="SingleProcess"/> by default).</summary>
    public ICommunicator Communicator => _communicator;

    /// <summary>Seconds spent in the gradient sum across processes in this session (0 in a single process).</summary>
    public double AllReduceSeconds { get; private set; }

    /// <summary>Seconds this process waited for the slowest one before each gradient sum, in this session (0 in a single process).</summary>
    public double WaitSeconds { get; private set; }

    /// <summary>Bytes summed across processes per iteration (gradients and step statistics; 0 in a single process).</summary>
    public long AllReduceBytes => _fused?.Bytes ?? 0;

    /// <summary>The newest checkpoint written or restored.</summary>
    public string? LastCheckpoint { get; private set; }

    /// <summary>Before each forward pass (hooks may change the model or the batch).</summary>
    public event EventHandler<TrainingStepStarting>? StepStarting;

    /// <summary>After each iteration's update.</summary>
    public event EventHandler<TrainingStep>? StepCompleted;

    /// <summary>After each checkpoint.</summary>
    public event EventHandler<CheckpointWritten>? CheckpointSaved;

    /// <summary>After each validation.</summary>
    public event EventHandler<ValidationResult>? Validated;

    /// <summary>Called every <see cref="TrainingOptions.ValidateEvery"/> iterations (model in eval mode); returns named metrics.</summary>
    public Func<ValidationRequest, IReadOnlyDictionary<string, double>>? Validator { get; set; }

    /// <summary>Receives one report per iteration.</summary>
    public IProgress<TrainingProgress>? Progress { get; set; }

    /// <summary>The directory checkpoints go to, or null.</summary>
    public string? CheckpointDirectory => OutputDirectory is null ? null : Path.Combine(OutputDirectory, "checkpoints");

    /// <summary>
    /// Continues from <paramref name="checkpoint"/>: weights, momentum, iteration count and totals; with an
    /// output directory holding a loss log, its rows up to the checkpoint are kept.
    /// </summary>
    public void Restore(TrainingCheckpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        if (!checkpoint.ClassNames.SequenceEqual(_classNames))
            throw new InvalidDataException($"{checkpoint.Path}: the checkpoint's classes ({string.Join(", ", checkpoint.ClassNames)}) differ from the dataset's ({string.Join(", ", _classNames)}).");
        if (checkpoint.Options.Seed != Options.Seed)
            throw new InvalidDataException($"{checkpoint.Path}: the checkpoint's seed is {checkpoint.Options.Seed}, this run's {Options.Seed}; a resumed run must keep its seed.");
        checkpoint.Restore(Model, _optimizer);
        Iteration = checkpoint.Iteration;
        LastCheckpoint = checkpoint.Path;
        (_skippedImages, _skippedBatches, _secondsBefore) = (checkpoint.Totals.SkippedImages, checkpoint.Totals.SkippedBatches, checkpoint.Totals.Seconds);
        string? logPath = OutputDirectory is null ? null : Path.Combine(OutputDirectory, TrainingLog.FileName);
        if (logPath is not null && File.Exists(logPath))
        {
            foreach (var step in TrainingLog.Load(logPath).Steps.Where(s => s.Iteration <= Iteration)) Log.Add(step);
        }
    }

    /// <summary>
    /// Trains from iteration <see cref="Iteration"/> + 1 to <see cref="TrainingOptions.Iterations"/>; then,
    /// with an output directory, writes the final checkpoint and the model. Cancelling stops after the
    /// current iteration and writes a checkpoint to resume from.
    /// </summary>
    /// <exception cref="TrainingDivergedException">A loss or a weight became NaN or infinite.</exception>
    public TrainingResult Run(CancellationToken cancel = default)
    {
        if (OutputDirectory is not null)
        {
            Directory.CreateDirectory(OutputDirectory);
            TrainingConfig.Save(Path.Combine(OutputDirectory, ConfigFileName), Options);
        }
        var session = Stopwatch.StartNew();
        var lastFlush = Stopwatch.StartNew();
        bool cancelled = false;
        bool distributed = _communicator.Size > 1;
        if (distributed) FusedGradients.BroadcastValues(Model.parameters().ToArray(), _communicator);
        try
        {
            for (long i = Iteration + 1; i <= Options.Iterations; i++)
            {
                // Processes stop together: a stop asked of any one is summed with the gradients and ends the step for all.
                if (!distributed && cancel.IsCancellationRequested) { cancelled = true; break; }
                var clock = Stopwatch.StartNew();
                using (var batch = _sampler.Next(i, prefetchNext: i < Options.Iterations))
                {
                    var step = distributed ? DistributedStep(i, batch, clock, session, cancel.IsCancellationRequested, ref cancelled) : Step(i, batch, clock, session);
                    Iteration = i;
                    Log.Add(step);
                    StepCompleted?.Invoke(this, step);
                    Progress?.Report(ProgressOf(step));
                }
                if (cancelled) break;
                if (Options.CheckpointEvery > 0 && i % Options.CheckpointEvery == 0) WriteCheckpoint(session);
                if (Options.ValidateEvery > 0 && i % Options.ValidateEvery == 0) RunValidation();
                if (lastFlush.Elapsed.TotalSeconds > 30) { SaveLogs(); lastFlush.Restart(); }
            }
        }
        finally
        {
            SaveLogs();   // also when diverged: the log shows the run up to the bad iteration
        }
        string? modelDirectory = null;
        if (OutputDirectory is not null)
        {
            if (LastCheckpoint is null || !LastCheckpoint.EndsWith(TrainingCheckpoint.FileName(Iteration), StringComparison.Ordinal))
                WriteCheckpoint(session);
            if (!cancelled)
            {
                SaveModel(OutputDirectory);
                modelDirectory = OutputDirectory;
            }
        }
        var recent = Log.Steps.TakeLast(SmoothingWindow).ToList();
        return new TrainingResult(Iteration, cancelled, recent.Count > 0 ? recent.Average(s => s.Loss) : double.NaN,
            _skippedImages, _skippedBatches, _sampler.FilteredImages, _secondsBefore + session.Elapsed.TotalSeconds, modelDirectory, LastCheckpoint);
    }

    /// <summary>Saves the model (<see cref="ModelFiles.Save"/>) with the effective configuration and seed in <c>model.json</c>.</summary>
    public void SaveModel(string directory) =>
        ModelFiles.Save(directory, Model, _classNames, TrainingConfig.ToJsonObject(Options));

    /// <summary>Sets iteration <paramref name="i"/>'s learning rate and raises <see cref="StepStarting"/>; returns the rate.</summary>
    private double StartStep(long i, MiniBatch batch)
    {
        double lr = Options.LearningRateAt(i);
        _optimizer.LearningRate = lr;
        StepStarting?.Invoke(this, new TrainingStepStarting(i, lr, batch, Model));
        return lr;
    }

    /// <summary>The training forward pass of iteration <paramref name="i"/>, its generators reseeded from (seed, i) first.</summary>
    private TrainingOutput Forward(long i, MiniBatch batch)
    {
        torch.random.manual_seed(SeedSequence.Derive(Options.Seed, SeedSequence.Stream.Dropout, i));
        Model.ReseedSampler(SeedSequence.Derive(Options.Seed, SeedSequence.Stream.Sampler, i));
        Model.train();
        return Model.Loss(batch.Images, batch.Targets, batch.Sizes);
    }

    /// <summary>One iteration: reseed, forward, check the losses, backward, update.</summary>
    private TrainingStep Step(long i, MiniBatch batch, Stopwatch clock, Stopwatch session)
    {
        double lr = StartStep(i, batch);
        using var scope = NewDisposeScope();
        using var output = Forward(i, batch);
        var total = output.Total();
        var losses = output.Losses.Values();
        double totalValue = total.item<float>();
        CheckFinite(i, lr, batch, losses, totalValue);
        _skippedImages += output.Stats.SkippedImages;
        if (output.HasLosses)
        {
            _optimizer.ZeroGrad();
            total.backward();
            _optimizer.Step();
        }
        else
        {
            _skippedBatches++;
        }
        var stats = output.Stats;
        return new TrainingStep(i, lr, totalValue, losses, stats.Accuracy, stats.ForegroundRois, stats.BackgroundRois,
            stats.SkippedImages, clock.Elapsed.TotalSeconds, _secondsBefore + session.Elapsed.TotalSeconds);
    }

    /// <summary>Stops with <see cref="TrainingDivergedException"/> when a loss or their total is not finite.</summary>
    private void CheckFinite(long i, double lr, MiniBatch batch, IReadOnlyList<KeyValuePair<string, double>> losses, double totalValue)
    {
        foreach (var (name, value) in losses.Append(new("total loss", totalValue)))
        {
            if (double.IsFinite(value)) continue;
            string where = LastCheckpoint is null ? "No checkpoint had been written yet." : $"The last good checkpoint is {LastCheckpoint}.";
            string all = string.Join(", ", losses.Select(l => $"{l.Key} {l.Value}"));
            string images = string.Join(", ", batch.Info.Select(b => b.Id)) + (_communicator.Size > 1 ? $" (rank {_communicator.Rank}'s share of the batch)" : "");
            throw new TrainingDivergedException(i, name, value, LastCheckpoint,
                $"Training diverged at iteration {i}: {name} is {value} ({all}, lr {lr}); " +
                $"stopped before updating the weights. {where} Lower the learning rate or check the boxes of images {images}.");
        }
    }

    /// <summary>
    /// One data-parallel iteration: forward on this process's images; a sum of the losses' normalisers over the processes;
    /// backward on the losses weighted by this process's share of each normaliser; one fused sum of the gradients, the
    /// weighted loss values and the step's counts; the identical update on every process. <paramref name="stop"/> becomes
    /// true when any process asked to stop (<paramref name="stopRequested"/>).
    /// </summary>
    private TrainingStep DistributedStep(long i, MiniBatch batch, Stopwatch clock, Stopwatch session, bool stopRequested, ref bool stop)
    {
        double lr = StartStep(i, batch);
        using var scope = NewDisposeScope();
        using var output = Forward(i, batch);
        var named = output.Losses;
        foreach (var name in named.Names)
        {
            if (!_lossNames.Contains(name))
                throw new InvalidOperationException($"Data-parallel training knows the losses {string.Join(", ", _lossNames)}; the model gave '{name}'.");
        }
        int k = _lossNames.Length;
        // Normalisers summed over the processes (and whether any process has a loss at all).
        var normalizers = new double[k + 1];
        for (int j = 0; j < k; j++) normalizers[j] = named.Contains(_lossNames[j]) ? named.NormalizerOf(_lossNames[j]) : 0;
        normalizers[k] = output.HasLosses ? 1 : 0;
        var local = normalizers.ToArray();
        _communicator.AllReduceSum(normalizers);

        _fused ??= new FusedGradients(Model.parameters().Where(p => p.requires_grad), k + 6);
        _optimizer.ZeroGrad();
        var weighted = new float[k];
        Tensor? objective = null;
        for (int j = 0; j < k; j++)
        {
            if (!named.Contains(_lossNames[j]) || normalizers[j] == 0) continue;
            var term = named[_lossNames[j]].Mul(local[j] / normalizers[j]);
            weighted[j] = term.detach().item<float>();
            objective = objective is null ? term : objective.Add(term);
        }
        objective?.backward();
        _fused.Pack();
        var stats = output.Stats;
        int rois = stats.ForegroundRois + stats.BackgroundRois;
        var extra = _fused.Extra;
        weighted.CopyTo(extra);
        extra[k] = stats.SkippedImages;
        extra[k + 1] = stats.ForegroundRois;
        extra[k + 2] = stats.BackgroundRois;
        extra[k + 3] = rois > 0 ? (float)(stats.Accuracy * rois) : 0;
        extra[k + 4] = stopRequested ? 1 : 0;
        extra[k + 5] = 0;
        var exchange = Stopwatch.StartNew();
        _communicator.Barrier();   // costs microseconds; separates waiting for the slowest process from the sum itself
        WaitSeconds += exchange.Elapsed.TotalSeconds;
        exchange.Restart();
        _fused.AllReduce(_communicator);
        AllReduceSeconds += exchange.Elapsed.TotalSeconds;

        var sums = _fused.Extra.ToArray();
        var losses = Enumerable.Range(0, k).Where(j => normalizers[j] > 0 || named.Contains(_lossNames[j]))
            .Select(j => new KeyValuePair<string, double>(_lossNames[j], sums[j])).ToArray();
        double totalValue = losses.Sum(l => l.Value);
        CheckFinite(i, lr, batch, losses, totalValue);
        int skipped = (int)Math.Round(sums[k]), fg = (int)Math.Round(sums[k + 1]), bg = (int)Math.Round(sums[k + 2]);
        double accuracy = fg + bg > 0 ? sums[k + 3] / (fg + bg) : double.NaN;
        stop |= sums[k + 4] > 0;
        _skippedImages += skipped;
        if (normalizers[k] > 0)
        {
            _fused.Unpack();
            _optimizer.Step();
        }
        else
        {
            _optimizer.ZeroGrad();
            _skippedBatches++;
        }
        return new TrainingStep(i, lr, totalValue, losses, accuracy, fg, bg, skipped, clock.Elapsed.TotalSeconds, _secondsBefore + session.Elapsed.TotalSeconds);
    }

    private TrainingProgress ProgressOf(TrainingStep step)
    {
        var recent = Log.Steps.TakeLast(SmoothingWindow).ToList();
        double seconds = recent.Sum(s => s.Seconds);
        double rate = seconds > 0 ? recent.Count / seconds : 0;
        var remaining = rate > 0 ? TimeSpan.FromSeconds((Options.Iterations - step.Iteration) / rate) : TimeSpan.Zero;
        return new TrainingProgress(step, Options.Iterations, recent.Average(s => s.Loss), rate, remaining);
    }

    /// <summary>Writes the checkpoint of the current state (after checking every weight is finite).</summary>
    private void WriteCheckpoint(Stopwatch session)
    {
        if (CheckpointDirectory is null) return;
        using (no_grad())
        {
            foreach (var (name, p) in Model.named_parameters())
            {
                using var finite = isfinite(p).all();
                if (finite.item<bool>()) continue;
                string where = LastCheckpoint is null ? "No checkpoint had been written yet." : $"The last good checkpoint is {LastCheckpoint}.";
                throw new TrainingDivergedException(Iteration, $"weight {name}", double.NaN, LastCheckpoint,
                    $"Training diverged by iteration {Iteration}: weight '{name}' is no longer finite (the learning rate {Options.LearningRateAt(Iteration)} is likely too high); " +
                    $"no checkpoint was written. {where}");
            }
        }
        string path = Path.Combine(CheckpointDirectory, TrainingCheckpoint.FileName(Iteration));
        var totals = new TrainingTotals(_skippedImages, _skippedBatches, _secondsBefore + session.Elapsed.TotalSeconds);
        TrainingCheckpoint.Write(path, Model, _optimizer, Iteration, Options, _classNames, totals);
        LastCheckpoint = path;
        SaveLogs();
        CheckpointSaved?.Invoke(this, new CheckpointWritten(Iteration, path));
    }

    private void RunValidation()
    {
        if (Validator is null) return;
        Model.eval();
        try
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var result = new ValidationResult(Iteration, Validator(new ValidationRequest(Iteration, Model)));
            _validations.Add(result);
            Validated?.Invoke(this, result);
        }
        finally
        {
            Model.train();
        }
    }

    private void SaveLogs()
    {
        if (OutputDirectory is null) return;
        Directory.CreateDirectory(OutputDirectory);
        Log.Save(Path.Combine(OutputDirectory, TrainingLog.FileName));
        if (_validations.Count > 0) ValidationLog.Save(Path.Combine(OutputDirectory, ValidationLog.FileName), _validations);
    }

    public void Dispose()
    {
        _sampler.Dispose();
        _optimizer.Dispose();
        _fused?.Dispose();
    }
}
