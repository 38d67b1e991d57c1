using Paasta.Config;
using Paasta.Drain;
using Paasta.Errors;

namespace Paasta.Tests.Drain;

public class DrainRegistryAndGuardTests
{
    private static readonly DrainTask Pod = new() { Id = "hello-main-1", Host = "127.0.0.1", Ports = new[] { 8888 } };

    public sealed class CountingDrainMethod : IDrainMethod
    {
        public CountingDrainMethod(DrainContext context) => Context = context;
        public DrainContext Context { get; }
        public int Drains;
        public Task DrainAsync(DrainTask task, CancellationToken cancellationToken) { Interlocked.Increment(ref Drains); return Task.CompletedTask; }
        public Task StopDrainingAsync(DrainTask task, CancellationToken cancellationToken) => Task.CompletedTask;
        public Task<bool> IsDrainingAsync(DrainTask task, CancellationToken cancellationToken) => Task.FromResult(Drains > 0);
        public Task<bool> IsSafeToKillAsync(DrainTask task, CancellationToken cancellationToken) => Task.FromResult(Drains > 0);
    }

    public sealed class NeedsSomethingElse(int x) : IDrainMethod
    {
        public int X => x;
        public Task DrainAsync(DrainTask task, CancellationToken cancellationToken) => Task.CompletedTask;
        public Task StopDrainingAsync(DrainTask task, CancellationToken cancellationToken) => Task.CompletedTask;
        public Task<bool> IsDrainingAsync(DrainTask task, CancellationToken cancellationToken) => Task.FromResult(false);
        public Task<bool> IsSafeToKillAsync(DrainTask task, CancellationToken cancellationToken) => Task.FromResult(true);
    }

    /// <summary>Answers IsSafeToKill with a given behaviour, for the guard.</summary>
    private sealed class ScriptedDrainMethod(Func<CancellationToken, Task<bool>> safe) : IDrainMethod
    {
        public Task DrainAsync(DrainTask task, CancellationToken cancellationToken) => safe(cancellationToken);
        public Task StopDrainingAsync(DrainTask task, CancellationToken cancellationToken) => Task.CompletedTask;
        public Task<bool> IsDrainingAsync(DrainTask task, CancellationToken cancellationToken) => Task.FromResult(true);
        public Task<bool> IsSafeToKillAsync(DrainTask task, CancellationToken cancellationToken) => safe(cancellationToken);
    }

    [Fact]
    public void BuiltInsAreListedSortedAsBuiltIn()
    {
        var registry = new DrainMethodRegistry();
        Assert.Equal(new[] { "crashy_drain", "hacheck", "http", "noop", "test" }, registry.Names);
        Assert.All(registry.List(includeTestMethods: true), i => Assert.Equal(DrainMethodSource.BuiltIn, i.Source));
        Assert.Equal("Paasta.Drain.HacheckDrainMethod", registry.Find("HACHECK")!.Definition);
    }

    [Fact]
    public void AnUnknownNameIsDrainMethodNotFoundNamingTheKnownOnes()
    {
        var e = Assert.Throws<PaastaException>(() => new DrainMethodRegistry().Create("nope", new DrainContext()));
        Assert.Equal("DrainMethodNotFound", e.ErrorId);
        Assert.Equal(PaastaErrorKind.ObjectNotFound, e.Kind);
        Assert.Contains("hacheck", e.Message);
        Assert.DoesNotContain("crashy_drain", e.Message);
    }

    [Fact]
    public void TheTestMethodsAreLeftOutOfTheListButWorkByName()
    {
        var registry = new DrainMethodRegistry();
        Assert.Equal(new[] { "hacheck", "http", "noop" }, registry.List().Select(i => i.Name));
        Assert.Equal(new[] { "crashy_drain", "test" }, registry.List(includeTestMethods: true).Where(i => i.ForTesting).Select(i => i.Name));
        Assert.IsType<TestDrainMethod>(registry.Create("test", new DrainContext()));
        Assert.IsType<CrashyDrainMethod>(registry.Create("crashy_drain", new DrainContext()));
    }

