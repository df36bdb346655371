using System.CommandLine;
using System.Globalization;
using FastRcnn.Pretraining;
using FastRcnn.Runtime;
using Spectre.Console;
using TorchSharp;

namespace FastRcnn.Cli;

/// <summary>The <c>fastrcnn</c> command tree.</summary>
public static class CliApp
{
    public static RootCommand Build()
    {
        var root = new RootCommand("fastrcnn: Fast R-CNN object detection (Girshick, 2015) on TorchSharp.");
        root.Subcommands.Add(InfoCommand());
        root.Subcommands.Add(DataCommands.Build());
        root.Subcommands.Add(ProposalsCommands.Build());
        root.Subcommands.Add(DetectCommand.Build());
        root.Subcommands.Add(EvalCommand.Build());
        root.Subcommands.Add(TrainCommand.Build());
        root.Subcommands.Add(PretrainCommand.Build());
        root.Subcommands.Add(CompressCommand.Build());
        root.Subcommands.Add(ExportWeightsCommand.Build());
        root.Subcommands.Add(ExportCommand.Build());
        root.Subcommands.Add(ConvertWeightsCommand.Build());
        root.Subcommands.Add(DemoCommand.Build());
        root.Subcommands.Add(ServeCommand.Build());
        root.Subcommands.Add(CompareCommand.Build());
        return root;
    }

    private static Command InfoCommand()
    {
        var command = new Command("info", "Show the runtime: library, TorchSharp and libtorch versions, threads, CPU and its vector extensions, native bfloat16, built-in weights, and a native smoke check.");
        command.SetAction(_ =>
        {
            var rows = new List<(string Item, string Value)>
            {
                ("FastRcnn", FastRcnnInfo.Version),
                ("TorchSharp", FastRcnnInfo.TorchSharpVersion),
                ("libtorch", FastRcnnInfo.LibTorchVersion),
                ("libtorch threads", torch.get_num_threads().ToString(CultureInfo.InvariantCulture)),
                ("processors", Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture)),
                ("CPU", FastRcnnInfo.CpuModel ?? "?"),
                ("CPU features", FastRcnnInfo.CpuFeatures.Count > 0 ? string.Join(' ', FastRcnnInfo.CpuFeatures) : "?"),
                ("bfloat16", Bf16Support.Describe(measure: true)),
                ("precision auto", $"runs {Precision.Auto.Resolve().Name()}"),
            };
            foreach (string name in BuiltinWeights.Names)
            {
                string path = Path.Combine(BuiltinWeights.Directory, name + ".safetensors");
                rows.Add(($"weights {name}", File.Exists(path) ? path : "missing: " + path));
            }
            using (var x = torch.ones(2, 2))
            {
                rows.Add(("native check", $"sum of ones(2,2) = {x.sum().item<float>().ToString(CultureInfo.InvariantCulture)}"));
            }
            // Plain "item  value" lines, never wrapped (paths and versions stay whole for scripts to read).
            int width = rows.Max(r => r.Item.Length) + 2;
            var writer = AnsiConsole.Profile.Out.Writer;
            foreach (var (item, value) in rows)
                writer.WriteLine(item.PadRight(width) + value);
            writer.Flush();
            return 0;
        });
        return command;
    }
}
