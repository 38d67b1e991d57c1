using System.Globalization;
using Paasta.Tron;
using Paasta.Errors;

namespace Paasta.Jobs;

/// <summary>A Tron schedule as a Kubernetes CronJob schedule, plus what could not be carried over.</summary>
public sealed record CronTranslation(string Schedule, IReadOnlyList<string> Notes);

/// <summary>
/// Translates Tron schedules into the five-field cron Kubernetes' CronJob controller reads. Only exact
/// translations are made: a schedule whose meaning would change (seconds, intervals that do not divide
/// the hour or day, groc English, Tron's "last day of month") is refused with TronScheduleNotTranslatable
/// naming the job, rather than approximated.
/// </summary>
public static class CronTranslator
{
    public static CronTranslation Translate(TronSchedule schedule, string job)
    {
        var notes = new List<string>();
        if (schedule.Jitter is not null)
            notes.Add($"jitter {schedule.Jitter} is not applied: a CronJob starts runs on the minute");
        var cron = schedule.Kind switch
        {
            TronScheduleKind.Cron => FromCron(schedule, job),
            TronScheduleKind.Daily => FromDaily(schedule, job),
            TronScheduleKind.Interval => FromInterval(schedule, job, notes),
            _ => throw Refuse(job, schedule, "groc-style English schedules have no cron form in Paasta; write the job with 'cron …' (e.g. '7th of month at 11:00' is 'cron 0 11 7 * *')"),
        };
        return new CronTranslation(cron, notes);
    }

    private static string FromCron(TronSchedule schedule, string job)
    {
        if (!CronExpression.TryParse(schedule.Value, out var cron, out var error))
            throw new PaastaException("InvalidTronSchedule", PaastaErrorKind.InvalidData, $"Job '{job}': {error}.") { Target = job, Key = "schedule" };
        if (cron!.UsesLastDay)
            throw Refuse(job, schedule, "'L' (last day of the month) is Tron's own; Kubernetes cron has no equivalent");
        return cron.ToString();
    }

    private static string FromDaily(TronSchedule schedule, string job)
    {
        if (!TronSchedule.TryParseDaily(schedule.Value, out var daily, out var error))
            throw new PaastaException("InvalidTronSchedule", PaastaErrorKind.InvalidData, $"Job '{job}': {error}.") { Target = job, Key = "schedule" };
        if (daily!.Second != 0)
            throw Refuse(job, schedule, $"it starts at second {daily.Second}; cron starts runs on the minute");
        var days = daily.Days.Count == 0 || daily.Days.Count == 7 ? "*"
            : string.Join(",", daily.Days.Select(d => (int)d).Order().Select(d => d.ToString(CultureInfo.InvariantCulture)));
        return $"{daily.Minute} {daily.Hour} * * {days}";
    }

    private static string FromInterval(TronSchedule schedule, string job, List<string> notes)
    {
        if (!TronSchedule.TryParseInterval(schedule.Value, out var interval, out var error))
            throw new PaastaException("InvalidTronSchedule", PaastaErrorKind.InvalidData, $"Job '{job}': {error}.") { Target = job, Key = "schedule" };
        var seconds = (long)interval.TotalSeconds;
        string? cron = null;
        if (seconds % 60 == 0)
        {
            var minutes = seconds / 60;
            if (minutes < 60 && 60 % minutes == 0) cron = minutes == 1 ? "* * * * *" : $"*/{minutes} * * * *";
            else if (minutes % 60 == 0)
            {
                var hours = minutes / 60;
                if (hours < 24 && 24 % hours == 0) cron = hours == 1 ? "0 * * * *" : $"0 */{hours} * * *";
                else if (hours == 24) cron = "0 0 * * *";
                else if (hours == 168) cron = "0 0 * * 0";
            }
        }
        if (cron is null)
            throw Refuse(job, schedule, "only intervals that divide an hour or a day evenly (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 minutes; 1, 2, 3, 4, 6, 8, 12 hours), 1 day and 1 week have a cron form");
        notes.Add($"interval {schedule.Value} runs on the clock ({cron}), not counted from the previous run");
        return cron;
    }

    private static PaastaException Refuse(string job, TronSchedule schedule, string why) =>
        new("TronScheduleNotTranslatable", PaastaErrorKind.InvalidData,
            $"Job '{job}': the Tron schedule '{schedule}' cannot become a Kubernetes CronJob schedule: {why}.")
        { Target = job, Key = "schedule" };
}
