using System.Reflection;
using Paasta.Settings;

namespace Paasta.Operations;

/// <summary>
/// What Set-PaastaConfiguration changes, as settings: a setting left null keeps its saved value, an empty one (an
/// empty string or map) clears it, any other value replaces it. Every setting of <see cref="PaastaSettings"/> takes
/// part, so a new setting needs no code here.
/// </summary>
public sealed record SettingsChange(PaastaSettings Given)
{
    private static readonly PropertyInfo[] Settings = typeof(PaastaSettings).GetProperties(BindingFlags.Public | BindingFlags.Instance);

    /// <summary>The saved settings with this change made.</summary>
    public PaastaSettings ApplyTo(PaastaSettings saved)
    {
        var changed = saved with { };
        foreach (var setting in Settings)
        {
            switch (setting.GetValue(Given))
            {
                case null:
                    break;
                case string { Length: 0 } or IReadOnlyDictionary<string, string> { Count: 0 }:
                    setting.SetValue(changed, null);
                    break;
                case IReadOnlyDictionary<string, string> map:
                    setting.SetValue(changed, new Dictionary<string, string>(map, StringComparer.Ordinal));
                    break;
                case var value:
                    setting.SetValue(changed, value);
                    break;
            }
        }
        return changed;
    }
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
