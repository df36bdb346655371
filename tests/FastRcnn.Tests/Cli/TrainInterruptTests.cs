using System.Globalization;
using System.Text.RegularExpressions;
using FastRcnn.Cli;
using FastRcnn.IO;
using FastRcnn.Modeling;
using FastRcnn.Tests.Training;
using FastRcnn.Training;

namespace FastRcnn.Tests.Cli;

/// <summary><c>fastrcnn train</c> in a child process: interrupted by a signal, and holding its output folder against other runs.</summary>
[Collection(TrainingCollection.Name)]
public sealed class TrainInterruptTests
{
    private static int Run(params string[] args) => CliApp.Build().Parse(args).Invoke();

    [Fact]
    public void Sigterm_stops_train_with_a_checkpoint_exit_143_and_a_resume_hint_and_the_locked_run_refuses_others_then_resumes()
    {
        if (OperatingSystem.IsWindows()) return;
        using var dir = new TempDir();
        string root = TrainingTestData.Dataset.Source, proposals = TrainCliTests.WriteProposals(dir), run = dir.Combine("run");
        string checkpoints = Path.Combine(run, "checkpoints");
        string[] args = ["train", "--dataset", root, "--split", "train", "--proposals", proposals, "--scale", "144", "--max-size", "240",
            "--rois-per-image", "16", "--iters", "100000", "--checkpoint-every", "2", "--seed", "3", "--lr", "0.005", "--threads", "1", "--out", run];
        using var child = CliProcess.Start(args);
        Assert.True(child.WaitUntil(() => File.Exists(Path.Combine(checkpoints, TrainingCheckpoint.FileName(2))), TimeSpan.FromSeconds(90)), child.Output);

        // Issue 13 defect 1: while the child trains, its folder is locked: another run, a --force run and a resume are refused, naming it.
        var locked = Assert.Throws<OutputLockedException>(() => DirectoryLock.Acquire(run));
        Assert.Contains($"{run} is in use by process {child.Id}, started ", locked.Message, StringComparison.Ordinal);
        Assert.Contains("FastRcnn.Cli.dll train --dataset", locked.Message, StringComparison.Ordinal);
        Assert.Equal(1, Run([.. args, "--force"]));
        Assert.Equal(1, Run("train", "--resume", run, "--out", run, "--iters", "3"));
        Assert.True(File.Exists(Path.Combine(checkpoints, TrainingCheckpoint.FileName(2))));     // --force deleted nothing

        // Issue 13 defect 3: SIGTERM finishes the iteration, writes a checkpoint, exits 143 with the resume command.
        child.Signal(15);
        Assert.Equal(InterruptSignals.SigTermExitCode, child.WaitForExit(TimeSpan.FromSeconds(60)));
        string output = child.Output.Replace("\n", "", StringComparison.Ordinal);
        var stopped = Regex.Match(output, @"stopped at iteration (\d+)");
        Assert.True(stopped.Success, child.Output);
        int iteration = int.Parse(stopped.Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.True(iteration >= 2, child.Output);
        Assert.True(File.Exists(Path.Combine(checkpoints, TrainingCheckpoint.FileName(iteration))), child.Output);
        Assert.Contains($"resume with: fastrcnn train --resume {run} --out {run} --threads 1", output, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(run, ModelFiles.InfoFileName)));                     // no model from a stopped run
        Assert.False(File.Exists(Path.Combine(run, DirectoryLock.FileName)));                      // the lock is released
        Assert.Empty(Directory.EnumerateFiles(run, "*.tmp", SearchOption.AllDirectories));

        // The hint's command continues the run (here two more iterations).
        Assert.Equal(0, Run("train", "--resume", run, "--out", run, "--threads", "1", "--iters", (iteration + 2).ToString(CultureInfo.InvariantCulture)));
        Assert.Equal(iteration + 2 + 1, File.ReadAllLines(Path.Combine(run, TrainingLog.FileName)).Length);
        Assert.True(File.Exists(Path.Combine(run, ModelFiles.InfoFileName)));
    }

    [Fact]
    public void A_second_signal_is_left_to_the_system_and_the_first_sets_the_exit_code()
    {
        using var term = InterruptSignals.ForTest();
        var first = new System.Runtime.InteropServices.PosixSignalContext(System.Runtime.InteropServices.PosixSignal.SIGTERM);
        term.Handle(first);
        Assert.True(first.Cancel);                          // the process keeps running: the command stops after its step
        Assert.True(term.Token.IsCancellationRequested);
        Assert.Equal(143, term.ExitCode);
        var second = new System.Runtime.InteropServices.PosixSignalContext(System.Runtime.InteropServices.PosixSignal.SIGINT);
        term.Handle(second);
        Assert.False(second.Cancel);                        // the system's default: the process ends at once
        Assert.Equal(143, term.ExitCode);

        using var interrupt = InterruptSignals.ForTest();
        Assert.Equal(130, interrupt.ExitCode);
        interrupt.Handle(new System.Runtime.InteropServices.PosixSignalContext(System.Runtime.InteropServices.PosixSignal.SIGINT));
        Assert.Equal(130, interrupt.ExitCode);
    }
}
