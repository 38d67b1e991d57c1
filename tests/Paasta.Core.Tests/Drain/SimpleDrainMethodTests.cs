using Paasta.Drain;

namespace Paasta.Tests.Drain;

public class SimpleDrainMethodTests
{
    private static DrainTask Task(string id) => new() { Id = id, Host = "10.0.0.1", Ports = new[] { 8888 } };

    [Fact]
    public async Task NoopIsNeverDrainingAndAlwaysSafe()
    {
        var noop = new NoopDrainMethod();
        await noop.DrainAsync(Task("a"), CancellationToken.None);
        Assert.False(await noop.IsDrainingAsync(Task("a"), CancellationToken.None));
        Assert.True(await noop.IsSafeToKillAsync(Task("a"), CancellationToken.None));
        await noop.StopDrainingAsync(Task("a"), CancellationToken.None);
    }

    [Fact]
    public async Task TestMethodDownsThenIsSafeOnlyWhenMarked()
    {
        var record = new TestDrainRecord();
        var method = new TestDrainMethod(new DrainContext(), record);
        Assert.False(await method.IsDrainingAsync(Task("a"), CancellationToken.None));
        await method.DrainAsync(Task("a"), CancellationToken.None);
        await method.DrainAsync(Task("b"), CancellationToken.None);
        Assert.Equal(new[] { "a", "b" }, record.DownedTaskIds);
        Assert.True(await method.IsDrainingAsync(Task("a"), CancellationToken.None));
        Assert.False(await method.IsSafeToKillAsync(Task("a"), CancellationToken.None));

        Assert.True(record.MarkSafeToKill("a"));
        Assert.False(record.MarkSafeToKill("never-drained"));
        Assert.True(await method.IsSafeToKillAsync(Task("a"), CancellationToken.None));
        Assert.True(await method.IsDrainingAsync(Task("a"), CancellationToken.None));   // safe still counts as draining
        await method.DrainAsync(Task("a"), CancellationToken.None);                      // already safe: stays safe, not downed again
        Assert.Equal(new[] { "b" }, record.DownedTaskIds);
        Assert.Equal(new[] { "a" }, record.SafeToKillTaskIds);

        await method.StopDrainingAsync(Task("a"), CancellationToken.None);
        Assert.False(await method.IsDrainingAsync(Task("a"), CancellationToken.None));
        Assert.False(await method.IsSafeToKillAsync(Task("a"), CancellationToken.None));
        Assert.Equal("b", record.MarkAnySafeToKill());
        Assert.Null(record.MarkAnySafeToKill());
        Assert.Equal(new[]
        {
            DrainAction.IsDraining, DrainAction.Drain, DrainAction.Drain, DrainAction.IsDraining, DrainAction.IsSafeToKill, DrainAction.IsSafeToKill,
            DrainAction.IsDraining, DrainAction.Drain, DrainAction.StopDraining, DrainAction.IsDraining, DrainAction.IsSafeToKill,
        }, record.Events.Select(e => e.Action));
        Assert.Equal(new bool?[] { false, null, null, true, false, true, true, null, null, false, false }, record.Events.Select(e => e.Answer));
    }

    [Fact]
    public async Task TestMethodWithDelayBecomesSafeByItself()
    {
        var clock = new ManualClock(DateTimeOffset.UnixEpoch);
        var method = new TestDrainMethod(new DrainContext { Clock = clock, Params = new Dictionary<string, object?> { ["delay"] = 5L } }, new TestDrainRecord());
        await method.DrainAsync(Task("a"), CancellationToken.None);
        clock.Advance(TimeSpan.FromSeconds(4.9));
        Assert.False(await method.IsSafeToKillAsync(Task("a"), CancellationToken.None));
        clock.Advance(TimeSpan.FromSeconds(0.1));
        Assert.True(await method.IsSafeToKillAsync(Task("a"), CancellationToken.None));
    }

    [Fact]
    public async Task TheRegisteredTestMethodUsesTheSharedRecord()
    {
        var id = "shared-" + Guid.NewGuid().ToString("N");
        var method = new DrainMethodRegistry().Create("test", new DrainContext());
        await method.DrainAsync(Task(id), CancellationToken.None);
        Assert.Contains(id, TestDrainRecord.Shared.DownedTaskIds);
        Assert.True(TestDrainRecord.Shared.MarkSafeToKill(id));
        Assert.True(await method.IsSafeToKillAsync(Task(id), CancellationToken.None));
    }

    [Fact]
    public async Task CrashyDrainFailsEveryCall()
    {
        var crashy = new CrashyDrainMethod();
        await Assert.ThrowsAsync<InvalidOperationException>(() => crashy.DrainAsync(Task("a"), CancellationToken.None));
        await Assert.ThrowsAsync<InvalidOperationException>(() => crashy.StopDrainingAsync(Task("a"), CancellationToken.None));
        await Assert.ThrowsAsync<InvalidOperationException>(() => crashy.IsDrainingAsync(Task("a"), CancellationToken.None));
        await Assert.ThrowsAsync<InvalidOperationException>(() => crashy.IsSafeToKillAsync(Task("a"), CancellationToken.None));
    }

    [Fact]
    public async Task DelegateMethodWithoutIsDrainingRemembersItsDrainsAcrossMethodsOfOneRegistration()
    {
        var drained = new List<string>();
        var shared = new DrainedTaskSet();
        DelegateDrainMethod Build() => new((t, _) => { lock (drained) drained.Add(t.Id); return System.Threading.Tasks.Task.CompletedTask; },
            (t, _) => System.Threading.Tasks.Task.FromResult(t.Id == "a"), drainedTasks: shared);
        await Build().DrainAsync(Task("a"), CancellationToken.None);
        var later = Build();
        Assert.True(await later.IsDrainingAsync(Task("a"), CancellationToken.None));
        Assert.False(await later.IsDrainingAsync(Task("b"), CancellationToken.None));
        Assert.True(await later.IsSafeToKillAsync(Task("a"), CancellationToken.None));
        await later.StopDrainingAsync(Task("a"), CancellationToken.None);
        Assert.False(await later.IsDrainingAsync(Task("a"), CancellationToken.None));
        Assert.Equal(new[] { "a" }, drained);
    }

    [Fact]
    public void ATaskFromAPodUsesPodIpContainerPortAndLabels()
    {
        var pod = new k8s.Models.V1Pod
        {
            Metadata = new() { Name = "hello-main-abc", NamespaceProperty = "paastasvc-hello", Labels = new Dictionary<string, string>
            {
                ["paasta.yelp.com/service"] = "hello", ["paasta.yelp.com/instance"] = "main", ["paasta.yelp.com/config_sha"] = "config1234",
            } },
            Spec = new() { NodeName = "node-1", Containers = new[] { new k8s.Models.V1Container { Name = "hello-main", Ports = new[] { new k8s.Models.V1ContainerPort { ContainerPort = 8888 } } } } },
            Status = new() { PodIP = "10.244.0.9", HostIP = "172.18.0.2" },
        };
        var task = DrainTask.FromPod(pod);
        Assert.Equal(("hello-main-abc", "paastasvc-hello", "10.244.0.9", "172.18.0.2", "node-1"), (task.Id, task.Namespace, task.Host, task.HostIp, task.NodeName));
        Assert.Equal(new[] { 8888 }, task.Ports);
        Assert.Equal(("hello", "main", "config1234"), (task.Service, task.Instance, task.ConfigSha));
        Assert.Equal(new[] { 9000 }, DrainTask.FromPod(pod, 9000).Ports);
    }
}
