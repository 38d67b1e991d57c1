using System.Text.Json;
using Paasta.Errors;
using Paasta.IO;

namespace Paasta.Config;

/// <summary>
/// <c>&lt;soa_dir&gt;/.metadata.json</c>, which the tool that checks soa-configs out writes: its <c>git_sha</c> is the
/// commit of soa-configs in use, passed to long-running containers as PAASTA_SOA_CONFIGS_SHA (docs/BEHAVIOUR.md §4.4).
/// </summary>
public static class SoaMetadata
{
    public const string FileName = ".metadata.json";
    private const long MaxBytes = 1024 * 1024;

    /// <summary>
    /// The git_sha of the soa dir's metadata, or "" when there is no file or no such key (PaaSTA's default). A file
    /// that cannot be read as JSON also gives "", and <paramref name="warn"/> is told why.
    /// </summary>
    public static string GitSha(string soaDir, Action<string>? warn = null)
    {
        var path = Path.Combine(soaDir, FileName);
        if (BoundedFile.KindOf(path) == FileKind.Missing) return "";
        try
        {
            using var doc = JsonDocument.Parse(BoundedFile.ReadAllText(path, MaxBytes));
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("git_sha", out var sha)
                ? sha.ValueKind switch
                {
                    JsonValueKind.String => sha.GetString() ?? "",
                    JsonValueKind.Null or JsonValueKind.Undefined => "",
                    _ => sha.GetRawText(),
                }
                : "";
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException or PaastaException)
        {
            warn?.Invoke($"{path} is not readable JSON ({e.Message}); PAASTA_SOA_CONFIGS_SHA will be empty.");
            return "";
        }
    }
}
