using System.Text;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using Paasta.Errors;
using Paasta.IO;

namespace Paasta.Yaml;

/// <summary>
/// Reads one YAML file into <see cref="YNode"/>s with positions. Refuses, with a <see cref="PaastaException"/>
/// naming file and line, what would crash or hang a session: syntax errors, tabs in indentation, duplicate
/// keys, unknown tags, huge files, deep nesting and alias bombs (billion laughs).
/// </summary>
public static class YamlLoader
{
    /// <summary>Largest soa-configs file read; real ones are kilobytes.</summary>
    public const long MaxFileBytes = 10L * 1024 * 1024;
    /// <summary>Most nodes a document may stand for once aliases are expanded.</summary>
    public const long MaxExpandedNodes = 2_000_000;
    public const int MaxDepth = 100;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    // Parsed files by path, reused while the file's size and write time are unchanged (PaaSTA caches per
    // path within a process too). Nodes are never changed after parsing, so sharing them is safe.
    private static readonly FileStampCache<(YNode? Node, PaastaException? Error)> Cache = new(100_000);

    /// <summary>
    /// Loads a file; a missing file gives null, an empty one an empty mapping. The file is read through
    /// <see cref="BoundedFile"/>: a FIFO, device or socket (or a link to one) is refused, and so is a file over
    /// <see cref="MaxFileBytes"/> however small it says it is. Symbolic links are followed (docs/RELIABILITY.md).
    /// </summary>
    public static YNode? LoadFile(string path) => LoadFile(path, BoundedFile.Stat(path));

    /// <summary>As <see cref="LoadFile(string)"/>, with what a caller's own Stat of the path just gave.</summary>
    internal static YNode? LoadFile(string path, FileStatus status)
    {
        switch (status.Kind)
        {
            case FileKind.Missing:
                return null;
            case FileKind.Regular:
                break;
            case FileKind.BrokenLink:
                throw new PaastaException("ConfigFileUnreadable", PaastaErrorKind.ReadError,
                    $"Cannot read {path}: it is a symbolic link whose target does not exist (or a loop of links).") { File = path, Target = path };
            default:
                // Not cached: what the path names can change kind, and refusing costs nothing.
                BoundedFile.RequireRegular(path);
                break;
        }
        var key = Path.GetFullPath(path);
        if (Cache.TryGet(key, status, out var hit))
            return hit.Error is null ? hit.Node : throw hit.Error;
        try
        {
            var node = LoadUncached(path);
            Cache.Set(key, status, (node, null));
            return node;
        }
        catch (PaastaException e)
        {
            // A file that is not regular any more (replaced since the Stat) is not cached either.
            if (e.ErrorId != "NotARegularFile") Cache.Set(key, status, (null, e));
            throw;
        }
    }

    private static YNode? LoadUncached(string path)
    {
        byte[] bytes;
        try
        {
            bytes = BoundedFile.ReadAllBytes(path, MaxFileBytes);
        }
        catch (PaastaException e) when (e.ErrorId == "FileTooLarge")
        {
            throw new PaastaException("ConfigFileTooLarge", PaastaErrorKind.LimitsExceeded,
                $"{path} is larger than {BoundedFile.Describe(MaxFileBytes)}, the limit for a soa-configs file (real ones are kilobytes).", e)
            { File = path, Target = path };
        }
        catch (PaastaException e) when (e.ErrorId == "FileNotFound")
        {
            throw new PaastaException("ConfigFileUnreadable", PaastaErrorKind.ReadError, $"Cannot read {path}: it went away while being read.", e)
            { File = path, Target = path };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PaastaException("ConfigFileUnreadable", PaastaErrorKind.ReadError, $"Cannot read {path}: {e.Message}", e) { File = path, Target = path };
        }
        string text;
        try
        {
            var bom = bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0;
            text = StrictUtf8.GetString(bytes, bom, bytes.Length - bom);
        }
        catch (DecoderFallbackException e)
        {
            var line = FirstInvalidUtf8Line(bytes);
            throw new PaastaException("ConfigFileNotUtf8", PaastaErrorKind.InvalidData,
                $"{path}:{line}: the file is not valid UTF-8 text (first bad byte on line {line}).", e) { File = path, Line = line, Column = 1, Target = path };
        }
        return Parse(text, path) ?? new YMapping(path, 0, 0, null);
    }

