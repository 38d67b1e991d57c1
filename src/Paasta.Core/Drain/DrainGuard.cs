using System.Diagnostics;
using Paasta.Errors;

namespace Paasta.Drain;

/// <summary>
/// The safety wrapper the bounce engine drains through. Every call becomes a <see cref="DrainResult"/>: a
/// method that throws, returns nothing, blocks or runs past <see cref="Timeout"/> is reported as an error
/// result, and only a successful IsSafeToKill that answered true has <see cref="DrainResult.SafeToKill"/>, so
/// a failure can never lead to killing an undrained copy. The caller's own cancellation is the one exception
/// that propagates (OperationCanceledException): the caller asked to stop, and nothing is killed either way.
/// </summary>
public sealed class DrainGuard : IDisposable
{
    /// <summary>Longer than hacheck's own 45 s request limit, so its answers are not cut short.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    public DrainGuard(IDrainMethod method, string methodName, TimeSpan? timeout = null, TimeProvider? clock = null)
    {
        Method = method ?? throw new ArgumentNullException(nameof(method));
        MethodName = methodName ?? throw new ArgumentNullException(nameof(methodName));
        Timeout = timeout ?? DefaultTimeout;
        if (Timeout <= TimeSpan.Zero && Timeout != System.Threading.Timeout.InfiniteTimeSpan)
            throw new ArgumentOutOfRangeException(nameof(timeout), "The time limit must be positive.");
        Clock = clock ?? TimeProvider.System;
    }

    public IDrainMethod Method { get; }
    public string MethodName { get; }
    /// <summary>How long one call may take before it counts as failed.</summary>
    public TimeSpan Timeout { get; }
    public TimeProvider Clock { get; }

    public Task<DrainResult> DrainAsync(DrainTask task, CancellationToken cancellationToken = default) =>
        InvokeAsync(DrainAction.Drain, task, cancellationToken);

    public Task<DrainResult> StopDrainingAsync(DrainTask task, CancellationToken cancellationToken = default) =>
        InvokeAsync(DrainAction.StopDraining, task, cancellationToken);

    public Task<DrainResult> IsDrainingAsync(DrainTask task, CancellationToken cancellationToken = default) =>
        InvokeAsync(DrainAction.IsDraining, task, cancellationToken);

    public Task<DrainResult> IsSafeToKillAsync(DrainTask task, CancellationToken cancellationToken = default) =>
        InvokeAsync(DrainAction.IsSafeToKill, task, cancellationToken);

    public async Task<DrainResult> InvokeAsync(DrainAction action, DrainTask task, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(task);
        cancellationToken.ThrowIfCancellationRequested();
        var started = Clock.GetUtcNow();
        var watch = Stopwatch.StartNew();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // Task.Run: a method that blocks before returning its Task (a synchronous implementation) cannot hold
        // the caller past the time limit. A call whose time ran out before a thread picked it up is never started:
        // its caller has already reported the copy as left serving.
        var token = limit.Token;
        var call = Task.Run(() => token.IsCancellationRequested ? Task.FromCanceled<bool?>(token) : Start(action, task, token), CancellationToken.None);
        DrainResult Result(bool? answer, PaastaException? error) => new()
        {
            Action = action, Method = MethodName, Task = task, Answer = answer, Error = error, Time = started, Duration = watch.Elapsed,
        };
        try
        {
            var answer = await call.WaitAsync(Timeout, Clock, cancellationToken).ConfigureAwait(false);
            return Result(answer, null);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            limit.Cancel();
            Observe(call);
            throw;
        }
        catch (TimeoutException) when (!call.IsCompleted)
        {
            limit.Cancel();   // ask the method to stop; it is abandoned either way
            Observe(call);
            return Result(null, new PaastaException("DrainMethodTimedOut", PaastaErrorKind.OperationTimeout,
                $"Drain method '{MethodName}' did not finish {action} for {task.Id} within {Timeout.TotalSeconds:0.###} s; the copy is left serving.") { Target = task });
        }
        catch (PaastaException e)
        {
            return Result(null, e);
        }
        catch (Exception e)
        {
            var inner = e is AggregateException { InnerExceptions.Count: 1 } a ? a.InnerExceptions[0] : e;
            if (inner is PaastaException p) return Result(null, p);
            return Result(null, new PaastaException("DrainMethodFailed", PaastaErrorKind.InvalidOperation,
                $"Drain method '{MethodName}' failed {action} for {task.Id}: {inner.Message}", inner) { Target = task });
        }
    }

    private async Task<bool?> Start(DrainAction action, DrainTask task, CancellationToken token)
    {
        switch (action)
        {
            case DrainAction.Drain:
                await (Method.DrainAsync(task, token) ?? throw Null(action)).ConfigureAwait(false);
                return null;
            case DrainAction.StopDraining:
                await (Method.StopDrainingAsync(task, token) ?? throw Null(action)).ConfigureAwait(false);
                return null;
            case DrainAction.IsDraining:
                return await (Method.IsDrainingAsync(task, token) ?? throw Null(action)).ConfigureAwait(false);
            case DrainAction.IsSafeToKill:
                return await (Method.IsSafeToKillAsync(task, token) ?? throw Null(action)).ConfigureAwait(false);
            default:
                throw new ArgumentOutOfRangeException(nameof(action), action, null);
        }
    }

    private static InvalidOperationException Null(DrainAction action) => new($"{action} returned no task.");

    // An abandoned call may still fail later; observe it so it is not reported as an unobserved exception.
    private static void Observe(Task task) =>
        task.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);

    /// <summary>Disposes the method when it holds resources (hacheck and http hold an HTTP client).</summary>
    public void Dispose() => (Method as IDisposable)?.Dispose();
}
