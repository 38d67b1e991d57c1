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
    public YScalar(string file, int line, int column, string? topLevelKey, string text, object? value, bool quoted, bool outOfRangeInteger = false)
        : base(file, line, column, topLevelKey)
    {
        Text = text;
        Value = value;
        Quoted = quoted;
        IsOutOfRangeInteger = outOfRangeInteger;
    }

    /// <summary>The scalar as written.</summary>
    public string Text { get; }
    /// <summary>The resolved value (YAML 1.1 rules, as PyYAML's safe loader resolves them).</summary>
    public object? Value { get; }
    public bool Quoted { get; }
    /// <summary>
    /// An integer (as YAML 1.1 reads it) too large for 64 bits, such as <c>0xFFFFFFFFFFFFFFFF</c>: <see cref="Value"/>
    /// holds the text as written, and typed reads refuse it rather than wrap it round.
    /// </summary>
    public bool IsOutOfRangeInteger { get; }
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
    // Small mappings (most of them) are searched in order; an index is built once a mapping grows past this.
    private const int IndexFrom = 8;
    private static readonly IReadOnlyList<KeyValuePair<string, YNode>> NoEntries = Array.Empty<KeyValuePair<string, YNode>>();

    private List<KeyValuePair<string, YNode>>? _entries;
    private List<YScalar?>? _keyNodes;
    private Dictionary<string, int>? _index;

    // A deep merge not yet written out (see Merged): lookups read through both mappings, and only a caller
    // that needs every entry (Entries, Count, ToPlain) pays for copying them.
    private YMapping? _over;
    private YMapping? _defaults;
    private Dictionary<string, YMapping>? _mergedChildren;
    private readonly object? _gate;

    public YMapping(string file, int line, int column, string? topLevelKey) : base(file, line, column, topLevelKey) { }

    private YMapping(YMapping over, YMapping defaults) : base(over.File, over.Line, over.Column, over.TopLevelKey)
    {
        _over = over;
        _defaults = defaults;
        _gate = new object();
    }

    /// <summary>
    /// PaaSTA's deep merge of <paramref name="over"/> onto <paramref name="defaults"/>: mappings merge key by key,
    /// anything else (lists included) is replaced. Keys keep the defaults' order, new keys follow in
    /// <paramref name="over"/>'s order; nodes are shared, so each value keeps the file and line it was written at.
    /// The merge is done as it is read: building an instance over a large service.yaml costs what the instance
    /// reads, not the size of service.yaml (docs/RELIABILITY.md, "Limits").
    /// </summary>
    public static YMapping Merged(YMapping over, YMapping defaults) => new(over, defaults);

    public IReadOnlyList<KeyValuePair<string, YNode>> Entries => Written()._entries ?? NoEntries;
    public int Count => Written()._entries?.Count ?? 0;
    public IEnumerable<string> Keys => Entries.Select(e => e.Key);

    public bool ContainsKey(string key)
    {
        if (_gate is null) return IndexOf(key) >= 0;
        lock (_gate) return _over is { } over ? over.ContainsKey(key) || _defaults!.ContainsKey(key) : IndexOf(key) >= 0;
    }

    public YNode? this[string key] => TryGet(key, out var value) ? value : null;

    public bool TryGet(string key, out YNode value)
    {
        if (_gate is not null)
        {
            lock (_gate)
            {
                if (_over is not null) return TryGetMerged(key, out value);
            }
        }
        var i = IndexOf(key);
        value = i >= 0 ? _entries![i].Value : null!;
        return i >= 0;
    }

    /// <summary>The key node as written (for its position), when the key was written in this mapping.</summary>
    public YScalar? KeyNode(string key)
    {
        if (_gate is not null)
        {
            lock (_gate)
            {
                if (_over is not null) return _over.KeyNode(key) ?? _defaults!.KeyNode(key);
            }
        }
        var i = IndexOf(key);
        return i >= 0 ? _keyNodes![i] : null;
    }

    internal void Add(string key, YNode value, YScalar? keyNode)
    {
        Written();
        _entries ??= new List<KeyValuePair<string, YNode>>();
        _keyNodes ??= new List<YScalar?>();
        _entries.Add(new(key, value));
        _keyNodes.Add(keyNode);
        if (_index is not null) _index[key] = _entries.Count - 1;
        else if (_entries.Count > IndexFrom)
        {
            _index = new Dictionary<string, int>(_entries.Count * 2, StringComparer.Ordinal);
            for (var i = 0; i < _entries.Count; i++) _index[_entries[i].Key] = i;
        }
    }

    /// <summary>Sets or replaces a value, keeping the original key order.</summary>
    internal void Set(string key, YNode value, YScalar? keyNode)
    {
        Written();
        var i = IndexOf(key);
        if (i < 0) { Add(key, value, keyNode); return; }
        _entries![i] = new(key, value);
        if (keyNode is not null) _keyNodes![i] = keyNode;
    }

    public override object? ToPlain()
    {
        var entries = Entries;
        var d = new Dictionary<string, object?>(entries.Count, StringComparer.Ordinal);
        foreach (var (k, v) in entries) d[k] = v.ToPlain();
        return d;
    }

    private int IndexOf(string key)
    {
        if (_index is not null) return _index.TryGetValue(key, out var i) ? i : -1;
        if (_entries is null) return -1;
        for (var j = 0; j < _entries.Count; j++)
            if (string.Equals(_entries[j].Key, key, StringComparison.Ordinal)) return j;
        return -1;
    }

    // Called with _gate held.
    private bool TryGetMerged(string key, out YNode value)
    {
        if (_over!.TryGet(key, out var written))
        {
            if (written is YMapping om && _defaults!.TryGet(key, out var fallback) && fallback is YMapping dm)
            {
                _mergedChildren ??= new Dictionary<string, YMapping>(StringComparer.Ordinal);
                if (!_mergedChildren.TryGetValue(key, out var child)) _mergedChildren[key] = child = Merged(om, dm);
                value = child;
            }
            else value = written;
            return true;
        }
        return _defaults!.TryGet(key, out value);
    }

    /// <summary>This mapping with every entry written out (a pending merge is done now, once).</summary>
    private YMapping Written()
    {
        if (_gate is null) return this;
        lock (_gate)
        {
            if (_over is not { } over) return this;
            var defaults = _defaults!;
            var entries = new List<KeyValuePair<string, YNode>>(defaults.Count + over.Count);
            var keyNodes = new List<YScalar?>(entries.Capacity);
            var index = new Dictionary<string, int>(entries.Capacity, StringComparer.Ordinal);
            foreach (var (k, v) in defaults.Entries)
            {
                index[k] = entries.Count;
                entries.Add(new(k, v));
                keyNodes.Add(defaults.KeyNode(k));
            }
            foreach (var (k, v) in over.Entries)
            {
                TryGetMerged(k, out var merged);
                var keyNode = over.KeyNode(k);
                if (index.TryGetValue(k, out var i))
                {
                    entries[i] = new(k, merged);
                    if (keyNode is not null) keyNodes[i] = keyNode;
                }
                else
                {
                    index[k] = entries.Count;
                    entries.Add(new(k, merged));
                    keyNodes.Add(keyNode);
                }
            }
            (_entries, _keyNodes, _index) = (entries, keyNodes, index);
            (_over, _defaults, _mergedChildren) = (null, null, null);
            return this;
        }
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
