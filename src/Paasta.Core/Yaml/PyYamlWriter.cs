using System.Collections;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Paasta.Yaml;

/// <summary>Which of PyYAML's two emitters to reproduce.</summary>
public enum PyYamlDumper
{
    /// <summary>yaml.CSafeDumper (libyaml).</summary>
    CSafeDumper,
    /// <summary>yaml.SafeDumper (pure Python).</summary>
    SafeDumper,
}

/// <summary>
/// Writes plain values (dictionaries, lists, strings, numbers, booleans, null) as PyYAML's
/// <c>yaml.dump(data, Dumper=SafeDumper, default_flow_style=False)</c> does: keys sorted, block style,
/// empty collections as <c>{}</c>/<c>[]</c>, sequences inside mappings not indented, the same choice of
/// plain/single/double quoting and the same folding of long scalars at 80 columns. Other tools (a Tron
/// master, people diffing configs) read these bytes, so they must be PyYAML's bytes.
/// </summary>
public static partial class PyYamlWriter
{
    private const int BestWidth = 80;
    private const int BestIndent = 2;

    /// <summary>
    /// The document for <paramref name="value"/>, ending with a newline. <paramref name="dumper"/> picks the
    /// emitter: libyaml's (CSafeDumper, what PaaSTA uses when PyYAML is built with libyaml) or PyYAML's pure
    /// Python one (SafeDumper); they differ only in how a long double-quoted scalar is folded.
    /// </summary>
    public static string Dump(object? value, PyYamlDumper dumper = PyYamlDumper.CSafeDumper)
    {
        var e = new Emitter(dumper);
        e.Document(value);
        return e.ToString();
    }

    private sealed class Emitter
    {
        private readonly PyYamlDumper _dumper;
        private readonly StringBuilder _out = new();
        private int _column;
        private bool _whitespace = true;
        private bool _indention = true;

        public Emitter(PyYamlDumper dumper) => _dumper = dumper;

        public override string ToString() => _out.ToString();

        public void Document(object? value)
        {
            Node(value, indent: null, mappingContext: false);
            // expect_document_end: a final indent at column > 0 ends the last line.
            WriteIndent(0);
        }

        private void Node(object? value, int? indent, bool mappingContext)
        {
            switch (value)
            {
                case IDictionary map:
                    var entries = new List<KeyValuePair<string, object?>>();
                    foreach (DictionaryEntry entry in map) entries.Add(new(Convert.ToString(entry.Key, CultureInfo.InvariantCulture)!, entry.Value));
                    Mapping(entries, indent);
                    break;
                case IReadOnlyDictionary<string, object?> ro:
                    Mapping(ro.ToList(), indent);
                    break;
                case string s:
                    Scalar(s, IsPlainString(s), indent, simpleKey: false);
                    break;
                case IEnumerable list:
                    Sequence(list.Cast<object?>().ToList(), indent, mappingContext);
                    break;
                default:
                    Scalar(Represent(value), implicitPlain: true, indent, simpleKey: false);
                    break;
            }
        }

        private void Mapping(List<KeyValuePair<string, object?>> entries, int? indent)
        {
            if (entries.Count == 0)
            {
                WriteIndicator("{", true, whitespace: true);
                WriteIndicator("}", false);
                return;
            }
            // SafeDumper sorts keys (Python compares str by code point; ordinal comparison agrees for these keys).
            entries.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
            var inner = indent is null ? 0 : indent.Value + BestIndent;
            foreach (var (key, value) in entries)
            {
                WriteIndent(inner);
                Scalar(key, IsPlainString(key), inner, simpleKey: true);
                WriteIndicator(":", false);
                Node(value, inner, mappingContext: true);
            }
        }

        private void Sequence(List<object?> items, int? indent, bool mappingContext)
        {
            if (items.Count == 0)
            {
                WriteIndicator("[", true, whitespace: true);
                WriteIndicator("]", false);
                return;
            }
            var indentless = mappingContext && !_indention;
            var inner = indent is null ? 0 : indentless ? indent.Value : indent.Value + BestIndent;
            foreach (var item in items)
            {
                WriteIndent(inner);
                WriteIndicator("-", true, indention: true);
                Node(item, inner, mappingContext: false);
            }
        }

