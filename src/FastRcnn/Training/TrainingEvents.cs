using FastRcnn.Modeling;

namespace FastRcnn.Training;

/// <summary>
/// What one SGD iteration did (a row of the loss log). Losses are those of the mini-batch before the update, by
/// name (<see cref="Modeling.LossNames"/>: <c>loss_cls</c> and <c>loss_box_reg</c> = λ·L_loc for the RoI heads, SPEC §5;
/// <c>loss_rpn_cls</c> and <c>loss_rpn_box_reg</c> for a region proposal network); <see cref="Loss"/> is their sum.
/// </summary>
/// <param name="Iteration">i, 1-based.</param>
/// <param name="LearningRate">The weights' rate used by this step (biases: twice).</param>
/// <param name="Loss">L, the total.</param>
/// <param name="Losses">Each named loss, in the model's order.</param>
/// <param name="Accuracy">Share of the sampled RoIs whose arg-max class is their label (NaN without RoIs).</param>
/// <param name="ForegroundRois">Foreground RoIs of the batch.</param>
/// <param name="BackgroundRois">Background RoIs of the batch.</param>
/// <param name="SkippedImages">Images of the batch that gave no RoI (skipped by the model).</param>
/// <param name="Seconds">Wall time of the iteration (waiting for the batch, forward, backward, update).</param>
/// <param name="ElapsedSeconds">Training wall time so far, over all resumed sessions.</param>
public sealed record TrainingStep(
    long Iteration, double LearningRate, double Loss, IReadOnlyList<KeyValuePair<string, double>> Losses, double Accuracy,
    int ForegroundRois, int BackgroundRois, int SkippedImages, double Seconds, double ElapsedSeconds)
{
    /// <summary>The loss named <paramref name="name"/>, or NaN when this step has none of that name.</summary>
    public double LossOf(string name)
    {
        foreach (var (n, v) in Losses)
            if (n == name) return v;
        return double.NaN;
    }
}

/// <summary>Sent before each iteration's forward pass; hooks may inspect or change the model and the batch.</summary>
/// <param name="Iteration">i, 1-based.</param>
/// <param name="LearningRate">The weights' rate of this step.</param>
/// <param name="Batch">The mini-batch about to be used (owned by the trainer).</param>
/// <param name="Model">The model being trained.</param>
public sealed record TrainingStepStarting(long Iteration, double LearningRate, MiniBatch Batch, TwoStageModel Model);

/// <summary>What the progress display shows after each iteration.</summary>
/// <param name="Step">The iteration just finished.</param>
/// <param name="TotalIterations">The run's <see cref="TrainingOptions.Iterations"/>.</param>
/// <param name="SmoothedLoss">Mean total loss over the last <see cref="Trainer.SmoothingWindow"/> iterations.</param>
/// <param name="IterationsPerSecond">Over the same window.</param>
/// <param name="Remaining">Estimated time to the last iteration at that speed.</param>
public sealed record TrainingProgress(TrainingStep Step, long TotalIterations, double SmoothedLoss, double IterationsPerSecond, TimeSpan Remaining);

/// <summary>A checkpoint the trainer wrote.</summary>
public sealed record CheckpointWritten(long Iteration, string Path);

/// <summary>What the validation callback is given.</summary>
/// <param name="Iteration">Iterations completed.</param>
/// <param name="Model">The model, in eval mode during the callback.</param>
public sealed record ValidationRequest(long Iteration, TwoStageModel Model);

/// <summary>The metrics a validation callback returned at <paramref name="Iteration"/>.</summary>
public sealed record ValidationResult(long Iteration, IReadOnlyDictionary<string, double> Metrics);

/// <summary>How a call of <see cref="Trainer.Run"/> ended.</summary>
/// <param name="Iterations">Iterations completed (over all sessions of the run).</param>
/// <param name="Cancelled">Stopped early by the cancellation token (a checkpoint was written when there is an output directory).</param>
/// <param name="FinalLoss">Mean total loss of the last <see cref="Trainer.SmoothingWindow"/> iterations (NaN when none ran).</param>
/// <param name="SkippedImages">Batch images that gave no RoI, over the run.</param>
/// <param name="SkippedBatches">Iterations without any RoI (no update made), over the run.</param>
/// <param name="FilteredImages">Dataset images left out up front (no trainable object).</param>
/// <param name="Seconds">Training wall time, over all sessions.</param>
/// <param name="ModelDirectory">Where the final model was saved, or null.</param>
/// <param name="LastCheckpoint">The newest checkpoint written or restored, or null.</param>
public sealed record TrainingResult(
    long Iterations, bool Cancelled, double FinalLoss, int SkippedImages, int SkippedBatches, int FilteredImages,
    double Seconds, string? ModelDirectory, string? LastCheckpoint);

/// <summary>
/// Training stopped because a loss or the weights stopped being finite (SPEC §11.3: degenerate boxes or too
/// high a learning rate). No checkpoint is written from the bad state; <see cref="LastCheckpoint"/> is the
/// newest good one.
/// </summary>
public sealed class TrainingDivergedException(long iteration, string quantity, double value, string? lastCheckpoint, string message)
    : Exception(message)
{
    /// <summary>The iteration (1-based) at which the non-finite value appeared.</summary>
    public long Iteration { get; } = iteration;

    /// <summary>Which value: a loss name (e.g. "loss_cls"), "total loss" or "weight &lt;name&gt;".</summary>
    public string Quantity { get; } = quantity;

    /// <summary>The value (NaN or ±∞).</summary>
    public double Value { get; } = value;

    /// <summary>The newest checkpoint with finite weights, or null when none was written.</summary>
    public string? LastCheckpoint { get; } = lastCheckpoint;
}
