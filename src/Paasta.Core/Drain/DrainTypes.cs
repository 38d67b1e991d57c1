using Paasta.Errors;

namespace Paasta.Drain;

/// <summary>The four operations of a drain method (docs/BEHAVIOUR.md §7.2).</summary>
// long: ConvertTo-Json writes 64-bit enums by name, which runbooks parsing JSON need (docs/OUTPUT.md).
public enum DrainAction : long
{
    Drain,
    StopDraining,
    IsDraining,
    IsSafeToKill,
}

/// <summary>Where a registered drain method comes from.</summary>
// long: ConvertTo-Json writes 64-bit enums by name, which runbooks parsing JSON need (docs/OUTPUT.md).
public enum DrainMethodSource : long
{
    /// <summary>Shipped with Paasta (noop, hacheck, http, and the test methods test and crashy_drain).</summary>
    BuiltIn,
    /// <summary>A .NET type implementing <see cref="IDrainMethod"/>.</summary>
    Type,
    /// <summary>PowerShell scriptblocks (Register-PaastaDrainMethod).</summary>
    ScriptBlock,
    /// <summary>A factory delegate registered from .NET code.</summary>
    Delegate,
}

/// <summary>A registered drain method, as Get-PaastaDrainMethod lists it.</summary>
public sealed record DrainMethodInfo(string Name, DrainMethodSource Source, string Definition, string? Description)
{
    /// <summary>
    /// One of the methods PaaSTA ships for its own tests (test, crashy_drain): usable by name, since soa-configs may
    /// name them, but not listed to operators unless asked for.
    /// </summary>
    public bool ForTesting { get; init; }

    public override string ToString() => Name;
}

/// <summary>
/// What one guarded drain-method call did (<see cref="DrainGuard"/>): the answer of a query, or the error
/// that stopped it. <see cref="SafeToKill"/> is true only for a successful IsSafeToKill that answered true.
/// </summary>
public sealed class DrainResult
{
    public required DrainAction Action { get; init; }
    public required string Method { get; init; }
    public required DrainTask Task { get; init; }
    public string TaskId => Task.Id;
    /// <summary>The call returned (and, for a query, answered) within the time limit without an error.</summary>
    public bool Succeeded => Error is null;
    /// <summary>The answer of IsDraining or IsSafeToKill; null for Drain and StopDraining, and after an error.</summary>
    public bool? Answer { get; init; }
    /// <summary>The only value the bounce engine may kill on: an IsSafeToKill that succeeded and said yes.</summary>
    public bool SafeToKill => Action == DrainAction.IsSafeToKill && Error is null && Answer == true;
    public PaastaException? Error { get; init; }
    public string? ErrorId => Error?.ErrorId;
    public string? Message => Error?.Message;
    public DateTimeOffset Time { get; init; }
    public TimeSpan Duration { get; init; }

    public override string ToString() => Error is not null
        ? $"{Action} {TaskId} via {Method}: {Error.ErrorId}: {Error.Message}"
        : Answer is { } a ? $"{Action} {TaskId} via {Method}: {a}" : $"{Action} {TaskId} via {Method}: done";
}