    [Fact]
    public void ATypeIsBuiltWithTheContext()
    {
        var registry = new DrainMethodRegistry();
        var info = registry.Register<CountingDrainMethod>("counting", "counts");
        Assert.Equal(new DrainMethodInfo("counting", DrainMethodSource.Type, typeof(CountingDrainMethod).FullName!, "counts"), info);
        var context = new DrainContext { Service = "hello", Instance = "main" };
        var method = Assert.IsType<CountingDrainMethod>(registry.Create("Counting", context));
        Assert.Same(context, method.Context);
        Assert.Equal(new[] { "hello.main" }, method.Context.Registrations);
    }

    [Theory]
    [InlineData(typeof(string))]
    [InlineData(typeof(IDrainMethod))]
    [InlineData(typeof(NeedsSomethingElse))]
    public void ATypeThatCannotBeADrainMethodIsRefused(Type type)
    {
        var e = Assert.Throws<PaastaException>(() => new DrainMethodRegistry().Register("custom", type));
        Assert.Equal("DrainMethodTypeInvalid", e.ErrorId);
        Assert.Equal(PaastaErrorKind.InvalidArgument, e.Kind);
    }

    [Fact]
    public void BuiltInsCannotBeReplacedOrUnregistered()
    {
        var registry = new DrainMethodRegistry();
        Assert.Equal("DrainMethodBuiltIn", Assert.Throws<PaastaException>(() => registry.Register<CountingDrainMethod>("Hacheck", replace: true)).ErrorId);
        Assert.Equal("DrainMethodBuiltIn", Assert.Throws<PaastaException>(() => registry.Unregister("noop")).ErrorId);
        Assert.IsType<HacheckDrainMethod>(registry.Create("hacheck", new DrainContext()));
    }

    [Fact]
    public void ACustomNameIsTakenUntilReplacedOrUnregistered()
    {
        var registry = new DrainMethodRegistry();
        registry.Register<CountingDrainMethod>("mine");
        var e = Assert.Throws<PaastaException>(() => registry.Register("MINE", _ => new NoopDrainMethod()));
        Assert.Equal("DrainMethodAlreadyRegistered", e.ErrorId);
        registry.Register("mine", _ => new NoopDrainMethod(), definition: "noop lambda", replace: true);
        Assert.IsType<NoopDrainMethod>(registry.Create("mine", new DrainContext()));
        Assert.Equal("noop lambda", registry.Unregister("mine").Definition);
        Assert.Null(registry.Find("mine"));
        Assert.Equal("DrainMethodNotFound", Assert.Throws<PaastaException>(() => registry.Unregister("mine")).ErrorId);
    }

    [Theory]
    [InlineData("")]
    [InlineData("1abc")]
    [InlineData("has space")]
    [InlineData("dotted.name")]
    public void NamesFollowTheSchemaPattern(string name) =>
        Assert.Equal("DrainMethodNameInvalid", Assert.Throws<PaastaException>(() => new DrainMethodRegistry().Register(name, _ => new NoopDrainMethod())).ErrorId);

    [Fact]
    public void AFactoryThatThrowsIsDrainMethodFailed()
    {
        var registry = new DrainMethodRegistry();
        registry.Register("broken", _ => throw new FormatException("no"));
        var e = Assert.Throws<PaastaException>(() => registry.Create("broken", new DrainContext { Service = "s", Instance = "i" }));
        Assert.Equal("DrainMethodFailed", e.ErrorId);
        Assert.IsType<FormatException>(e.InnerException);
    }

