using System.Collections.Concurrent;
using System.Management.Automation;
using Paasta.Errors;
using Paasta.Operations;
using Paasta.Settings;

namespace Paasta.Commands;

/// <summary>
/// Base of every Paasta cmdlet (docs/ARCHITECTURE.md, "Cmdlets"): cancellation on Ctrl+C, one
/// <see cref="OperationContext"/> per call built from the parameters that name settings, the pump that runs
/// engine operations off the pipeline thread and replays their messages, progress, output and confirmations on
/// it, and the one place where any exception becomes an ErrorRecord with a stable ErrorId.
/// Cmdlets override <see cref="Begin"/>, <see cref="Process"/> and <see cref="End"/>.
/// </summary>
public abstract class PaastaCmdlet : PSCmdlet
{
    private readonly CancellationTokenSource _cancellation = new();
    private readonly List<OperationContext> _contexts = new();
    private OperationContext? _context;
    private PaastaSettings? _contextSettings;
    private PipelineSink? _sink;

    protected CancellationToken CancellationToken => _cancellation.Token;

    protected sealed override void BeginProcessing() => Guard(Begin);

    protected sealed override void ProcessRecord() => Guard(Process);

    protected sealed override void EndProcessing()
    {
        try { Guard(End); }
        finally
        {
            foreach (var context in _contexts) context.Dispose();
            _contexts.Clear();
            _sink?.Drain();
            _cancellation.Dispose();
        }
    }

    protected sealed override void StopProcessing()
    {
        try { _cancellation.Cancel(); }
        catch (ObjectDisposedException) { }
        _sink?.Abort();
    }

    protected virtual void Begin() { }

    protected virtual void Process() { }

    protected virtual void End() { }

    /// <summary>The settings this call's parameters give (SoaDir, KubeConfig, Context, Registry…); bases add theirs.</summary>
    protected virtual PaastaSettings GivenSettings() => new();

    /// <summary>-Force, for ShouldContinue questions asked by operations; cmdlets with -Force override it.</summary>
    protected virtual bool ForceAnswersYes => false;

    /// <summary>
    /// -Debug without -Verbose: PowerShell then asks before every verbose message, and fails the command where no one
    /// can answer (pwsh -NonInteractive, a runbook). Such a call gets its verbose messages on the debug stream, which
    /// -Debug shows without asking (docs/OUTPUT.md, "Streams").
    /// </summary>
    private bool VerboseGoesToDebug => MyInvocation.BoundParameters.TryGetValue("Debug", out var debug)
        && LanguagePrimitives.IsTrue(debug) && !MyInvocation.BoundParameters.ContainsKey("Verbose");

    /// <summary>A verbose message, or a debug one under -Debug alone (<see cref="VerboseGoesToDebug"/>).</summary>
    public new void WriteVerbose(string text)
    {
        if (VerboseGoesToDebug) WriteDebug(text);
        else base.WriteVerbose(text);
    }

    /// <summary>A path parameter as a full file-system path (relative to the current PowerShell location).</summary>
    protected string? ProviderPath(string? path) => string.IsNullOrEmpty(path) ? null : GetUnresolvedProviderPathFromPSPath(path);

    internal PipelineSink Sink => _sink ??= new PipelineSink(this);

    /// <summary>
    /// This call's operation context. Parameters bound from the pipeline can change a setting between records
    /// (-SoaDir by property name); a new context is made then, and every one is disposed at the end.
    /// </summary>
    protected OperationContext Operation
    {
        get
        {
            var given = GivenSettings();
            if (_context is not null && Equals(given, _contextSettings)) return _context;
            _contextSettings = given;
            _context = new OperationContext(new ResolvedSettings(given), Sink, CancellationToken, SessionState.Path.CurrentFileSystemLocation.ProviderPath);
            _contexts.Add(_context);
            return _context;
        }
    }

