namespace Paasta.Config;

/// <summary>
/// The host bind mounts a container gets, arranged as PaaSTA arranges them (docs/BEHAVIOUR.md §1.4): one entry
/// per container path + host path (a trailing '/' does not count; of two such entries the later one wins, in
/// the place of the first), then sorted by container path, host path and mode (ordinal).
/// </summary>
public static class HostVolumes
{
    public static IReadOnlyList<ExtraVolume> Arrange(IEnumerable<ExtraVolume> volumes)
    {
        var byKey = new Dictionary<string, int>(StringComparer.Ordinal);
        var kept = new List<ExtraVolume>();
        foreach (var v in volumes)
        {
            // PaaSTA's key is the two paths joined; kept as such so the same entries collapse.
            var key = v.ContainerPath.TrimEnd('/') + v.HostPath.TrimEnd('/');
            if (byKey.TryGetValue(key, out var at)) kept[at] = v;
            else { byKey[key] = kept.Count; kept.Add(v); }
        }
        return kept
            .OrderBy(v => v.ContainerPath, StringComparer.Ordinal)
            .ThenBy(v => v.HostPath, StringComparer.Ordinal)
            .ThenBy(v => v.Mode, StringComparer.Ordinal)
            .ToList();
    }
}
