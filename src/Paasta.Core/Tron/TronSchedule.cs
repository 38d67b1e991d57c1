using System.Globalization;
using System.Text.RegularExpressions;
using Paasta.Yaml;
using Paasta.Errors;

namespace Paasta.Tron;

/// <summary>The schedule syntaxes Tron understands (docs/BEHAVIOUR.md §10.1).</summary>
public enum TronScheduleKind
{
    /// <summary><c>cron MIN HOUR DOM MON DOW</c> (or a @macro), or <c>{type: cron, value: …}</c>.</summary>
    Cron,
    /// <summary><c>daily [HH:MM[:SS]] [MTWRFSU]</c>, or <c>{type: daily, value: …}</c>.</summary>
    Daily,
    /// <summary><c>interval &lt;n&gt;&lt;unit&gt;</c>, or <c>{type: interval, value: …}</c>.</summary>
    Interval,
    /// <summary>Groc-style English (<c>7th of month at 11:00</c>, <c>every monday at 09:00</c>), or <c>{type: groc daily, value: …}</c>.</summary>
    Groc,
}

/// <summary>
/// A Tron schedule, parsed and checked. Tron receives the schedule exactly as written; Paasta parses it to
/// validate it and to translate it for Kubernetes CronJobs (see <see cref="Jobs.CronTranslator"/>).
/// </summary>
public sealed partial record TronSchedule(TronScheduleKind Kind, string Value, string? Jitter)
{
    /// <summary>Parses a schedule as written in tron-CLUSTER.yaml (string or mapping); the message says what is wrong.</summary>
    public static bool TryParse(object? raw, out TronSchedule? schedule, out string? error)
    {
        schedule = null;
        error = null;
        switch (raw)
        {
            case string text:
                {
                    var trimmed = text.Trim();
                    var space = trimmed.IndexOfAny(new[] { ' ', '\t' });
                    var head = (space < 0 ? trimmed : trimmed[..space]).ToLowerInvariant();
                    var rest = space < 0 ? "" : trimmed[(space + 1)..].Trim();
                    var kind = head switch
                    {
                        "cron" => TronScheduleKind.Cron,
                        "daily" => TronScheduleKind.Daily,
                        "interval" => TronScheduleKind.Interval,
                        _ => TronScheduleKind.Groc,
                    };
                    schedule = new TronSchedule(kind, kind == TronScheduleKind.Groc ? trimmed : rest, null);
                    break;
                }
            case IReadOnlyDictionary<string, object?> or IDictionary<string, object?>:
                {
                    var map = raw as IReadOnlyDictionary<string, object?> ?? new Dictionary<string, object?>((IDictionary<string, object?>)raw);
                    var type = map.TryGetValue("type", out var t) ? t as string : null;
                    var value = map.TryGetValue("value", out var v) ? v as string : null;
                    var jitter = map.TryGetValue("jitter", out var j) ? j as string : null;
                    var unknown = map.Keys.Where(k => k is not ("type" or "value" or "jitter")).ToList();
                    if (unknown.Count > 0) { error = $"a schedule mapping has only type, value and jitter; '{unknown[0]}' is not one of them"; return false; }
                    if (type is null) { error = "a schedule mapping needs 'type' (cron, daily, interval or groc daily)"; return false; }
                    if (value is null) { error = "a schedule mapping needs 'value' (a string)"; return false; }
                    TronScheduleKind? kind = type.Trim().ToLowerInvariant() switch
                    {
                        "cron" => TronScheduleKind.Cron,
                        "daily" => TronScheduleKind.Daily,
                        "interval" => TronScheduleKind.Interval,
                        "groc daily" or "groc" => TronScheduleKind.Groc,
                        _ => null,
                    };
                    if (kind is null) { error = $"schedule type '{type}' is not one Tron knows (cron, daily, interval, groc daily)"; return false; }
                    if (jitter is not null && !IntervalPattern().IsMatch(jitter.Trim())) { error = $"jitter '{jitter}' is not a time span such as 30s or 5m"; return false; }
                    schedule = new TronSchedule(kind.Value, value.Trim(), jitter?.Trim());
                    break;
                }
            case null:
                error = "a job needs a schedule";
                return false;
            default:
                error = $"a schedule is a string or a mapping, not {PythonText.Str(raw)}";
                return false;
        }
        error = schedule.Check();
        if (error is not null) schedule = null;
        return error is null;
    }