        private void Scalar(string text, bool implicitPlain, int? parentIndent, bool simpleKey)
        {
            // expect_scalar raises the indent as for a flow node; folded lines continue there.
            var indent = parentIndent is null ? BestIndent : parentIndent.Value + BestIndent;
            var cps = CodePoints(text);
            var a = Analyze(cps);
            var split = !simpleKey;
            if (implicitPlain && !(simpleKey && (a.Empty || a.Multiline)) && a.AllowBlockPlain)
                WritePlain(cps, split, indent);
            else if (a.AllowSingleQuoted && !(simpleKey && a.Multiline))
                WriteSingleQuoted(cps, split, indent);
            else if (_dumper == PyYamlDumper.CSafeDumper)
                WriteDoubleQuoted(cps, split, indent);
            else
                WriteDoubleQuotedPython(cps, split, indent);
        }

        private void Write(string data)
        {
            _column += CodePointCount(data);
            _out.Append(data);
        }

        private void WriteIndicator(string indicator, bool needWhitespace, bool whitespace = false, bool indention = false)
        {
            var data = _whitespace || !needWhitespace ? indicator : " " + indicator;
            _whitespace = whitespace;
            _indention = _indention && indention;
            Write(data);
        }

        private void WriteIndent(int indent)
        {
            if (!_indention || _column > indent || (_column == indent && !_whitespace)) WriteLineBreak();
            if (_column < indent)
            {
                _whitespace = true;
                Write(new string(' ', indent - _column));
            }
        }

        private void WriteLineBreak(string data = "\n")
        {
            _whitespace = true;
            _indention = true;
            _out.Append(data);
            _column = 0;
        }

        private void WritePlain(int[] text, bool split, int indent)
        {
            if (text.Length == 0) return;
            if (!_whitespace) Write(" ");
            _whitespace = false;
            _indention = false;
            var spaces = false;
            int start = 0, end = 0;
            while (end <= text.Length)
            {
                int? ch = end < text.Length ? text[end] : null;
                if (spaces)
                {
                    if (ch != ' ')
                    {
                        if (start + 1 == end && _column > BestWidth && split)
                        {
                            WriteIndent(indent);
                            _whitespace = false;
                            _indention = false;
                        }
                        else Write(Slice(text, start, end));
                        start = end;
                    }
                }
                else if (ch is null || ch == ' ' || IsBreak(ch.Value))
                {
                    Write(Slice(text, start, end));
                    start = end;
                }
                if (ch is not null) spaces = ch == ' ';
                end++;
            }
        }

        private void WriteSingleQuoted(int[] text, bool split, int indent)
        {
            WriteIndicator("'", true);
            bool spaces = false, breaks = false;
            int start = 0, end = 0;
            while (end <= text.Length)
            {
                int? ch = end < text.Length ? text[end] : null;
                if (spaces)
                {
                    if (ch is null || ch != ' ')
                    {
                        if (start + 1 == end && _column > BestWidth && split && start != 0 && end != text.Length)
                            WriteIndent(indent);
                        else Write(Slice(text, start, end));
                        start = end;
                    }
                }
                else if (breaks)
                {
                    if (ch is null || !IsBreak(ch.Value))
                    {
                        if (text[start] == '\n') WriteLineBreak();
                        for (var i = start; i < end; i++)
                            WriteLineBreak(text[i] == '\n' ? "\n" : char.ConvertFromUtf32(text[i]));
                        WriteIndent(indent);
                        start = end;
                    }
                }
                else if (ch is null || ch == ' ' || IsBreak(ch.Value) || ch == '\'')
                {
                    if (start < end)
                    {
                        Write(Slice(text, start, end));
                        start = end;
                    }
                }
                if (ch == '\'')
                {
                    Write("''");
                    start = end + 1;
                }
                if (ch is not null)
                {
                    spaces = ch == ' ';
                    breaks = IsBreak(ch.Value);
                }
                end++;
            }
            WriteIndicator("'", false);
        }