    /// <summary>Loads a file that must hold a mapping at the top (every soa-configs YAML file does).</summary>
    public static YMapping? LoadMappingFile(string path) => LoadMappingFile(path, BoundedFile.Stat(path));

    /// <summary>As <see cref="LoadMappingFile(string)"/>, with what a caller's own Stat of the path just gave.</summary>
    internal static YMapping? LoadMappingFile(string path, FileStatus status)
    {
        var root = LoadFile(path, status);
        return root switch
        {
            null => null,
            YMapping m => m,
            YScalar { Value: null } s => new YMapping(path, s.Line, s.Column, null),
            _ => throw new PaastaException("ConfigRootNotMapping", PaastaErrorKind.InvalidData,
                $"{path}:{root.Line}: the top level must be a mapping of keys to values, not a {Describe(root)}.")
            { File = path, Line = root.Line, Column = root.Column, Target = path },
        };
    }

    public static YNode? Parse(string text, string file)
    {
        var builder = new Builder(file);
        try
        {
            var parser = new Parser(new StringReader(text));
            return builder.Build(parser);
        }
        catch (PaastaException)
        {
            throw;
        }
        catch (YamlException e)
        {
            if (TabInIndentation(text, (int)e.Start.Line) is int tabLine)
                throw new PaastaException("YamlTabIndentation", PaastaErrorKind.ParserError,
                    $"{file}:{tabLine}: a tab is used for indentation; YAML allows only spaces there.", e)
                { File = file, Line = tabLine, Column = 1, Target = file };
            var (line, column) = ((int)e.Start.Line, (int)e.Start.Column);
            // At the end of the input the scanner only knows something was left open: point at what was.
            if (line > LineCount(text) && builder.InnermostFlow is { } open) (line, column) = open;
            throw new PaastaException("YamlSyntaxError", PaastaErrorKind.ParserError,
                $"{file}:{line}:{column}: YAML syntax error: {Clean(e.Message)}", e)
            { File = file, Line = line, Column = column, Target = file };
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or IndexOutOfRangeException or FormatException)
        {
            // The scanner can fail outside its own exception type on some unterminated input.
            var (line, column) = builder.InnermostFlow ?? builder.LastPosition;
            throw new PaastaException("YamlSyntaxError", PaastaErrorKind.ParserError,
                $"{file}:{line}:{column}: YAML syntax error: something opened here is not closed properly.", e)
            { File = file, Line = line, Column = column, Target = file };
        }
    }

    private static int FirstInvalidUtf8Line(byte[] bytes)
    {
        var chars = new char[bytes.Length];
        System.Text.Unicode.Utf8.ToUtf16(bytes, chars, out var valid, out _, replaceInvalidSequences: false);
        var line = 1;
        for (var i = 0; i < valid && i < bytes.Length; i++) if (bytes[i] == (byte)'\n') line++;
        return line;
    }

    private static int LineCount(string text)
    {
        var count = 1;
        foreach (var c in text) if (c == '\n') count++;
        return text.EndsWith('\n') ? count - 1 : count;
    }

    public static string Describe(YNode node) => node switch
    {
        YMapping => "mapping",
        YSequence => "list",
        YScalar { Value: null } => "null",
        YScalar { Value: bool } => "boolean",
        YScalar { Value: long } => "integer",
        YScalar { Value: double } => "number",
        YScalar { IsOutOfRangeInteger: true } => "integer too large for 64 bits",
        _ => "string",
    };

