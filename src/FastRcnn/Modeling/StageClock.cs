using System.Diagnostics;

namespace FastRcnn.Modeling;

/// <summary>The stages of one detection whose time is reported (the paper's Figure 2 split, plus proposals and NMS).</summary>
public enum DetectionStage
{
    /// <summary>Region proposals: selective search, or the RPN head and proposal layer.</summary>
    Proposals,
    /// <summary>The conv trunk.</summary>
    Conv,
    /// <summary>Region features (RoI pooling).</summary>
    RoiPooling,
    /// <summary>fc6.</summary>
    Fc6,
    /// <summary>fc7.</summary>
    Fc7,
    /// <summary>cls_score and bbox_pred, softmax and box decoding.</summary>
    Outputs,
    /// <summary>Score threshold, per-class NMS, top-N.</summary>
    Nms,
}

/// <summary>
/// Adds wall time to stages: <see cref="Lap"/> charges the time since the previous lap (or since construction) to one
/// stage. Not thread-safe.
/// </summary>
public sealed class StageClock
{
    private readonly Stopwatch _watch = Stopwatch.StartNew();
    private readonly TimeSpan[] _times = new TimeSpan[Enum.GetValues<DetectionStage>().Length];

    /// <summary>Charges the time since the last lap to <paramref name="stage"/>.</summary>
    public void Lap(DetectionStage stage)
    {
        _times[(int)stage] += _watch.Elapsed;
        _watch.Restart();
    }

    /// <summary>Restarts the lap without charging anything.</summary>
    public void Skip() => _watch.Restart();

    /// <summary>Adds <paramref name="time"/> measured elsewhere to <paramref name="stage"/>.</summary>
    public void Add(DetectionStage stage, TimeSpan time) => _times[(int)stage] += time;

    /// <summary>The time charged to <paramref name="stage"/> so far.</summary>
    public TimeSpan this[DetectionStage stage] => _times[(int)stage];
}
