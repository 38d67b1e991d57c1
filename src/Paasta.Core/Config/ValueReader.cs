using System.Collections.Concurrent;
using Paasta.Yaml;
using Paasta.Errors;

namespace Paasta.Config;

/// <summary>
/// Typed reads from an effective config with code defaults; records, for every value, where it came
/// from. A value of the wrong type is refused with its file, line and key.
/// </summary>
internal sealed class ValueReader
{
    private readonly YMapping _root;
    private readonly string _instanceFile;
    // Sources that are not a node of the effective config (a default, a value taken from smartstack.yaml), in the
    // order recorded; a later one for the same path wins. A list: most of them are defaults, read only when a caller
    // asks where a value came from, and a dictionary per instance cost more than the rest of the reads.
    private readonly List<ValueSource> _overrides = new(40);
    // One source per defaulted path, shared by every instance (ValueSource is immutable; the paths are the code's).
    private static readonly ConcurrentDictionary<string, ValueSource> DefaultSources = new(StringComparer.Ordinal);

    public ValueReader(YMapping root, string instanceFile)
    {
        _root = root;
        _instanceFile = instanceFile;
    }

    private YNode? Get(string path)
    {
        YNode? node = _root;
        var from = 0;
        while (true)
        {
            var dot = path.IndexOf('.', from);
            var part = dot < 0 ? (from == 0 ? path : path[from..]) : path[from..dot];
            if (node is not YMapping m || !m.TryGet(part, out var child)) return null;
            node = child;
            if (dot < 0) break;
            from = dot + 1;
        }
        return node is YScalar { Value: null } ? null : node;
    }

    public void Defaulted(string path) =>
        _overrides.Add(DefaultSources.GetOrAdd(path, p => new ValueSource(p, ValueOrigin.Default, null, 0, 0)));

    public T DefaultedValue<T>(string path, T value)
    {
        Defaulted(path);
        return value;
    }

    public void From(string path, YNode node, ValueOrigin origin) =>
        _overrides.Add(new ValueSource(path, origin, node.File, node.Line, node.Column));

    public double Number(string path, double fallback) => OptionalNumber(path) ?? DefaultedValue(path, fallback);

    public double? OptionalNumber(string path) => Get(path) switch
    {
        null => null,
        YScalar { IsOutOfRangeInteger: true } n => throw OutOfRange(path, n),
        YScalar { Value: long l } n => InRange(l) ? l : throw OutOfRange(path, n),
        YScalar { Value: double d } n => double.IsFinite(d) && InRange(d) ? d : throw OutOfRange(path, n),
        var n => throw WrongType(path, n, "a number"),
    };

    public long Integer(string path, long fallback) => OptionalInteger(path) ?? DefaultedValue(path, fallback);

    public long? OptionalInteger(string path) => Get(path) switch
    {
        null => null,
        YScalar { IsOutOfRangeInteger: true } n => throw OutOfRange(path, n),
        YScalar { Value: long l } n => InRange(l) ? l : throw OutOfRange(path, n),
        YScalar { Value: double d } n when d == Math.Floor(d) && Math.Abs(d) < 1e15 => InRange(d) ? (long)d : throw OutOfRange(path, n),
        var n => throw WrongType(path, n, "a whole number"),
    };

    /// <summary>
    /// The range of every number read from soa-configs: Kubernetes holds replicas, ports, thresholds and seconds
    /// as 32-bit numbers, so a larger value would be refused there or wrap round on the way (docs/RELIABILITY.md).
    /// </summary>
    public const double MinNumber = int.MinValue, MaxNumber = int.MaxValue;

    private static bool InRange(double value) => value >= MinNumber && value <= MaxNumber;

    public bool Bool(string path, bool fallback) => Get(path) switch
    {
        null => DefaultedValue(path, fallback),
        YScalar { Value: bool b } => b,
        var n => throw WrongType(path, n, "true or false"),
    };

    public string? String(string path) => Get(path) switch
    {
        null => null,
        YScalar { Value: string s } => s,
        YScalar { Value: long or double } s => PythonText.Str(s.Value),
        var n => throw WrongType(path, n, "a string"),
    };

