using System.Text.Json;
using System.Text.Json.Serialization;
using Paasta.IO;
using Paasta.Errors;

namespace Paasta.Settings;

/// <summary>
/// Per-user defaults, so operators do not repeat parameters. Precedence for each value: the cmdlet's
/// parameter, then the environment variable, then this file, then the built-in default.
/// </summary>
public sealed record PaastaSettings
{
    public string? SoaDir { get; init; }
    public string? Cluster { get; init; }
    public string? KubeConfig { get; init; }
    public string? KubeContext { get; init; }
    public string? DockerRegistry { get; init; }
    /// <summary>host:port of the Sensu client socket.</summary>
    public string? SensuSocket { get; init; }
    public string? TronUrl { get; init; }
    /// <summary>The hacheck sidecar image for mesh instances (PaaSTA's hacheck_sidecar_image_url); none: no sidecar.</summary>
    public string? HacheckSidecarImage { get; init; }
}

/// <summary>Reads and writes the settings file (<c>$PAASTA_CONFIG</c>, else <c>~/.config/paasta/settings.json</c>).</summary>
public static class PaastaSettingsStore
{
    public const string PathVariable = "PAASTA_CONFIG";

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private static (string Path, DateTime Stamp, PaastaSettings Value)? _cache;

    public static string FilePath =>
        Environment.GetEnvironmentVariable(PathVariable) is { Length: > 0 } p ? p
        : System.IO.Path.Combine(
            Environment.GetEnvironmentVariable("XDG_CONFIG_HOME") is { Length: > 0 } x ? x
            : System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config"),
            "paasta", "settings.json");

    /// <summary>The saved settings (empty when there is no file); re-read when the file changes.</summary>
    public static PaastaSettings Current
    {
        get
        {
            var path = FilePath;
            if (!File.Exists(path)) return new PaastaSettings();
            var stamp = File.GetLastWriteTimeUtc(path);
            if (_cache is { } c && c.Path == path && c.Stamp == stamp) return c.Value;
            PaastaSettings value;
            try
            {
                value = JsonSerializer.Deserialize<PaastaSettings>(File.ReadAllText(path), Json) ?? new PaastaSettings();
            }
            catch (JsonException e)
            {
                throw new PaastaException("SettingsFileInvalid", PaastaErrorKind.InvalidData,
                    $"{path}: not valid Paasta settings JSON ({e.Message}). Fix or delete it, or run Set-PaastaConfiguration.", e)
                { File = path, Line = (int)(e.LineNumber ?? 0) + 1, Target = path };
            }
            _cache = (path, stamp, value);
            return value;
        }
    }

    public static void Save(PaastaSettings settings)
    {
        AtomicFile.WriteAllText(FilePath, JsonSerializer.Serialize(settings, Json) + "\n");
        _cache = null;
    }
}

/// <summary>Applies the precedence rule: environment variable, then saved setting, then built-in default.</summary>
public static class PaastaSettingsResolver
{
    /// <summary>The environment variable that overrides each setting (KUBECONFIG is kubectl's own; its first file counts).</summary>
    public static IReadOnlyDictionary<string, string> EnvironmentVariables { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [nameof(PaastaSettings.SoaDir)] = Config.SoaConfigReader.SoaDirVariable,
        [nameof(PaastaSettings.Cluster)] = "PAASTA_CLUSTER",
        [nameof(PaastaSettings.KubeConfig)] = "KUBECONFIG",
        [nameof(PaastaSettings.KubeContext)] = "PAASTA_KUBE_CONTEXT",
        [nameof(PaastaSettings.DockerRegistry)] = "PAASTA_DOCKER_REGISTRY",
        [nameof(PaastaSettings.SensuSocket)] = "PAASTA_SENSU_SOCKET",
        [nameof(PaastaSettings.TronUrl)] = "PAASTA_TRON_URL",
        [nameof(PaastaSettings.HacheckSidecarImage)] = "PAASTA_HACHECK_SIDECAR_IMAGE",
    };

    public static PaastaSettings Effective(PaastaSettings saved)
    {
        static string? Env(string setting) => Environment.GetEnvironmentVariable(EnvironmentVariables[setting]) is { Length: > 0 } v ? v : null;
        // The same file the Kubernetes cmdlets open: kubectl reads a KUBECONFIG list, Paasta its first entry.
        var kubeConfig = Env(nameof(PaastaSettings.KubeConfig))?.Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
        return new PaastaSettings
        {
            SoaDir = Config.SoaConfigReader.ResolveSoaDir(null, saved.SoaDir),
            Cluster = Env(nameof(PaastaSettings.Cluster)) ?? saved.Cluster,
            KubeConfig = kubeConfig ?? saved.KubeConfig
                ?? System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".kube", "config"),
            KubeContext = Env(nameof(PaastaSettings.KubeContext)) ?? saved.KubeContext,
            DockerRegistry = Env(nameof(PaastaSettings.DockerRegistry)) ?? saved.DockerRegistry,
            SensuSocket = Env(nameof(PaastaSettings.SensuSocket)) ?? saved.SensuSocket ?? "127.0.0.1:3030",
            TronUrl = Env(nameof(PaastaSettings.TronUrl)) ?? saved.TronUrl,
            HacheckSidecarImage = Env(nameof(PaastaSettings.HacheckSidecarImage)) ?? saved.HacheckSidecarImage,
        };
    }
}
