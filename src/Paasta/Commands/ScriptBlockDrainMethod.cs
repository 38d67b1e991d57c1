using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using Paasta.Drain;
using Paasta.Errors;

namespace Paasta.Commands;

/// <summary>
/// Runs the scriptblocks of a drain method registered from PowerShell, for the engine's async code.
/// <para>
/// Why a runspace pool of its own rather than the session that registered them: a ScriptBlock belongs to the
/// runspace it was created in and can only run on that runspace's pipeline thread. While Sync-PaastaInstance or
/// Invoke-PaastaDrainMethod waits for the engine, that thread is blocked in the wait, so a drain call marshalled
/// back to it would deadlock (and from a thread-pool thread, invoking it directly fails: no runspace there).
/// So the blocks are kept as text and recreated from it in a private pool, where the engine may call them from
/// any thread, several at once. The price: they do not see the registering session's variables or functions;
/// they get the task (as $_, $args[0] or the first parameter) and the DrainContext (as $args[1] or the second).
/// </para>
/// </summary>
internal sealed class ScriptBlockDrainMethod : IDisposable
{
    // Any error in a block fails the call: a drain that half-worked must not look like one that worked.
    private const string Runner = """
        param([string] $PaastaDrainScript, $PaastaDrainTask, $PaastaDrainContext)
        $ErrorActionPreference = 'Stop'
        $block = [scriptblock]::Create($PaastaDrainScript)
        $variables = [System.Collections.Generic.List[psvariable]]::new()
        $variables.Add([psvariable]::new('_', $PaastaDrainTask))
        $block.InvokeWithContext($null, $variables, @($PaastaDrainTask, $PaastaDrainContext))
        """;

    private const int MaxConcurrentCalls = 4;

    private readonly string _name;
    private readonly string _drain;
    private readonly string _isSafeToKill;
    private readonly string? _stopDraining;
    private readonly string? _isDraining;
    private readonly DrainedTaskSet _drained = new();
    private readonly Lazy<RunspacePool> _pool;
    private volatile bool _disposed;

    public ScriptBlockDrainMethod(string name, ScriptBlock drain, ScriptBlock isSafeToKill, ScriptBlock? stopDraining, ScriptBlock? isDraining)
    {
        _name = name;
        _drain = drain.ToString();
        _isSafeToKill = isSafeToKill.ToString();
        _stopDraining = stopDraining?.ToString();
        _isDraining = isDraining?.ToString();
        _pool = new Lazy<RunspacePool>(() =>
        {
            var pool = RunspaceFactory.CreateRunspacePool(InitialSessionState.CreateDefault2());
            pool.SetMinRunspaces(1);
            pool.SetMaxRunspaces(MaxConcurrentCalls);
            pool.Open();
            return pool;
        }, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>"Drain, IsSafeToKill, ..." — the blocks given, for Get-PaastaDrainMethod.</summary>
    public string Definition => string.Join(", ", new[]
    {
        "Drain", "IsSafeToKill", _stopDraining is null ? null : "StopDraining", _isDraining is null ? null : "IsDraining",
    }.Where(s => s is not null));

    /// <summary>One method per instance; all share the pool and the record of drained tasks (used when there is no IsDraining block).</summary>
    public IDrainMethod Create(DrainContext context) => new DelegateDrainMethod(
        async (task, token) => await RunAsync(DrainAction.Drain, _drain, task, context, token).ConfigureAwait(false),
        async (task, token) => Answer(DrainAction.IsSafeToKill, task, await RunAsync(DrainAction.IsSafeToKill, _isSafeToKill, task, context, token).ConfigureAwait(false)),
        _stopDraining is null ? null : async (task, token) => await RunAsync(DrainAction.StopDraining, _stopDraining, task, context, token).ConfigureAwait(false),
        _isDraining is null ? null : async (task, token) => Answer(DrainAction.IsDraining, task, await RunAsync(DrainAction.IsDraining, _isDraining, task, context, token).ConfigureAwait(false)),
        _drained);

    private async Task<Collection<PSObject>> RunAsync(DrainAction action, string script, DrainTask task, DrainContext context, CancellationToken token)
    {
        token.ThrowIfCancellationRequested();
        if (_disposed) throw Failed(action, task, "the method was unregistered.");
        using var ps = PowerShell.Create();
        ps.RunspacePool = _pool.Value;
        ps.AddScript(Runner).AddArgument(script).AddArgument(task).AddArgument(context);
        // A timeout or Ctrl+C stops the pipeline (Start-Sleep, Invoke-RestMethod...) instead of leaving it running.
        using var stop = token.Register(() => { try { ps.BeginStop(null, null); } catch (ObjectDisposedException) { } });
        PSDataCollection<PSObject> output;
        try
        {
            output = await Task.Factory.FromAsync(ps.BeginInvoke(), ps.EndInvoke).ConfigureAwait(false);
        }
        catch (PipelineStoppedException) when (token.IsCancellationRequested)
        {
            throw new OperationCanceledException(token);
        }
        catch (RuntimeException e)
        {
            throw Failed(action, task, Unwrap(e).Message, e);
        }
        if (ps.Streams.Error.Count > 0)
            throw Failed(action, task, ps.Streams.Error[0].ToString(), ps.Streams.Error[0].Exception);
        return new Collection<PSObject>(output.Where(o => o is not null).ToList());
    }

    // InvokeWithContext wraps what the block threw, and $ErrorActionPreference = 'Stop' wraps a Write-Error:
    // report what the block threw or wrote.
    private static Exception Unwrap(RuntimeException e)
    {
        Exception inner = e is MethodInvocationException { InnerException: RuntimeException wrapped } ? wrapped : e;
        return inner is ActionPreferenceStopException { ErrorRecord.Exception: { } written } ? written : inner;
    }

    private bool Answer(DrainAction action, DrainTask task, Collection<PSObject> output)
    {
        if (output.Count > 0 && output[^1].BaseObject is bool answer) return answer;
        var got = output.Count == 0 ? "nothing" : $"'{output[^1]}' ({output[^1].BaseObject.GetType().Name})";
        throw new PaastaException("DrainScriptResultInvalid", PaastaErrorKind.InvalidData,
            $"Drain method '{_name}': the {action} scriptblock must end by returning $true or $false for {task.Id}; it returned {got}.") { Target = task };
    }

    private PaastaException Failed(DrainAction action, DrainTask task, string message, Exception? inner = null) =>
        new("DrainScriptBlockFailed", PaastaErrorKind.InvalidOperation, $"Drain method '{_name}': the {action} scriptblock failed for {task.Id}: {message}", inner) { Target = task };

    public void Dispose()
    {
        _disposed = true;
        if (_pool.IsValueCreated) _pool.Value.Dispose();
    }
}