    private static string Clean(string message)
    {
        // YamlDotNet prefixes "(Line: 3, Col: 1, Idx: 20) - (Line: ...): "; the location is reported separately.
        var i = message.LastIndexOf("): ", StringComparison.Ordinal);
        return i >= 0 && message.StartsWith('(') ? message[(i + 3)..] : message;
    }

    private static int? TabInIndentation(string text, int errorLine)
    {
        // The scanner reports a tab near it, or at the start of the enclosing block: look near first, then anywhere.
        var lines = text.Split('\n');
        static bool TabIndented(string line)
        {
            foreach (var c in line)
            {
                if (c == '\t') return true;
                if (c != ' ') return false;
            }
            return false;
        }
        for (var l = Math.Max(1, errorLine - 1); l <= Math.Min(lines.Length, errorLine + 1); l++)
            if (TabIndented(lines[l - 1])) return l;
        for (var l = 1; l <= lines.Length; l++)
            if (TabIndented(lines[l - 1])) return l;
        return null;
    }

    private sealed class Frame
    {
        public required YNode Node;
        public string? Anchor;
        public string? PendingKey;
        public YScalar? PendingKeyNode;
        public bool PendingIsMerge;
        public bool IsFlow;
        public List<(YNode Node, Mark At)>? MergeSources;
    }

    private sealed class Builder
    {
        private readonly string _file;
        private readonly Dictionary<string, YNode> _anchors = new(StringComparer.Ordinal);
        private readonly Stack<Frame> _stack = new();
        private bool _usedAliases;
        private long _mergedEntries;
        private string? _topLevelKey;
        private Mark _last = Mark.Empty;

        /// <summary>Where the innermost still-open flow collection ([ or {) starts, if any.</summary>
        public (int Line, int Column)? InnermostFlow =>
            _stack.FirstOrDefault(f => f.IsFlow) is { } f ? (f.Node.Line, f.Node.Column) : null;

        public (int Line, int Column) LastPosition => ((int)Math.Max(1, _last.Line), (int)Math.Max(1, _last.Column));

        public Builder(string file) => _file = file;

        public YNode? Build(IParser parser)
        {
            YNode? document = null;
            var documents = 0;
            while (parser.MoveNext())
            {
                var ev = parser.Current!;
                _last = ev.Start;
                switch (ev)
                {
                    case StreamStart or StreamEnd or DocumentEnd or Comment:
                        break;
                    case DocumentStart ds:
                        // An explicit "---" on the first document is fine; a second document is not.
                        if (documents > 0)
                            throw Error("YamlMultipleDocuments", ds.Start, "the file holds more than one YAML document; soa-configs files hold exactly one.");
                        break;
                    case MappingStart ms:
                        Push(new YMapping(_file, (int)ms.Start.Line, (int)ms.Start.Column, _topLevelKey), ms.Anchor, ms.Tag, ms.Start, ms.Style == MappingStyle.Flow);
                        break;
                    case SequenceStart ss:
                        Push(new YSequence(_file, (int)ss.Start.Line, (int)ss.Start.Column, _topLevelKey), ss.Anchor, ss.Tag, ss.Start, ss.Style == SequenceStyle.Flow);
                        break;
                    case MappingEnd or SequenceEnd:
                    {
                        var frame = _stack.Pop();
                        if (frame.MergeSources is { } sources) ApplyMerges((YMapping)frame.Node, sources);
                        if (frame.Anchor is not null) _anchors[frame.Anchor] = frame.Node;
                        if (Complete(frame.Node, ev.Start)) { documents++; document = documents == 1 ? frame.Node : document; CheckSingle(documents, ev.Start); }
                        break;
                    }
                    case Scalar sc:
                    {
                        var node = MakeScalar(sc);
                        if (!sc.Anchor.IsEmpty) _anchors[sc.Anchor.Value] = node;
                        if (Complete(node, sc.Start)) { documents++; document = documents == 1 ? node : document; CheckSingle(documents, sc.Start); }
                        break;
                    }
                    case AnchorAlias alias:
                    {
                        if (!_anchors.TryGetValue(alias.Value.Value, out var target))
                            throw Error("YamlUnknownAlias", alias.Start, $"the alias *{alias.Value.Value} refers to no anchor defined before it.");
                        _usedAliases = true;
                        if (Complete(target, alias.Start)) { documents++; document = documents == 1 ? target : document; CheckSingle(documents, alias.Start); }
                        break;
                    }
                }
            }
            if (document is not null && _usedAliases) CheckExpandedSize(document);
            return document;
        }

