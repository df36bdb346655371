using System.CommandLine;
using FastRcnn.Cli;
using FastRcnn.Inference;

namespace FastRcnn.Tests.Cli;

/// <summary>The <c>--scale</c>, <c>--max-size</c> and <c>--canonical-size</c> options of <c>detect</c> and <c>eval</c>.</summary>
public class TestScaleOptionsTests
{
    private static DetectorOptions Read(string args, PostprocessOptions? post = null)
    {
        var options = new TestScaleOptions();
        var command = new RootCommand();
        foreach (var option in options.All) command.Options.Add(option);
        var parse = command.Parse(args);
        Assert.Empty(parse.Errors);
        return options.Read(parse, post);
    }

    [Fact]
    public void Defaults_are_the_papers_single_scale_and_a_pyramid_gets_the_larger_cap()
    {
        var single = Read("");
        Assert.Null(single.Scales);
        Assert.Equal((1000, 224.0, 600), (single.MaxSize, single.CanonicalRoiSize, single.EffectiveScales.Single()));
        var pyramid = Read("--scale 400 600 800");
        Assert.Equal([400, 600, 800], pyramid.Scales!);
        Assert.Equal(2000, pyramid.MaxSize);
        var post = new PostprocessOptions(0.1, 0.4, 50);
        var given = Read("--scale 400 --scale 800 --max-size 1333 --canonical-size 96", post);
        Assert.Equal((1333, 96.0, post), (given.MaxSize, given.CanonicalRoiSize, given.Postprocess));
        Assert.Equal([400, 800], given.Scales!);
    }

    [Fact]
    public void Detect_and_eval_both_take_them()
    {
        foreach (var name in new[] { "detect", "eval" })
        {
            var command = CliApp.Build().Subcommands.Single(c => c.Name == name);
            Assert.Superset(new HashSet<string> { "--scale", "--max-size", "--canonical-size" }, command.Options.Select(o => o.Name).ToHashSet());
        }
    }
}
