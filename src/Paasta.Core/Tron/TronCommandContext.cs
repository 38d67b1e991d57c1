using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Paasta.Tron;

/// <summary>
/// Fills an action's command as Tron does when a run starts (docs/BEHAVIOUR.md §9.3, §10.1): the command is a
/// Python format string whose fields are date variables of the run time — shortdate, year, month, day, hour,
/// ym, ymd, ymdh, ymdhm, unixtime, daynumber, each with an optional +N/-N in its own unit (days for shortdate,
/// ymd and day; months for month and ym; ...). <c>{{</c> and <c>}}</c> are literal braces. Anything else in
/// braces ({name}, {runid}, ${VAR}) has no value outside a Tron master; it is refused, as Tron's formatter
/// and PaaSTA's local-run refuse it, rather than left in the command.
/// </summary>
public static partial class TronCommandContext
{
    [GeneratedRegex(@"^(?<name>\w+)(?<delta>[+-][0-9]+)?")]
    private static partial Regex DateExpression();

    /// <summary>
    /// The command with every field replaced by its value at <paramref name="runTime"/> (a local time in
    /// <paramref name="zone"/>, which only {unixtime} needs). <paramref name="refuse"/> makes the error for a
    /// command that cannot be filled: it is given the reason.
    /// </summary>
    public static string Render(string command, DateTime runTime, TimeZoneInfo zone, Func<string, Exception> refuse)
    {
        var result = new StringBuilder(command.Length);
        for (var i = 0; i < command.Length; i++)
        {
            var c = command[i];
            if (c == '}')
            {
                if (i + 1 < command.Length && command[i + 1] == '}') { result.Append('}'); i++; continue; }
                throw refuse("a single '}' (write '}}' for a literal brace)");
            }
            if (c != '{') { result.Append(c); continue; }
            if (i + 1 < command.Length && command[i + 1] == '{') { result.Append('{'); i++; continue; }
            var end = FieldEnd(command, i);
            if (end < 0) throw refuse("a '{' without its '}' (write '{{' for a literal brace)");
            var field = command[(i + 1)..end];
            result.Append(FieldValue(field, runTime, zone, refuse));
            i = end;
        }
        return result.ToString();
    }

    /// <summary>The value of one date variable (with its +N/-N) at a run time; null when the name is not one.</summary>
    public static string? DateValue(string expression, DateTime runTime, TimeZoneInfo zone)
    {
        var m = DateExpression().Match(expression.Replace(" ", "", StringComparison.Ordinal));
        if (!m.Success) return null;
        var delta = m.Groups["delta"].Success ? int.Parse(m.Groups["delta"].Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture) : 0;
        string Format(DateTime t, string format) => t.ToString(format, CultureInfo.InvariantCulture);
        return m.Groups["name"].Value switch
        {
            "shortdate" or "ymd" => Format(Shift(runTime, days: delta), "yyyy-MM-dd"),
            "day" => Format(Shift(runTime, days: delta), "dd"),
            "year" => Format(Shift(runTime, years: delta), "yyyy"),
            "month" => Format(Shift(runTime, months: delta), "MM"),
            "hour" => Format(Shift(runTime, hours: delta), "HH"),
            "ym" => Format(Shift(runTime, months: delta), "yyyy-MM"),
            "ymdh" => Format(Shift(runTime, hours: delta), "yyyy-MM-dd'T'HH"),
            "ymdhm" => Format(Shift(runTime, minutes: delta), "yyyy-MM-dd'T'HH:mm"),
            "unixtime" => (new DateTimeOffset(runTime, zone.GetUtcOffset(runTime)).ToUnixTimeSeconds() + delta).ToString(CultureInfo.InvariantCulture),
            // Python's date.toordinal(): 1 for 0001-01-01.
            "daynumber" => (runTime.Ticks / TimeSpan.TicksPerDay + 1 + delta).ToString(CultureInfo.InvariantCulture),
            _ => null,
        };
    }

    // Tron's calendar arithmetic: years and months move the date, clamping the day to the new month's length
    // (31 January + 1 month is 28 or 29 February); seconds are dropped; then days, hours and minutes are added.
    private static DateTime Shift(DateTime start, int years = 0, int months = 0, int days = 0, int hours = 0, int minutes = 0)
    {
        var monthIndex = start.Year * 12 + (start.Month - 1) + years * 12 + months;
        var year = monthIndex / 12;
        var month = monthIndex % 12 + 1;
        var day = Math.Min(start.Day, DateTime.DaysInMonth(year, month));
        return new DateTime(year, month, day, start.Hour, start.Minute, 0, start.Kind)
            .AddDays(days).AddHours(hours).AddMinutes(minutes);
    }

    // The '}' closing the field that opens at 'start', counting nested braces as Python's parser does; -1 if none.
    private static int FieldEnd(string text, int start)
    {
        var depth = 0;
        for (var i = start; i < text.Length; i++)
        {
            if (text[i] == '{') depth++;
            else if (text[i] == '}' && --depth == 0) return i;
        }
        return -1;
    }

    private static string FieldValue(string field, DateTime runTime, TimeZoneInfo zone, Func<string, Exception> refuse)
    {
        if (field.IndexOfAny(new[] { '!', ':', '.', '[', '{' }) >= 0)
            throw refuse($"{{{field}}}: conversions, format specs and attribute lookups are not supported");
        string? value;
        try { value = DateValue(field, runTime, zone); }
        catch (Exception e) when (e is ArgumentOutOfRangeException or OverflowException) { throw refuse($"{{{field}}} is outside the calendar"); }
        return value ?? throw refuse($"{{{field}}} is not one of Tron's date variables (shortdate, year, month, day, hour, ym, ymd, ymdh, ymdhm, unixtime, daynumber, each with an optional +N or -N); "
            + "other variables exist only on a Tron master, and a literal brace is written '{{' or '}}'");
    }
}
