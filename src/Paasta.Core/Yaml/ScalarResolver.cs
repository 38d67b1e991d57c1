using System.Globalization;
using System.Text.RegularExpressions;

namespace Paasta.Yaml;

/// <summary>
/// Resolves plain scalars with YAML 1.1's implicit types, as PyYAML's safe loader (what PaaSTA reads
/// soa-configs with) does: <c>yes</c>/<c>on</c> are booleans, <c>0755</c> is octal, <c>1e3</c> is a string.
/// </summary>
internal static partial class ScalarResolver
{
    [GeneratedRegex(@"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$")]
    private static partial Regex BoolPattern();

    [GeneratedRegex(@"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$")]
    private static partial Regex IntPattern();

    [GeneratedRegex(@"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")]
    private static partial Regex FloatPattern();

    public static object? ResolvePlain(string text)
    {
        if (text.Length == 0 || text is "~" or "null" or "Null" or "NULL") return null;
        var first = text[0];
        // Cheap pre-check: every non-string type starts with one of these characters.
        if (!(char.IsAsciiDigit(first) || first is '-' or '+' or '.' or 'y' or 'Y' or 'n' or 'N' or 't' or 'T' or 'f' or 'F' or 'o' or 'O'))
            return text;
        if (BoolPattern().IsMatch(text))
            return text[0] is 'y' or 'Y' or 't' or 'T' || text is "on" or "On" or "ON";
        if (IntPattern().IsMatch(text) && TryParseInt(text, out var l)) return l;
        if (FloatPattern().IsMatch(text)) return ParseFloat(text);
        return text;
    }

    public static object? ResolveTagged(string tag, string text, out bool known)
    {
        known = true;
        switch (tag)
        {
            case "tag:yaml.org,2002:str": return text;
            case "tag:yaml.org,2002:null": return null;
            case "tag:yaml.org,2002:bool":
                if (BoolPattern().IsMatch(text)) return ResolvePlain(text);
                break;
            case "tag:yaml.org,2002:int":
                if (TryParseInt(text, out var l)) return l;
                break;
            case "tag:yaml.org,2002:float":
                if (FloatPattern().IsMatch(text) || IntPattern().IsMatch(text)) return ParseFloat(text);
                break;
        }
        known = false;
        return text;
    }

    private static bool TryParseInt(string text, out long value)
    {
        var s = text.Replace("_", "");
        var sign = 1L;
        if (s.StartsWith('-')) { sign = -1; s = s[1..]; }
        else if (s.StartsWith('+')) s = s[1..];
        try
        {
            if (s.Contains(':'))
            {
                // Sexagesimal, e.g. 1:30 == 90.
                long acc = 0;
                foreach (var part in s.Split(':')) acc = checked(acc * 60 + long.Parse(part, CultureInfo.InvariantCulture));
                value = sign * acc;
                return true;
            }
            if (s.StartsWith("0b")) { value = sign * Convert.ToInt64(s[2..], 2); return true; }
            if (s.StartsWith("0x")) { value = sign * Convert.ToInt64(s[2..], 16); return true; }
            if (s.Length > 1 && s[0] == '0') { value = sign * Convert.ToInt64(s[1..], 8); return true; }
            value = sign * long.Parse(s, CultureInfo.InvariantCulture);
            return true;
        }
        catch (Exception e) when (e is OverflowException or FormatException or ArgumentException)
        {
            value = 0;
            return false;
        }
    }

    private static double ParseFloat(string text)
    {
        var s = text.Replace("_", "");
        var lower = s.ToLowerInvariant();
        if (lower.EndsWith(".inf")) return lower.StartsWith('-') ? double.NegativeInfinity : double.PositiveInfinity;
        if (lower == ".nan") return double.NaN;
        if (s.Contains(':'))
        {
            var sign = s.StartsWith('-') ? -1.0 : 1.0;
            double acc = 0;
            foreach (var part in s.TrimStart('-', '+').Split(':')) acc = acc * 60 + double.Parse(part, CultureInfo.InvariantCulture);
            return sign * acc;
        }
        return double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);
    }
}
