namespace FastRcnn.Modeling.Svm;

/// <summary>
/// R-CNN's hard-negative mining (its <c>rcnn_train</c>); the defaults are its numbers.
/// </summary>
/// <param name="Passes">Passes over the cache (R-CNN: 1, "converges after one pass").</param>
/// <param name="NegativeIoU">Proposals whose IoU with every ground-truth box of the class is below this are its negatives (0.3).</param>
/// <param name="HardScore">A negative scoring above this (−1: inside the margin) is hard and joins the class's working set.</param>
/// <param name="EasyScore">After each retraining, cached negatives scoring below this (−1.2) are dropped.</param>
/// <param name="RetrainAfter">Retrain a class once this many new hard negatives have joined it (2000); also after the first image and at the end.</param>
public sealed record HardNegativeMiningOptions(
    int Passes = 1,
    double NegativeIoU = 0.3,
    double HardScore = -1,
    double EasyScore = -1.2,
    int RetrainAfter = 2000)
{
    /// <summary>Throws on a setting outside its range.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Passes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(RetrainAfter, 1);
        if (!(NegativeIoU > 0 && NegativeIoU <= 1)) throw new ArgumentException($"negative IoU must be in (0, 1], got {NegativeIoU}");
        if (!(EasyScore <= HardScore)) throw new ArgumentException($"the easy score ({EasyScore}) must not exceed the hard score ({HardScore})");
    }
}

/// <summary>One class's SVM after mining.</summary>
/// <param name="ClassIndex">1..K.</param>
/// <param name="Model">Its scorer on scaled fc7 features.</param>
/// <param name="Positives">Ground-truth boxes of the class.</param>
/// <param name="Negatives">Hard negatives in its working set at the end.</param>
/// <param name="Retrainings">Times the SVM was trained.</param>
/// <param name="Objective">The last training's primal objective.</param>
/// <param name="DualityGap">Primal − dual of the last training.</param>
public sealed record ClassSvm(int ClassIndex, LinearSvmModel Model, int Positives, int Negatives, int Retrainings, double Objective, double DualityGap);

/// <summary>
/// Trains one linear SVM per class over a <see cref="FeatureCache"/> with R-CNN's hard-negative mining: positives are
/// the class's ground-truth boxes only; each image in turn offers its negatives (proposals with IoU below
/// <see cref="HardNegativeMiningOptions.NegativeIoU"/> with the class's boxes) and those the current SVM scores above
/// <see cref="HardNegativeMiningOptions.HardScore"/> join the class's working set; the SVM is retrained after the first
/// image, whenever <see cref="HardNegativeMiningOptions.RetrainAfter"/> new negatives have joined, and at the end, and
/// every retraining drops the negatives it scores below <see cref="HardNegativeMiningOptions.EasyScore"/>.
/// Features are fc7 multiplied by a scale (<see cref="FeatureScaling"/>).
/// </summary>
public static class HardNegativeMining
{
    /// <summary>Mines and trains every class 1..K of <paramref name="cache"/>; <paramref name="progress"/> receives images visited.</summary>
    public static IReadOnlyList<ClassSvm> Train(FeatureCache cache, float scale, LinearSvmOptions? svm = null,
        HardNegativeMiningOptions? mining = null, IProgress<int>? progress = null, CancellationToken cancellation = default)
    {
        svm ??= new LinearSvmOptions();
        mining ??= new HardNegativeMiningOptions();
        svm.Validate();
        mining.Validate();
        int k = cache.NumClasses, d = cache.Fc7Width;
        var positives = Enumerable.Range(0, k).Select(_ => new List<float[]>()).ToArray();
        foreach (var entry in cache.Entries())
            for (int row = 0; row < entry.Rows; row++)
                if (entry.IsGroundTruth(row)) positives[entry.GtClasses[row] - 1].Add(Scaled(entry.Fc7Row(row), scale));

        var classes = Enumerable.Range(0, k).Select(c => new ClassState(LinearSvmModel.Zero(d))).ToArray();
        bool first = true;
        int visited = 0;
        for (int pass = 1; pass <= mining.Passes; pass++)
        {
            for (int i = 0; i < cache.Count; i++)
            {
                cancellation.ThrowIfCancellationRequested();
                var entry = cache.Read(i);
                bool last = pass == mining.Passes && i == cache.Count - 1;
                for (int c = 0; c < k; c++)
                {
                    var state = classes[c];
                    foreach (int row in SelectHard(entry, c + 1, state.Model, scale, mining))
                    {
                        if (!state.Keys.Add((i, row))) continue;
                        state.Negatives.Add(((i, row), Scaled(entry.Fc7Row(row), scale)));
                        state.Added++;
                    }
                    if (first || last || state.Added > mining.RetrainAfter) Retrain(state, positives[c], svm, mining);
                }
                first = false;
                progress?.Report(++visited);
            }
        }
        return classes.Select((s, c) => new ClassSvm(c + 1, s.Model, positives[c].Count, s.Negatives.Count, s.Retrainings,
            s.Objective, s.Gap)).ToArray();
    }

    /// <summary>
    /// The rows of <paramref name="entry"/> that are hard negatives of class <paramref name="classIndex"/> for
    /// <paramref name="model"/>: proposals (not ground truth) with IoU below the negative threshold with every box of the
    /// class whose score on the scaled fc7 feature exceeds the hard score, ascending.
    /// </summary>
    public static IReadOnlyList<int> SelectHard(FeatureCacheEntry entry, int classIndex, LinearSvmModel model, float scale,
        HardNegativeMiningOptions mining)
    {
        var rows = new List<int>();
        for (int row = 0; row < entry.Rows; row++)
        {
            if (entry.IsGroundTruth(row) || !(entry.IoUWithClass(row, classIndex) < mining.NegativeIoU)) continue;
            // w·(s x) + b = s (w·x) + b.
            if (scale * LinearSvm.Dot(model.Weights, entry.Fc7Row(row)) + model.Bias > mining.HardScore) rows.Add(row);
        }
        return rows;
    }

    /// <summary><paramref name="x"/> times <paramref name="scale"/>, as a new array.</summary>
    internal static float[] Scaled(ReadOnlySpan<float> x, float scale)
    {
        var y = new float[x.Length];
        for (int j = 0; j < y.Length; j++) y[j] = x[j] * scale;
        return y;
    }

    private static void Retrain(ClassState state, List<float[]> positives, LinearSvmOptions svm, HardNegativeMiningOptions mining)
    {
        var solution = LinearSvm.Train(positives, state.Negatives.Select(n => n.X).ToList(), svm);
        state.Model = solution.Model;
        state.Objective = solution.Primal;
        state.Gap = solution.Primal - solution.Dual;
        state.Retrainings++;
        state.Added = 0;
        var keep = new List<((int, int) Key, float[] X)>(state.Negatives.Count);
        foreach (var negative in state.Negatives)
        {
            if (state.Model.Score(negative.X) < mining.EasyScore) state.Keys.Remove(negative.Key);
            else keep.Add(negative);
        }
        state.Negatives = keep;
    }

    private sealed class ClassState(LinearSvmModel model)
    {
        public LinearSvmModel Model { get; set; } = model;
        public List<((int Image, int Row) Key, float[] X)> Negatives { get; set; } = [];
        public HashSet<(int Image, int Row)> Keys { get; } = [];
        public int Added { get; set; }
        public int Retrainings { get; set; }
        public double Objective { get; set; } = double.NaN;
        public double Gap { get; set; } = double.NaN;
    }
}
