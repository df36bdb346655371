using System.Diagnostics;

namespace FastRcnn.Modeling.Svm;

/// <summary>Settings of <see cref="SvmStageTrainer"/>; the defaults are R-CNN's.</summary>
public sealed record SvmStageOptions
{
    /// <summary>The linear SVMs (C = 0.001, positive weight 2, bias multiplier 10, hinge loss).</summary>
    public LinearSvmOptions Svm { get; init; } = new();

    /// <summary>Hard-negative mining (one pass, negatives IoU &lt; 0.3, hard above −1, easy below −1.2).</summary>
    public HardNegativeMiningOptions Mining { get; init; } = new();

    /// <summary>λ of the ridge box regressors (1000).</summary>
    public double RidgeLambda { get; init; } = BoxRegressorTraining.DefaultLambda;

    /// <summary>Mean feature norm after scaling (20).</summary>
    public double FeatureNorm { get; init; } = FeatureScaling.TargetNorm;
}

/// <summary>What <see cref="SvmStageTrainer.Train"/> did.</summary>
/// <param name="Svms">Each class's SVM: positives, final hard negatives, retrainings, objective.</param>
/// <param name="Regressors">Each class's regressor and its examples.</param>
/// <param name="Fc7Scale">The fc7 feature scale.</param>
/// <param name="Pool5Scale">The pool5 feature scale.</param>
/// <param name="SvmTime">Time of feature scaling and SVM training with mining.</param>
/// <param name="RegressionTime">Time of box-regression training.</param>
public sealed record SvmStageReport(IReadOnlyList<ClassSvm> Svms, IReadOnlyList<ClassBoxRegressor> Regressors, float Fc7Scale, float Pool5Scale,
    TimeSpan SvmTime, TimeSpan RegressionTime);

/// <summary>
/// Trains the post-hoc stage of R-CNN and SPPnet from a <see cref="FeatureCache"/>, whatever network filled it:
/// feature scaling (<see cref="FeatureScaling"/>), one SVM per class with hard-negative mining
/// (<see cref="HardNegativeMining"/>), one ridge box regressor per class (<see cref="BoxRegressorTraining"/>).
/// </summary>
public static class SvmStageTrainer
{
    /// <summary>Trains the stage; <paramref name="progress"/> receives images visited by the mining.</summary>
    public static (SvmStage Stage, SvmStageReport Report) Train(FeatureCache cache, SvmStageOptions? options = null,
        IProgress<int>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(cache);
        options ??= new SvmStageOptions();
        var clock = Stopwatch.StartNew();
        var (fc7Scale, pool5Scale) = FeatureScaling.Compute(cache, options.FeatureNorm);
        var svms = HardNegativeMining.Train(cache, fc7Scale, options.Svm, options.Mining, progress, cancellation);
        var svmTime = clock.Elapsed;
        clock.Restart();
        var regressors = BoxRegressorTraining.Train(cache, pool5Scale, options.RidgeLambda, cancellation);
        var stage = new SvmStage(svms.Select(s => s.Model).ToArray(), fc7Scale, regressors.Select(r => r.Map).ToArray(), pool5Scale);
        return (stage, new SvmStageReport(svms, regressors, fc7Scale, pool5Scale, svmTime, clock.Elapsed));
    }
}
