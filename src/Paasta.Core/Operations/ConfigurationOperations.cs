using Paasta.Settings;

namespace Paasta.Operations;

/// <summary>
/// Changes to the saved settings, as Set-PaastaConfiguration's parameters give them: null keeps a value, an empty
/// string (an empty map for ClusterContext) clears it. Paths are already full paths.
/// </summary>
public sealed record SettingsChange
{
    public string? SoaDir { get; init; }
    public string? Cluster { get; init; }
    public string? KubeConfig { get; init; }
    public string? KubeContext { get; init; }
    public IReadOnlyDictionary<string, string>? ClusterContext { get; init; }
    public string? DockerRegistry { get; init; }
    public string? SensuSocket { get; init; }
    public string? TronUrl { get; init; }
    public string? HacheckSidecarImage { get; init; }

    /// <summary>The saved settings with this change made.</summary>
    public PaastaSettings ApplyTo(PaastaSettings saved) => saved with
    {
        SoaDir = Pick(SoaDir, saved.SoaDir),
        Cluster = Pick(Cluster, saved.Cluster),
        KubeConfig = Pick(KubeConfig, saved.KubeConfig),
        KubeContext = Pick(KubeContext, saved.KubeContext),
        ClusterContext = ClusterContext is null ? saved.ClusterContext : ClusterContext.Count == 0 ? null : new Dictionary<string, string>(ClusterContext, StringComparer.Ordinal),
        DockerRegistry = Pick(DockerRegistry, saved.DockerRegistry),
        SensuSocket = Pick(SensuSocket, saved.SensuSocket),
        TronUrl = Pick(TronUrl, saved.TronUrl),
        HacheckSidecarImage = Pick(HacheckSidecarImage, saved.HacheckSidecarImage),
    };

    private static string? Pick(string? given, string? old) => given is null ? old : given.Length == 0 ? null : given;
}

/// <summary>Get-PaastaConfiguration and Set-PaastaConfiguration (docs/CONFIGURATION.md).</summary>
public static class ConfigurationOperations
{
    /// <summary>The saved settings; with <paramref name="effective"/>, every setting as it applies now (environment and defaults included).</summary>
    public static PaastaSettings Get(OperationContext context, bool effective) =>
        effective ? context.Settings.Effective() : context.Settings.Saved;

    /// <summary>
    /// Saves <paramref name="change"/> after ShouldProcess: read, change and write happen under the settings lock, so
    /// concurrent writers of different keys all keep theirs. Returns what was saved; null when declined.
    /// </summary>
    public static PaastaSettings? Set(OperationContext context, SettingsChange change, string? path = null)
    {
        path ??= PaastaSettingsStore.FilePath;
        if (!context.Sink.ShouldProcess(path, "Save Paasta settings")) return null;
        var saved = PaastaSettingsStore.Update(path, change.ApplyTo);
        context.Sink.Verbose($"Saved {path}.");
        return saved;
    }
}
