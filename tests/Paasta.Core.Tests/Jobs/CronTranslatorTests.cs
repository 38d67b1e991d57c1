using Paasta.Jobs;
using Paasta.Tron;
using Paasta.Errors;

namespace Paasta.Tests.Jobs;

/// <summary>Tron schedules → Kubernetes cron: exact translations, and clear refusals naming the job.</summary>
public class CronTranslatorTests
{
    private static string Cron(object schedule) => CronTranslator.Translate(TronSchedule.Parse(schedule, "job"), "job").Schedule;

    [Theory]
    [InlineData("cron */5 * * * *", "*/5 * * * *")]
    [InlineData("cron 0 4 * * mon-fri", "0 4 * * 1-5")]
    [InlineData("cron 0 0 * JAN,jul sun", "0 0 * 1,7 0")]
    [InlineData("cron 15 3 1-15/2 * *", "15 3 1-15/2 * *")]
    [InlineData("cron 0 0 * * 7", "0 0 * * 0")]
    [InlineData("cron 0 0 * * 5-7", "0 0 * * 0,5,6")]
    [InlineData("cron 0 0 * * 0-7", "0 0 * * *")]
    [InlineData("cron 0 12 ? * *", "0 12 * * *")]
    [InlineData("cron   30  2  *  *  *  ", "30 2 * * *")]
    [InlineData("cron @daily", "0 0 * * *")]
    [InlineData("cron @hourly", "0 * * * *")]
    [InlineData("daily", "0 0 * * *")]
    [InlineData("daily 04:00:00", "0 4 * * *")]
    [InlineData("daily 4:30", "30 4 * * *")]
    [InlineData("daily 04:30:00 MWF", "30 4 * * 1,3,5")]
    [InlineData("daily 23:59:00 SU", "59 23 * * 0,6")]
    [InlineData("daily 01:00:00 MTWRFSU", "0 1 * * *")]
    [InlineData("interval 1m", "* * * * *")]
    [InlineData("interval 60s", "* * * * *")]
    [InlineData("interval 5m", "*/5 * * * *")]
    [InlineData("interval 30 minutes", "*/30 * * * *")]
    [InlineData("interval 1 hour", "0 * * * *")]
    [InlineData("interval 120m", "0 */2 * * *")]
    [InlineData("interval 6h", "0 */6 * * *")]
    [InlineData("interval 1d", "0 0 * * *")]
    [InlineData("interval 24h", "0 0 * * *")]
    [InlineData("interval 1w", "0 0 * * 0")]
    public void TranslatesExactly(string schedule, string cron) => Assert.Equal(cron, Cron(schedule));

    [Fact]
    public void MappingFormsTranslateLikeStrings()
    {
        Assert.Equal("0 * * * *", Cron(new Dictionary<string, object?> { ["type"] = "cron", ["value"] = "0 * * * *" }));
        Assert.Equal("0 4 * * *", Cron(new Dictionary<string, object?> { ["type"] = "daily", ["value"] = "04:00:00" }));
        var t = CronTranslator.Translate(TronSchedule.Parse(new Dictionary<string, object?> { ["type"] = "interval", ["value"] = "10m", ["jitter"] = "30s" }, "j"), "j");
        Assert.Equal("*/10 * * * *", t.Schedule);
        Assert.Contains(t.Notes, n => n.Contains("jitter 30s"));
        Assert.Contains(t.Notes, n => n.Contains("on the clock"));
    }

    [Theory]
    [InlineData("7th of month at 11:00", "groc")]
    [InlineData("every monday at 09:00", "groc")]
    [InlineData("1st,15th day of month", "groc")]
    [InlineData("cron 0 0 L * *", "last day")]
    [InlineData("daily 04:00:30", "second 30")]
    [InlineData("interval 90s", "divide")]
    [InlineData("interval 7m", "divide")]
    [InlineData("interval 5h", "divide")]
    [InlineData("interval 2d", "divide")]
    public void RefusesWhatHasNoExactCronForm(string schedule, string why)
    {
        var e = Assert.Throws<PaastaException>(() => CronTranslator.Translate(TronSchedule.Parse(schedule, "nightly_report"), "nightly_report"));
        Assert.Equal("TronScheduleNotTranslatable", e.ErrorId);
        Assert.Equal(PaastaErrorKind.InvalidData, e.Kind);
        Assert.StartsWith("Job 'nightly_report'", e.Message);
        Assert.Contains(why, e.Message);
        Assert.Equal("nightly_report", e.Target);
    }

