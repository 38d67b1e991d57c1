using System.Collections;
using System.Globalization;
using Paasta.Errors;

namespace Paasta.Drain;

/// <summary>Reads drain_method_params values, which come from YAML (long, double, string, maps) or from PowerShell hashtables.</summary>
internal static class DrainParams
{
    public static PaastaException Invalid(string method, string message) =>
        new("DrainMethodParamsInvalid", PaastaErrorKind.InvalidData, $"drain_method_params for {method}: {message}") { Key = "drain_method_params" };

    public static object? Get(IReadOnlyDictionary<string, object?> p, string key) =>
        p.TryGetValue(key, out var v) ? v : p.FirstOrDefault(kv => string.Equals(kv.Key, key, StringComparison.OrdinalIgnoreCase)).Value;

    /// <summary>A non-negative number of seconds; absent or null gives <paramref name="fallback"/>.</summary>
    public static double Seconds(IReadOnlyDictionary<string, object?> p, string method, string key, double fallback)
    {
        var value = Get(p, key);
        if (value is null) return fallback;
        double? number = value switch
        {
            double d => d,
            float f => f,
            decimal m => (double)m,
            long l => l,
            int i => i,
            short s => s,
            string text when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
            _ => null,
        };
        if (number is not { } n || double.IsNaN(n) || double.IsInfinity(n) || n < 0)
            throw Invalid(method, $"'{key}' must be a number of seconds, 0 or more (got '{value}').");
        return n;
    }

    public static int Port(IReadOnlyDictionary<string, object?> p, string method, string key, int fallback)
    {
        var value = Get(p, key);
        if (value is null) return fallback;
        var n = Seconds(p, method, key, fallback);
        if (n != Math.Floor(n) || n < 1 || n > 65535) throw Invalid(method, $"'{key}' must be a port number 1-65535 (got '{value}').");
        return (int)n;
    }

    /// <summary>A nested map (a URL spec), or null when absent.</summary>
    public static IReadOnlyDictionary<string, object?>? Map(IReadOnlyDictionary<string, object?> p, string method, string key)
    {
        switch (Get(p, key))
        {
            case null: return null;
            case IReadOnlyDictionary<string, object?> map: return map;
            case IDictionary dict:
                var copy = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
                foreach (DictionaryEntry e in dict) copy[Convert.ToString(e.Key, CultureInfo.InvariantCulture) ?? ""] = e.Value;
                return copy;
            case var other: throw Invalid(method, $"'{key}' must be a mapping (got '{other}').");
        }
    }

    public static string? String(IReadOnlyDictionary<string, object?> p, string key) => Get(p, key) switch
    {
        null => null,
        string s => s,
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        var other => other.ToString(),
    };
}
