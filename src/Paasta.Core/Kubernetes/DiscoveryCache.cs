using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Paasta.IO;

namespace Paasta.Kubernetes;

/// <summary>
/// The API group versions a server serves, kept on disk between processes (as kubectl keeps its discovery under
/// ~/.kube/cache), so that a one-shot command does not ask again within ten minutes. One small text file per server
/// URL: the URL on the first line, then one group version per line. Only ever a shortcut: a file that is missing,
/// old, unreadable or for another URL is a miss (the server is asked), a file that cannot be written is skipped,
/// and a version the server no longer serves sends the caller back to the server
/// (<see cref="KubeConnection.WithCurrentDiscoveryAsync{T}"/>).
/// </summary>
public static class DiscoveryCache
{
    private const long MaxBytes = 64 * 1024;

    public static string PathFor(string directory, string serverUrl) =>
        Path.Combine(directory, Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(serverUrl)))[..32].ToLowerInvariant() + ".txt");

    /// <summary>The group versions saved for <paramref name="serverUrl"/> less than <paramref name="maxAge"/> ago, else null.</summary>
    public static HashSet<string>? Read(string directory, string serverUrl, TimeSpan maxAge)
    {
        var path = PathFor(directory, serverUrl);
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists || DateTime.UtcNow - info.LastWriteTimeUtc >= maxAge || info.LastWriteTimeUtc > DateTime.UtcNow.AddMinutes(1)) return null;
            var lines = BoundedFile.ReadAllLines(path, MaxBytes);
            if (lines.Length < 2 || lines[0] != serverUrl) return null;
            var versions = new HashSet<string>(lines.Skip(1).Where(l => l.Length > 0), StringComparer.Ordinal);
            return versions.Contains("v1") ? versions : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Errors.PaastaException)
        {
            return null;
        }
    }

    public static void Write(string directory, string serverUrl, IEnumerable<string> groupVersions)
    {
        try
        {
            Directory.CreateDirectory(directory);
            AtomicFile.WriteAllText(PathFor(directory, serverUrl),
                serverUrl + "\n" + string.Concat(groupVersions.Order(StringComparer.Ordinal).Select(v => v + "\n")));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Errors.PaastaException) { }
    }

    public static void Delete(string directory, string serverUrl)
    {
        try { File.Delete(PathFor(directory, serverUrl)); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>The group versions of a discovery response (<c>GET /apis</c>), with the core group's <c>v1</c>.</summary>
    public static HashSet<string> GroupVersionsOf(JsonElement groupList)
    {
        var result = new HashSet<string>(StringComparer.Ordinal) { "v1" };
        if (groupList.ValueKind != JsonValueKind.Object || !groupList.TryGetProperty("groups", out var groups) || groups.ValueKind != JsonValueKind.Array) return result;
        foreach (var group in groups.EnumerateArray())
        {
            if (group.ValueKind != JsonValueKind.Object || !group.TryGetProperty("versions", out var versions) || versions.ValueKind != JsonValueKind.Array) continue;
            foreach (var version in versions.EnumerateArray())
                if (version.ValueKind == JsonValueKind.Object && version.TryGetProperty("groupVersion", out var gv) && gv.ValueKind == JsonValueKind.String)
                    result.Add(gv.GetString()!);
        }
        return result;
    }
}
