using Paasta.Errors;

namespace Paasta.Operations;

/// <summary>How an operation's progress record changes.</summary>
public enum ProgressState
{
    Running,
    Completed,
}

/// <summary>
/// One progress report. <see cref="Activity"/> identifies the bar: reports with the same activity update it,
/// a <see cref="ProgressState.Completed"/> report removes it.
/// </summary>
public sealed record OperationProgress(string Activity, string Status)
{
    public int PercentComplete { get; init; } = -1;
    /// <summary>Seconds left at most (a wait with a time limit), or -1.</summary>
    public int SecondsRemaining { get; init; } = -1;
    public string? CurrentOperation { get; init; }
    public ProgressState State { get; init; } = ProgressState.Running;
    /// <summary>The activity this one is part of (for nested bars), or null.</summary>
    public string? ParentActivity { get; init; }

    public OperationProgress Complete() => this with { State = ProgressState.Completed, PercentComplete = 100 };
}

/// <summary>What an operation tells its caller while it runs: the one channel from the engine back to a cmdlet.</summary>
public enum MessageLevel
{
    Debug,
    Verbose,
    Information,
    Warning,
}

/// <summary>Which stream a console line belongs to.</summary>
public enum ConsoleLineKind
{
    /// <summary>A program's standard output (a container, make, docker build).</summary>
    Stdout,
    /// <summary>A program's standard error.</summary>
    Stderr,
    /// <summary>A status line worth seeing as it happens (the container is healthy, where it listens).</summary>
    Status,
}

/// <summary>
/// Where an operation reports what happens while it runs (docs/ARCHITECTURE.md, "Operations"). Every member
/// may be called from any thread; the cmdlet base queues the calls and replays them on the pipeline thread.
/// <see cref="ShouldProcess"/> and <see cref="ShouldContinue"/> block the calling thread until the user answers.
/// </summary>
public interface IOperationSink
{
    void Message(MessageLevel level, string text);

    void Progress(OperationProgress progress);

    /// <summary>A failure of one item; the operation goes on with the others.</summary>
    void Error(PaastaException error);

    /// <summary>A result, written to the pipeline as soon as it is known.</summary>
    void Output(object result);

    /// <summary>Whether to make a change (-WhatIf and -Confirm); false means skip it.</summary>
    bool ShouldProcess(string target, string action);

    /// <summary>A question beyond ShouldProcess (a manual pipeline step); -Force answers yes, a host that cannot ask answers no.</summary>
    bool ShouldContinue(string query, string caption);

    /// <summary>Whether verbose messages are wanted, so costly explanations are built only then.</summary>
    bool VerboseWanted { get; }

    /// <summary>
    /// A line for the console as a program wrote it (or a status line): cmdlets show it on the host and keep it
    /// in the information stream tagged with its kind. Sinks without a console record it as information.
    /// </summary>
    void ConsoleLine(string line, ConsoleLineKind kind) => Message(MessageLevel.Information, line);
}

/// <summary>Convenience calls on a sink.</summary>
public static class OperationSinkExtensions
{
    public static void Verbose(this IOperationSink sink, string text) => sink.Message(MessageLevel.Verbose, text);
    public static void Warning(this IOperationSink sink, string text) => sink.Message(MessageLevel.Warning, text);
    public static void Debug(this IOperationSink sink, string text) => sink.Message(MessageLevel.Debug, text);
    public static void Information(this IOperationSink sink, string text) => sink.Message(MessageLevel.Information, text);
}
