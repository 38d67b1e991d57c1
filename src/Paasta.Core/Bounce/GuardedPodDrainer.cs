using k8s.Models;
using Paasta.Drain;
using Paasta.Config;

namespace Paasta.Bounce;

/// <summary>
/// The instance's drain method (drain_method, drain_method_params) from the registry, behind its
/// <see cref="DrainGuard"/>: a failed or timed-out call surfaces as the guard's PaastaException, and
/// "safe to kill" is only ever a successful answer of true.
/// </summary>
public sealed class GuardedPodDrainer : IPodDrainer, IDisposable
{
    private readonly DrainGuard _guard;
    private readonly int _port;

    public GuardedPodDrainer(InstanceConfig instance, DrainMethodRegistry? registry = null)
    {
        _guard = (registry ?? DrainMethodRegistry.Default).CreateGuarded(instance);
        _port = (int)instance.ContainerPort;
    }

    public string Name => _guard.MethodName;

    // A pod that never got an IP never took traffic: there is nothing to drain, and it may go.
    private static bool NeverServed(V1Pod pod) => string.IsNullOrEmpty(pod.Status?.PodIP);

    public async Task DrainAsync(V1Pod pod, CancellationToken cancellation)
    {
        if (NeverServed(pod)) return;
        var result = await _guard.DrainAsync(DrainTask.FromPod(pod, _port), cancellation).ConfigureAwait(false);
        if (result.Error is { } error) throw error;
    }

    public async Task StopDrainingAsync(V1Pod pod, CancellationToken cancellation)
    {
        if (NeverServed(pod)) return;
        var result = await _guard.StopDrainingAsync(DrainTask.FromPod(pod, _port), cancellation).ConfigureAwait(false);
        if (result.Error is { } error) throw error;
    }

    public async Task<bool> IsDrainingAsync(V1Pod pod, CancellationToken cancellation)
    {
        if (NeverServed(pod)) return true;
        var result = await _guard.IsDrainingAsync(DrainTask.FromPod(pod, _port), cancellation).ConfigureAwait(false);
        if (result.Error is { } error) throw error;
        return result.Answer == true;
    }

    public async Task<bool> IsSafeToKillAsync(V1Pod pod, CancellationToken cancellation)
    {
        if (NeverServed(pod)) return true;
        var result = await _guard.IsSafeToKillAsync(DrainTask.FromPod(pod, _port), cancellation).ConfigureAwait(false);
        if (result.Error is { } error) throw error;
        return result.SafeToKill;
    }

    public void Dispose() => _guard.Dispose();
}