    /// <summary>
    /// Runs an engine operation on a worker thread and, meanwhile, writes what it reports to the pipeline from
    /// this thread. Its failures come back as <see cref="PaastaException"/> (any other exception is classified).
    /// </summary>
    protected T Run<T>(Func<OperationContext, T> operation)
    {
        var context = Operation;
        return Sink.Pump(() => operation(context), CancellationToken);
    }

    protected void Run(Action<OperationContext> operation) => Run<object?>(context => { operation(context); return null; });

    /// <summary>Runs an operation; a failure is written as a non-terminating error and the call goes on.</summary>
    protected void RunOrWriteError(Action<OperationContext> operation)
    {
        try { Run(operation); }
        catch (PaastaException e) { WriteError(e); }
    }

    /// <summary>Runs an operation and returns its result; a failure is written as a non-terminating error and gives the default.</summary>
    protected T? RunOrWriteError<T>(Func<OperationContext, T> operation)
    {
        try { return Run(operation); }
        catch (PaastaException e)
        {
            WriteError(e);
            return default;
        }
    }

    protected void WriteError(PaastaException e) => WriteError(ToErrorRecord(e));

    protected void ThrowTerminatingError(PaastaException e) => ThrowTerminatingError(ToErrorRecord(e));

    /// <summary>The ErrorRecord of an engine refusal: its ErrorId, category, target and a redacted message.</summary>
    public static ErrorRecord ToErrorRecord(PaastaException e)
    {
        var safe = Redacted(e);
        var record = new ErrorRecord(safe, safe.ErrorId, Category(safe.Kind), safe.Target ?? safe.File);
        if (ErrorCatalog.RecommendedAction(safe) is { } action)
            record.ErrorDetails = new ErrorDetails(safe.Message) { RecommendedAction = action };
        return record;
    }

    private static PaastaException Redacted(PaastaException e)
    {
        var message = Redaction.Apply(e.Message)!;
        var target = e.Target is string s ? Redaction.Apply(s) : e.Target;
        if (message == e.Message && Equals(target, e.Target)) return e;
        return new PaastaException(e.ErrorId, e.Kind, message)
        {
            File = e.File, Line = e.Line, Column = e.Column, Key = e.Key, Target = target,
        };
    }

    // Every exception that leaves a cmdlet is an ErrorRecord with a stable ErrorId; PowerShell's own pass through.
    private void Guard(Action step)
    {
        try { step(); }
        catch (RuntimeException) { throw; }
        catch (OperationCanceledException) when (CancellationToken.IsCancellationRequested) { throw new PipelineStoppedException(); }
        catch (Exception e) { ThrowTerminatingError(ToErrorRecord(ErrorClassifier.Classify(e))); }
    }

    internal static ErrorCategory Category(PaastaErrorKind kind) => kind switch
    {
        PaastaErrorKind.InvalidArgument => ErrorCategory.InvalidArgument,
        PaastaErrorKind.InvalidData => ErrorCategory.InvalidData,
        PaastaErrorKind.ObjectNotFound => ErrorCategory.ObjectNotFound,
        PaastaErrorKind.ParserError => ErrorCategory.ParserError,
        PaastaErrorKind.ReadError => ErrorCategory.ReadError,
        PaastaErrorKind.WriteError => ErrorCategory.WriteError,
        PaastaErrorKind.OpenError => ErrorCategory.OpenError,
        PaastaErrorKind.InvalidOperation => ErrorCategory.InvalidOperation,
        PaastaErrorKind.ConnectionError => ErrorCategory.ConnectionError,
        PaastaErrorKind.OperationTimeout => ErrorCategory.OperationTimeout,
        PaastaErrorKind.ResourceUnavailable => ErrorCategory.ResourceUnavailable,
        PaastaErrorKind.LimitsExceeded => ErrorCategory.LimitsExceeded,
        PaastaErrorKind.SecurityError => ErrorCategory.SecurityError,
        PaastaErrorKind.InvalidResult => ErrorCategory.InvalidResult,
        _ => ErrorCategory.NotSpecified,
    };

