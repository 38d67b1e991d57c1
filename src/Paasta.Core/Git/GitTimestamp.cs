using System.Globalization;

namespace Paasta.Git;

/// <summary>
/// The timestamp inside every PaaSTA tag name (docs/BEHAVIOUR.md §2.1): UTC, <c>yyyyMMdd'T'HHmmss</c>, fixed width, so
/// ordinal string order is chronological order. Tags are compared by these strings, never by parsed dates.
/// </summary>
public static class GitTimestamp
{
    public const string Format = "yyyyMMdd'T'HHmmss";
    public const int Length = 15;

    public static string ToTimestamp(DateTimeOffset time) =>
        time.UtcDateTime.ToString(Format, CultureInfo.InvariantCulture);

    /// <summary>True for exactly 8 ASCII digits, 'T', 6 ASCII digits (the <c>\d{8}T\d{6}</c> of the tag regexes).</summary>
    public static bool IsTimestamp(ReadOnlySpan<char> text)
    {
        if (text.Length != Length || text[8] != 'T') return false;
        for (var i = 0; i < Length; i++)
        {
            if (i == 8) continue;
            if ((uint)(text[i] - '0') > 9) return false;
        }
        return true;
    }

    /// <summary>The UTC time a tag timestamp stands for; null when it is not a valid date.</summary>
    public static DateTimeOffset? TryParse(string? text)
    {
        if (text is null || !IsTimestamp(text)) return null;
        return DateTime.TryParseExact(text, Format, CultureInfo.InvariantCulture,
            DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var parsed)
            ? new DateTimeOffset(parsed, TimeSpan.Zero)
            : null;
    }
}
