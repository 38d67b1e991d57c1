using k8s.Models;

namespace Paasta.Bounce;

/// <summary>
/// The part of a drain method (spec §7.2) a bounce needs, for one instance's pods. The bounce engine never
/// deletes a pod this has not called safe to kill.
/// </summary>
public interface IPodDrainer
{
    /// <summary>The drain method's name, for messages.</summary>
    string Name { get; }

    /// <summary>Starts taking the pod out of traffic; idempotent.</summary>
    Task DrainAsync(V1Pod pod, CancellationToken cancellation);

    /// <summary>Whether the pod has been drained long enough to be killed.</summary>
    Task<bool> IsSafeToKillAsync(V1Pod pod, CancellationToken cancellation);
}

/// <summary>Finds the drainer for an instance (its drain_method and drain_method_params).</summary>
public delegate IPodDrainer PodDrainerFactory(InstanceConfig instance);

/// <summary>The noop drain method: nothing to do, always safe (spec §7.3).</summary>
public sealed class NoopPodDrainer : IPodDrainer
{
    public static readonly NoopPodDrainer Instance = new();
    public string Name => "noop";
    public Task DrainAsync(V1Pod pod, CancellationToken cancellation) => Task.CompletedTask;
    public Task<bool> IsSafeToKillAsync(V1Pod pod, CancellationToken cancellation) => Task.FromResult(true);
}