    /// <summary>
    /// The sink operations report to. Calls from the pipeline thread act at once; calls from other threads are
    /// queued and replayed by <see cref="Pump{T}"/>; confirmations block their thread until answered.
    /// </summary>
    internal sealed class PipelineSink : IOperationSink
    {
        private const int ProgressBaseId = 0x7A00;
        private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(200);
        private static readonly TimeSpan CleanupGrace = TimeSpan.FromSeconds(60);

        private readonly PaastaCmdlet _cmdlet;
        private readonly int _pipelineThread = Environment.CurrentManagedThreadId;
        private BlockingCollection<Action> _queue = new();
        private readonly ConcurrentDictionary<string, int> _activityIds = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, DateTime> _lastProgress = new(StringComparer.Ordinal);
        private readonly ConcurrentBag<TaskCompletionSource<bool>> _pendingAnswers = new();
        private readonly HashSet<string> _openActivities = new(StringComparer.Ordinal);
        private readonly bool _verbose;

        public PipelineSink(PaastaCmdlet cmdlet)
        {
            _cmdlet = cmdlet;
            _verbose = cmdlet.MyInvocation.BoundParameters.TryGetValue("Verbose", out var given) ? LanguagePrimitives.IsTrue(given)
                : cmdlet.VerboseGoesToDebug
                  || LanguagePrimitives.TryConvertTo<ActionPreference>(cmdlet.GetVariableValue("VerbosePreference"), out var preference)
                  && preference is not (ActionPreference.SilentlyContinue or ActionPreference.Ignore);
        }

        public bool VerboseWanted => _verbose;

        public void Message(MessageLevel level, string text)
        {
            var safe = Redaction.Apply(text) ?? "";
            Post(() =>
            {
                switch (level)
                {
                    case MessageLevel.Debug: _cmdlet.WriteDebug(safe); break;
                    case MessageLevel.Verbose: _cmdlet.WriteVerbose(safe); break;
                    case MessageLevel.Information: _cmdlet.WriteInformation(safe, new[] { "Paasta" }); break;
                    case MessageLevel.Warning: _cmdlet.WriteWarning(safe); break;
                }
            });
        }

        public void Progress(OperationProgress progress)
        {
            // At most one update per activity every 200 ms reaches the host; completions always do.
            var now = DateTime.UtcNow;
            if (progress.State == ProgressState.Running)
            {
                if (_lastProgress.TryGetValue(progress.Activity, out var last) && now - last < ProgressInterval) return;
                _lastProgress[progress.Activity] = now;
            }
            else _lastProgress.TryRemove(progress.Activity, out _);
            Post(() => WriteProgress(progress));
        }

        public void Error(PaastaException error) => Post(() => _cmdlet.WriteError(error));

        public void ConsoleLine(string line, ConsoleLineKind kind)
        {
            var message = new HostInformationMessage
            {
                Message = Redaction.Apply(line) ?? "",
                NoNewLine = false,
                ForegroundColor = kind == ConsoleLineKind.Status ? ConsoleColor.Green : null,
            };
            Post(() => _cmdlet.WriteInformation(message, new[] { "PSHOST", kind.ToString(), "Paasta" }));
        }

        public void Output(object result) => Post(() => _cmdlet.WriteObject(result));

        public bool ShouldProcess(string target, string action) =>
            Ask(() => _cmdlet.ShouldProcess(Redaction.Apply(target), Redaction.Apply(action)));

        public bool ShouldContinue(string query, string caption) =>
            Ask(() => _cmdlet.ForceAnswersYes || AskHost(Redaction.Apply(query)!, Redaction.Apply(caption)!));

        // A host that cannot prompt (pwsh -NonInteractive, a hosted runspace) answers no: the operation stops where it needs the answer.
        private bool AskHost(string query, string caption)
        {
            try { return _cmdlet.ShouldContinue(query, caption); }
            catch (Exception e) when (e is System.Management.Automation.Host.HostException or PSInvalidOperationException)
            {
                _cmdlet.WriteVerbose($"Not asked ({e.Message}): {query}");
                return false;
            }
        }

