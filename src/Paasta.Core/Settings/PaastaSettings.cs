using System.Text.Json;
using System.Text.Json.Serialization;
using Paasta.Errors;
using Paasta.IO;

namespace Paasta.Settings;

/// <summary>
/// Per-user defaults, so operators do not repeat parameters (docs/CONFIGURATION.md). Each value is taken from
/// the cmdlet's parameter, else its environment variable, else the settings file, else the built-in default;
/// <see cref="ResolvedSettings"/> is the one place that applies that order.
/// </summary>
public sealed record PaastaSettings
{
    public string? SoaDir { get; init; }
    public string? Cluster { get; init; }
    public string? KubeConfig { get; init; }
    public string? KubeContext { get; init; }
    /// <summary>PaaSTA cluster → kubeconfig context, for cmdlets that talk to several clusters at once.</summary>
    public IReadOnlyDictionary<string, string>? ClusterContext { get; init; }
    public string? DockerRegistry { get; init; }
    /// <summary>host:port of the Sensu client socket.</summary>
    public string? SensuSocket { get; init; }
    public string? TronUrl { get; init; }
    /// <summary>The hacheck sidecar image for mesh instances (PaaSTA's hacheck_sidecar_image_url); none: no sidecar.</summary>
    public string? HacheckSidecarImage { get; init; }
}

/// <summary>Where a resolved setting came from.</summary>
public enum SettingOrigin
{
    Parameter,
    Environment,
    File,
    Default,
    /// <summary>Set nowhere, and there is no default.</summary>
    Unset,
}

/// <summary>One resolved setting: its value, and where it came from (for -Verbose and Get-PaastaConfiguration -Effective).</summary>
public sealed record SettingValue(string Name, string? Value, SettingOrigin Origin, string? From)
{
    public override string ToString() => Value is null ? $"{Name}: (unset)" : $"{Name}: {Value} ({Origin}{(From is null ? "" : " " + From)})";
}

/// <summary>The names of the settings and the environment variable that overrides each.</summary>
public static class SettingNames
{
    public const string DefaultSoaDir = "/nail/etc/services";
    public const string DefaultSensuSocket = "127.0.0.1:3030";

    /// <summary>The environment variable of each setting (KUBECONFIG is kubectl's own; its first file counts).</summary>
    public static IReadOnlyDictionary<string, string> EnvironmentVariables { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [nameof(PaastaSettings.SoaDir)] = "PAASTA_SOA_DIR",
        [nameof(PaastaSettings.Cluster)] = "PAASTA_CLUSTER",
        [nameof(PaastaSettings.KubeConfig)] = "KUBECONFIG",
        [nameof(PaastaSettings.KubeContext)] = "PAASTA_KUBE_CONTEXT",
        [nameof(PaastaSettings.ClusterContext)] = "PAASTA_CLUSTER_CONTEXT",
        [nameof(PaastaSettings.DockerRegistry)] = "PAASTA_DOCKER_REGISTRY",
        [nameof(PaastaSettings.SensuSocket)] = "PAASTA_SENSU_SOCKET",
        [nameof(PaastaSettings.TronUrl)] = "PAASTA_TRON_URL",
        [nameof(PaastaSettings.HacheckSidecarImage)] = "PAASTA_HACHECK_SIDECAR_IMAGE",
    };

    /// <summary>
    /// Parses a cluster-to-context map as the environment variable carries it: <c>prod=ctx-prod,canary=ctx-canary</c>
    /// (';' also separates pairs). Refuses a pair without '=' rather than guessing.
    /// </summary>
    public static IReadOnlyDictionary<string, string> ParseClusterContext(string text, string source)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in text.Split(new[] { ',', ';' }, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = pair.IndexOf('=');
            if (eq <= 0 || eq == pair.Length - 1)
                throw new PaastaException("ClusterContextInvalid", PaastaErrorKind.InvalidArgument,
                    $"{source}: '{pair}' is not CLUSTER=CONTEXT; write pairs like prod=ctx-prod,canary=ctx-canary.") { Target = source };
            map[pair[..eq].Trim()] = pair[(eq + 1)..].Trim();
        }
        return map;
    }
}