    /// <summary>Parses or throws InvalidTronSchedule naming the job.</summary>
    public static TronSchedule Parse(object? raw, string job)
    {
        if (TryParse(raw, out var s, out var error)) return s!;
        throw new PaastaException("InvalidTronSchedule", PaastaErrorKind.InvalidData, $"Job '{job}': the schedule {Describe(raw)} is not valid: {error}.") { Target = job, Key = "schedule" };
    }

    public static string Describe(object? raw) => raw switch
    {
        string s => $"'{s}'",
        IEnumerable<KeyValuePair<string, object?>> m => "{" + string.Join(", ", m.Select(kv => $"{kv.Key}: {PythonText.Str(kv.Value)}")) + "}",
        _ => PythonText.Str(raw),
    };

    /// <summary>The error in the schedule's value, or null when Tron would accept it.</summary>
    private string? Check() => Kind switch
    {
        TronScheduleKind.Cron => CronExpression.TryParse(Value, out _, out var e) ? null : e,
        TronScheduleKind.Daily => TryParseDaily(Value, out _, out var e) ? null : e,
        TronScheduleKind.Interval => TryParseInterval(Value, out _, out var e) ? null : e,
        _ => CheckGroc(Value),
    };

    /// <summary>
    /// Groc ("groc daily"): <c>every|ORDINALS [DAYS] [of|in MONTHS] [[at] HH:MM]</c> where ORDINALS are 1st, 2nd …
    /// or first … fifth (comma-separated), DAYS is <c>day</c> or weekdays, MONTHS is <c>month</c> or month names;
    /// after the ordinals come days, months or both (<c>7th of month at 11:00</c>, <c>every monday at 09:00</c>).
    /// </summary>
    private static string? CheckGroc(string value)
    {
        var m = GrocPattern().Match(value.Trim());
        if (!m.Success)
            return $"'{value}' is none of Tron's schedule forms: 'cron …', 'daily HH:MM:SS [days]', 'interval 5m', or groc style " +
                "'every|1st,2nd… [day|monday,…] [of month|of jan,…] [at HH:MM]' such as '7th of month at 11:00' or 'every monday at 09:00'";
        foreach (Capture c in m.Groups["n"].Captures)
            if (int.Parse(c.Value, CultureInfo.InvariantCulture) is < 1 or > 31) return $"'{value}': the ordinal {c.Value} is not a day of a month (1st to 31st)";
        if (m.Groups["h"].Success && (int.Parse(m.Groups["h"].Value, CultureInfo.InvariantCulture) > 23 || int.Parse(m.Groups["mi"].Value, CultureInfo.InvariantCulture) > 59))
            return $"'{value}': {m.Groups["h"].Value}:{m.Groups["mi"].Value} is not a time of day";
        return null;
    }

    /// <summary>A daily schedule: time of day and the days of the week (empty: every day).</summary>
    public sealed record DailySpec(int Hour, int Minute, int Second, IReadOnlyList<DayOfWeek> Days);

    public static bool TryParseDaily(string value, out DailySpec? spec, out string? error)
    {
        spec = null;
        error = null;
        var m = DailyPattern().Match(value.Trim());
        if (!m.Success)
        {
            error = $"'daily {value}' must look like 'daily HH:MM[:SS] [MTWRFSU]' (days: M T W R F S U)";
            return false;
        }
        int hour = 0, minute = 0, second = 0;
        if (m.Groups["h"].Success)
        {
            hour = int.Parse(m.Groups["h"].Value, CultureInfo.InvariantCulture);
            minute = int.Parse(m.Groups["m"].Value, CultureInfo.InvariantCulture);
            second = m.Groups["s"].Success ? int.Parse(m.Groups["s"].Value, CultureInfo.InvariantCulture) : 0;
        }
        if (hour > 23 || minute > 59 || second > 59)
        {
            error = $"'{value}' is not a time of day";
            return false;
        }
        var days = new List<DayOfWeek>();
        foreach (var c in m.Groups["days"].Value)
        {
            var day = c switch
            {
                'M' => DayOfWeek.Monday, 'T' => DayOfWeek.Tuesday, 'W' => DayOfWeek.Wednesday, 'R' => DayOfWeek.Thursday,
                'F' => DayOfWeek.Friday, 'S' => DayOfWeek.Saturday, _ => DayOfWeek.Sunday,
            };
            if (!days.Contains(day)) days.Add(day);
        }
        spec = new DailySpec(hour, minute, second, days);
        return true;
    }