    [Fact]
    public async Task AnInstanceFromSoaConfigsGetsItsDrainMethodParamsAndRegistrations()
    {
        using var soa = new TempSoaDir();
        soa.Service("hello");
        soa.Write("hello/smartstack.yaml", "main: {proxy_port: 20001}\nother: {proxy_port: 20002}\n");
        soa.Write("hello/kubernetes-prod.yaml", """
            main: {deploy_group: prod.main, registrations: [hello.main, hello.other], drain_method_params: {delay: 15, hacheck_port: 7777}}
            plain: {deploy_group: prod.main, registrations: []}
            """);
        var reader = new SoaConfigReader(soa.Root);
        var instances = reader.LoadInstances(reader.LoadService("hello"), new InstanceFilter()).Select(r => r.Value!).ToDictionary(i => i.Instance);

        using var guard = new DrainMethodRegistry().CreateGuarded(instances["main"]);
        Assert.Equal("hacheck", guard.MethodName);   // mesh instance: hacheck by default
        var hacheck = Assert.IsType<HacheckDrainMethod>(guard.Method);
        Assert.Equal((15.0, 7777, 150.0), (hacheck.DelaySeconds, hacheck.HacheckPort, hacheck.ExpirationSeconds));
        Assert.Equal(new[] { "http://127.0.0.1:7777/spool/hello.main/8888/status", "http://127.0.0.1:7777/spool/hello.other/8888/status" },
            hacheck.SpoolUrls(Pod).Select(u => u.ToString()));

        Assert.IsType<NoopDrainMethod>(new DrainMethodRegistry().Create(instances["plain"]));
        var safe = await new DrainMethodRegistry().CreateGuarded(instances["plain"]).IsSafeToKillAsync(Pod);
        Assert.True(safe.SafeToKill);
    }

    [Fact]
    public void AnHttpInstanceFromSoaConfigsGetsItsUrlSpecs()
    {
        using var soa = new TempSoaDir();
        soa.Service("hello");
        soa.Write("hello/kubernetes-prod.yaml", """
            main:
              deploy_group: prod.main
              drain_method: http
              drain_method_params:
                drain: {url_format: 'http://{host}:{port}/drain', method: POST, success_codes: '200-299'}
                stop_draining: {url_format: 'http://{host}:{port}/undrain', method: POST, success_codes: 200}
                is_draining: {url_format: 'http://{host}:{port}/draining/{nerve_ns}'}
                is_safe_to_kill: {url_format: 'http://{host}:{port}/safe', success_codes: '200,204'}
            """);
        var reader = new SoaConfigReader(soa.Root);
        var instance = reader.LoadInstances(reader.LoadService("hello"), new InstanceFilter()).Single().Value!;
        using var method = Assert.IsType<HttpDrainMethod>(new DrainMethodRegistry().Create(instance));
        Assert.Equal(HttpMethod.Post, method.Drain.Method);
        Assert.True(method.StopDraining.SuccessCodes.Accepts(200));
        Assert.False(method.StopDraining.SuccessCodes.Accepts(201));
        Assert.True(method.IsSafeToKill.SuccessCodes.Accepts(204));
        Assert.Equal("http://10.0.0.3:8888/draining/hello.main", Assert.Single(method.Urls(DrainAction.IsDraining, new DrainTask { Id = "p", Host = "10.0.0.3", Ports = new[] { 8888 } })).ToString());
    }

    private sealed class Resource : IDisposable
    {
        public bool Disposed;
        public void Dispose() => Disposed = true;
    }

    [Fact]
    public void ResourcesOfAMethodAreDisposedWhenItIsReplacedOrUnregistered()
    {
        var registry = new DrainMethodRegistry();
        var first = new Resource();
        var second = new Resource();
        registry.Register("pooled", _ => new NoopDrainMethod(), resources: first);
        registry.Register("pooled", _ => new NoopDrainMethod(), replace: true, resources: second);
        Assert.True(first.Disposed);
        Assert.False(second.Disposed);
        registry.Unregister("pooled");
        Assert.True(second.Disposed);
    }

    [Fact]
    public async Task AThrowingMethodIsAnErrorResultNeverSafe()
    {
        using var guard = new DrainGuard(new CrashyDrainMethod(), "crashy_drain");
        foreach (var action in Enum.GetValues<DrainAction>())
        {
            var r = await guard.InvokeAsync(action, Pod);
            Assert.False(r.Succeeded);
            Assert.False(r.SafeToKill);
            Assert.Null(r.Answer);
            Assert.Equal("DrainMethodFailed", r.ErrorId);
            Assert.Contains("crashy_drain", r.Message);
            Assert.IsType<InvalidOperationException>(r.Error!.InnerException);
        }
    }