    public IReadOnlyList<string>? StringList(string path) => Get(path) switch
    {
        null => null,
        YSequence seq => seq.Items.Select(i => i is YScalar { Value: not null and not bool } s ? PythonText.Str(s.Value) : throw WrongType(path, i, "a string")).ToList(),
        var n => throw WrongType(path, n, "a list of strings"),
    };

    public IReadOnlyDictionary<string, string> StringMap(string path)
    {
        var node = Get(path);
        if (node is null) { Defaulted(path); return new Dictionary<string, string>(); }
        if (node is not YMapping m) throw WrongType(path, node, "a mapping of names to strings");
        var result = new Dictionary<string, string>(m.Count, StringComparer.Ordinal);
        foreach (var (k, v) in m.Entries)
            result[k] = v is YScalar s ? (s.Value as string ?? PythonText.Str(s.Value)) : throw WrongType($"{path}.{k}", v, "a string");
        return result;
    }

    /// <summary>A container environment (<c>env</c>): names and values checked by <see cref="EnvironmentNames"/>.</summary>
    public IReadOnlyDictionary<string, string> Environment(string path)
    {
        var env = StringMap(path);
        if (env.Count == 0 || Get(path) is not YMapping m) return env;
        foreach (var (name, value) in env)
        {
            var key = $"{path}.{EnvironmentNames.Shown(name)}";
            var at = (YNode?)m.KeyNode(name) ?? m[name] ?? m;
            if (EnvironmentNames.NameProblem(name) is { } nameProblem)
                throw new PaastaException("ConfigEnvNameInvalid", PaastaErrorKind.InvalidData, $"{at.File}:{at.Line}: '{key}': {nameProblem}.")
                { File = at.File, Line = at.Line, Column = at.Column, Key = key, Target = key };
            if (EnvironmentNames.ValueProblem(value) is { } valueProblem)
                throw new PaastaException("ConfigEnvValueInvalid", PaastaErrorKind.InvalidData, $"{at.File}:{at.Line}: '{key}': {valueProblem}.")
                { File = at.File, Line = at.Line, Column = at.Column, Key = key, Target = key };
        }
        return env;
    }

    public IReadOnlyDictionary<string, object?>? Map(string path) => Get(path) switch
    {
        null => null,
        YMapping m => (IReadOnlyDictionary<string, object?>)m.ToPlain()!,
        var n => throw WrongType(path, n, "a mapping"),
    };

    public IReadOnlyList<ExtraVolume> Volumes(string path)
    {
        var node = Get(path);
        if (node is null) { Defaulted(path); return Array.Empty<ExtraVolume>(); }
        if (node is not YSequence seq) throw WrongType(path, node, "a list of volumes");
        var result = new List<ExtraVolume>();
        foreach (var item in seq.Items)
        {
            if (item is not YMapping m) throw WrongType(path, item, "a mapping with containerPath, hostPath and mode");
            string Field(string key) => m[key] is YScalar { Value: string s } ? s
                : throw new PaastaException("ConfigValueMissing", PaastaErrorKind.InvalidData,
                    $"{item.File}:{item.Line}: each entry of {path} needs '{key}'.")
                { File = item.File, Line = item.Line, Column = item.Column, Key = $"{path}.{key}" };
            result.Add(new ExtraVolume(Field("containerPath"), Field("hostPath"), Field("mode")));
        }
        return result;
    }

    public PaastaException WrongType(string path, YNode node, string expected)
    {
        // Point at the key, as validation findings do: for a mapping or list value that is the line naming it.
        var at = (YNode?)KeyNode(path) ?? node;
        return new("ConfigValueWrongType", PaastaErrorKind.InvalidData,
            $"{at.File}:{at.Line}: '{path}' must be {expected}, not a {YamlLoader.Describe(node)} ('{Preview(node)}').")
        { File = at.File, Line = at.Line, Column = at.Column, Key = path, Target = path };
    }

