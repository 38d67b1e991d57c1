using k8s.Models;
using Paasta.Config;

namespace Paasta.Bounce;

/// <summary>
/// The part of a drain method (docs/BEHAVIOUR.md §7.2) a bounce needs, for one instance's pods. The bounce engine never
/// deletes a pod this has not called safe to kill.
/// </summary>
public interface IPodDrainer
{
    /// <summary>The drain method's name, for messages.</summary>
    string Name { get; }

    /// <summary>Starts taking the pod out of traffic; idempotent.</summary>
    Task DrainAsync(V1Pod pod, CancellationToken cancellation);

    /// <summary>Puts a drained pod back into traffic; idempotent.</summary>
    Task StopDrainingAsync(V1Pod pod, CancellationToken cancellation);

    /// <summary>Whether the pod is out of traffic now (the method's own state, which may have expired or been reset).</summary>
    Task<bool> IsDrainingAsync(V1Pod pod, CancellationToken cancellation);

    /// <summary>Whether the pod has been drained long enough to be killed.</summary>
    Task<bool> IsSafeToKillAsync(V1Pod pod, CancellationToken cancellation);
}

/// <summary>Which drain method a bounce really uses for an instance.</summary>
public static class BounceDrainMethod
{
    /// <summary>
    /// True when the instance drains with the hacheck that PaaSTA defaults mesh instances to, but no hacheck sidecar
    /// runs in its pods: nothing would answer at pod:6666, every drain would fail and the old copies would never go.
    /// Such a bounce drains with noop; a drain_method written in soa-configs is always honoured.
    /// </summary>
    public static bool IsDefaultHacheckWithoutSidecar(InstanceConfig instance, bool hacheckSidecar) =>
        !hacheckSidecar && !instance.DrainMethodConfigured && instance.DrainMethod == "hacheck";
}

/// <summary>Finds the drainer for an instance (its drain_method and drain_method_params).</summary>
public delegate IPodDrainer PodDrainerFactory(InstanceConfig instance);

/// <summary>The noop drain method: nothing to do, always safe (docs/BEHAVIOUR.md §7.3).</summary>
public sealed class NoopPodDrainer : IPodDrainer
{
    public static readonly NoopPodDrainer Instance = new();
    public string Name => "noop";
    public Task DrainAsync(V1Pod pod, CancellationToken cancellation) => Task.CompletedTask;
    public Task StopDrainingAsync(V1Pod pod, CancellationToken cancellation) => Task.CompletedTask;
    public Task<bool> IsDrainingAsync(V1Pod pod, CancellationToken cancellation) => Task.FromResult(false);
    public Task<bool> IsSafeToKillAsync(V1Pod pod, CancellationToken cancellation) => Task.FromResult(true);
}
