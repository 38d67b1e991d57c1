using System.Globalization;
using Paasta.Yaml;

namespace Paasta.Kubernetes;

/// <summary>
/// Typed reads of an instance's merged configuration (<see cref="InstanceConfig.Config"/>) for the keys the
/// object builder needs that <see cref="InstanceConfig"/> does not model. Values are YAML plain values:
/// string, long, double, bool, List&lt;object?&gt; and Dictionary&lt;string, object?&gt;.
/// </summary>
internal sealed class RawConfig
{
    private readonly IReadOnlyDictionary<string, object?> _config;

    public RawConfig(IReadOnlyDictionary<string, object?> config) => _config = config;

    public object? this[string key] => _config.TryGetValue(key, out var v) ? v : null;

    public bool Has(string key) => _config.TryGetValue(key, out var v) && v is not null;

    public static object? Path(object? root, params string[] keys)
    {
        var current = root;
        foreach (var k in keys)
        {
            if (current is not IReadOnlyDictionary<string, object?> d || !d.TryGetValue(k, out current)) return null;
        }
        return current;
    }

    public object? Path(params string[] keys) => Path((object)_config, keys);

    public static string? Text(object? value) => value switch
    {
        null => null,
        string s => s,
        _ => PythonText.Str(value),
    };

    public static long? Integer(object? value) => value switch
    {
        long l => l,
        int i => i,
        double d when d % 1 == 0 => (long)d,
        string s when long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) => l,
        _ => null,
    };

    public static double? Number(object? value) => value switch
    {
        long l => l,
        int i => i,
        double d => d,
        string s when double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
        _ => null,
    };

    public static bool? Bool(object? value) => value switch
    {
        bool b => b,
        _ => null,
    };

    public static IReadOnlyList<object?> List(object? value) => value as IReadOnlyList<object?> ?? (value as List<object?>) ?? (IReadOnlyList<object?>)Array.Empty<object?>();

    public static IReadOnlyDictionary<string, object?>? Map(object? value) => value as IReadOnlyDictionary<string, object?>;

    public static IReadOnlyList<string> Strings(object? value) => value switch
    {
        string s => new[] { s },
        IEnumerable<object?> list => list.Where(v => v is not null).Select(v => Text(v)!).ToList(),
        _ => Array.Empty<string>(),
    };
}
