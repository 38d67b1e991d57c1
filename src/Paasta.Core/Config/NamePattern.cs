using System.Text;
using System.Text.RegularExpressions;

namespace Paasta.Config;

/// <summary>
/// A name or a wildcard pattern as PowerShell users write them (<c>*</c>, <c>?</c>, <c>[abc]</c>, <c>[a-z]</c>,
/// a backtick escapes), matched case-insensitively like <c>-like</c>. The engine needs the same rules as the
/// cmdlets without PowerShell's own WildcardPattern, so that a selection made in xunit matches one made at a prompt.
/// </summary>
public sealed class NamePattern
{
    private readonly Regex? _regex;

    private NamePattern(string text, Regex? regex)
    {
        Text = text;
        _regex = regex;
    }

    /// <summary>What the user wrote.</summary>
    public string Text { get; }

    /// <summary>True when the text has wildcard characters; a literal name is expected to exist, a pattern may match nothing.</summary>
    public bool IsWildcard => _regex is not null;

    /// <summary>The literal name (escapes removed) when <see cref="IsWildcard"/> is false.</summary>
    public string Literal => IsWildcard ? Text : Unescape(Text);

    public static NamePattern Parse(string text) =>
        new(text, HasWildcards(text) ? new Regex(ToRegex(text), RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Singleline) : null);

    public static IReadOnlyList<NamePattern>? ParseAll(IEnumerable<string>? texts)
    {
        if (texts is null) return null;
        var list = texts.Select(Parse).ToList();
        return list.Count == 0 ? null : list;
    }

    public bool IsMatch(string name) =>
        _regex is not null ? _regex.IsMatch(name) : string.Equals(Literal, name, StringComparison.OrdinalIgnoreCase);

    /// <summary>A predicate for a list of patterns (any may match); null when there are none, meaning everything.</summary>
    public static Func<string, bool>? Any(IReadOnlyList<NamePattern>? patterns) =>
        patterns is null ? null : name => patterns.Any(p => p.IsMatch(name));

    public static bool HasWildcards(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '`') { i++; continue; }
            if (text[i] is '*' or '?' or '[') return true;
        }
        return false;
    }

    public override string ToString() => Text;

    private static string Unescape(string text)
    {
        if (!text.Contains('`')) return text;
        var sb = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '`' && i + 1 < text.Length) i++;
            sb.Append(text[i]);
        }
        return sb.ToString();
    }

    private static string ToRegex(string pattern)
    {
        var sb = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            switch (c)
            {
                case '`' when i + 1 < pattern.Length:
                    sb.Append(Regex.Escape(pattern[++i].ToString()));
                    break;
                case '*':
                    sb.Append(".*");
                    break;
                case '?':
                    sb.Append('.');
                    break;
                case '[':
                    var end = pattern.IndexOf(']', i + 1);
                    if (end < 0) { sb.Append(@"\["); break; }
                    var set = pattern[(i + 1)..end];
                    sb.Append('[');
                    foreach (var s in set) sb.Append(s is '\\' or '^' or '[' ? "\\" + s : s.ToString());
                    sb.Append(']');
                    i = end;
                    break;
                default:
                    sb.Append(Regex.Escape(c.ToString()));
                    break;
            }
        }
        return sb.Append('$').ToString();
    }
}