    [Theory]
    [InlineData("cron 61 * * * *")]
    [InlineData("cron * * *")]
    [InlineData("cron * * * * * *")]
    [InlineData("cron 5-1 * * * *")]
    [InlineData("cron */0 * * * *")]
    [InlineData("cron * * * foo *")]
    [InlineData("daily 25:00")]
    [InlineData("daily 04:00:00 XYZ")]
    [InlineData("interval")]
    [InlineData("interval five minutes")]
    [InlineData("interval 0m")]
    [InlineData("whenever")]
    [InlineData("")]
    // Groc needs every or ordinals first, then days and/or months: a lone keyword is not a schedule.
    [InlineData("day")]
    [InlineData("every")]
    [InlineData("monday at 10:00")]
    [InlineData("of month")]
    [InlineData("at 10:00")]
    [InlineData("7th at 11:00")]
    [InlineData("every day at 25:00")]
    [InlineData("every day at 12:75")]
    [InlineData("32nd of month")]
    [InlineData("every someday")]
    [InlineData("every monday of smarch")]
    [InlineData("every day, at noon")]
    public void RejectsWhatTronWouldNotParse(string schedule)
    {
        Assert.False(TronSchedule.TryParse(schedule, out _, out var error));
        Assert.False(string.IsNullOrEmpty(error));
        Assert.Equal("InvalidTronSchedule", Assert.Throws<PaastaException>(() => TronSchedule.Parse(schedule, "j")).ErrorId);
    }

    [Fact]
    public void RejectsBadMappings()
    {
        Assert.False(TronSchedule.TryParse(new Dictionary<string, object?> { ["type"] = "weekly", ["value"] = "mon" }, out _, out var e1));
        Assert.Contains("weekly", e1);
        Assert.False(TronSchedule.TryParse(new Dictionary<string, object?> { ["type"] = "cron" }, out _, out var e2));
        Assert.Contains("value", e2);
        Assert.False(TronSchedule.TryParse(new Dictionary<string, object?> { ["type"] = "cron", ["value"] = "* * * * *", ["when"] = "x" }, out _, out var e3));
        Assert.Contains("when", e3);
        Assert.False(TronSchedule.TryParse(null, out _, out _));
        Assert.False(TronSchedule.TryParse(5L, out _, out _));
    }

    [Theory]
    [InlineData("7th of month at 11:00")]
    [InlineData("every monday at 09:00")]
    [InlineData("1st,15th day of month")]
    [InlineData("every day")]
    [InlineData("every day at 12:00")]
    [InlineData("first monday of march at 12:00")]
    [InlineData("2nd,third mon,wed,thu of march 17:00")]
    [InlineData("Every Mon, Wed, Fri at 10:30")]
    public void GrocStringsAreValidTronEvenThoughTheyDoNotTranslate(string schedule)
    {
        Assert.True(TronSchedule.TryParse(schedule, out var s, out var error), error);
        Assert.Equal(TronScheduleKind.Groc, s!.Kind);
    }

    [Fact]
    public void GrocMappingsAreCheckedLikeStrings()
    {
        Assert.True(TronSchedule.TryParse(new Dictionary<string, object?> { ["type"] = "groc daily", ["value"] = "every monday at 09:00" }, out _, out _));
        Assert.False(TronSchedule.TryParse(new Dictionary<string, object?> { ["type"] = "groc daily", ["value"] = "day" }, out _, out var error));
        Assert.Contains("'day'", error);
    }
}
