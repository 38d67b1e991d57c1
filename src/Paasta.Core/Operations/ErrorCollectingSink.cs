using Paasta.Errors;

namespace Paasta.Operations;

/// <summary>
/// A sink that keeps the errors reported through it (and passes them on, unless told not to) while everything
/// else goes straight to the sink it wraps. Operations use it around a query whose errors also decide their
/// result, e.g. the services a replication summary lists as not checked, and around operations they run as steps
/// of their own (keepOutput: the step's results stay here instead of reaching the caller).
/// </summary>
public sealed class ErrorCollectingSink : IOperationSink
{
    private readonly IOperationSink _inner;
    private readonly bool _forward;
    private readonly bool _keepOutput;
    private readonly List<PaastaException> _errors = new();
    private readonly List<object> _outputs = new();

    public ErrorCollectingSink(IOperationSink inner, bool forward = true, bool keepOutput = false)
    {
        _inner = inner;
        _forward = forward;
        _keepOutput = keepOutput;
    }

    /// <summary>The results kept (with keepOutput), in order.</summary>
    public IReadOnlyList<object> Outputs
    {
        get { lock (_outputs) return _outputs.ToList(); }
    }

    /// <summary>The errors reported so far, in order.</summary>
    public IReadOnlyList<PaastaException> Errors
    {
        get { lock (_errors) return _errors.ToList(); }
    }

    public bool VerboseWanted => _inner.VerboseWanted;
    public void Message(MessageLevel level, string text) => _inner.Message(level, text);
    public void Progress(OperationProgress progress) => _inner.Progress(progress);
    public void Output(object result)
    {
        if (!_keepOutput) { _inner.Output(result); return; }
        lock (_outputs) _outputs.Add(result);
    }
    public bool ShouldProcess(string target, string action) => _inner.ShouldProcess(target, action);
    public bool ShouldContinue(string query, string caption) => _inner.ShouldContinue(query, caption);

    public void Error(PaastaException error)
    {
        lock (_errors) _errors.Add(error);
        if (_forward) _inner.Error(error);
    }

    /// <summary>
    /// Runs <paramref name="query"/> against a context that reports to a collecting sink, and returns its result
    /// with the errors it reported. The child context shares the settings; it opens its own soa-configs reader.
    /// </summary>
    public static (T Result, IReadOnlyList<PaastaException> Errors) Collect<T>(OperationContext context, Func<OperationContext, T> query, bool forward = true)
    {
        var sink = new ErrorCollectingSink(context.Sink, forward);
        using var child = context.Child(sink);
        return (query(child), sink.Errors);
    }
}
