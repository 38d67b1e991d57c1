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
        if (FloatPattern().IsMatch(text) && TryParseFloat(text, out var d)) return d;
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
                if (IntPattern().IsMatch(text)) return text; // an integer too large for 64 bits: kept as written
                break;
            case "tag:yaml.org,2002:float":
                if ((FloatPattern().IsMatch(text) || IntPattern().IsMatch(text)) && TryParseFloat(text, out var f)) return f;
                break;
        }
        known = false;
        return text;
    }

    /// <summary>
    /// True for a plain scalar YAML 1.1 reads as an integer that does not fit in 64 bits
    /// (<c>0xFFFFFFFFFFFFFFFF</c>): Paasta keeps its text, and typed reads refuse it (docs/RELIABILITY.md, "Limits").
    /// </summary>
    public static bool IsOutOfRangeInteger(string text) =>
        text.Length > 0 && (char.IsAsciiDigit(text[0]) || text[0] is '-' or '+') && IntPattern().IsMatch(text) && !TryParseInt(text, out _);

    private static bool TryParseInt(string text, out long value)
    {
        value = 0;
        var s = text.Replace("_", "");
        var negative = false;
        if (s.StartsWith('-')) { negative = true; s = s[1..]; }
        else if (s.StartsWith('+')) s = s[1..];
        if (s.Length == 0) return false;
        ulong magnitude;
        if (s.Contains(':'))
        {
            // Sexagesimal, e.g. 1:30 == 90.
            magnitude = 0;
            foreach (var part in s.Split(':'))
                if (!ulong.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var digit) || !TryAccumulate(ref magnitude, 60, digit))
                    return false;
        }
        else if (s.StartsWith("0b")) { if (!TryParseDigits(s.AsSpan(2), 2, out magnitude)) return false; }
        else if (s.StartsWith("0x")) { if (!TryParseDigits(s.AsSpan(2), 16, out magnitude)) return false; }
        else if (s.Length > 1 && s[0] == '0') { if (!TryParseDigits(s.AsSpan(1), 8, out magnitude)) return false; }
        else if (!TryParseDigits(s, 10, out magnitude)) return false;

        // Convert.ToInt64("FFFFFFFFFFFFFFFF", 16) is -1: the range is checked here, on the magnitude.
        if (negative)
        {
            if (magnitude > (ulong)long.MaxValue + 1) return false;
            value = magnitude == (ulong)long.MaxValue + 1 ? long.MinValue : -(long)magnitude;
            return true;
        }
        if (magnitude > long.MaxValue) return false;
        value = (long)magnitude;
        return true;
    }

    private static bool TryParseDigits(ReadOnlySpan<char> digits, int radix, out ulong value)
    {
        value = 0;
        if (digits.Length == 0) return false;
        foreach (var c in digits)
        {
            var d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : 99;
            if (d >= radix || !TryAccumulate(ref value, (ulong)radix, (ulong)d)) return false;
        }
        return true;
    }

    private static bool TryAccumulate(ref ulong acc, ulong radix, ulong digit)
    {
        if (acc > (ulong.MaxValue - digit) / radix) return false;
        acc = acc * radix + digit;
        return true;
    }

    private static bool TryParseFloat(string text, out double value)
    {
        var s = text.Replace("_", "");
        var lower = s.ToLowerInvariant();
        value = 0;
        if (lower.EndsWith(".inf")) { value = lower.StartsWith('-') ? double.NegativeInfinity : double.PositiveInfinity; return true; }
        if (lower == ".nan") { value = double.NaN; return true; }
        if (s.Contains(':'))
        {
            var sign = s.StartsWith('-') ? -1.0 : 1.0;
            double acc = 0;
            foreach (var part in s.TrimStart('-', '+').Split(':'))
            {
                if (!double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out var p)) return false;
                acc = acc * 60 + p;
            }
            value = sign * acc;
            return true;
        }
        // The pattern admits a few texts .NET does not read ("._", "+."); those stay strings.
        return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }
}
