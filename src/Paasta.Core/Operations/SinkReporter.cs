using Paasta.Docker;

namespace Paasta.Operations;

/// <summary>
/// Passes what Docker work reports (build, pull and push progress, container output, healthcheck progress) to
/// an operation's sink, so it reaches the caller through the one channel.
/// </summary>
public sealed class SinkReporter : IRunReporter
{
    private readonly IOperationSink _sink;
    private readonly string? _parentActivity;

    public SinkReporter(IOperationSink sink, string? parentActivity = null)
    {
        _sink = sink;
        _parentActivity = parentActivity;
    }

    public void Output(string line, bool isError) => _sink.ConsoleLine(line, isError ? ConsoleLineKind.Stderr : ConsoleLineKind.Stdout);

    public void Status(string message) => _sink.ConsoleLine(message, ConsoleLineKind.Status);

    public void Verbose(string message) => _sink.Verbose(message);

    public void Warning(string message) => _sink.Warning(message);

    public void Progress(RunProgress progress)
    {
        var report = new OperationProgress(progress.Activity, progress.Status)
        {
            PercentComplete = progress.PercentComplete,
            CurrentOperation = progress.CurrentOperation,
            ParentActivity = _parentActivity,
        };
        _sink.Progress(progress.Completed ? report.Complete() : report);
    }
}
