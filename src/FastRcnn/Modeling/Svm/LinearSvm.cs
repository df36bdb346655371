using System.Numerics;

namespace FastRcnn.Modeling.Svm;

/// <summary>The loss of a linear SVM: the hinge <c>max(0, 1 − y·f)</c> (R-CNN's, liblinear <c>-s 3</c>) or its square (liblinear <c>-s 1</c>).</summary>
public enum SvmLoss
{
    /// <summary><c>max(0, 1 − y·f)</c>, the L1-loss SVM R-CNN trains.</summary>
    Hinge,

    /// <summary><c>max(0, 1 − y·f)²</c>, the L2-loss SVM.</summary>
    SquaredHinge,
}

/// <summary>
/// Settings of <see cref="LinearSvm"/>; the defaults are R-CNN's (liblinear with <c>C = 0.001</c>, bias multiplier 10,
/// positive weight 2, the hinge loss).
/// </summary>
/// <param name="C">Cost of a margin violation of a negative example.</param>
/// <param name="PositiveWeight">Positives cost <c>PositiveWeight · C</c> (R-CNN's <c>-w1 2</c>).</param>
/// <param name="BiasMultiplier">B: the bias is learnt as the weight of a constant feature B (and regularised with it), as liblinear's <c>-B</c>.</param>
/// <param name="Loss">Hinge or squared hinge.</param>
/// <param name="Tolerance">Stop when the spread of the dual's projected gradients falls below this (liblinear's <c>-e</c>; its default 0.1).</param>
/// <param name="MaxEpochs">At most this many passes over the examples.</param>
/// <param name="Seed">Seed of the order in which each epoch visits the examples.</param>
public sealed record LinearSvmOptions(
    double C = 0.001,
    double PositiveWeight = 2,
    double BiasMultiplier = 10,
    SvmLoss Loss = SvmLoss.Hinge,
    double Tolerance = 0.01,
    int MaxEpochs = 1000,
    long Seed = 0)
{
    /// <summary>Throws on a setting outside its range.</summary>
    public void Validate()
    {
        if (!(C > 0) || !double.IsFinite(C)) throw new ArgumentException($"SVM C must be > 0, got {C}");
        if (!(PositiveWeight > 0) || !double.IsFinite(PositiveWeight)) throw new ArgumentException($"SVM positive weight must be > 0, got {PositiveWeight}");
        if (!(BiasMultiplier >= 0) || !double.IsFinite(BiasMultiplier)) throw new ArgumentException($"SVM bias multiplier must be ≥ 0, got {BiasMultiplier}");
        if (!(Tolerance > 0)) throw new ArgumentException($"SVM tolerance must be > 0, got {Tolerance}");
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxEpochs, 1);
    }
}

/// <summary>A linear scorer <c>f(x) = w·x + b</c>.</summary>
/// <param name="Weights">w (D).</param>
/// <param name="Bias">b.</param>
public sealed record LinearSvmModel(float[] Weights, float Bias)
{
    /// <summary>The all-zero model of <paramref name="width"/> features (scores 0 everywhere).</summary>
    public static LinearSvmModel Zero(int width) => new(new float[width], 0);

    /// <summary>f(x) = w·x + b.</summary>
    public float Score(ReadOnlySpan<float> x) => LinearSvm.Dot(Weights, x) + Bias;
}

/// <summary>What <see cref="LinearSvm.Train"/> found.</summary>
/// <param name="Model">The scorer.</param>
/// <param name="Primal">The primal objective at the solution (<see cref="LinearSvm.PrimalObjective"/>).</param>
/// <param name="Dual">The dual objective at the solution (≤ <paramref name="Primal"/>; the gap bounds the distance to the optimum).</param>
/// <param name="Epochs">Passes made over the examples.</param>
/// <param name="Converged">Whether the stopping tolerance was met before <see cref="LinearSvmOptions.MaxEpochs"/>.</param>
public sealed record LinearSvmSolution(LinearSvmModel Model, double Primal, double Dual, int Epochs, bool Converged);

