using System.Text.Json;
using System.Text.Json.Nodes;
using Paasta.IO;
using Paasta.Errors;

namespace Paasta.Deployments;

/// <summary>Reads and (atomically) writes <c>&lt;soa_dir&gt;/&lt;service&gt;/deployments.json</c>.</summary>
public static class DeploymentsFileStore
{
    public const string FileName = "deployments.json";

    public static string PathFor(string serviceDirectory) => Path.Combine(serviceDirectory, FileName);

    /// <summary>
    /// True when <paramref name="json"/> says something other than the file at <paramref name="path"/>.
    /// Compared as Python compares dicts (key order does not matter); a missing, unreadable or invalid file
    /// reads as <c>{}</c>, so it always differs.
    /// </summary>
    public static bool Differs(string path, string json)
    {
        JsonNode? old;
        try
        {
            if (!File.Exists(path)) return true;
            old = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or ArgumentException or InvalidOperationException)
        {
            return true;
        }
        if (old is not JsonObject) return true;
        try
        {
            return !JsonNode.DeepEquals(JsonNode.Parse(json), old);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            return true; // e.g. duplicate keys in the old file
        }
    }

    /// <summary>Writes via a temp file in the same folder and a rename: readers see the old file or the new one, never half of one.</summary>
    public static void Write(string path, string json)
    {
        try { AtomicFile.WriteAllText(path, json); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PaastaException("DeploymentsFileWriteFailed", PaastaErrorKind.WriteError,
                $"Cannot write {path}: {e.Message}", e) { Target = path, File = path };
        }
    }

    /// <summary>Reads a deployments.json for display or use; a missing or invalid file is an error naming the fix.</summary>
    public static DeploymentsDocument Load(string path, string service)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new PaastaException("DeploymentsFileNotFound", PaastaErrorKind.ObjectNotFound,
                $"{path} does not exist. Run New-PaastaDeployments -Service {service} to generate it (or use -Live to read the repository).", e)
            { Target = service, File = path };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PaastaException("DeploymentsFileUnreadable", PaastaErrorKind.ReadError, $"Cannot read {path}: {e.Message}", e)
            { Target = service, File = path };
        }
        try { return DeploymentsDocument.Parse(text); }
        catch (JsonException e)
        {
            throw new PaastaException("DeploymentsFileInvalid", PaastaErrorKind.InvalidData,
                $"{path} is not valid deployments.json ({e.Message}). Run New-PaastaDeployments -Service {service} to regenerate it.", e)
            { Target = service, File = path };
        }
    }
}
