using System.Text.Json;
using System.Text.Json.Nodes;
using Paasta.IO;
using Paasta.Errors;

namespace Paasta.Deployments;

/// <summary>What a service's deployments.json holds now, as generation compares against it.</summary>
/// <param name="Text">The file's text; null when it is missing or cannot be read.</param>
/// <param name="Document">The parsed file; null when it is missing, unreadable or not valid deployments.json.</param>
public sealed record ExistingDeploymentsFile(string? Text, DeploymentsDocument? Document)
{
    public static ExistingDeploymentsFile None { get; } = new(null, null);
}

/// <summary>Reads and (atomically) writes <c>&lt;soa_dir&gt;/&lt;service&gt;/deployments.json</c>.</summary>
public static class DeploymentsFileStore
{
    public const string FileName = "deployments.json";

    /// <summary>A generous bound: a service with 50,000 instances writes about 10 MiB.</summary>
    public const long SizeLimit = 64L * 1024 * 1024;

    public static string PathFor(string serviceDirectory) => Path.Combine(serviceDirectory, FileName);

    /// <summary>
    /// The file as generation sees it (docs/BEHAVIOUR.md §3.2 step 7): a missing, unreadable or invalid file reads
    /// as <c>{}</c>. Only regular files are read (a FIFO would block, docs/RELIABILITY.md).
    /// </summary>
    public static ExistingDeploymentsFile ReadExisting(string path)
    {
        string text;
        try
        {
            if (!File.Exists(path)) return ExistingDeploymentsFile.None;
            text = BoundedFile.ReadAllText(path, SizeLimit);
        }
        catch (Exception e) when (e is PaastaException or IOException or UnauthorizedAccessException)
        {
            return ExistingDeploymentsFile.None;
        }
        try { return new ExistingDeploymentsFile(text, DeploymentsDocument.Parse(text)); }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException)
        {
            return new ExistingDeploymentsFile(text, null);
        }
    }

    /// <summary>True when <paramref name="json"/> says something other than the file at <paramref name="path"/> (see <see cref="Differs(ExistingDeploymentsFile, string)"/>).</summary>
    public static bool Differs(string path, string json) => Differs(ReadExisting(path), json);

    /// <summary>
    /// True when <paramref name="json"/> says something other than <paramref name="existing"/>. Compared as Python
    /// compares dicts (key order does not matter); a missing, unreadable or invalid file reads as <c>{}</c>, so it always differs.
    /// </summary>
    public static bool Differs(ExistingDeploymentsFile existing, string json)
    {
        if (existing.Text is null) return true;
        JsonNode? old;
        try { old = JsonNode.Parse(existing.Text); }
        catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException) { return true; }
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
        try { text = BoundedFile.ReadAllText(path, SizeLimit); }
        catch (PaastaException e) when (e.ErrorId == "FileNotFound")
        {
            throw new PaastaException("DeploymentsFileNotFound", PaastaErrorKind.ObjectNotFound,
                $"{path} does not exist. Run New-PaastaDeployments -Service {service} to generate it (or use -Live to read the repository).", e)
            { Target = service, File = path };
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new PaastaException("DeploymentsFileNotFound", PaastaErrorKind.ObjectNotFound,
                $"{path} does not exist. Run New-PaastaDeployments -Service {service} to generate it (or use -Live to read the repository).", e)
            { Target = service, File = path };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException || e is PaastaException { ErrorId: "NotARegularFile" or "FileTooLarge" })
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
