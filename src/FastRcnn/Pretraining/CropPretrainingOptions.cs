namespace FastRcnn.Pretraining;

/// <summary>
/// Settings of <see cref="CropPretrainer"/>: classification pre-training of the <c>small</c> backbone
/// on object crops, the stand-in for the ImageNet pre-training that the paper's networks start from
/// (SPEC §3). Defaults are the ones the shipped <c>small-shapesnet</c> weights were trained with.
/// </summary>
public sealed record CropPretrainingOptions
{
    /// <summary>SGD steps.</summary>
    public int Steps { get; init; } = 6000;

    /// <summary>Crops per step.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Base learning rate (biases 2×), momentum 0.9, weight decay 0.0005.</summary>
    public double LearningRate { get; init; } = 0.02;

    /// <summary>Steps after which the rate is multiplied by 0.1.</summary>
    public IReadOnlyList<int> LearningRateSteps { get; init; } = [4500];

    /// <summary>Crop sides in pixels; one is drawn per step (the network sees objects at several scales).</summary>
    public IReadOnlyList<int> CropSizes { get; init; } = [48, 64, 80, 96, 112];

    /// <summary>Share of background crops (class 0) in a batch.</summary>
    public double BackgroundFraction { get; init; } = 0.25;

    /// <summary>A jittered ground-truth crop keeps at least this IoU with its box.</summary>
    public double JitterMinIoU { get; init; } = 0.6;

    /// <summary>A background crop overlaps every ground-truth box by less than this IoU.</summary>
    public double BackgroundMaxIoU { get; init; } = 0.4;

    /// <summary>Dropout after fc6 and fc7 while pre-training (the detector's fine-tuning uses the paper's 0.5); 0 learns much faster from scratch.</summary>
    public double Dropout { get; init; }

    /// <summary>Random 90° rotations, flips and colour-channel permutations of each crop.</summary>
    public bool Augment { get; init; } = true;

    /// <summary>The seed of weights, sampling, augmentation and dropout.</summary>
    public long Seed { get; init; }

    /// <summary>Report (and validate, when a validation set is given) every this many steps.</summary>
    public int ReportEvery { get; init; } = 100;
}
