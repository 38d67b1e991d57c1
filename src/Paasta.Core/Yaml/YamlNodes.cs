using System.Globalization;

namespace Paasta.Yaml;

/// <summary>A parsed YAML node that remembers where it was written.</summary>
public abstract class YNode
{
    protected YNode(string file, int line, int column, string? topLevelKey)
    {
        File = file;
        Line = line;
        Column = column;
        TopLevelKey = topLevelKey;
    }

    public string File { get; }
    public int Line { get; }
    public int Column { get; }
    /// <summary>The document's top-level key under which this node was written (e.g. a <c>_template</c>).</summary>
    public string? TopLevelKey { get; }

    /// <summary>Converts to plain .NET values: Dictionary, List, string, long, double, bool, null.</summary>
    public abstract object? ToPlain();
}

public sealed class YScalar : YNode
{
    public YScalar(string file, int line, int column, string? topLevelKey, string text, object? value, bool quoted)
        : base(file, line, column, topLevelKey)
    {
        Text = text;
        Value = value;
        Quoted = quoted;
    }

    /// <summary>The scalar as written.</summary>
    public string Text { get; }
    /// <summary>The resolved value (YAML 1.1 rules, as PyYAML's safe loader resolves them).</summary>
    public object? Value { get; }
    public bool Quoted { get; }
    public override object? ToPlain() => Value;
    public override string ToString() => Text;
}

public sealed class YSequence : YNode
{
    public YSequence(string file, int line, int column, string? topLevelKey) : base(file, line, column, topLevelKey) { }
    public List<YNode> Items { get; } = new();
    public override object? ToPlain() => Items.Select(i => i.ToPlain()).ToList();
}

public sealed class YMapping : YNode
{
    private readonly List<KeyValuePair<string, YNode>> _entries = new();
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
    private readonly Dictionary<string, YScalar> _keys = new(StringComparer.Ordinal);

    public YMapping(string file, int line, int column, string? topLevelKey) : base(file, line, column, topLevelKey) { }

    public IReadOnlyList<KeyValuePair<string, YNode>> Entries => _entries;
    public int Count => _entries.Count;
    public IEnumerable<string> Keys => _entries.Select(e => e.Key);

    public bool ContainsKey(string key) => _index.ContainsKey(key);

    public YNode? this[string key] => _index.TryGetValue(key, out var i) ? _entries[i].Value : null;

    public bool TryGet(string key, out YNode value)
    {
        if (_index.TryGetValue(key, out var i)) { value = _entries[i].Value; return true; }
        value = null!;
        return false;
    }

    /// <summary>The key node as written (for its position), when the key was written in this mapping.</summary>
    public YScalar? KeyNode(string key) => _keys.TryGetValue(key, out var k) ? k : null;

    internal void Add(string key, YNode value, YScalar? keyNode)
    {
        _index[key] = _entries.Count;
        _entries.Add(new(key, value));
        if (keyNode is not null) _keys[key] = keyNode;
    }

    /// <summary>Sets or replaces a value, keeping the original key order.</summary>
    internal void Set(string key, YNode value, YScalar? keyNode)
    {
        if (_index.TryGetValue(key, out var i)) _entries[i] = new(key, value);
        else Add(key, value, keyNode);
        if (keyNode is not null) _keys[key] = keyNode;
    }

    public override object? ToPlain()
    {
        var d = new Dictionary<string, object?>(_entries.Count, StringComparer.Ordinal);
        foreach (var (k, v) in _entries) d[k] = v.ToPlain();
        return d;
    }
}

/// <summary>Renders values the way Python's <c>str()</c> does, so injected variables match PaaSTA's.</summary>
public static class PythonText
{
    public static string Str(object? value) => value switch
    {
        null => "None",
        bool b => b ? "True" : "False",
        long l => l.ToString(CultureInfo.InvariantCulture),
        int i => i.ToString(CultureInfo.InvariantCulture),
        double d => Float(d),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    public static string Float(double d)
    {
        if (double.IsNaN(d)) return "nan";
        if (double.IsPositiveInfinity(d)) return "inf";
        if (double.IsNegativeInfinity(d)) return "-inf";
        var abs = Math.Abs(d);
        if (abs != 0 && (abs >= 1e16 || abs < 1e-4))
        {
            // Python switches to exponent form here (1e+16, 1.5e-05), with the shortest digits that round-trip.
            for (var digits = 0; digits <= 16; digits++)
            {
                var e = d.ToString("E" + digits, CultureInfo.InvariantCulture);
                if (double.Parse(e, CultureInfo.InvariantCulture) != d) continue;
                var mantissa = e[..e.IndexOf('E')];
                var exp = int.Parse(e[(e.IndexOf('E') + 1)..], CultureInfo.InvariantCulture);
                return $"{mantissa}e{(exp < 0 ? "-" : "+")}{Math.Abs(exp):00}";
            }
        }
        var r = d.ToString("R", CultureInfo.InvariantCulture);
        if (r.Contains('E')) r = ((decimal)d).ToString(CultureInfo.InvariantCulture);
        return r.Contains('.') ? r : r + ".0";
    }
}