/// <summary>
/// A binary linear SVM trained by dual coordinate descent (Hsieh et al. 2008, the algorithm of liblinear's
/// <c>-s 3</c> and <c>-s 1</c> solvers) on rows of features. It minimises
/// <c>½‖w̃‖² + Σᵢ Cᵢ ℓ(yᵢ w̃·x̃ᵢ)</c> with <c>x̃ = (x, B)</c>, <c>w̃ = (w, b/B)</c>,
/// <c>Cᵢ = C·PositiveWeight</c> for positives and C for negatives, ℓ the hinge or squared hinge
/// (<see cref="LinearSvmOptions"/>). Its dual, <c>max Σα − ½‖Σαᵢyᵢx̃ᵢ‖² − Σαᵢ²Dᵢ/2</c> with
/// <c>0 ≤ αᵢ ≤ Uᵢ</c> (hinge: <c>Uᵢ = Cᵢ, Dᵢ = 0</c>; squared: <c>Uᵢ = ∞, Dᵢ = 1/(2Cᵢ)</c>), is solved one
/// coordinate at a time in closed form, in a seeded random order, until the projected gradients agree within
/// the tolerance. Primal and dual objectives are returned: their gap certifies the solution.
/// </summary>
public static class LinearSvm
{
    /// <summary>
    /// Trains on <paramref name="positives"/> (label +1) and <paramref name="negatives"/> (label −1), rows of D features
    /// each. With no positives or no negatives the problem is still solved (one-sided).
    /// </summary>
    public static LinearSvmSolution Train(IReadOnlyList<float[]> positives, IReadOnlyList<float[]> negatives, LinearSvmOptions? options = null)
    {
        options ??= new LinearSvmOptions();
        options.Validate();
        int n = positives.Count + negatives.Count;
        int d = positives.Count > 0 ? positives[0].Length : negatives.Count > 0 ? negatives[0].Length : 0;
        var rows = new float[n][];
        var y = new sbyte[n];
        for (int i = 0; i < positives.Count; i++) { rows[i] = positives[i]; y[i] = 1; }
        for (int i = 0; i < negatives.Count; i++) { rows[positives.Count + i] = negatives[i]; y[positives.Count + i] = -1; }
        foreach (var row in rows)
            if (row.Length != d) throw new ArgumentException($"every example needs {d} features, one has {row.Length}");

        double bias = options.BiasMultiplier, bias2 = bias * bias;
        var w = new double[d];
        var wf = new float[d];
        double wb = 0;
        var alpha = new double[n];
        var upper = new double[n];
        var diag = new double[n];
        var q = new double[n];
        for (int i = 0; i < n; i++)
        {
            double c = y[i] > 0 ? options.C * options.PositiveWeight : options.C;
            (upper[i], diag[i]) = options.Loss == SvmLoss.Hinge ? (c, 0.0) : (double.PositiveInfinity, 1 / (2 * c));
            q[i] = Dot(rows[i], rows[i]) + bias2 + diag[i];
        }

        var order = Enumerable.Range(0, n).ToArray();
        var random = new Random(unchecked((int)options.Seed ^ (int)(options.Seed >> 32)));
        int epoch = 0;
        bool converged = n == 0;
        while (!converged && epoch < options.MaxEpochs)
        {
            epoch++;
            random.Shuffle(order);
            double maxPg = double.NegativeInfinity, minPg = double.PositiveInfinity;
            foreach (int i in order)
            {
                var x = rows[i];
                double g = y[i] * (Dot(wf, x) + wb * bias) - 1 + diag[i] * alpha[i];
                double pg = alpha[i] == 0 ? Math.Min(g, 0) : alpha[i] >= upper[i] ? Math.Max(g, 0) : g;
                maxPg = Math.Max(maxPg, pg);
                minPg = Math.Min(minPg, pg);
                if (Math.Abs(pg) <= 1e-12) continue;
                double old = alpha[i];
                alpha[i] = Math.Min(Math.Max(old - g / q[i], 0), upper[i]);
                double step = (alpha[i] - old) * y[i];
                for (int k = 0; k < d; k++)
                {
                    w[k] += step * x[k];
                    wf[k] = (float)w[k];
                }
                wb += step * bias;
            }
            converged = maxPg - minPg <= options.Tolerance;
        }

        var model = new LinearSvmModel(wf, (float)(wb * bias));
        double primal = PrimalObjective(model, positives, negatives, options);
        double norm2 = w.Sum(v => v * v) + wb * wb;
        double dual = alpha.Sum() - 0.5 * norm2 - alpha.Select((a, i) => 0.5 * diag[i] * a * a).Sum();
        return new LinearSvmSolution(model, primal, dual, epoch, converged);
    }

    /// <summary>
    /// The primal objective <c>½(‖w‖² + (b/B)²) + Σᵢ Cᵢ ℓ(yᵢ f(xᵢ))</c> of <paramref name="model"/> (B = 0: the bias is
    /// not regularised, and must be 0).
    /// </summary>
    public static double PrimalObjective(LinearSvmModel model, IReadOnlyList<float[]> positives, IReadOnlyList<float[]> negatives, LinearSvmOptions options)
    {
        double wb = options.BiasMultiplier > 0 ? model.Bias / options.BiasMultiplier : 0;
        double objective = 0.5 * (model.Weights.Sum(v => (double)v * v) + wb * wb);
        double Loss(double margin)
        {
            double h = Math.Max(0, 1 - margin);
            return options.Loss == SvmLoss.Hinge ? h : h * h;
        }
        foreach (var x in positives) objective += options.C * options.PositiveWeight * Loss(model.Score(x));
        foreach (var x in negatives) objective += options.C * Loss(-model.Score(x));
        return objective;
    }

    /// <summary>Σ a[k]·b[k] in float32, vectorised.</summary>
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"vectors of {a.Length} and {b.Length} features");
        var sum = Vector<float>.Zero;
        int k = 0, width = Vector<float>.Count;
        for (; k <= a.Length - width; k += width) sum += new Vector<float>(a[k..]) * new Vector<float>(b[k..]);
        float total = Vector.Sum(sum);
        for (; k < a.Length; k++) total += a[k] * b[k];
        return total;
    }
}