    public static bool TryParseInterval(string value, out TimeSpan interval, out string? error)
    {
        interval = TimeSpan.Zero;
        error = null;
        var m = IntervalPattern().Match(value.Trim());
        if (!m.Success)
        {
            error = $"'interval {value}' must be a number and a unit, such as 'interval 5m', 'interval 2 hours' or 'interval 1d'";
            return false;
        }
        var n = long.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture);
        var unit = m.Groups["unit"].Value.ToLowerInvariant();
        var seconds = unit[0] switch
        {
            's' => 1L,
            'm' => 60L,
            'h' => 3600L,
            'd' => 86400L,
            _ => 604800L,
        };
        if (n <= 0 || n > 10_000_000)
        {
            error = $"'interval {value}' must be a positive interval";
            return false;
        }
        interval = TimeSpan.FromSeconds(n * seconds);
        return true;
    }

    public override string ToString() => Kind switch
    {
        TronScheduleKind.Groc => Value,
        _ => $"{Kind.ToString().ToLowerInvariant()} {Value}".TrimEnd(),
    } + (Jitter is null ? "" : $" (jitter {Jitter})");

    [GeneratedRegex(@"^(?:(?<h>\d{1,2}):(?<m>\d{2})(?::(?<s>\d{2}))?)?\s*(?<days>[MTWRFSU]*)$")]
    private static partial Regex DailyPattern();

    [GeneratedRegex(@"^(?<n>\d+)\s*(?<unit>s|sec|secs|second|seconds|m|min|mins|minute|minutes|h|hr|hrs|hour|hours|d|day|days|w|week|weeks)$", RegexOptions.IgnoreCase)]
    private static partial Regex IntervalPattern();

    private const string Ordinal = @"(?:(?<n>\d{1,2})(?:st|nd|rd|th)|first|second|third|fourth|fifth)";
    private const string Weekday = @"(?:mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:r(?:s(?:day)?)?)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?)";
    private const string Month = @"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)";
    private const string Months = @"(?:of|in)\s+(?:month|" + Month + @"(?:\s*,\s*" + Month + @")*)";

    [GeneratedRegex(@"^(?:every|" + Ordinal + @"(?:\s*,\s*" + Ordinal + @")*)\s+(?:(?:day|" + Weekday + @"(?:\s*,\s*" + Weekday + @")*)(?:\s+" + Months + @")?|" + Months + @")(?:\s+(?:at\s+)?(?<h>\d{1,2}):(?<mi>\d{2}))?$", RegexOptions.IgnoreCase)]
    private static partial Regex GrocPattern();
}