    [Fact]
    public async Task APaastaExceptionKeepsItsErrorId()
    {
        using var guard = new DrainGuard(new ScriptedDrainMethod(_ => throw new PaastaException("DrainEndpointUnreachable", PaastaErrorKind.ConnectionError, "down")), "x");
        var r = await guard.IsSafeToKillAsync(Pod);
        Assert.Equal("DrainEndpointUnreachable", r.ErrorId);
        Assert.False(r.SafeToKill);
    }

    [Fact]
    public async Task AMethodThatNeverAnswersTimesOutAsAnErrorResultNeverSafe()
    {
        var cancelled = new TaskCompletionSource();
        var invoked = 0;
        using var guard = new DrainGuard(new ScriptedDrainMethod(async token =>
        {
            Interlocked.Exchange(ref invoked, 1);
            token.Register(() => cancelled.TrySetResult());
            await Task.Delay(Timeout.Infinite, CancellationToken.None);   // ignores the token on purpose
            return true;
        }), "hung", TimeSpan.FromMilliseconds(300));
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var r = await guard.IsSafeToKillAsync(Pod);
        Assert.InRange(watch.Elapsed.TotalSeconds, 0.25, 60);
        Assert.Equal("DrainMethodTimedOut", r.ErrorId);
        Assert.Equal(PaastaErrorKind.OperationTimeout, r.Error!.Kind);
        Assert.Null(r.Answer);
        Assert.False(r.SafeToKill);
        // The method was asked to stop; or, when no thread picked the call up within the time limit (a busy machine),
        // it is never called at all. (The guard once read the token of a disposed source there, and the call failed.)
        if (await Task.WhenAny(cancelled.Task, Task.Delay(TimeSpan.FromSeconds(30))) != cancelled.Task)
            Assert.Equal(0, Volatile.Read(ref invoked));
    }

    [Fact]
    public async Task AMethodThatBlocksSynchronouslyStillTimesOut()
    {
        using var release = new ManualResetEventSlim();
        using var guard = new DrainGuard(new ScriptedDrainMethod(_ => { release.Wait(TimeSpan.FromSeconds(10)); return Task.FromResult(true); }), "blocking",
            TimeSpan.FromMilliseconds(300));
        var r = await guard.IsSafeToKillAsync(Pod).WaitAsync(TimeSpan.FromSeconds(60));
        release.Set();
        Assert.Equal("DrainMethodTimedOut", r.ErrorId);
        Assert.False(r.SafeToKill);
    }

    [Fact]
    public async Task ANullTaskIsAFailureNotACrash()
    {
        using var guard = new DrainGuard(new ScriptedDrainMethod(_ => null!), "null");
        var r = await guard.IsSafeToKillAsync(Pod);
        Assert.Equal("DrainMethodFailed", r.ErrorId);
        Assert.False(r.SafeToKill);
    }

    [Fact]
    public async Task OnlyASuccessfulTrueIsSafeToKill()
    {
        using var yes = new DrainGuard(new ScriptedDrainMethod(_ => Task.FromResult(true)), "yes");
        using var no = new DrainGuard(new ScriptedDrainMethod(_ => Task.FromResult(false)), "no");
        var safe = await yes.IsSafeToKillAsync(Pod);
        Assert.True(safe.Succeeded);
        Assert.True(safe.Answer);
        Assert.True(safe.SafeToKill);
        Assert.Equal("IsSafeToKill hello-main-1 via yes: True", safe.ToString());
        var notSafe = await no.IsSafeToKillAsync(Pod);
        Assert.True(notSafe.Succeeded);
        Assert.False(notSafe.SafeToKill);
        var draining = await yes.IsDrainingAsync(Pod);
        Assert.True(draining.Answer);
        Assert.False(draining.SafeToKill);   // a true from another query never means safe
        var drained = await yes.DrainAsync(Pod);
        Assert.True(drained.Succeeded);
        Assert.Null(drained.Answer);
    }

    [Fact]
    public async Task TheCallersCancellationPropagates()
    {
        using var cts = new CancellationTokenSource();
        using var guard = new DrainGuard(new ScriptedDrainMethod(async token => { await Task.Delay(Timeout.Infinite, token); return true; }), "slow");
        var call = guard.IsSafeToKillAsync(Pod, cts.Token);
        cts.CancelAfter(100);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
    }
}
