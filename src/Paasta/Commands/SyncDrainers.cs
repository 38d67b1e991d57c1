using Paasta.Bounce;
using Paasta.Config;

namespace Paasta.Commands;

/// <summary>
/// The drainers of one Sync call, one per instance, built from the drain-method registry (so methods registered
/// with Register-PaastaDrainMethod are used too) and disposed when the call ends.
/// </summary>
internal sealed class SyncDrainers : IDisposable
{
    private readonly Dictionary<string, GuardedPodDrainer> _byInstance = new(StringComparer.Ordinal);
    private readonly bool _hacheckSidecar;

    /// <param name="hacheckSidecar">Whether mesh pods get the hacheck sidecar (a sidecar image is configured).</param>
    public SyncDrainers(bool hacheckSidecar) => _hacheckSidecar = hacheckSidecar;

    public IPodDrainer For(InstanceConfig instance)
    {
        if (BounceDrainMethod.IsDefaultHacheckWithoutSidecar(instance, _hacheckSidecar)) return NoopPodDrainer.Instance;
        var key = $"{instance.Service}.{instance.Instance}.{instance.Cluster}";
        if (!_byInstance.TryGetValue(key, out var drainer)) _byInstance[key] = drainer = new GuardedPodDrainer(instance);
        return drainer;
    }

    public void Dispose()
    {
        foreach (var d in _byInstance.Values) d.Dispose();
        _byInstance.Clear();
    }
}
