namespace Paasta.Config;

/// <summary>
/// The host paths an instance's containers mount, as PaaSTA lists them for Kubernetes pods and local runs
/// (docs/BEHAVIOUR.md §5.6, §9.3): extra_volumes, then /nail/bulkdata when uses_bulkdata is true, with
/// duplicates removed and the rest sorted. One rule, used by every builder that mounts them.
/// </summary>
public static class ContainerVolumes
{
    public static readonly ExtraVolume Bulkdata = new("/nail/bulkdata", "/nail/bulkdata", "RO");

    /// <summary>The instance's volumes: extra_volumes and bulkdata, de-duplicated and sorted.</summary>
    public static IReadOnlyList<ExtraVolume> Of(InstanceConfig instance)
    {
        var volumes = new List<ExtraVolume>(instance.ExtraVolumes);
        if (instance.UsesBulkdata) volumes.Add(Bulkdata);
        return Reorder(volumes);
    }

    /// <summary>
    /// PaaSTA's de-duplication and order: two entries are the same mount when their container path and host path,
    /// each without trailing '/', joined, are equal (so <c>/b/</c> and <c>/b</c> are one path); the later entry
    /// wins. The survivors are sorted by container path, then host path, then mode (ordinal, as Python sorts
    /// strings).
    /// </summary>
    public static IReadOnlyList<ExtraVolume> Reorder(IEnumerable<ExtraVolume> volumes)
    {
        // PaaSTA keys on the plain concatenation of both paths; the key is kept as it is, quirks included, so the
        // same soa-configs give the same mounts.
        var byKey = new Dictionary<string, ExtraVolume>(StringComparer.Ordinal);
        foreach (var v in volumes) byKey[v.ContainerPath.TrimEnd('/') + v.HostPath.TrimEnd('/')] = v;
        return byKey.Values
            .OrderBy(v => v.ContainerPath, StringComparer.Ordinal)
            .ThenBy(v => v.HostPath, StringComparer.Ordinal)
            .ThenBy(v => v.Mode, StringComparer.Ordinal)
            .ToList();
    }
}