/// <summary>
/// Reads and writes the settings file (<c>$PAASTA_CONFIG</c>, else <c>$XDG_CONFIG_HOME/paasta/settings.json</c>,
/// else <c>~/.config/paasta/settings.json</c>). Updates are serialised across processes by a lock file, so
/// concurrent writers setting different keys all keep their key.
/// </summary>
public static class PaastaSettingsStore
{
    public const string PathVariable = "PAASTA_CONFIG";
    private const long MaxBytes = 1024 * 1024;
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(30);

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private static (string Path, DateTime Stamp, long Length, PaastaSettings Value)? _cache;
    private static readonly object CacheGate = new();

    public static string FilePath =>
        Environment.GetEnvironmentVariable(PathVariable) is { Length: > 0 } p ? p
        : Path.Combine(
            Environment.GetEnvironmentVariable("XDG_CONFIG_HOME") is { Length: > 0 } x ? x
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config"),
            "paasta", "settings.json");

    /// <summary>The saved settings (empty when there is no file); re-read when the file changes. A corrupt file is a SettingsFileInvalid error.</summary>
    public static PaastaSettings Load() => Load(FilePath);

    public static PaastaSettings Load(string path)
    {
        var kind = BoundedFile.KindOf(path);
        if (kind == FileKind.Missing) return new PaastaSettings();
        if (kind != FileKind.Regular)
            throw new PaastaException("SettingsFileInvalid", PaastaErrorKind.InvalidData,
                $"{path} is not a regular file; the settings file must be one. Point $env:{PathVariable} elsewhere or remove it.") { File = path, Target = path };
        var info = new FileInfo(path);
        lock (CacheGate)
        {
            if (_cache is { } c && c.Path == path && c.Stamp == info.LastWriteTimeUtc && c.Length == info.Length) return c.Value;
        }
        var value = Parse(path, BoundedFile.ReadAllText(path, MaxBytes));
        lock (CacheGate) _cache = (path, info.LastWriteTimeUtc, info.Length, value);
        return value;
    }

    /// <summary>
    /// Applies <paramref name="change"/> to the saved settings under an exclusive lock (read, change, write
    /// atomically), and returns what was saved.
    /// </summary>
    public static PaastaSettings Update(Func<PaastaSettings, PaastaSettings> change) => Update(FilePath, change);

    public static PaastaSettings Update(string path, Func<PaastaSettings, PaastaSettings> change)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        try { Directory.CreateDirectory(folder); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PaastaException("SettingsFileNotWritable", PaastaErrorKind.WriteError,
                $"Cannot create the settings folder {folder}: {e.Message}", e) { File = path, Target = path };
        }
        using var gate = AcquireLock(path + ".lock");
        var current = BoundedFile.KindOf(path) == FileKind.Missing ? new PaastaSettings() : Parse(path, BoundedFile.ReadAllText(path, MaxBytes));
        var updated = change(current);
        try { AtomicFile.WriteAllText(path, JsonSerializer.Serialize(updated, Json) + "\n"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PaastaException("SettingsFileNotWritable", PaastaErrorKind.WriteError,
                $"Cannot write the settings file {path}: {e.Message}", e) { File = path, Target = path };
        }
        lock (CacheGate) _cache = null;
        return updated;
    }

    private static PaastaSettings Parse(string path, string text)
    {
        try
        {
            return JsonSerializer.Deserialize<PaastaSettings>(text, Json) ?? new PaastaSettings();
        }
        catch (JsonException e)
        {
            throw new PaastaException("SettingsFileInvalid", PaastaErrorKind.InvalidData,
                $"{path}: not valid Paasta settings JSON ({e.Message}). Fix or delete it, or run Set-PaastaConfiguration.", e)
            { File = path, Line = (int)(e.LineNumber ?? 0) + 1, Target = path };
        }
    }

    private static FileStream AcquireLock(string lockPath)
    {
        var deadline = DateTime.UtcNow + LockTimeout;
        var delay = 5;
        while (true)
        {
            try
            {
                // The OS releases the lock if the process dies; the file itself may stay and is harmless.
                return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            }
            catch (IOException e) when (IsHeldByAnother(e) && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(delay);
                delay = Math.Min(delay * 2, 100);
            }
            catch (IOException e) when (IsHeldByAnother(e))
            {
                throw new PaastaException("SettingsFileLocked", PaastaErrorKind.ResourceUnavailable,
                    $"Another process has held {lockPath} for {LockTimeout.TotalSeconds:0} s; settings were not saved.", e) { File = lockPath, Target = lockPath };
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Not another writer: the folder cannot take the lock file (read-only, missing, not a folder).
                throw new PaastaException("SettingsFileNotWritable", PaastaErrorKind.WriteError,
                    $"Cannot create the settings lock file {lockPath}: {e.Message}", e) { File = lockPath, Target = lockPath };
            }
        }
    }

