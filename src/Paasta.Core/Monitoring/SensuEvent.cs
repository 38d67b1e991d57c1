using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Paasta.Deployments;
using Paasta.Errors;

namespace Paasta.Monitoring;

/// <summary>Sensu check status codes (the exit codes of a Nagios/Sensu check command).</summary>
// long: ConvertTo-Json writes 64-bit enums by name, which runbooks parsing JSON need (docs/OUTPUT.md).
public enum SensuStatus : long
{
    OK = 0,
    WARNING = 1,
    CRITICAL = 2,
    UNKNOWN = 3,
}

/// <summary>
/// One check result as PaaSTA's Sensu helper (pysensu-yelp) puts it on the wire to the local Sensu client
/// socket (docs/BEHAVIOUR.md §8.5): durations already in seconds, the default handler, and the optional keys present
/// only when set. <see cref="ToJson"/> gives the exact bytes (without the terminating newline).
/// </summary>
public sealed class SensuEvent
{
    public required string Name { get; init; }
    public SensuStatus Status { get; init; }
    public string Output { get; init; } = "";
    public string Handler { get; init; } = "default";
    public required string Team { get; init; }
    public string Runbook { get; init; } = "";
    public string? Tip { get; init; }
    public object? NotificationEmail { get; init; }
    /// <summary>Seconds between checks (check_every).</summary>
    public long? Interval { get; init; }
    /// <summary>null when unset: falsy for Sensu, as PaaSTA sends it.</summary>
    public object? Page { get; init; }
    public long RealertEvery { get; init; } = -1;
    public IReadOnlyList<string> Dependencies { get; init; } = Array.Empty<string>();
    /// <summary>Seconds the check may fail before it alerts.</summary>
    public long? AlertAfter { get; init; }
    public object? Ticket { get; init; } = false;
    public object? Project { get; init; }
    public object? Priority { get; init; }
    public string? Source { get; init; }
    public IReadOnlyList<string> Tags { get; init; } = Array.Empty<string>();
    /// <summary>Seconds until the result is stale; null for none.</summary>
    public long? Ttl { get; init; }
    public object? Issuetype { get; init; }
    public object? IrcChannels { get; init; }
    public object? SlackChannels { get; init; }
    public object? Component { get; init; }
    public object? Description { get; init; }
    public object? ClusterName { get; init; }

    /// <summary>The JSON object as Python's json.dumps writes pysensu-yelp's dict: same keys, same order, same separators.</summary>
    public string ToJson()
    {
        var sb = new StringBuilder(512);
        sb.Append('{');
        var first = true;
        void Field(string key, object? value)
        {
            if (!first) sb.Append(", ");
            first = false;
            PythonJson.WriteString(sb, key);
            sb.Append(": ");
            SensuJson.WriteValue(sb, value);
        }
        Field("name", Name);
        Field("status", (long)Status);
        Field("output", Output);
        Field("handler", Handler);
        Field("team", Team);
        Field("runbook", Runbook);
        Field("tip", Tip);
        Field("notification_email", NotificationEmail);
        Field("interval", Interval);
        Field("page", Page);
        Field("realert_every", RealertEvery);
        Field("dependencies", Dependencies);
        Field("alert_after", AlertAfter);
        Field("ticket", Ticket);
        Field("project", Project);
        Field("priority", Priority);
        Field("source", Source);
        Field("tags", Tags);
        Field("ttl", Ttl);
        Field("issuetype", Issuetype);
        if (IrcChannels is not null) Field("irc_channels", IrcChannels);
        if (SlackChannels is not null) Field("slack_channels", SlackChannels);
        if (Component is not null) Field("component", Component);
        if (Description is not null) Field("description", Description);
        if (ClusterName is not null) Field("cluster_name", ClusterName);
        sb.Append('}');
        return sb.ToString();
    }

    public override string ToString() => $"{Name} {Status}";
}