/// <summary>
/// A five-field cron expression as Tron reads it (minute hour day-of-month month day-of-week; names like
/// jan/mon; <c>L</c> for the last day of the month; @hourly and friends), parsed into its fields.
/// </summary>
public sealed record CronExpression(string Minute, string Hour, string DayOfMonth, string Month, string DayOfWeek)
{
    private static readonly string[] MonthNames = { "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec" };
    private static readonly string[] DayNames = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };

    private static readonly Dictionary<string, string> Macros = new(StringComparer.OrdinalIgnoreCase)
    {
        ["@yearly"] = "0 0 1 1 *",
        ["@annually"] = "0 0 1 1 *",
        ["@monthly"] = "0 0 1 * *",
        ["@weekly"] = "0 0 * * 0",
        ["@daily"] = "0 0 * * *",
        ["@midnight"] = "0 0 * * *",
        ["@hourly"] = "0 * * * *",
    };

    public override string ToString() => $"{Minute} {Hour} {DayOfMonth} {Month} {DayOfWeek}";

    /// <summary>True when the day-of-month field uses <c>L</c> (last day), which only Tron understands.</summary>
    public bool UsesLastDay => DayOfMonth.Contains('L');

    public static bool TryParse(string text, out CronExpression? cron, out string? error)
    {
        cron = null;
        error = null;
        var value = text.Trim();
        if (Macros.TryGetValue(value, out var expanded)) value = expanded;
        var fields = value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length != 5)
        {
            error = $"'cron {text}' needs 5 fields (minute hour day-of-month month day-of-week), not {fields.Length}";
            return false;
        }
        var normalised = new string[5];
        var specs = new (string Name, int Min, int Max, string[]? Names, bool AllowLast)[]
        {
            ("minute", 0, 59, null, false), ("hour", 0, 23, null, false), ("day of month", 1, 31, null, true),
            ("month", 1, 12, MonthNames, false), ("day of week", 0, 7, DayNames, false),
        };
        for (var i = 0; i < 5; i++)
        {
            var (name, min, max, names, allowLast) = specs[i];
            if (!TryNormaliseField(fields[i], min, max, names, allowLast, out var n, out var why))
            {
                error = $"'cron {text}': {name} field '{fields[i]}' {why}";
                return false;
            }
            normalised[i] = n!;
        }
        cron = new CronExpression(normalised[0], normalised[1], normalised[2], normalised[3], SundayAsZero(normalised[4]));
        return true;
    }

    /// <summary>
    /// Day of week 7 is Sunday to Tron (and Vixie cron) but out of range for Kubernetes: a field that names 7
    /// is written as the explicit list of the days it selects, Sunday as 0.
    /// </summary>
    private static string SundayAsZero(string field)
    {
        if (!field.Split(',', '-', '/').Contains("7")) return field;
        var days = new SortedSet<int>();
        foreach (var part in field.Split(','))
        {
            var slash = part.IndexOf('/');
            var step = slash < 0 ? 1 : int.Parse(part[(slash + 1)..], CultureInfo.InvariantCulture);
            var range = slash < 0 ? part : part[..slash];
            int lo, hi;
            if (range == "*") { lo = 0; hi = 7; }
            else if (range.Contains('-')) { lo = int.Parse(range[..range.IndexOf('-')], CultureInfo.InvariantCulture); hi = int.Parse(range[(range.IndexOf('-') + 1)..], CultureInfo.InvariantCulture); }
            else { lo = int.Parse(range, CultureInfo.InvariantCulture); hi = slash < 0 ? lo : 7; }
            for (var d = lo; d <= hi; d += step) days.Add(d % 7);
        }
        return days.Count == 7 ? "*" : string.Join(",", days);
    }

    /// <summary>Checks one field and writes it with numbers instead of names (and 0 for Sunday written as 7).</summary>
    private static bool TryNormaliseField(string field, int min, int max, string[]? names, bool allowLast, out string? normalised, out string why)
    {
        normalised = null;
        why = "";
        var parts = new List<string>();
        foreach (var part in field.Split(','))
        {
            if (part.Length == 0) { why = "has an empty list item"; return false; }
            var slash = part.IndexOf('/');
            var range = slash < 0 ? part : part[..slash];
            string? step = null;
            if (slash >= 0)
            {
                step = part[(slash + 1)..];
                if (!int.TryParse(step, NumberStyles.None, CultureInfo.InvariantCulture, out var st) || st < 1 || st > max) { why = $"has an invalid step '{step}'"; return false; }
            }
            string body;
            if (range == "*" || range == "?") body = "*";
            else if (allowLast && range == "L") body = "L";
            else
            {
                var dash = range.IndexOf('-', 1);
                var lo = dash < 0 ? range : range[..dash];
                var hi = dash < 0 ? null : range[(dash + 1)..];
                if (!TryValue(lo, min, max, names, out var a) || (hi is not null && !TryValue(hi, min, max, names, out _))) { why = $"must be numbers {min}-{max}{(names is null ? "" : " or names")}, '*', ranges, lists and steps"; return false; }
                if (hi is not null)
                {
                    TryValue(hi, min, max, names, out var b);
                    if (b < a) { why = $"has a backwards range '{range}'"; return false; }
                    body = $"{a}-{b}";
                }
                else body = a.ToString(CultureInfo.InvariantCulture);
            }
            parts.Add(step is null ? body : $"{body}/{step}");
        }
        normalised = string.Join(",", parts);
        return true;
    }

    private static bool TryValue(string text, int min, int max, string[]? names, out int value)
    {
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value)) return value >= min && value <= max;
        if (names is not null)
        {
            var i = Array.FindIndex(names, n => n.Equals(text, StringComparison.OrdinalIgnoreCase));
            if (i >= 0) { value = names == MonthNames ? i + 1 : i; return true; }
        }
        return false;
    }
}