    /// <summary>A number outside <see cref="MinNumber"/>..<see cref="MaxNumber"/>, or not finite: refused, never wrapped round.</summary>
    public PaastaException OutOfRange(string path, YScalar node)
    {
        var at = (YNode?)KeyNode(path) ?? node;
        var what = node.Value is double d && !double.IsFinite(d) ? "which is not a finite number"
            : $"outside the range Paasta reads ({MinNumber:#,0} to {MaxNumber:#,0}: Kubernetes holds such values as 32-bit numbers)";
        return new("ConfigValueOutOfRange", PaastaErrorKind.InvalidData, $"{at.File}:{at.Line}: '{path}' is {Preview(node)}, {what}.")
        { File = at.File, Line = at.Line, Column = at.Column, Key = path, Target = path };
    }

    private YScalar? KeyNode(string path)
    {
        var parts = path.Split('.');
        YNode? node = _root;
        for (var i = 0; i < parts.Length - 1; i++)
            node = node is YMapping m ? m[parts[i]] : null;
        return (node as YMapping)?.KeyNode(parts[^1]);
    }

    private static string Preview(YNode node) => node is YScalar s ? (s.Text.Length > 40 ? s.Text[..40] + "…" : s.Text) : YamlLoader.Describe(node);

    /// <summary>Every leaf value with its origin, plus the defaults applied, keyed by dotted path.</summary>
    public IReadOnlyDictionary<string, ValueSource> Sources(ISet<string> skipTopLevel)
    {
        var result = new SortedDictionary<string, ValueSource>(StringComparer.Ordinal);
        void Walk(string prefix, YNode node)
        {
            if (node is YMapping m && m.Count > 0)
            {
                foreach (var (k, v) in m.Entries) Walk(prefix.Length == 0 ? k : $"{prefix}.{k}", v);
                return;
            }
            result[prefix] = new ValueSource(prefix, OriginOf(node), node.File, node.Line, node.Column);
        }
        foreach (var (k, v) in _root.Entries)
        {
            if (skipTopLevel.Contains(k) && OriginOf(v) != ValueOrigin.InstanceFile) continue;
            Walk(k, v);
        }
        for (var i = _overrides.Count - 1; i >= 0; i--)
            result.TryAdd(_overrides[i].Path, _overrides[i]);
        return result;
    }

    /// <summary>
    /// One entry of <see cref="Sources"/> without building them all: a validator asking where one key came from,
    /// for each of thousands of instances, pays for that key only.
    /// </summary>
    public ValueSource? SourceOf(string path, ISet<string> skipTopLevel)
    {
        var parts = path.Split('.');
        YNode? Find(YMapping m, int from)
        {
            // Keys may hold dots themselves: try "a", then "a.b", … as the key at this level.
            for (var to = from; to < parts.Length; to++)
            {
                var key = to == from ? parts[from] : string.Join('.', parts[from..(to + 1)]);
                if (!m.TryGet(key, out var child)) continue;
                if (from == 0 && skipTopLevel.Contains(key) && OriginOf(child) != ValueOrigin.InstanceFile) continue;
                var branch = child is YMapping { Count: > 0 } cm ? cm : null;
                if (to == parts.Length - 1) return branch is null ? child : null;
                if (branch is not null && Find(branch, to + 1) is { } found) return found;
            }
            return null;
        }
        if (Find(_root, 0) is { } node) return new ValueSource(path, OriginOf(node), node.File, node.Line, node.Column);
        for (var i = _overrides.Count - 1; i >= 0; i--)
            if (_overrides[i].Path == path) return _overrides[i];
        return null;
    }

    private ValueOrigin OriginOf(YNode node)
    {
        if (node.File == _instanceFile)
            return node.TopLevelKey is { } top && top.StartsWith('_') ? ValueOrigin.Template : ValueOrigin.InstanceFile;
        return Path.GetFileName(node.File) switch
        {
            "monitoring.yaml" => ValueOrigin.MonitoringYaml,
            "smartstack.yaml" => ValueOrigin.SmartstackYaml,
            "deploy.yaml" => ValueOrigin.DeployYaml,
            _ => ValueOrigin.ServiceYaml,
        };
    }
}