/// <summary>Python json.dumps rendering of the plain values soa-configs hold (strings, numbers, booleans, lists, mappings).</summary>
internal static class SensuJson
{
    public static void WriteValue(StringBuilder sb, object? value)
    {
        switch (value)
        {
            case null: sb.Append("null"); break;
            case string s: PythonJson.WriteString(sb, s); break;
            case bool b: sb.Append(b ? "true" : "false"); break;
            case long or int or short or byte or uint or ulong:
                sb.Append(Convert.ToString(value, CultureInfo.InvariantCulture)); break;
            case double d:
                // json.dumps writes floats with repr(), and NaN/Infinity as bare words.
                sb.Append(double.IsNaN(d) ? "NaN" : double.IsPositiveInfinity(d) ? "Infinity" : double.IsNegativeInfinity(d) ? "-Infinity" : Yaml.PythonText.Float(d));
                break;
            case float f: WriteValue(sb, (double)f); break;
            case decimal m: WriteValue(sb, (double)m); break;
            case Enum e: sb.Append(Convert.ToInt64(e, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture)); break;
            case System.Collections.IDictionary map:
                sb.Append('{');
                var firstKey = true;
                foreach (System.Collections.DictionaryEntry entry in map)
                {
                    if (!firstKey) sb.Append(", ");
                    firstKey = false;
                    PythonJson.WriteString(sb, Convert.ToString(entry.Key, CultureInfo.InvariantCulture));
                    sb.Append(": ");
                    WriteValue(sb, entry.Value);
                }
                sb.Append('}');
                break;
            case System.Collections.IEnumerable list:
                sb.Append('[');
                var firstItem = true;
                foreach (var item in list)
                {
                    if (!firstItem) sb.Append(", ");
                    firstItem = false;
                    WriteValue(sb, item);
                }
                sb.Append(']');
                break;
            default: PythonJson.WriteString(sb, Convert.ToString(value, CultureInfo.InvariantCulture)); break;
        }
    }
}

/// <summary>The conversions and checks pysensu-yelp applies before sending (docs/BEHAVIOUR.md §8.5).</summary>
public static class SensuRules
{
    /// <summary>What Sensu is sent for an empty runbook.</summary>
    public const string RunbookPlaceholder = "Please set a runbook!";

    private static readonly Regex NamePattern = new(@"^[\w\.-]+$", RegexOptions.CultureInvariant);
    private static readonly Regex DurationPart = new(@"(\d+)([YMWDhms])", RegexOptions.CultureInvariant);

    /// <summary>Sensu check names: letters, digits, <c>_</c>, <c>.</c> and <c>-</c>.</summary>
    public static void ValidateName(string? name)
    {
        if (string.IsNullOrEmpty(name) || !NamePattern.IsMatch(name))
            throw new PaastaException("SensuEventNameInvalid", PaastaErrorKind.InvalidArgument,
                $"'{name}' is not a valid Sensu check name: use only letters, digits, '_', '.' and '-'.") { Target = name };
    }

    /// <summary>
    /// Human durations to seconds: <c>Y</c> (365 days), <c>M</c> (30 days), <c>W</c>, <c>D</c>, <c>h</c>,
    /// <c>m</c>, <c>s</c>, concatenable (<c>1h30m</c>); a bare number is seconds. null stays null.
    /// </summary>
    public static long? ToSeconds(string? text, string what)
    {
        if (text is null) return null;
        var t = text.Trim();
        if (t.Length > 0 && t.All(char.IsAsciiDigit) && long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var bare)) return bare;
        long total = 0;
        var at = 0;
        foreach (Match m in DurationPart.Matches(t))
        {
            if (m.Index != at) break;
            at = m.Index + m.Length;
            if (!long.TryParse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var n)) break;
            total += n * m.Groups[2].Value[0] switch
            {
                'Y' => 365L * 86400,
                'M' => 30L * 86400,
                'W' => 7L * 86400,
                'D' => 86400L,
                'h' => 3600L,
                'm' => 60L,
                _ => 1L,
            };
        }
        if (t.Length == 0 || at != t.Length)
            throw new PaastaException("SensuDurationInvalid", PaastaErrorKind.InvalidArgument,
                $"{what} '{text}' is not a duration: write a number of seconds or numbers with units Y, M (30 days), W, D, h, m, s, e.g. 10m or 1h30m.")
            { Target = text };
        return total;
    }
}
