using System.Collections.Concurrent;

namespace Paasta.Drain;

/// <summary>
/// A drain method made of delegates: how custom methods from PowerShell scriptblocks (and quick .NET ones) plug
/// in without a class. Drain and IsSafeToKill are required. Without StopDraining, undoing a drain does nothing
/// remote. Without IsDraining, the answer is whether this registration drained the task in this process and
/// has not stopped since (<see cref="DrainedTasks"/>, shared by every method one factory builds).
/// </summary>
public sealed class DelegateDrainMethod : IDrainMethod
{
    public delegate Task DrainOperation(DrainTask task, CancellationToken cancellationToken);
    public delegate Task<bool> DrainQuery(DrainTask task, CancellationToken cancellationToken);

    private readonly DrainOperation _drain;
    private readonly DrainQuery _isSafeToKill;
    private readonly DrainOperation? _stopDraining;
    private readonly DrainQuery? _isDraining;

    public DelegateDrainMethod(DrainOperation drain, DrainQuery isSafeToKill, DrainOperation? stopDraining = null, DrainQuery? isDraining = null,
        DrainedTaskSet? drainedTasks = null)
    {
        _drain = drain ?? throw new ArgumentNullException(nameof(drain));
        _isSafeToKill = isSafeToKill ?? throw new ArgumentNullException(nameof(isSafeToKill));
        _stopDraining = stopDraining;
        _isDraining = isDraining;
        DrainedTasks = drainedTasks ?? new DrainedTaskSet();
    }

    public DrainedTaskSet DrainedTasks { get; }

    public async Task DrainAsync(DrainTask task, CancellationToken cancellationToken)
    {
        await _drain(task, cancellationToken).ConfigureAwait(false);
        DrainedTasks.Add(task);
    }

    public async Task StopDrainingAsync(DrainTask task, CancellationToken cancellationToken)
    {
        if (_stopDraining is not null) await _stopDraining(task, cancellationToken).ConfigureAwait(false);
        DrainedTasks.Remove(task);
    }

    public Task<bool> IsDrainingAsync(DrainTask task, CancellationToken cancellationToken) =>
        _isDraining is not null ? _isDraining(task, cancellationToken) : Task.FromResult(DrainedTasks.Contains(task));

    public Task<bool> IsSafeToKillAsync(DrainTask task, CancellationToken cancellationToken) => _isSafeToKill(task, cancellationToken);
}

/// <summary>Tasks a delegate method drained in this process, keyed by namespace and id.</summary>
public sealed class DrainedTaskSet
{
    private readonly ConcurrentDictionary<string, byte> _ids = new(StringComparer.Ordinal);
    private static string Key(DrainTask task) => $"{task.Namespace}/{task.Id}";
    public void Add(DrainTask task) => _ids[Key(task)] = 0;
    public void Remove(DrainTask task) => _ids.TryRemove(Key(task), out _);
    public bool Contains(DrainTask task) => _ids.ContainsKey(Key(task));
}
