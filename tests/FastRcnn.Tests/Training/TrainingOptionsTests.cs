using FastRcnn.Data.Transforms;
using FastRcnn.Tests.Data;
using FastRcnn.Training;

namespace FastRcnn.Tests.Training;

/// <summary>The paper's defaults, the learning-rate schedule, validation and the JSON configuration.</summary>
public sealed class TrainingOptionsTests
{
    [Fact]
    public void Defaults_are_the_papers_recipe()
    {
        var o = new TrainingOptions();
        Assert.Equal((2, 64, 0.25, 0.5, 0.1, 0.5), (o.ImagesPerBatch, o.RoisPerImage, o.ForegroundFraction, o.ForegroundIoU, o.BackgroundIoULow, o.BackgroundIoUHigh));
        Assert.Equal((0.001, 0.9, 0.0005, 0.1, 40000), (o.LearningRate, o.Momentum, o.WeightDecay, o.LearningRateGamma, o.Iterations));
        Assert.Equal([30000], o.LearningRateSteps);
        Assert.Equal([600], o.Scales);
        Assert.Equal((1000, 0.5, "vgg16", true), (o.MaxSize, o.FlipProbability, o.Backbone, o.UseDifficult));
        Assert.Equal([10.0, 10, 5, 5], o.BoxCoderWeights);
        Assert.Null(o.FrozenPrefixes);
        Assert.Equal(Batching.MultiScaleShortSides, TrainingOptions.MultiScaleSides);
        var sampler = o.SamplerOptions();
        Assert.Equal((64, 16, 0.1), (sampler.RoisPerImage, sampler.ForegroundPerImage, sampler.BackgroundIoULow));
        o.Validate();
        TrainingOptions.ShapesSmall.Validate();
    }

    [Fact]
    public void Learning_rate_steps_down_after_each_step_iteration()
    {
        var o = new TrainingOptions();
        Assert.Equal(0.001, o.LearningRateAt(1));
        Assert.Equal(0.001, o.LearningRateAt(30000));        // 0.001 for iterations 1–30000 …
        Assert.Equal(0.0001, o.LearningRateAt(30001), 12);   // … then 0.0001 up to 40000
        Assert.Equal(0.0001, o.LearningRateAt(40000), 12);
        var two = o with { LearningRateSteps = [10, 20] };
        Assert.Equal([0.001, 0.001, 0.0001, 0.0001, 0.00001], new long[] { 1, 10, 11, 20, 21 }.Select(i => Math.Round(two.LearningRateAt(i), 12)).ToArray());
    }

