using System.Collections.Concurrent;
using Paasta.Errors;
using Paasta.Operations;
using Paasta.Settings;

namespace Paasta.Tests;

/// <summary>An operation sink for engine tests: records everything, answers confirmations as told.</summary>
public sealed class RecordingSink : IOperationSink
{
    public ConcurrentQueue<(MessageLevel Level, string Text)> Messages { get; } = new();
    public ConcurrentQueue<OperationProgress> ProgressReports { get; } = new();
    public ConcurrentQueue<PaastaException> Errors { get; } = new();
    public ConcurrentQueue<object> Outputs { get; } = new();
    public ConcurrentQueue<(string Target, string Action)> Asked { get; } = new();
    /// <summary>The answer to every ShouldProcess (false: as -WhatIf).</summary>
    public bool Confirm { get; set; } = true;
    public bool Continue { get; set; } = true;
    public bool VerboseWanted { get; set; } = true;

    public IEnumerable<string> ErrorIds => Errors.Select(e => e.ErrorId);
    public IEnumerable<string> Warnings => Messages.Where(m => m.Level == MessageLevel.Warning).Select(m => m.Text);

    public void Message(MessageLevel level, string text) => Messages.Enqueue((level, text));
    public void Progress(OperationProgress progress) => ProgressReports.Enqueue(progress);
    public void Error(PaastaException error) => Errors.Enqueue(error);
    public void Output(object result) => Outputs.Enqueue(result);

    public bool ShouldProcess(string target, string action)
    {
        Asked.Enqueue((target, action));
        return Confirm;
    }

    public bool ShouldContinue(string query, string caption) => Continue;

    /// <summary>An operation context over a soa dir, with no settings file and no environment.</summary>
    public OperationContext Context(string soaDir, PaastaSettings? given = null, PaastaSettings? saved = null) =>
        new(new ResolvedSettings((given ?? new PaastaSettings()) with { SoaDir = soaDir }, () => saved ?? new PaastaSettings(), _ => null), this, default, soaDir);
}
