using System.CommandLine;
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
        root.Subcommands.Add(ConvertWeightsCommand.Build());
        root.Subcommands.Add(DemoCommand.Build());
        return root;
    }

    private static Command InfoCommand()
    {
        var command = new Command("info", "Show the runtime: TorchSharp and libtorch versions, threads, and a native smoke check.");
        command.SetAction(_ =>
        {
            var table = new Table().AddColumn("item").AddColumn("value");
            table.AddRow("FastRcnn", typeof(CliApp).Assembly.GetName().Version?.ToString() ?? "?");
            table.AddRow("TorchSharp", typeof(torch).Assembly.GetName().Version?.ToString() ?? "?");
            table.AddRow("libtorch threads", torch.get_num_threads().ToString());
            table.AddRow("processors", Environment.ProcessorCount.ToString());
            using (var x = torch.ones(2, 2))
            {
                table.AddRow("native check (sum of ones(2,2))", x.sum().item<float>().ToString());
            }
            AnsiConsole.Write(table);
            return 0;
        });
        return command;
    }
}
