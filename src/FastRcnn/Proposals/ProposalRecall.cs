using FastRcnn.Data;

namespace FastRcnn.Proposals;

/// <summary>Recall of the best-ranked <see cref="Budget"/> proposals of every image (null: all of them).</summary>
/// <param name="Budget">Proposals kept per image (the first N in rank order), or null for all.</param>
/// <param name="MeanProposals">Mean over images of min(N, R): the boxes actually used per image.</param>
/// <param name="Recall50">Fraction of ground-truth boxes with a proposal at IoU ≥ 0.5.</param>
/// <param name="Recall70">Fraction of ground-truth boxes with a proposal at IoU ≥ 0.7.</param>
/// <param name="AverageRecall">Recall averaged over IoU thresholds 0.5, 0.55, …, 0.95 (Hosang et al., 2016).</param>
public sealed record RecallPoint(int? Budget, double MeanProposals, double Recall50, double Recall70, double AverageRecall);

/// <summary>Proposal recall over one dataset split.</summary>
/// <param name="Split">The split's name.</param>
/// <param name="Images">Images evaluated.</param>
/// <param name="GtBoxes">Ground-truth boxes counted (non-difficult, non-crowd).</param>
/// <param name="IgnoredGtBoxes">Difficult or crowd boxes left out.</param>
/// <param name="Points">One point per budget, ascending, the last one for all proposals (Budget null).</param>
public sealed record ProposalRecallReport(string Split, int Images, int GtBoxes, int IgnoredGtBoxes, IReadOnlyList<RecallPoint> Points)
{
    /// <summary>The point for all proposals.</summary>
    public RecallPoint All => Points[^1];
}

/// <summary>
/// Class-agnostic proposal recall (SPEC §9): a ground-truth box is recalled at IoU t when some proposal
/// overlaps it with IoU ≥ t. Only non-difficult, non-crowd boxes count (difficult and crowd boxes are
/// neither required nor penalised, as in VOC evaluation). IoU uses continuous coordinates (no "+1").
/// </summary>
public sealed class ProposalRecall
{
    /// <summary>The IoU thresholds of average recall: 0.5, 0.55, …, 0.95.</summary>
    public static IReadOnlyList<double> Thresholds { get; } = Enumerable.Range(0, 10).Select(i => Math.Round(0.5 + 0.05 * i, 2)).ToArray();

    /// <summary>The budgets reported by default: 10, 20, 50, 100, 200, 500, 1000, 2000 (and all).</summary>
    public static IReadOnlyList<int> DefaultBudgets { get; } = [10, 20, 50, 100, 200, 500, 1000, 2000];

    private readonly int[] _budgets;
    private readonly long[,] _hits;     // [budget (last = all), threshold]
    private readonly double[] _used;    // Σ min(N, R) per budget
    private int _images, _gt, _ignored;

    /// <summary>An empty accumulator for <paramref name="budgets"/> (positive, any order; default <see cref="DefaultBudgets"/>).</summary>
    public ProposalRecall(IEnumerable<int>? budgets = null)
    {
        _budgets = (budgets ?? DefaultBudgets).Distinct().Order().ToArray();
        if (_budgets.Any(b => b < 1)) throw new ArgumentException("Budgets must be ≥ 1.", nameof(budgets));
        _hits = new long[_budgets.Length + 1, Thresholds.Count];
        _used = new double[_budgets.Length + 1];
    }

    /// <summary>Adds one image: its objects and its proposals in rank order (R×4 values).</summary>
    public void Add(IReadOnlyList<ObjectAnnotation> objects, ReadOnlySpan<float> proposals)
    {
        ArgumentNullException.ThrowIfNull(objects);
        if (proposals.Length % 4 != 0) throw new ArgumentException("Proposals must be R×4 values.", nameof(proposals));
        var gt = new List<BoundingBox>(objects.Count);
        foreach (var o in objects)
        {
            if (o.Difficult || o.Crowd) _ignored++;
            else gt.Add(o.Box);
        }
        int r = proposals.Length / 4;
        _images++;
        _gt += gt.Count;
        for (int b = 0; b <= _budgets.Length; b++) _used[b] += b < _budgets.Length ? Math.Min(r, _budgets[b]) : r;
        foreach (var g in gt)
        {
            // Running best IoU over the ranked list, read off at each budget.
            double best = 0;
            int next = 0;
            for (int i = 0; i < r; i++)
            {
                while (next < _budgets.Length && _budgets[next] == i) Record(next++, best);
                best = Math.Max(best, IoU(g, proposals.Slice(4 * i, 4)));
            }
            while (next < _budgets.Length) Record(next++, best);
            Record(_budgets.Length, best);
        }
    }

    /// <summary>The recall so far.</summary>
    public ProposalRecallReport Report(string split)
    {
        var points = new RecallPoint[_budgets.Length + 1];
        for (int b = 0; b <= _budgets.Length; b++)
        {
            double Rate(int t) => _gt == 0 ? 0 : _hits[b, t] / (double)_gt;
            double ar = Enumerable.Range(0, Thresholds.Count).Average(Rate);
            points[b] = new RecallPoint(b < _budgets.Length ? _budgets[b] : null, _images == 0 ? 0 : _used[b] / _images, Rate(0), Rate(4), ar);
        }
        return new ProposalRecallReport(split, _images, _gt, _ignored, points);
    }

    /// <summary>
    /// Evaluates proposals of every image of <paramref name="dataset"/>; <paramref name="proposalsOf"/> gives R×4 values by image id.
    /// With <paramref name="sizeRange"/>, only objects whose size √(w·h) (original pixels) lies in [min, max) count; the
    /// others are not counted, as difficult ones are not.
    /// </summary>
    public static ProposalRecallReport Evaluate(DetectionDataset dataset, Func<ImageRecord, float[]> proposalsOf, IEnumerable<int>? budgets = null,
        (double Min, double Max)? sizeRange = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(proposalsOf);
        var recall = new ProposalRecall(budgets);
        foreach (var image in dataset.Images)
        {
            var objects = sizeRange is var (min, max)
                ? image.Objects.Select(o => Size(o.Box) >= min && Size(o.Box) < max ? o : o with { Difficult = true }).ToList()
                : image.Objects;
            recall.Add(objects, proposalsOf(image));
        }
        return recall.Report(dataset.Split);
    }

    /// <summary>An object's size: √(w·h) in pixels.</summary>
    public static double Size(BoundingBox box) => Math.Sqrt(Math.Max(0, box.X2 - box.X1) * (double)Math.Max(0, box.Y2 - box.Y1));

    /// <summary>IoU of a box with (x1, y1, x2, y2), continuous coordinates; 0 when either is empty.</summary>
    public static double IoU(BoundingBox a, ReadOnlySpan<float> b)
    {
        double iw = Math.Min(a.X2, b[2]) - Math.Max(a.X1, b[0]);
        double ih = Math.Min(a.Y2, b[3]) - Math.Max(a.Y1, b[1]);
        if (iw <= 0 || ih <= 0) return 0;
        double inter = iw * ih;
        double union = (double)a.Width * a.Height + (double)(b[2] - b[0]) * (b[3] - b[1]) - inter;
        return union > 0 ? inter / union : 0;
    }

    private void Record(int budget, double best)
    {
        for (int t = 0; t < Thresholds.Count; t++)
            if (best >= Thresholds[t] - 1e-12) _hits[budget, t]++;
    }
}
