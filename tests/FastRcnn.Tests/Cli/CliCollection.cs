namespace FastRcnn.Tests.Cli;

/// <summary>
/// Tests that run <c>fastrcnn</c> commands in-process share Spectre.Console's global console, whose
/// live displays (progress bars) may not run concurrently: they run one at a time in this collection.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CliCollection
{
    public const string Name = "fastrcnn CLI (one console)";
}
