using Paasta.Config;
using Paasta.Drain;

namespace Paasta.Bounce;

/// <summary>
/// The drainers of one Sync call, one per instance, built from the drain-method registry (so methods registered
/// with Register-PaastaDrainMethod are used too) and disposed when the call ends.
/// </summary>
public sealed class InstanceDrainers : IDisposable
{
    private readonly Dictionary<string, GuardedPodDrainer> _byInstance = new(StringComparer.Ordinal);
    private readonly bool _hacheckSidecar;
    private readonly DrainMethodRegistry? _registry;
    private readonly object _gate = new();

    /// <param name="hacheckSidecar">Whether mesh pods get the hacheck sidecar (a sidecar image is configured).</param>
    /// <param name="registry">Where drain methods are found; default the process-wide registry.</param>
    public InstanceDrainers(bool hacheckSidecar, DrainMethodRegistry? registry = null)
    {
        _hacheckSidecar = hacheckSidecar;
        _registry = registry;
    }

    public IPodDrainer For(InstanceConfig instance)
    {
        if (BounceDrainMethod.IsDefaultHacheckWithoutSidecar(instance, _hacheckSidecar)) return NoopPodDrainer.Instance;
        var key = $"{instance.Service}.{instance.Instance}.{instance.Cluster}";
        lock (_gate)
        {
            if (!_byInstance.TryGetValue(key, out var drainer)) _byInstance[key] = drainer = new GuardedPodDrainer(instance, _registry);
            return drainer;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var d in _byInstance.Values) d.Dispose();
            _byInstance.Clear();
        }
    }
}
