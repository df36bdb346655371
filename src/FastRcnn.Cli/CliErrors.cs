using FastRcnn.Data;
using Spectre.Console;

namespace FastRcnn.Cli;

/// <summary>How commands report bad input: one red line naming the file and the problem, exit code 1.</summary>
internal static class CliErrors
{
    /// <summary>Prints <paramref name="message"/> as an error and returns the exit code 1.</summary>
    public static int Fail(string message)
    {
        AnsiConsole.MarkupLine($"[red]error:[/] {Markup.Escape(message)}");
        return 1;
    }

    /// <summary>
    /// Exceptions that mean the input (a dataset, an image, a proposal file, an option value) is bad,
    /// as opposed to a bug: malformed files, missing files, unreadable images, invalid settings.
    /// </summary>
    public static bool IsInputError(Exception e) =>
        e is DatasetFormatException or IOException or InvalidDataException or UnauthorizedAccessException or ArgumentException or KeyNotFoundException;
}
