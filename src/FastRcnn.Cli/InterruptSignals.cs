using System.Runtime.InteropServices;

namespace FastRcnn.Cli;

/// <summary>
/// Ctrl+C (SIGINT) and SIGTERM for a long command: the first one cancels <see cref="Token"/> instead of
/// ending the process, so the command finishes its current step, writes what it must (a checkpoint, a
/// journal) and exits with <see cref="ExitCode"/> (130 for SIGINT, 143 for SIGTERM, as a shell reports a
/// process those signals ended); a second one ends the process at once.
/// </summary>
internal sealed class InterruptSignals : IDisposable
{
    public const int SigIntExitCode = 130, SigTermExitCode = 143;

    private readonly CancellationTokenSource _cancel;
    private readonly PosixSignalRegistration[] _registrations;
    private int _received;

    private InterruptSignals(CancellationToken outer, bool register)
    {
        _cancel = CancellationTokenSource.CreateLinkedTokenSource(outer);
        _registrations = register
            ? [PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle), PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle)]
            : [];
    }

    /// <summary>Handles SIGINT and SIGTERM until disposed; <paramref name="outer"/> (the command line's token) also cancels.</summary>
    public static InterruptSignals Listen(CancellationToken outer) => new(outer, register: true);

    /// <summary>Without registering handlers (tests call <see cref="Handle"/>).</summary>
    internal static InterruptSignals ForTest() => new(CancellationToken.None, register: false);

    /// <summary>Cancelled by the first signal (or the outer token).</summary>
    public CancellationToken Token => _cancel.Token;

    /// <summary>The first signal received, or null.</summary>
    public PosixSignal? Signal { get; private set; }

    /// <summary>The exit code for an interrupted run: 143 after SIGTERM, else 130.</summary>
    public int ExitCode => Signal == PosixSignal.SIGTERM ? SigTermExitCode : SigIntExitCode;

    /// <summary>The first signal cancels and keeps the process; a later one is left to the system's default action (the process ends).</summary>
    internal void Handle(PosixSignalContext context)
    {
        if (Interlocked.Increment(ref _received) > 1) return;
        context.Cancel = true;
        Signal = context.Signal;
        try
        {
            Console.Error.WriteLine($"{(context.Signal == PosixSignal.SIGTERM ? "SIGTERM" : "interrupted")}: stopping after the current step " +
                "(press Ctrl+C again to quit at once, losing it)");
        }
        catch (IOException) { /* no stderr */ }
        _cancel.Cancel();
    }

    public void Dispose()
    {
        foreach (var r in _registrations) r.Dispose();
        _cancel.Dispose();
    }
}