        private void CheckSingle(int documents, Mark at)
        {
            if (documents > 1)
                throw Error("YamlMultipleDocuments", at, "the file holds more than one YAML document; soa-configs files hold exactly one.");
        }

        private void Push(YNode node, AnchorName anchor, TagName tag, Mark start, bool isFlow)
        {
            if (_stack.Count >= MaxDepth)
                throw Error("YamlNestingTooDeep", start, $"values are nested more than {MaxDepth} levels deep.", kind: PaastaErrorKind.LimitsExceeded);
            if (!tag.IsEmpty && !tag.IsNonSpecific && tag.Value is not ("tag:yaml.org,2002:map" or "tag:yaml.org,2002:seq" or "tag:yaml.org,2002:omap"))
                throw Error("YamlUnknownTag", start, $"the tag {tag.Value} is not allowed (soa-configs are read with a safe loader).");
            if (_stack.TryPeek(out var parent) && parent.Node is YMapping && parent.PendingKey is null)
                throw Error("YamlComplexKey", start, "a mapping key must be a plain value, not a list or mapping.");
            _stack.Push(new Frame { Node = node, Anchor = anchor.IsEmpty ? null : anchor.Value, IsFlow = isFlow });
        }

        private YScalar MakeScalar(Scalar sc)
        {
            var quoted = sc.Style is not ScalarStyle.Plain;
            object? value;
            var outOfRange = false;
            if (!sc.Tag.IsEmpty && !sc.Tag.IsNonSpecific)
            {
                value = ScalarResolver.ResolveTagged(sc.Tag.Value, sc.Value, out var known);
                if (!known)
                    throw Error("YamlUnknownTag", sc.Start, $"the tag {sc.Tag.Value} is not allowed here (soa-configs are read with a safe loader).");
                outOfRange = value is string && sc.Tag.Value == "tag:yaml.org,2002:int";
            }
            else
            {
                value = quoted ? sc.Value : ScalarResolver.ResolvePlain(sc.Value);
                outOfRange = !quoted && value is string && ScalarResolver.IsOutOfRangeInteger(sc.Value);
            }
            return new YScalar(_file, (int)sc.Start.Line, (int)sc.Start.Column, _topLevelKey, sc.Value, value, quoted, outOfRange);
        }

        /// <summary>Attaches a finished node to its parent; returns true when it is a whole document.</summary>
        private bool Complete(YNode node, Mark at)
        {
            if (_stack.Count == 0) return true;
            var parent = _stack.Peek();
            switch (parent.Node)
            {
                case YSequence seq:
                    seq.Items.Add(node);
                    return false;
                case YMapping map when parent.PendingKey is null:
                {
                    if (node is not YScalar keyScalar)
                        throw Error("YamlComplexKey", at, "a mapping key must be a plain value, not a list or mapping.");
                    var key = keyScalar.Text;
                    if (!keyScalar.Quoted && key == "<<")
                    {
                        parent.PendingIsMerge = true;
                        parent.PendingKey = key;
                        return false;
                    }
                    if (map.ContainsKey(key))
                    {
                        var first = map.KeyNode(key);
                        throw Error("YamlDuplicateKey", at,
                            $"the key '{key}' appears twice in the same mapping (first at line {first?.Line}).", key);
                    }
                    parent.PendingKey = key;
                    parent.PendingKeyNode = keyScalar;
                    if (_stack.Count == 1) _topLevelKey = key;
                    return false;
                }
                case YMapping map:
                {
                    if (parent.PendingIsMerge)
                    {
                        parent.MergeSources ??= new List<(YNode, Mark)>();
                        parent.MergeSources.Add((node, at));
                        parent.PendingIsMerge = false;
                    }
                    else
                    {
                        map.Add(parent.PendingKey!, node, parent.PendingKeyNode);
                    }
                    parent.PendingKey = null;
                    parent.PendingKeyNode = null;
                    if (_stack.Count == 1) _topLevelKey = null;
                    return false;
                }
            }
            return false;
        }