        private void WriteDoubleQuoted(int[] text, bool split, int indent)
        {
            WriteIndicator("\"", true);
            // libyaml (CSafeDumper, which PaaSTA uses when PyYAML has it) folds a long double-quoted scalar at a
            // single space, dropping the space into the line break; the pure-Python emitter writes "\" instead.
            var spaces = false;
            for (var i = 0; i < text.Length; i++)
            {
                var ch = text[i];
                if (ch is '"' or '\\' or 0x85 or 0x2028 or 0x2029 or 0xFEFF || !(ch >= 0x20 && ch <= 0x7E))
                {
                    Write(Escape(ch));
                    spaces = false;
                }
                else if (ch == ' ')
                {
                    if (split && !spaces && _column > BestWidth && i != 0 && i != text.Length - 1)
                    {
                        WriteIndentLibyaml(indent);
                        if (i + 1 < text.Length && text[i + 1] == ' ') Write("\\");
                    }
                    else Write(" ");
                    spaces = true;
                }
                else
                {
                    Write(char.ConvertFromUtf32(ch));
                    spaces = false;
                }
            }
            WriteIndicator("\"", false);
        }

        private void WriteIndentLibyaml(int indent)
        {
            if (!_indention || _column > indent || (_column == indent && !_whitespace)) WriteLineBreak();
            while (_column < indent) Write(" ");
            _whitespace = true;
            _indention = true;
        }

        // The pure-Python emitter: folds after a "\" and escapes a space that starts the next line.
        private void WriteDoubleQuotedPython(int[] text, bool split, int indent)
        {
            WriteIndicator("\"", true);
            int start = 0, end = 0;
            while (end <= text.Length)
            {
                int? ch = end < text.Length ? text[end] : null;
                if (ch is null || ch is '"' or '\\' or 0x85 or 0x2028 or 0x2029 or 0xFEFF || !(ch >= 0x20 && ch <= 0x7E))
                {
                    if (start < end)
                    {
                        Write(Slice(text, start, end));
                        start = end;
                    }
                    if (ch is { } c)
                    {
                        Write(Escape(c));
                        start = end + 1;
                    }
                }
                if (end > 0 && end < text.Length - 1 && (ch == ' ' || start >= end) && _column + (end - start) > BestWidth && split)
                {
                    var data = Slice(text, start, end) + "\\";
                    if (start < end) start = end;
                    Write(data);
                    WriteIndent(indent);
                    _whitespace = false;
                    _indention = false;
                    if (text[start] == ' ') Write("\\");
                }
                end++;
            }
            WriteIndicator("\"", false);
        }

        private static string Escape(int c) => c switch
        {
            0 => "\\0",
            7 => "\\a",
            8 => "\\b",
            9 => "\\t",
            10 => "\\n",
            11 => "\\v",
            12 => "\\f",
            13 => "\\r",
            27 => "\\e",
            '"' => "\\\"",
            '\\' => "\\\\",
            0x85 => "\\N",
            0xA0 => "\\_",
            0x2028 => "\\L",
            0x2029 => "\\P",
            <= 0xFF => $"\\x{c:X2}",
            <= 0xFFFF => $"\\u{c:X4}",
            _ => $"\\U{c:X8}",
        };
    }

    private sealed record Analysis(bool Empty, bool Multiline, bool AllowBlockPlain, bool AllowSingleQuoted);

    private static bool IsBreak(int ch) => ch is '\n' or 0x85 or 0x2028 or 0x2029;
    private static bool IsSpaceOrBreak(int ch) => ch is 0 or ' ' or '\t' or '\r' or '\n' or 0x85 or 0x2028 or 0x2029;

