using System.Globalization;
using Paasta.Drain;
using Paasta.Errors;

namespace Paasta.Tests.Drain;

public class HacheckDrainMethodTests
{
    private const int TaskPort = 31000;
    private static readonly DrainTask Pod = new() { Id = "hello-main-7d9f-abcde", Host = "127.0.0.1", Ports = new[] { TaskPort } };

    private static HacheckDrainMethod Method(HacheckStandIn standIn, Dictionary<string, object?> parameters, TimeProvider? clock = null,
        params string[] registrations)
    {
        parameters["hacheck_port"] = (long)standIn.Port;
        return new HacheckDrainMethod(new DrainContext
        {
            Service = "hello",
            Instance = "main",
            Registrations = registrations.Length == 0 ? new[] { "hello.main" } : registrations,
            Params = parameters,
            Clock = clock ?? TimeProvider.System,
        });
    }

    [Fact]
    public async Task DrainPostsDownWithExpirationToTheHacheckStandInForEveryRegistration()
    {
        using var hacheck = new HacheckStandIn();
        using var method = Method(hacheck, new() { ["delay"] = 2L }, null, "hello.main", "hello.canary");
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        await method.DrainAsync(Pod, CancellationToken.None);
        var after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;

        var posts = hacheck.Posts.OrderBy(p => p.Path, StringComparer.Ordinal).ToList();
        Assert.Equal(new[] { "/spool/hello.canary/31000/status", "/spool/hello.main/31000/status" }, posts.Select(p => p.Path));
        foreach (var post in posts)
        {
            Assert.Equal("application/x-www-form-urlencoded", post.ContentType?.Split(';')[0]);
            Assert.Equal(new[] { "status", "expiration", "reason" }, post.Form.Select(f => f.Key));
            Assert.Equal("down", post.Field("status"));
            Assert.Equal("Drained by Paasta", post.Field("reason"));
            // No expiration given: 10 × delay from now.
            var expiration = double.Parse(post.Field("expiration")!, CultureInfo.InvariantCulture);
            Assert.InRange(expiration, before + 20 - 0.001, after + 20 + 0.001);
            Assert.StartsWith("Paasta/", post.UserAgent);
        }
        Assert.DoesNotContain(hacheck.Received, r => r.Method != "POST");
    }

