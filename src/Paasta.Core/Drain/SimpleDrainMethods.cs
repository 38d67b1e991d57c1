using Paasta.Errors;

namespace Paasta.Drain;

/// <summary><c>noop</c> (docs/BEHAVIOUR.md §7.3): drains nothing, is never draining, is always safe to kill.</summary>
public sealed class NoopDrainMethod : IDrainMethod
{
    public Task DrainAsync(DrainTask task, CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopDrainingAsync(DrainTask task, CancellationToken cancellationToken) => Task.CompletedTask;
    public Task<bool> IsDrainingAsync(DrainTask task, CancellationToken cancellationToken) => Task.FromResult(false);
    public Task<bool> IsSafeToKillAsync(DrainTask task, CancellationToken cancellationToken) => Task.FromResult(true);
}

/// <summary><c>crashy_drain</c> (docs/BEHAVIOUR.md §7.3): every operation fails. For testing that failures keep copies alive.</summary>
public sealed class CrashyDrainMethod : IDrainMethod
{
    private static Exception Crash(DrainAction action) => new InvalidOperationException($"crashy_drain fails every call ({action}).");
    public Task DrainAsync(DrainTask task, CancellationToken cancellationToken) => throw Crash(DrainAction.Drain);
    public Task StopDrainingAsync(DrainTask task, CancellationToken cancellationToken) => throw Crash(DrainAction.StopDraining);
    public Task<bool> IsDrainingAsync(DrainTask task, CancellationToken cancellationToken) => throw Crash(DrainAction.IsDraining);
    public Task<bool> IsSafeToKillAsync(DrainTask task, CancellationToken cancellationToken) => throw Crash(DrainAction.IsSafeToKill);
}

/// <summary>One call the <c>test</c> method received.</summary>
public sealed record TestDrainEvent(DateTimeOffset Time, DrainAction Action, string TaskId, bool? Answer);

/// <summary>
/// The in-process record behind the <c>test</c> drain method (docs/BEHAVIOUR.md §7.3): which task ids are downed and which
/// are safe to kill, and every call in order. <see cref="Shared"/> is the process-wide record the registered
/// <c>test</c> method uses (PaaSTA keeps it class-level too); tests may make their own.
/// </summary>
public sealed class TestDrainRecord
{
    private readonly object _gate = new();
    private readonly Dictionary<string, DateTimeOffset> _downed = new(StringComparer.Ordinal);
    private readonly HashSet<string> _safe = new(StringComparer.Ordinal);
    private readonly List<TestDrainEvent> _events = new();

    public static TestDrainRecord Shared { get; } = new();

    public IReadOnlyCollection<string> DownedTaskIds { get { lock (_gate) return _downed.Keys.Order(StringComparer.Ordinal).ToList(); } }
    public IReadOnlyCollection<string> SafeToKillTaskIds { get { lock (_gate) return _safe.Order(StringComparer.Ordinal).ToList(); } }
    public IReadOnlyList<TestDrainEvent> Events { get { lock (_gate) return _events.ToList(); } }

    /// <summary>Moves a downed task to the safe set; false when it is not downed.</summary>
    public bool MarkSafeToKill(string taskId)
    {
        lock (_gate)
        {
            if (!_downed.Remove(taskId)) return false;
            _safe.Add(taskId);
            return true;
        }
    }

    /// <summary>Moves one downed task (the earliest drained) to the safe set and returns its id; null when none is downed.</summary>
    public string? MarkAnySafeToKill()
    {
        lock (_gate)
        {
            if (_downed.Count == 0) return null;
            var id = _downed.MinBy(kv => kv.Value).Key;
            _downed.Remove(id);
            _safe.Add(id);
            return id;
        }
    }

    public void Reset()
    {
        lock (_gate) { _downed.Clear(); _safe.Clear(); _events.Clear(); }
    }

    internal void Drain(string id, DateTimeOffset now)
    {
        lock (_gate)
        {
            if (!_safe.Contains(id)) _downed.TryAdd(id, now);
            _events.Add(new(now, DrainAction.Drain, id, null));
        }
    }

    internal void StopDraining(string id, DateTimeOffset now)
    {
        lock (_gate)
        {
            _downed.Remove(id);
            _safe.Remove(id);
            _events.Add(new(now, DrainAction.StopDraining, id, null));
        }
    }

    internal bool IsDraining(string id, DateTimeOffset now, double? delay)
    {
        lock (_gate)
        {
            Promote(id, now, delay);
            var answer = _downed.ContainsKey(id) || _safe.Contains(id);
            _events.Add(new(now, DrainAction.IsDraining, id, answer));
            return answer;
        }
    }

    internal bool IsSafeToKill(string id, DateTimeOffset now, double? delay)
    {
        lock (_gate)
        {
            Promote(id, now, delay);
            var answer = _safe.Contains(id);
            _events.Add(new(now, DrainAction.IsSafeToKill, id, answer));
            return answer;
        }
    }

    // With a delay, a downed task becomes safe on its own once it has been down that long.
    private void Promote(string id, DateTimeOffset now, double? delay)
    {
        if (delay is { } d && _downed.TryGetValue(id, out var since) && (now - since).TotalSeconds >= d)
        {
            _downed.Remove(id);
            _safe.Add(id);
        }
    }
}

/// <summary>
/// <c>test</c> (docs/BEHAVIOUR.md §7.3): records drains in a <see cref="TestDrainRecord"/>. Drain downs the task unless it is
/// already safe; StopDraining forgets it; IsDraining is "downed or safe"; IsSafeToKill is "safe". A task becomes
/// safe through <see cref="TestDrainRecord.MarkSafeToKill"/>, or, when drain_method_params has <c>delay</c>
/// (a Paasta addition for dry runs), by itself that many seconds after it was drained.
/// </summary>
public sealed class TestDrainMethod : IDrainMethod
{
    private readonly TimeProvider _clock;

    public TestDrainMethod(DrainContext context, TestDrainRecord? record = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        Record = record ?? TestDrainRecord.Shared;
        _clock = context.Clock;
        Delay = DrainParams.Get(context.Params, "delay") is null ? null : DrainParams.Seconds(context.Params, "test", "delay", 0);
    }

    public TestDrainRecord Record { get; }
    /// <summary>Seconds after which a drained task is safe by itself; null: only when marked.</summary>
    public double? Delay { get; }

    public Task DrainAsync(DrainTask task, CancellationToken cancellationToken)
    {
        Record.Drain(Id(task), _clock.GetUtcNow());
        return Task.CompletedTask;
    }

    public Task StopDrainingAsync(DrainTask task, CancellationToken cancellationToken)
    {
        Record.StopDraining(Id(task), _clock.GetUtcNow());
        return Task.CompletedTask;
    }

    public Task<bool> IsDrainingAsync(DrainTask task, CancellationToken cancellationToken) =>
        Task.FromResult(Record.IsDraining(Id(task), _clock.GetUtcNow(), Delay));

    public Task<bool> IsSafeToKillAsync(DrainTask task, CancellationToken cancellationToken) =>
        Task.FromResult(Record.IsSafeToKill(Id(task), _clock.GetUtcNow(), Delay));

    private static string Id(DrainTask task)
    {
        ArgumentNullException.ThrowIfNull(task);
        if (string.IsNullOrEmpty(task.Id))
            throw new PaastaException("DrainTaskInvalid", PaastaErrorKind.InvalidArgument, "The drain task has no Id (the pod name).") { Target = task };
        return task.Id;
    }
}
