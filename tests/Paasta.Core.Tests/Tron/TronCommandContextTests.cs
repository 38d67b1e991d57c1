using Paasta.Tron;

namespace Paasta.Tests.Tron;

public class TronCommandContextTests
{
    private static string Render(string command, DateTime runTime) =>
        TronCommandContext.Render(command, runTime, TimeZoneInfo.Utc, reason => new FormatException(reason));

    // Expected values computed with Tron's own tron/utils/timeutils.py and string.Formatter (Yelp/Tron 3.10.5).
    [Theory]
    [InlineData("{shortdate}", "2024-01-01", "2024-01-01")]
    [InlineData("{shortdate-1}", "2024-01-01", "2023-12-31")]
    [InlineData("{ymd+1}", "2024-03-31", "2024-04-01")]
    [InlineData("{ym-1}", "2024-01-01", "2023-12")]
    [InlineData("{ym-1}", "2024-03-31", "2024-02")]
    [InlineData("{ym+11}", "2024-03-31", "2025-02")]
    [InlineData("{month-1}", "2024-01-01", "12")]
    [InlineData("{month+1}", "2024-03-31", "04")]
    [InlineData("{year+1}", "2024-01-01", "2025")]
    [InlineData("{day-1}", "2024-01-01", "31")]
    [InlineData("{hour}", "2024-01-01", "00")]
    [InlineData("{ymdh-1}", "2024-01-01", "2023-12-31T23")]
    [InlineData("{ymdhm-1}", "2024-03-31", "2024-03-30T23:59")]
    [InlineData("{unixtime}", "2024-01-01", "1704067200")]
    [InlineData("{unixtime+5}", "2024-03-31", "1711843205")]
    [InlineData("{daynumber}", "2024-01-01", "738886")]
    [InlineData("{daynumber-1}", "2024-03-31", "738975")]
    [InlineData("a {{b}} {shortdate - 1}", "2024-01-01", "a {b} 2023-12-31")]
    [InlineData("ls /var/log/app/log_{shortdate-1}.txt && echo {ymd}", "2024-01-01", "ls /var/log/app/log_2023-12-31.txt && echo 2024-01-01")]
    public void DateVariablesAreFilledInAsTronFillsThem(string command, string date, string expected) =>
        Assert.Equal(expected, Render(command, DateTime.Parse(date, System.Globalization.CultureInfo.InvariantCulture)));

    [Theory]
    [InlineData("echo ${HOME}", "{HOME}")]                     // shell braces must be doubled for Tron too
    [InlineData("echo {name}", "{name}")]                      // only a Tron master knows the job run
    [InlineData("echo {runid}", "{runid}")]
    [InlineData("echo {shortdate:>12}", "format specs")]
    [InlineData("echo }", "single '}'")]
    [InlineData("echo {shortdate", "without its '}'")]
    [InlineData("echo {year+999999}", "outside the calendar")]
    public void WhatTronCannotFillIsRefused(string command, string reason)
    {
        var e = Assert.Throws<FormatException>(() => Render(command, new DateTime(2024, 1, 1)));
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void UnixtimeIsTheRunTimeInTheGivenZone()
    {
        var zone = TimeZoneInfo.CreateCustomTimeZone("plus2", TimeSpan.FromHours(2), "plus2", "plus2");
        Assert.Equal("1704060000", TronCommandContext.Render("{unixtime}", new DateTime(2024, 1, 1), zone, r => new FormatException(r)));
    }
}
