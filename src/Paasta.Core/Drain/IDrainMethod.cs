using Paasta.Config;

namespace Paasta.Drain;

/// <summary>
/// A drain method (docs/BEHAVIOUR.md §7.2): takes one copy out of traffic before the bounce engine removes it. All four
/// operations are per task and asynchronous; state must live outside the process (a bounce spans several
/// Sync passes and processes), except for the in-process <c>test</c> method. Implementations are created per
/// instance by a <see cref="DrainMethodFactory"/> from a <see cref="DrainContext"/>; a .NET type registered
/// with <see cref="DrainMethodRegistry.Register(string, Type, string?, bool)"/> needs a public constructor
/// taking a <see cref="DrainContext"/> or none.
/// </summary>
public interface IDrainMethod
{
    /// <summary>Start removing the task from traffic. Idempotent.</summary>
    Task DrainAsync(DrainTask task, CancellationToken cancellationToken);

    /// <summary>Undo a drain. Idempotent.</summary>
    Task StopDrainingAsync(DrainTask task, CancellationToken cancellationToken);

    /// <summary>Whether the task is currently marked down.</summary>
    Task<bool> IsDrainingAsync(DrainTask task, CancellationToken cancellationToken);

    /// <summary>Whether the task has been drained long enough to be killed.</summary>
    Task<bool> IsSafeToKillAsync(DrainTask task, CancellationToken cancellationToken);
}

/// <summary>Builds a drain method for one instance.</summary>
public delegate IDrainMethod DrainMethodFactory(DrainContext context);

/// <summary>
/// What a drain method is constructed with (docs/BEHAVIOUR.md §7.2: service, instance, registrations, drain_method_params),
/// plus the clock and HTTP handler, which tests replace.
/// </summary>
public sealed class DrainContext
{
    private static readonly IReadOnlyDictionary<string, object?> NoParams = new Dictionary<string, object?>();
    private IReadOnlyList<string> _registrations = Array.Empty<string>();

    public string Service { get; init; } = "";
    public string Instance { get; init; } = "";

    /// <summary>The instance's registrations; when none are given, <c>service.instance</c> (PaaSTA's default).</summary>
    public IReadOnlyList<string> Registrations
    {
        get => _registrations.Count > 0 || Service.Length == 0 ? _registrations : new[] { $"{Service}.{Instance}" };
        init => _registrations = value ?? Array.Empty<string>();
    }

    /// <summary>drain_method_params as read from soa-configs (numbers, strings, nested maps).</summary>
    public IReadOnlyDictionary<string, object?> Params { get; init; } = NoParams;

    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>Replaces the HTTP handler hacheck and http use (tests); null: Paasta's own, without proxies.</summary>
    public HttpMessageHandler? HttpHandler { get; init; }

    /// <summary>The context for an instance: its service, instance, registrations and drain_method_params.</summary>
    public static DrainContext For(InstanceConfig instance) => new()
    {
        Service = instance.Service,
        Instance = instance.Instance,
        Registrations = instance.Registrations,
        Params = instance.DrainMethodParams,
    };
}