    [Fact]
    public async Task AnExplicitExpirationIsSentAsNowPlusExpiration()
    {
        var clock = new ManualClock(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_250));
        using var hacheck = new HacheckStandIn(() => clock.Epoch);
        using var method = Method(hacheck, new() { ["delay"] = 60L, ["expiration"] = 300.5 }, clock);
        await method.DrainAsync(Pod, CancellationToken.None);
        Assert.Equal("1700000300.75", Assert.Single(hacheck.Posts).Field("expiration"));
    }

    [Fact]
    public async Task HacheckStandInSaysDrainingAfterDownAndNotAfterStopDraining()
    {
        using var hacheck = new HacheckStandIn();
        using var method = Method(hacheck, new() { ["delay"] = 60L });
        Assert.False(await method.IsDrainingAsync(Pod, CancellationToken.None));

        await method.DrainAsync(Pod, CancellationToken.None);
        Assert.True(await method.IsDrainingAsync(Pod, CancellationToken.None));
        var spool = Assert.Single(await method.GetSpoolsAsync(Pod, CancellationToken.None));
        Assert.Equal("down", spool!.State);
        Assert.Equal("Drained by Paasta", spool.Reason);

        await method.StopDrainingAsync(Pod, CancellationToken.None);
        var up = hacheck.Posts.Last();
        Assert.Equal(new[] { new KeyValuePair<string, string>("status", "up") }, up.Form);
        Assert.False(await method.IsDrainingAsync(Pod, CancellationToken.None));
        Assert.Equal(new[] { "GET", "POST", "GET", "GET", "POST", "GET" }, hacheck.Received.Select(r => r.Method));
    }

    [Fact]
    public async Task HacheckStandInIsNotSafeToKillBeforeDelayAndIsAfter()
    {
        var clock = new ManualClock(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000));
        using var hacheck = new HacheckStandIn(() => clock.Epoch);
        using var method = Method(hacheck, new() { ["delay"] = 30L }, clock);

        Assert.False(await method.IsSafeToKillAsync(Pod, CancellationToken.None));   // never drained: all up
        await method.DrainAsync(Pod, CancellationToken.None);
        Assert.False(await method.IsSafeToKillAsync(Pod, CancellationToken.None));
        clock.Advance(TimeSpan.FromSeconds(29.9));
        Assert.False(await method.IsSafeToKillAsync(Pod, CancellationToken.None));
        clock.Advance(TimeSpan.FromSeconds(0.2));
        Assert.True(await method.IsSafeToKillAsync(Pod, CancellationToken.None));
    }

    [Fact]
    public async Task HacheckStandInOnTheRealClockBecomesSafeOnlyAfterTheDelay()
    {
        using var hacheck = new HacheckStandIn();
        using var method = Method(hacheck, new() { ["delay"] = 1.5 });
        // Times are taken on the far side of each call: the drain began no earlier than `start`, and an answer was
        // decided no later than its `After`, so an answer back within the delay of `start` must say "not yet" however
        // long the machine stalled in between.
        var start = DateTimeOffset.UtcNow;
        await method.DrainAsync(Pod, CancellationToken.None);
        var answers = new List<(double After, bool Safe)>();
        while ((DateTimeOffset.UtcNow - start).TotalSeconds < 2.5)
        {
            var safe = await method.IsSafeToKillAsync(Pod, CancellationToken.None);
            answers.Add(((DateTimeOffset.UtcNow - start).TotalSeconds, safe));
            await Task.Delay(100);
        }
        Assert.All(answers.Where(a => a.After < 1.49), a => Assert.False(a.Safe)); // hacheck's times are in ms
        Assert.Contains(answers, a => !a.Safe);
        Assert.True(await method.IsSafeToKillAsync(Pod, CancellationToken.None));
    }

    [Fact]
    public async Task HacheckStandInDropsTheDownStateAtItsExpiration()
    {
        var clock = new ManualClock(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000));
        using var hacheck = new HacheckStandIn(() => clock.Epoch);
        using var method = Method(hacheck, new() { ["delay"] = 10L }, clock);   // expiration 100 s
        await method.DrainAsync(Pod, CancellationToken.None);
        clock.Advance(TimeSpan.FromSeconds(99));
        Assert.True(await method.IsDrainingAsync(Pod, CancellationToken.None));
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.False(await method.IsDrainingAsync(Pod, CancellationToken.None));
    }

    [Fact]
    public async Task SafeToKillNeedsEveryDownRegistrationPastTheDelay()
    {
        var clock = new ManualClock(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000));
        using var hacheck = new HacheckStandIn(() => clock.Epoch);
        using var method = Method(hacheck, new() { ["delay"] = 30L }, clock, "hello.main", "hello.canary");
        hacheck.SetDown("hello.main", TaskPort, since: clock.Epoch - 100, until: 0);
        hacheck.SetDown("hello.canary", TaskPort, since: clock.Epoch - 10, until: 0);
        Assert.True(await method.IsDrainingAsync(Pod, CancellationToken.None));
        Assert.False(await method.IsSafeToKillAsync(Pod, CancellationToken.None));
        clock.Advance(TimeSpan.FromSeconds(21));
        Assert.True(await method.IsSafeToKillAsync(Pod, CancellationToken.None));
    }

    [Fact]
    public async Task OneRegistrationDownIsDrainingEvenWhenAnotherIsUp()
    {
        using var hacheck = new HacheckStandIn();
        using var method = Method(hacheck, new() { ["delay"] = 30L }, null, "hello.main", "hello.canary");
        hacheck.SetDown("hello.canary", TaskPort, since: 1, until: 0);
        Assert.True(await method.IsDrainingAsync(Pod, CancellationToken.None));
    }

    [Fact]
    public async Task ATaskWithoutPortsSendsNothingAndCannotBeQueried()
    {
        using var hacheck = new HacheckStandIn();
        using var method = Method(hacheck, new() { ["delay"] = 30L });
        var portless = new DrainTask { Id = "p", Host = "127.0.0.1" };
        await method.DrainAsync(portless, CancellationToken.None);
        await method.StopDrainingAsync(portless, CancellationToken.None);
        Assert.Empty(hacheck.Received);
        var e = await Assert.ThrowsAsync<PaastaException>(() => method.IsSafeToKillAsync(portless, CancellationToken.None));
        Assert.Equal("DrainTaskInvalid", e.ErrorId);
    }

    [Fact]
    public async Task ATaskWithoutHostIsRefused()
    {
        using var hacheck = new HacheckStandIn();
        using var method = Method(hacheck, new() { ["delay"] = 30L });
        var e = await Assert.ThrowsAsync<PaastaException>(() => method.DrainAsync(new DrainTask { Id = "p", Ports = new[] { 1 } }, CancellationToken.None));
        Assert.Equal("DrainTaskInvalid", e.ErrorId);
        Assert.Empty(hacheck.Received);
    }

    [Fact]
    public async Task ARefusedPostIsDrainRequestRejected()
    {
        using var hacheck = new HacheckStandIn(rejectPostsWith: 500);
        using var method = Method(hacheck, new() { ["delay"] = 30L });
        var e = await Assert.ThrowsAsync<PaastaException>(() => method.DrainAsync(Pod, CancellationToken.None));
        Assert.Equal("DrainRequestRejected", e.ErrorId);
        Assert.Equal(PaastaErrorKind.InvalidOperation, e.Kind);
        Assert.Single(hacheck.Posts);
    }

    [Fact]
    public async Task NoHacheckListeningIsDrainEndpointUnreachable()
    {
        using var method = new HacheckDrainMethod(new DrainContext
        {
            Service = "hello", Instance = "main", Params = new Dictionary<string, object?> { ["hacheck_port"] = (long)HttpStandIn.FreePort() },
        });
        var e = await Assert.ThrowsAsync<PaastaException>(() => method.IsDrainingAsync(Pod, CancellationToken.None));
        Assert.Equal("DrainEndpointUnreachable", e.ErrorId);
        Assert.Equal(PaastaErrorKind.ConnectionError, e.Kind);
    }

    [Fact]
    public void DefaultsAreThoseOfTheSpec()
    {
        using var plain = new HacheckDrainMethod(new DrainContext { Service = "hello", Instance = "main" });
        Assert.Equal(240, plain.DelaySeconds);
        Assert.Equal(6666, plain.HacheckPort);
        Assert.Equal(2400, plain.ExpirationSeconds);
        Assert.Equal(new Uri("http://10.1.2.3:6666/spool/hello.main/31000/status"),
            Assert.Single(plain.SpoolUrls(new DrainTask { Id = "p", Host = "10.1.2.3", Ports = new[] { 31000, 9 } })));
        using var zero = new HacheckDrainMethod(new DrainContext { Params = new Dictionary<string, object?> { ["delay"] = 60L, ["expiration"] = 0L } });
        Assert.Equal(600, zero.ExpirationSeconds);
    }

    [Fact]
    public void IPv6PodAddressesAreBracketed()
    {
        using var method = new HacheckDrainMethod(new DrainContext { Service = "s", Instance = "i" });
        Assert.Equal("http://[fd00::5]:6666/spool/s.i/8888/status",
            Assert.Single(method.SpoolUrls(new DrainTask { Id = "p", Host = "fd00::5", Ports = new[] { 8888 } })).ToString());
    }

    [Theory]
    [InlineData("delay", -1L)]
    [InlineData("delay", "soon")]
    [InlineData("hacheck_port", 70000L)]
    [InlineData("hacheck_port", 66.5)]
    [InlineData("expiration", -5.0)]
    public void InvalidParamsAreDrainMethodParamsInvalid(string key, object value)
    {
        var e = Assert.Throws<PaastaException>(() => new HacheckDrainMethod(new DrainContext { Params = new Dictionary<string, object?> { [key] = value } }));
        Assert.Equal("DrainMethodParamsInvalid", e.ErrorId);
        Assert.Contains(key, e.Message);
    }

    [Theory]
    [InlineData("Service hello.main in down state since 1700000000.5 until 1700002400.25: Drained by Paasta", "down", 1700000000.5, 1700002400.25, "Drained by Paasta")]
    [InlineData("Service hello.main in down state since 12", "down", 12, 0, null)]
    [InlineData("Service hello.main in up state", "up", 0, 0, null)]
    [InlineData("Service x in down state: deploying: now", "down", 0, 0, "deploying: now")]
    public void SpoolAnswersParse(string body, string state, double since, double until, string? reason)
    {
        var spool = HacheckDrainMethod.ParseSpool(body)!;
        Assert.Equal(state, spool.State);
        Assert.Equal(since, spool.Since);
        Assert.Equal(until, spool.Until);
        Assert.Equal(reason, spool.Reason);
    }

    [Fact]
    public void AnUnparsableSpoolAnswerIsNull() => Assert.Null(HacheckDrainMethod.ParseSpool("<html>502 Bad Gateway</html>"));
}
