using System.Diagnostics;
using Paasta.Jobs;
using Paasta.Errors;

namespace Paasta.Tests.Jobs;

/// <summary>Tron's command context variables, filled in by the container at run time.</summary>
public class CommandTemplateTests
{
    [Fact]
    public void PlainCommandsRunWithShC()
    {
        Assert.Equal(new[] { "sh", "-c", "awk '{print $1}' /etc/hosts" }, CommandTemplate.ContainerCommand("awk '{print $1}' /etc/hosts", "svc.job", "act", "job"));
    }

    [Fact]
    public void StaticVariablesAreFilledInWhenBuilt()
    {
        Assert.Equal(new[] { "sh", "-c", "echo svc.job act" }, CommandTemplate.ContainerCommand("echo {name} {actionname}", "svc.job", "act", "job"));
    }

    [Fact]
    public void DateVariablesGetAPreludeThatSubstitutesThemAtRunTime()
    {
        var cmd = CommandTemplate.ContainerCommand("ls /logs/{shortdate-1}/x_{ymd}", "svc.job", "act", "job");
        Assert.Equal(5, cmd.Count);
        Assert.Equal("sh", cmd[0]);
        Assert.Equal("paasta-tron", cmd[3]);
        Assert.Equal("ls /logs/{shortdate-1}/x_{ymd}", cmd[4]);
        Assert.Contains("s/{shortdate-1}/$(date -u -d @$(( now - 86400 )) +%Y-%m-%d)/g", cmd[2]);
        Assert.Contains("s/{ymd}/$(date -u +%Y-%m-%d)/g", cmd[2]);
        Assert.EndsWith("exec sh -c \"$c\"", cmd[2]);
    }

    [Fact]
    public void ThePreludeComputesTheDatesTronWould()
    {
        var sh = File.Exists("/bin/sh") ? "/bin/sh" : null;
        Assert.NotNull(sh);
        var cmd = CommandTemplate.ContainerCommand("echo {shortdate} {shortdate-1} {ymdh+2} {unixtime-60} {daynumber} {year} keep{this}", "s.j", "a", "j");
        var start = new ProcessStartInfo(cmd[0]) { RedirectStandardOutput = true };
        foreach (var a in cmd.Skip(1)) start.ArgumentList.Add(a);
        var before = DateTimeOffset.UtcNow;
        using var p = Process.Start(start)!;
        var output = p.StandardOutput.ReadToEnd().Trim().Split(' ');
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
        var now = DateTimeOffset.UtcNow;
        Assert.Contains(output[0], new[] { before.ToString("yyyy-MM-dd"), now.ToString("yyyy-MM-dd") });
        Assert.Contains(output[1], new[] { before.AddDays(-1).ToString("yyyy-MM-dd"), now.AddDays(-1).ToString("yyyy-MM-dd") });
        Assert.Contains(output[2], new[] { before.AddHours(2).ToString("yyyy-MM-dd'T'HH"), now.AddHours(2).ToString("yyyy-MM-dd'T'HH") });
        Assert.InRange(long.Parse(output[3]), before.ToUnixTimeSeconds() - 61, now.ToUnixTimeSeconds() - 59);
        Assert.Contains(long.Parse(output[4]), new[] { (long)DateOnly.FromDateTime(before.UtcDateTime).DayNumber + 1, (long)DateOnly.FromDateTime(now.UtcDateTime).DayNumber + 1 });
        Assert.Equal(now.Year.ToString(), output[5]);
        Assert.Equal("keep{this}", output[6]);
    }

    [Theory]
    [InlineData("echo {month-1}")]
    [InlineData("echo {ym+1}")]
    [InlineData("echo {year-1}")]
    [InlineData("echo {name+1}")]
    public void CalendarArithmeticIsRefused(string command)
    {
        var e = Assert.Throws<PaastaException>(() => CommandTemplate.ContainerCommand(command, "s.j", "act", "nightly"));
        Assert.Equal("JobNotRunnable", e.ErrorId);
        Assert.Contains("nightly", e.Message);
    }
}