    /// <summary>PyYAML's analyze_scalar, reduced to what block context needs.</summary>
    private static Analysis Analyze(int[] s)
    {
        if (s.Length == 0) return new Analysis(true, false, true, true);
        bool blockIndicators = false, lineBreaks = false, special = false;
        bool leadingSpace = false, leadingBreak = false, trailingSpace = false, trailingBreak = false, breakSpace = false, spaceBreak = false;
        if (StartsWith(s, "---") || StartsWith(s, "...")) blockIndicators = true;
        var precededByWhitespace = true;
        var followedByWhitespace = s.Length == 1 || IsSpaceOrBreak(s[1]);
        bool previousSpace = false, previousBreak = false;
        for (var index = 0; index < s.Length; index++)
        {
            var ch = s[index];
            if (index == 0)
            {
                if (ch < 0x80 && "#,[]{}&*!|>'\"%@`".IndexOf((char)ch) >= 0) blockIndicators = true;
                if (ch is '?' or ':' && followedByWhitespace) blockIndicators = true;
                if (ch == '-' && followedByWhitespace) blockIndicators = true;
            }
            else
            {
                if (ch == ':' && followedByWhitespace) blockIndicators = true;
                if (ch == '#' && precededByWhitespace) blockIndicators = true;
            }
            if (IsBreak(ch)) lineBreaks = true;
            if (!(ch == '\n' || (ch >= 0x20 && ch <= 0x7E))) special = true; // allow_unicode is off: everything else is escaped
            if (ch == ' ')
            {
                if (index == 0) leadingSpace = true;
                if (index == s.Length - 1) trailingSpace = true;
                if (previousBreak) breakSpace = true;
                previousSpace = true;
                previousBreak = false;
            }
            else if (IsBreak(ch))
            {
                if (index == 0) leadingBreak = true;
                if (index == s.Length - 1) trailingBreak = true;
                if (previousSpace) spaceBreak = true;
                previousSpace = false;
                previousBreak = true;
            }
            else
            {
                previousSpace = false;
                previousBreak = false;
            }
            precededByWhitespace = IsSpaceOrBreak(ch);
            followedByWhitespace = index + 2 >= s.Length || IsSpaceOrBreak(s[index + 2]);
        }
        bool allowBlockPlain = true, allowSingle = true;
        if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) allowBlockPlain = false;
        if (breakSpace) allowBlockPlain = allowSingle = false;
        if (spaceBreak || special) allowBlockPlain = allowSingle = false;
        if (lineBreaks) allowBlockPlain = false;
        if (blockIndicators) allowBlockPlain = false;
        return new Analysis(false, lineBreaks, allowBlockPlain, allowSingle);
    }

    private static bool StartsWith(int[] s, string prefix)
    {
        if (s.Length < prefix.Length) return false;
        for (var i = 0; i < prefix.Length; i++) if (s[i] != prefix[i]) return false;
        return true;
    }

    private static int[] CodePoints(string s)
    {
        var list = new List<int>(s.Length);
        foreach (var rune in s.EnumerateRunes()) list.Add(rune.Value);
        return list.ToArray();
    }

    private static int CodePointCount(string s)
    {
        var n = 0;
        foreach (var _ in s.EnumerateRunes()) n++;
        return n;
    }

    private static string Slice(int[] text, int start, int end)
    {
        if (end <= start) return ""; // Python's text[start:end]
        var sb = new StringBuilder(end - start);
        for (var i = start; i < end; i++) sb.Append(char.ConvertFromUtf32(text[i]));
        return sb.ToString();
    }

    /// <summary>
    /// True when a str can be written plain: the resolver would read it back as a str (not a bool, int,
    /// float, null, timestamp, merge or value), as PyYAML's implicit resolvers decide.
    /// </summary>
    internal static bool IsPlainString(string s) =>
        s.Length > 0 && !BoolPattern().IsMatch(s) && !IntPattern().IsMatch(s) && !FloatPattern().IsMatch(s)
        && !NullPattern().IsMatch(s) && !TimestampPattern().IsMatch(s) && s != "<<" && s != "=";

    /// <summary>How SafeRepresenter writes a non-string scalar.</summary>
    internal static string Represent(object? value) => value switch
    {
        null => "null",
        bool b => b ? "true" : "false",
        double d when double.IsNaN(d) => ".nan",
        double d when double.IsPositiveInfinity(d) => ".inf",
        double d when double.IsNegativeInfinity(d) => "-.inf",
        double d => FloatRepr(d),
        float f => FloatRepr(f),
        decimal m => FloatRepr((double)m),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    private static string FloatRepr(double d)
    {
        var r = PythonText.Float(d).ToLowerInvariant();
        if (!r.Contains('.') && r.Contains('e')) r = r.Replace("e", ".0e");
        return r;
    }

    [GeneratedRegex(@"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$")]
    private static partial Regex BoolPattern();

    [GeneratedRegex(@"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$")]
    private static partial Regex IntPattern();

    [GeneratedRegex(@"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")]
    private static partial Regex FloatPattern();

    [GeneratedRegex(@"^(?:~|null|Null|NULL)$")]
    private static partial Regex NullPattern();

    [GeneratedRegex(@"^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$")]
    private static partial Regex TimestampPattern();
}