    /// <summary>
    /// The lock is taken: a sharing violation (Windows) or EWOULDBLOCK from flock (Linux 11, macOS 35). Other I/O
    /// errors (no such folder, read-only file system) will not go away by waiting.
    /// </summary>
    private static bool IsHeldByAnother(IOException e) =>
        e.GetType() == typeof(IOException) && e.HResult is 11 or 35 or unchecked((int)0x80070020) or unchecked((int)0x80070021);
}

/// <summary>
/// Every setting of one operation, resolved once in the one documented order: parameter, environment
/// variable, settings file, built-in default (docs/CONFIGURATION.md). The file is read only when some
/// setting reaches it, so a corrupt settings file does not stop a cmdlet whose parameters make it unnecessary.
/// </summary>
public sealed class ResolvedSettings
{
    private readonly PaastaSettings _given;
    private readonly Func<PaastaSettings> _loadSaved;
    private readonly Func<string, string?> _environment;
    private readonly Dictionary<string, SettingValue> _resolved = new(StringComparer.Ordinal);
    private PaastaSettings? _saved;
    private readonly object _gate = new();

    /// <param name="given">Values the user passed as parameters (null: not given).</param>
    /// <param name="loadSaved">Reads the settings file; default <see cref="PaastaSettingsStore.Load()"/>.</param>
    /// <param name="environment">Reads an environment variable; default the process environment.</param>
    public ResolvedSettings(PaastaSettings? given = null, Func<PaastaSettings>? loadSaved = null, Func<string, string?>? environment = null)
    {
        _given = given ?? new PaastaSettings();
        _loadSaved = loadSaved ?? PaastaSettingsStore.Load;
        _environment = environment ?? Environment.GetEnvironmentVariable;
    }

    /// <summary>The settings file's values, read on first need.</summary>
    public PaastaSettings Saved
    {
        get
        {
            lock (_gate) return _saved ??= _loadSaved();
        }
    }

    public string SoaDir => Get(nameof(PaastaSettings.SoaDir)).Value!;
    public string? Cluster => Get(nameof(PaastaSettings.Cluster)).Value;
    public string KubeConfig => Get(nameof(PaastaSettings.KubeConfig)).Value!;
    public string? KubeContext => Get(nameof(PaastaSettings.KubeContext)).Value;
    public string? DockerRegistry => Get(nameof(PaastaSettings.DockerRegistry)).Value;
    public string SensuSocket => Get(nameof(PaastaSettings.SensuSocket)).Value!;
    public string? TronUrl => Get(nameof(PaastaSettings.TronUrl)).Value;
    public string? HacheckSidecarImage => Get(nameof(PaastaSettings.HacheckSidecarImage)).Value;

    /// <summary>
    /// An environment variable that is part of PaaSTA's contract but no setting (DOCKER_TAG of the build contract),
    /// read through the same seam as the settings, so operations never read the process environment themselves.
    /// </summary>
    public string? EnvironmentVariable(string name) => _environment(name);

    /// <summary>
    /// Paasta's per-user cache folder: <c>$XDG_CACHE_HOME/paasta</c>, else <c>~/.cache/paasta</c>
    /// (<c>%LOCALAPPDATA%\paasta\cache</c> on Windows); null when the environment names no such place. What is
    /// kept there is only a shortcut (docs/CONFIGURATION.md).
    /// </summary>
    public string? CacheDirectory =>
        _environment("XDG_CACHE_HOME") is { Length: > 0 } xdg && Path.IsPathFullyQualified(xdg) ? Path.Combine(xdg, "paasta")
        : OperatingSystem.IsWindows() ? (_environment("LOCALAPPDATA") is { Length: > 0 } local ? Path.Combine(local, "paasta", "cache") : null)
        : _environment("HOME") is { Length: > 0 } home && Path.IsPathFullyQualified(home) ? Path.Combine(home, ".cache", "paasta")
        : null;