    [Fact]
    public void Json_round_trip_keeps_every_option_and_partial_files_keep_defaults()
    {
        var o = TrainingOptions.ShapesSmall with
        {
            Dataset = "/data/voc", Split = "trainval", Proposals = "auto", Weights = "/w/vgg16.safetensors",
            Scales = [480, 576], MaxSize = 2000, LearningRateSteps = [100, 200], Seed = -7, FrozenPrefixes = ["features.0."],
            BoxCoderWeights = [1, 1, 1, 1], FlipProbability = 0, ValidateEvery = 50, UseDifficult = false, Prefetch = false,
        };
        string json = TrainingConfig.ToJson(o);
        Assert.Contains("\"learning_rate_steps\": [", json);
        Assert.Contains("\"foreground_iou\": 0.5", json);
        var back = TrainingConfig.FromJson(json);
        Assert.Equal(o, back);
        Assert.Equal(o, TrainingConfig.FromJsonObject(TrainingConfig.ToJsonObject(o)));
        Assert.NotEqual(o, back with { Scales = [480] });

        var partial = TrainingConfig.FromJson("{ \"backbone\": \"small\", \"learning_rate\": 0.02, // comment\n \"scales\": [400], }");
        Assert.Equal(new TrainingOptions { Backbone = "small", LearningRate = 0.02, Scales = [400] }, partial);

        using var dir = new TempDir();
        string path = dir.Combine("config.json");
        TrainingConfig.Save(path, o);
        Assert.Equal(o, TrainingConfig.Load(path));
        File.WriteAllText(path, "{ \"learning_rat\": 0.1 }");
        var e = Assert.Throws<InvalidDataException>(() => TrainingConfig.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("learning_rat", e.Message);
        File.WriteAllText(path, "{ \"scales\": \"600\" }");
        Assert.Contains("scales", Assert.Throws<InvalidDataException>(() => TrainingConfig.Load(path)).Message);
        Assert.Throws<FileNotFoundException>(() => TrainingConfig.Load(dir.Combine("missing.json")));
    }

    [Fact]
    public void A_config_file_giving_an_option_twice_is_refused_naming_the_option_and_the_file()
    {
        using var dir = new TempDir();
        string path = dir.Combine("config.json");
        File.WriteAllText(path, "{ \"iterations\": 100, \"learning_rate\": 0.01, \"iterations\": 5 }");
        var e = Assert.Throws<InvalidDataException>(() => TrainingConfig.Load(path));
        Assert.StartsWith(path + ": ", e.Message, StringComparison.Ordinal);
        Assert.Contains("iterations", e.Message, StringComparison.Ordinal);
        Assert.Contains("duplicate", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Zero_iterations_are_refused()
    {
        var e = Assert.Throws<ArgumentException>((TrainingOptions.ShapesSmall with { Iterations = 0 }).Validate);
        Assert.Contains("iterations must be ≥ 1, got 0", e.Message, StringComparison.Ordinal);
        (TrainingOptions.ShapesSmall with { Iterations = 1 }).Validate();
    }

    [Fact]
    public void Config_files_start_from_the_same_defaults_as_the_command_line()
    {
        using var dir = new TempDir();
        string path = dir.Combine("config.json");
        File.WriteAllText(path, "{ \"iterations\": 5 }");
        Assert.Equal(TrainingOptions.ShapesSmall with { Iterations = 5 }, TrainingConfig.Load(path));            // no backbone named: small
        Assert.Equal(TrainingOptions.DefaultsFor(null) with { Iterations = 5 }, TrainingConfig.Load(path));
        Assert.Equal(new TrainingOptions { Iterations = 5 }, TrainingConfig.Load(path, "vgg16"));                 // --backbone vgg16: the paper's
        File.WriteAllText(path, "{ \"backbone\": \"alexnet\", \"iterations\": 5 }");
        Assert.Equal(new TrainingOptions { Backbone = "alexnet", Iterations = 5 }, TrainingConfig.Load(path));
        Assert.Equal(TrainingOptions.ShapesSmall with { Backbone = "alexnet", Iterations = 5 }, TrainingConfig.Load(path, "small"));  // the command line wins
        Assert.Equal(new TrainingOptions(), TrainingOptions.DefaultsFor("vgg16"));
        Assert.Equal(TrainingOptions.ShapesSmall, TrainingOptions.DefaultsFor("small"));
        Assert.Throws<ArgumentException>(() => TrainingOptions.DefaultsFor("resnet"));
    }

    [Theory]
    [InlineData("backbone", "Unknown backbone 'resnet'")]
    [InlineData("scales", "scales must be positive")]
    [InlineData("iou", "IoU thresholds")]
    [InlineData("steps", "learning_rate_steps must be positive and increasing")]
    [InlineData("lr", "learning_rate must be positive")]
    [InlineData("flip", "flip_probability")]
    [InlineData("coder", "box_coder_weights")]
    public void Invalid_options_are_named(string what, string message)
    {
        var o = new TrainingOptions();
        o = what switch
        {
            "backbone" => o with { Backbone = "resnet" },
            "scales" => o with { Scales = [] },
            "iou" => o with { BackgroundIoULow = 0.6 },
            "steps" => o with { LearningRateSteps = [200, 100] },
            "lr" => o with { LearningRate = double.NaN },
            "flip" => o with { FlipProbability = 1.5 },
            _ => o with { BoxCoderWeights = [1, 1, 1] },
        };
        Assert.Contains(message, Assert.Throws<ArgumentException>(o.Validate).Message);
    }

    [Fact]
    public void Seed_sequence_is_a_pure_function_with_independent_streams()
    {
        Assert.Equal(SeedSequence.Derive(3, SeedSequence.Stream.Flip, 10), SeedSequence.Derive(3, SeedSequence.Stream.Flip, 10));
        Assert.NotEqual(SeedSequence.Derive(3, SeedSequence.Stream.Flip, 10), SeedSequence.Derive(3, SeedSequence.Stream.Scale, 10));
        Assert.NotEqual(SeedSequence.Derive(3, SeedSequence.Stream.Flip, 10), SeedSequence.Derive(4, SeedSequence.Stream.Flip, 10));
        Assert.True(Enumerable.Range(0, 1000).All(i => SeedSequence.Derive(i, SeedSequence.Stream.Dropout, i) >= 0));
        var permutation = SeedSequence.Permutation(1, SeedSequence.Stream.Shuffle, 0, 100);
        Assert.Equal(Enumerable.Range(0, 100), permutation.Order());
        Assert.NotEqual(Enumerable.Range(0, 100), permutation);
        double mean = Enumerable.Range(0, 10000).Average(i => SeedSequence.Unit(9, SeedSequence.Stream.Flip, i));
        Assert.InRange(mean, 0.48, 0.52);
    }

    [Fact]
    public void Augmentation_is_described_in_words()
    {
        var paper = new TrainingOptions();
        Assert.Equal("left–right flips p = 0.5", paper.DescribeAugmentation());
        Assert.Equal("no flips", (paper with { FlipProbability = 0 }).DescribeAugmentation());
        var any = (paper with { FlipProbability = 0, PermuteChannels = true }).WithAnyOrientation();
        Assert.Equal("any of the 8 orientations, random channel order", any.DescribeAugmentation());
        Assert.Equal("flips p = 0.5 left–right, 0.25 top–bottom, transpose p = 0", (paper with { VerticalFlipProbability = 0.25 }).DescribeAugmentation());
        any.Validate();
        Assert.Throws<ArgumentException>(() => (paper with { TransposeProbability = 2 }).Validate());
        Assert.Throws<ArgumentException>(() => (paper with { VerticalFlipProbability = -0.1 }).Validate());
        var json = TrainingConfig.ToJson(any);
        Assert.Contains("\"transpose_probability\": 0.5", json);
        Assert.Equal(any, TrainingConfig.FromJson(json));
    }
}
