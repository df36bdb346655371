using FastRcnn.Cli;
using Spectre.Console;

namespace FastRcnn.Tests.Cli;

/// <summary>Runs the <c>fastrcnn</c> command in-process with the console captured (wide, no colours).</summary>
internal static class CliRunner
{
    /// <summary>The exit code and everything the command printed.</summary>
    public static (int Exit, string Output) Run(params string[] args)
    {
        var previous = AnsiConsole.Console;
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.No,
        });
        console.Profile.Width = 4000;
        AnsiConsole.Console = console;
        try { return (CliApp.Build().Parse(args).Invoke(), writer.ToString()); }
        finally { AnsiConsole.Console = previous; }
    }
}