        private void ApplyMerges(YMapping target, List<(YNode Node, Mark At)> sources)
        {
            // YAML merge keys: keys written in the mapping win; among merged mappings the earlier one wins.
            foreach (var (source, at) in sources)
            {
                var list = source is YSequence seq ? seq.Items : new List<YNode> { source };
                foreach (var item in list)
                {
                    if (item is not YMapping m)
                        throw Error("YamlInvalidMerge", at, "a merge key (<<) must refer to a mapping or a list of mappings.");
                    // Each merge copies the source's keys: counted against the alias budget as they are copied,
                    // so many mappings merging one large anchor are refused before they fill memory.
                    _mergedEntries += m.Count;
                    if (_mergedEntries > MaxExpandedNodes)
                        throw Error("YamlAliasExpansionLimit", at,
                            $"merge keys (<<) here copy more than {MaxExpandedNodes:N0} values in all (an alias bomb?), so the file is not loaded.",
                            kind: PaastaErrorKind.LimitsExceeded);
                    foreach (var (k, v) in m.Entries)
                        if (!target.ContainsKey(k)) target.Add(k, v, m.KeyNode(k));
                }
            }
        }

        private void CheckExpandedSize(YNode root)
        {
            // Walks the alias graph once (memoised), so a bomb is measured without being expanded.
            var memo = new Dictionary<YNode, (long Size, int Height)>(ReferenceEqualityComparer.Instance);
            (long Size, int Height) Measure(YNode n, int depth)
            {
                if (depth > MaxDepth)
                    throw new PaastaException("YamlNestingTooDeep", PaastaErrorKind.LimitsExceeded,
                        $"{_file}:{n.Line}: aliases here nest values more than {MaxDepth} levels deep.")
                    { File = _file, Line = n.Line, Column = n.Column, Target = _file };
                if (!memo.TryGetValue(n, out var m))
                {
                    m = (1, 1);
                    var children = n switch
                    {
                        YMapping map => map.Entries.Select(e => e.Value),
                        YSequence seq => seq.Items,
                        _ => Enumerable.Empty<YNode>(),
                    };
                    foreach (var child in children)
                    {
                        var c = Measure(child, depth + 1);
                        m = (Math.Min(long.MaxValue / 2, m.Size + c.Size), Math.Max(m.Height, c.Height + 1));
                    }
                    memo[n] = m;
                }
                if (m.Size > MaxExpandedNodes)
                    throw new PaastaException("YamlAliasExpansionLimit", PaastaErrorKind.LimitsExceeded,
                        $"{_file}:{n.Line}: aliases here expand to more than {MaxExpandedNodes:N0} values (an alias bomb?); refusing to load it.")
                    { File = _file, Line = n.Line, Column = n.Column, Target = _file };
                if (depth + m.Height > MaxDepth)
                    throw new PaastaException("YamlNestingTooDeep", PaastaErrorKind.LimitsExceeded,
                        $"{_file}:{n.Line}: aliases here nest values more than {MaxDepth} levels deep.")
                    { File = _file, Line = n.Line, Column = n.Column, Target = _file };
                return m;
            }
            Measure(root, 0);
        }

        private PaastaException Error(string id, Mark at, string message, string? key = null, PaastaErrorKind kind = PaastaErrorKind.ParserError) =>
            new(id, kind, $"{_file}:{at.Line}:{at.Column}: {message}")
            { File = _file, Line = (int)at.Line, Column = (int)at.Column, Key = key, Target = _file };
    }
}
