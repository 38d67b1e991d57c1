using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Paasta.Errors;

namespace Paasta.Jobs;

/// <summary>
/// Tron fills command context variables into an action's command when the run starts ({shortdate},
/// {ymd-1}, {name}...). A CronJob has no Tron to do it, so the container does it itself: the command is
/// run by a short sh prelude that computes each date variable with <c>date</c> at start (UTC) and puts the
/// values into the command text, exactly where Tron would, before running it with sh -c. Static values
/// ({name}, {actionname}) are filled in when the CronJob is built. Other braces are left alone (shell and
/// awk use them). Calendar arithmetic on months and years ({month-1}, {ym+1}, {year-1}) has no fixed
/// length in seconds and is refused (JobNotRunnable) rather than computed wrongly.
/// </summary>
public static partial class CommandTemplate
{
    private static readonly Dictionary<string, (string Format, long Unit)> DateVariables = new(StringComparer.Ordinal)
    {
        ["shortdate"] = ("+%Y-%m-%d", 86400),
        ["ymd"] = ("+%Y-%m-%d", 86400),
        ["day"] = ("+%d", 86400),
        ["ymdh"] = ("+%Y-%m-%dT%H", 3600),
        ["hour"] = ("+%H", 3600),
        ["ymdhm"] = ("+%Y-%m-%dT%H:%M", 60),
        ["unixtime"] = ("+%s", 1),
        ["year"] = ("+%Y", 0),
        ["month"] = ("+%m", 0),
        ["ym"] = ("+%Y-%m", 0),
    };

    [GeneratedRegex(@"\{(?<name>shortdate|ymdhm|ymdh|ymd|ym|year|month|day|hour|unixtime|daynumber|name|actionname|node)(?<delta>[+-]\d+)?\}")]
    private static partial Regex Variable();

    /// <summary>True when the command uses a Tron context variable Paasta fills in.</summary>
    public static bool HasVariables(string command) => Variable().IsMatch(command);

    /// <summary>
    /// The container command for <paramref name="command"/>: <c>sh -c command</c>, or, when it uses date
    /// variables, <c>sh -c PRELUDE paasta-tron command</c> where the prelude substitutes them at run time.
    /// </summary>
    public static IReadOnlyList<string> ContainerCommand(string command, string jobName, string actionName, string job)
    {
        // Static values first: they are known now.
        var text = Variable().Replace(command, m => m.Groups["name"].Value switch
        {
            "name" when !m.Groups["delta"].Success => jobName,
            "actionname" when !m.Groups["delta"].Success => actionName,
            _ => m.Value,
        });
        var dynamic = Variable().Matches(text).Select(m => m.Value).Distinct().ToList();
        if (dynamic.Count == 0) return new[] { "sh", "-c", text };

        var script = new StringBuilder("now=$(date -u +%s); c=$1; c=$(printf '%s\\n' \"$c\" | sed");
        foreach (var token in dynamic)
        {
            var m = Variable().Match(token);
            var name = m.Groups["name"].Value;
            var delta = m.Groups["delta"].Success ? long.Parse(m.Groups["delta"].Value, CultureInfo.InvariantCulture) : 0;
            string value;
            if (name == "daynumber")
                value = $"$(( now / 86400 + 719163{(delta == 0 ? "" : $" + {delta}")} ))";
            else if (name == "node")
                value = "$(hostname)";
            else if (name is "name" or "actionname")
                throw new PaastaException("JobNotRunnable", PaastaErrorKind.InvalidData,
                    $"Job '{job}': action '{actionName}' uses {token}; Tron has no arithmetic on {{{name}}}.") { Target = job };
            else
            {
                var (format, unit) = DateVariables[name];
                if (delta != 0 && unit == 0)
                    throw new PaastaException("JobNotRunnable", PaastaErrorKind.InvalidData,
                        $"Job '{job}': action '{actionName}' uses {token}; month and year arithmetic is not supported for Kubernetes CronJobs (use a day-based variable such as {{shortdate-30}}).") { Target = job };
                value = delta == 0 ? $"$(date -u {format})" : $"$(date -u -d @$(( now {(delta < 0 ? "-" : "+")} {Math.Abs(delta) * unit} )) {format})";
            }
            // sed s command: braces and + are literal in a basic regex (escaped they would be operators); the values are digits, '-', 'T', ':'.
            script.Append(" -e \"s/").Append(token).Append('/').Append(value).Append("/g\"");
        }
        script.Append("); exec sh -c \"$c\"");
        return new[] { "sh", "-c", script.ToString(), "paasta-tron", text };
    }
}
