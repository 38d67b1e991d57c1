using System.Text.RegularExpressions;

namespace Paasta.Errors;

/// <summary>
/// Removes credentials from text Paasta shows (messages, progress, verbose output, result properties): the
/// password or token of a URL's user-info becomes <c>***</c>. See docs/RELIABILITY.md, "Secrets".
/// </summary>
public static partial class Redaction
{
    public const string Mask = "***";

    // scheme://user:secret@host  and  scheme://secret@host (a bare token in the user part).
    [GeneratedRegex(@"(?<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?<user>[^/@\s:'""]*)(?::(?<secret>[^/@\s'""]*))?@", RegexOptions.CultureInvariant)]
    private static partial Regex UserInfo();

    /// <summary>The text with every URL's credentials masked; null stays null.</summary>
    public static string? Apply(string? text)
    {
        if (string.IsNullOrEmpty(text) || !text.Contains("://", StringComparison.Ordinal) || !text.Contains('@')) return text;
        return UserInfo().Replace(text, m =>
            m.Groups["secret"].Success
                ? $"{m.Groups["scheme"].Value}{m.Groups["user"].Value}:{Mask}@"
                : m.Groups["user"].Value.Length == 0 ? m.Value : $"{m.Groups["scheme"].Value}{Mask}@");
    }
}