    /// <summary>The cluster → context map (parameter, else environment, else file); empty when none is set.</summary>
    public IReadOnlyDictionary<string, string> ClusterContext
    {
        get
        {
            if (_given.ClusterContext is { Count: > 0 } given) return given;
            var variable = SettingNames.EnvironmentVariables[nameof(PaastaSettings.ClusterContext)];
            if (_environment(variable) is { Length: > 0 } env) return SettingNames.ParseClusterContext(env, "$env:" + variable);
            return Saved.ClusterContext ?? new Dictionary<string, string>();
        }
    }

    /// <summary>
    /// The kubeconfig context for a PaaSTA cluster: an explicit context parameter, else the cluster's entry in
    /// ClusterContext, else KubeContext, else null (the kubeconfig's current context).
    /// </summary>
    public SettingValue ContextFor(string? cluster)
    {
        if (!string.IsNullOrEmpty(_given.KubeContext)) return new SettingValue(nameof(PaastaSettings.KubeContext), _given.KubeContext, SettingOrigin.Parameter, null);
        if (cluster is not null && ClusterContext.TryGetValue(cluster, out var mapped))
            return new SettingValue(nameof(PaastaSettings.ClusterContext), mapped, SettingOrigin.Parameter, cluster);
        return Get(nameof(PaastaSettings.KubeContext));
    }

    /// <summary>One setting by name, with its origin.</summary>
    public SettingValue Get(string name) => name switch
    {
        nameof(PaastaSettings.SoaDir) => Resolve(name, _given.SoaDir, s => s.SoaDir, SettingNames.DefaultSoaDir),
        nameof(PaastaSettings.Cluster) => Resolve(name, _given.Cluster, s => s.Cluster, null),
        nameof(PaastaSettings.KubeConfig) => Resolve(name, _given.KubeConfig, s => s.KubeConfig,
            Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".kube", "config")),
        nameof(PaastaSettings.KubeContext) => Resolve(name, _given.KubeContext, s => s.KubeContext, null),
        nameof(PaastaSettings.DockerRegistry) => Resolve(name, _given.DockerRegistry, s => s.DockerRegistry, null),
        nameof(PaastaSettings.SensuSocket) => Resolve(name, _given.SensuSocket, s => s.SensuSocket, SettingNames.DefaultSensuSocket),
        nameof(PaastaSettings.TronUrl) => Resolve(name, _given.TronUrl, s => s.TronUrl, null),
        nameof(PaastaSettings.HacheckSidecarImage) => Resolve(name, _given.HacheckSidecarImage, s => s.HacheckSidecarImage, null),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "not a Paasta setting"),
    };

    /// <summary>Every setting as it applies now (Get-PaastaConfiguration -Effective).</summary>
    public PaastaSettings Effective() => new()
    {
        SoaDir = SoaDir,
        Cluster = Cluster,
        KubeConfig = KubeConfig,
        KubeContext = KubeContext,
        ClusterContext = ClusterContext.Count == 0 ? null : ClusterContext,
        DockerRegistry = DockerRegistry,
        SensuSocket = SensuSocket,
        TronUrl = TronUrl,
        HacheckSidecarImage = HacheckSidecarImage,
    };

    private SettingValue Resolve(string name, string? given, Func<PaastaSettings, string?> saved, string? fallback)
    {
        lock (_gate)
        {
            if (_resolved.TryGetValue(name, out var known)) return known;
        }
        SettingValue value;
        var variable = SettingNames.EnvironmentVariables[name];
        if (!string.IsNullOrEmpty(given)) value = new(name, given, SettingOrigin.Parameter, null);
        else if (EnvironmentValue(name, variable) is { } env) value = new(name, env, SettingOrigin.Environment, "$env:" + variable);
        else if (saved(Saved) is { Length: > 0 } fromFile) value = new(name, fromFile, SettingOrigin.File, PaastaSettingsStore.FilePath);
        else value = new(name, fallback, fallback is null ? SettingOrigin.Unset : SettingOrigin.Default, null);
        lock (_gate) _resolved[name] = value;
        return value;
    }

    private string? EnvironmentValue(string name, string variable)
    {
        if (_environment(variable) is not { Length: > 0 } text) return null;
        // kubectl reads a KUBECONFIG list; Paasta opens its first file.
        return name == nameof(PaastaSettings.KubeConfig)
            ? text.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()
            : text;
    }
}