        /// <summary>Runs <paramref name="work"/> on a worker thread while replaying its reports on this one.</summary>
        public T Pump<T>(Func<T> work, CancellationToken cancellation)
        {
            if (Environment.CurrentManagedThreadId != _pipelineThread) return work();
            if (_queue.IsAddingCompleted) _queue = new BlockingCollection<Action>();
            var task = Task.Run(work, cancellation);
            _ = task.ContinueWith(_ => TryAdd(static () => { }), TaskScheduler.Default);
            try
            {
                while (!task.IsCompleted || _queue.Count > 0)
                {
                    if (_queue.TryTake(out var next, Timeout.Infinite, cancellation)) next();
                }
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
            {
                Abort();
                // Ctrl+C: the worker sees the cancellation and cleans up (a local run removes its container); wait
                // for that, bounded, so the host does not exit under it.
                try { task.Wait(CleanupGrace); }
                catch (AggregateException) { }
                throw new PipelineStoppedException();
            }
            catch
            {
                // A write failed here (a downstream Select -First, -ErrorAction Stop): stop the worker too.
                Abort();
                throw;
            }
            finally { CompleteProgress(); }
            try { return task.GetAwaiter().GetResult(); }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested) { throw new PipelineStoppedException(); }
            catch (PaastaException) { throw; }
            catch (Exception e) when (e is not RuntimeException) { throw ErrorClassifier.Classify(e); }
        }

        /// <summary>Replays what is still queued (reports made outside a pump, e.g. while disposing).</summary>
        public void Drain()
        {
            while (_queue.TryTake(out var next)) next();
            CompleteProgress();
        }

        /// <summary>Releases every worker waiting for an answer (as "no") and stops accepting reports.</summary>
        public void Abort()
        {
            foreach (var answer in _pendingAnswers) answer.TrySetResult(false);
            _queue.CompleteAdding();
        }

        private void Post(Action action)
        {
            if (Environment.CurrentManagedThreadId == _pipelineThread) action();
            else TryAdd(action);
        }

        private void TryAdd(Action action)
        {
            try { _queue.Add(action); }
            catch (InvalidOperationException) { } // the call is over or stopping: nothing more is shown
        }

        private bool Ask(Func<bool> question)
        {
            if (Environment.CurrentManagedThreadId == _pipelineThread) return question();
            var answer = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            _pendingAnswers.Add(answer);
            TryAdd(() =>
            {
                try { answer.TrySetResult(question()); }
                catch (Exception e) { answer.TrySetException(e); throw; }
            });
            if (_queue.IsAddingCompleted) answer.TrySetResult(false);
            return answer.Task.GetAwaiter().GetResult();
        }

        private void WriteProgress(OperationProgress p)
        {
            var id = _activityIds.GetOrAdd(p.Activity, _ => ProgressBaseId + _activityIds.Count);
            var record = new ProgressRecord(id, Redaction.Apply(p.Activity), Redaction.Apply(p.Status) is { Length: > 0 } s ? s : " ")
            {
                PercentComplete = Math.Clamp(p.PercentComplete, -1, 100),
                SecondsRemaining = p.SecondsRemaining,
                CurrentOperation = Redaction.Apply(p.CurrentOperation),
                RecordType = p.State == ProgressState.Completed ? ProgressRecordType.Completed : ProgressRecordType.Processing,
                ParentActivityId = p.ParentActivity is { } parent && _activityIds.TryGetValue(parent, out var pid) ? pid : -1,
            };
            if (p.State == ProgressState.Completed) _openActivities.Remove(p.Activity);
            else _openActivities.Add(p.Activity);
            _cmdlet.WriteProgress(record);
        }

        // A bar left open by an operation that failed is closed, so it does not linger in the host.
        private void CompleteProgress()
        {
            foreach (var activity in _openActivities.ToList())
            {
                try { WriteProgress(new OperationProgress(activity, " ").Complete()); }
                catch (RuntimeException) { break; }
            }
        }
    }
}
