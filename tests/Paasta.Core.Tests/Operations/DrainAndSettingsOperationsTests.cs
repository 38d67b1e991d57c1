using Paasta.Config;
using Paasta.Drain;
using Paasta.Errors;
using Paasta.Operations;
using Paasta.Settings;
using Xunit;

namespace Paasta.Tests.Operations;

/// <summary>The drain method cmdlets, the settings cmdlets and Test-PaastaConfig as operations.</summary>
public sealed class DrainAndSettingsOperationsTests : IDisposable
{
    private readonly TempSoaDir _soa = new();
    private readonly RecordingSink _sink = new();
    private readonly DrainMethodRegistry _registry = new();

    public DrainAndSettingsOperationsTests()
    {
        _soa.Service("web", "backend", "prod.main");
        _soa.Write("web/kubernetes-prod.yaml", "main: {deploy_group: prod.main, drain_method: slow}\n");
    }

    public void Dispose() => _soa.Dispose();

    private OperationContext Context() => _sink.Context(_soa.Root);

    /// <summary>A drain method whose calls finish when the test says so, and which records what it was asked.</summary>
    private sealed class GatedDrainMethod : IDrainMethod
    {
        public static TaskCompletionSource Gate { get; set; } = new();
        public static List<DrainTask> Drained { get; } = new();
        public async Task DrainAsync(DrainTask task, CancellationToken cancellationToken)
        {
            await Gate.Task.WaitAsync(cancellationToken);
            lock (Drained) Drained.Add(task);
        }
        public Task StopDrainingAsync(DrainTask task, CancellationToken cancellationToken) => Task.CompletedTask;
        public Task<bool> IsDrainingAsync(DrainTask task, CancellationToken cancellationToken) => Task.FromResult(false);
        public Task<bool> IsSafeToKillAsync(DrainTask task, CancellationToken cancellationToken) => Task.FromResult(true);
    }

    /// <summary>A clock whose waits take no time but move time on, and which opens the gate after a number of waits.</summary>
    private sealed class GateClock(int waitsBeforeOpening) : WaitClock
    {
        private TimeSpan _now;
        private int _waits;
        public override long Start() => _now.Ticks;
        public override TimeSpan Since(long start) => _now - TimeSpan.FromTicks(start);
        public override Task Delay(TimeSpan delay, CancellationToken cancellation)
        {
            _now += delay;
            if (++_waits == waitsBeforeOpening) GatedDrainMethod.Gate.TrySetResult();
            return Task.CompletedTask;
        }
    }

    [Fact]
    public void Invoke_waits_for_a_slow_call_with_progress_and_gives_a_portless_task_the_instance_port()
    {
        _registry.Register("slow", _ => new GatedDrainMethod());
        GatedDrainMethod.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var instance = _sink.Context(_soa.Root).Reader.LoadInstances(_sink.Context(_soa.Root).Reader.LoadService("web")).Single().Value!;
        var results = DrainOperations.Invoke(Context(), new DrainInvocation(DrainAction.Drain) { Instance = instance, Timeout = TimeSpan.FromSeconds(60) },
            new[] { new DrainTask { Id = "pod-1", Host = "10.0.0.1" } }, _registry, new GateClock(3));
        var result = Assert.Single(results);
        Assert.True(result.Succeeded);
        Assert.Equal(new[] { (int)instance.ContainerPort }, GatedDrainMethod.Drained.Last().Ports);
        Assert.Contains(_sink.ProgressReports, p => p.CurrentOperation == "waiting for the drain method: 2 s of at most 60 s");
        Assert.Equal(ProgressState.Completed, _sink.ProgressReports.Last().State);
    }

    [Fact]
    public void Drain_and_StopDraining_ask_first_the_queries_do_not()
    {
        _sink.Confirm = false;
        var task = new DrainTask { Id = "pod-1", Host = "10.0.0.1", Ports = new[] { 8888 } };
        Assert.Empty(DrainOperations.Invoke(Context(), new DrainInvocation(DrainAction.Drain) { Method = "noop" }, new[] { task }, _registry));
        var safe = Assert.Single(DrainOperations.Invoke(Context(), new DrainInvocation(DrainAction.IsSafeToKill) { Method = "noop" }, new[] { task }, _registry));
        Assert.True(safe.SafeToKill);
        Assert.Single(_sink.Asked);
    }

    [Fact]
    public void An_unknown_method_is_an_error_for_that_task()
    {
        Assert.Empty(DrainOperations.Invoke(Context(), new DrainInvocation(DrainAction.IsDraining) { Method = "nosuch" }, new[] { new DrainTask { Id = "p" } }, _registry));
        Assert.Equal(new[] { "DrainMethodNotFound" }, _sink.ErrorIds);
    }

    [Fact]
    public void List_reports_a_literal_name_that_matches_nothing_and_lets_a_wildcard_match_nothing()
    {
        var found = DrainOperations.List(Context(), new[] { "h*", "NOOP", "nosuch", "zz*" }, _registry);
        Assert.Equal(new[] { "hacheck", "http", "noop" }, found.Select(i => i.Name));
        Assert.Equal(new[] { "DrainMethodNotFound" }, _sink.ErrorIds);
    }

    [Fact]
    public void List_offers_the_test_methods_only_by_their_exact_name_or_when_asked_for()
    {
        Assert.Equal(new[] { "hacheck", "http", "noop" }, DrainOperations.List(Context(), null, _registry).Select(i => i.Name));
        Assert.Empty(DrainOperations.List(Context(), new[] { "*drain*", "t*" }, _registry));
        Assert.Equal(new[] { "test" }, DrainOperations.List(Context(), new[] { "test" }, _registry).Select(i => i.Name));
        var all = DrainOperations.List(Context(), null, _registry, includeTestMethods: true);
        Assert.Equal(new[] { "crashy_drain", "hacheck", "http", "noop", "test" }, all.Select(i => i.Name));
        Assert.Equal(new[] { "crashy_drain", "test" }, all.Where(i => i.ForTesting).Select(i => i.Name));
        Assert.Empty(_sink.Errors);
        DrainOperations.List(Context(), new[] { "nosuch" }, _registry);
        Assert.DoesNotContain("crashy_drain", Assert.Single(_sink.Errors).Message);
    }

    [Fact]
    public void Register_asks_first_makes_the_method_only_then_and_Unregister_refuses_built_ins()
    {
        var made = 0;
        var registration = new DrainRegistration("mine") { Create = () => { made++; return (_ => new GatedDrainMethod(), "test", null); } };
        _sink.Confirm = false;
        Assert.Null(DrainOperations.Register(Context(), registration, _registry));
        Assert.Equal(0, made);
        _sink.Confirm = true;
        Assert.Equal("mine", DrainOperations.Register(Context(), registration, _registry)!.Name);
        Assert.Equal(1, made);
        Assert.Equal("DrainMethodAlreadyRegistered", Assert.Throws<PaastaException>(() => DrainOperations.Register(Context(), registration, _registry)).ErrorId);
        Assert.NotNull(DrainOperations.Register(Context(), registration with { Replace = true }, _registry));
        Assert.Equal("Replace drain method (ScriptBlock: test)", _sink.Asked.Last().Action);
        var removed = DrainOperations.Unregister(Context(), new[] { "mine", "noop" }, _registry);
        Assert.Equal(new[] { "mine" }, removed.Select(i => i.Name));
        Assert.Equal(new[] { "DrainMethodBuiltIn" }, _sink.ErrorIds);
    }

    [Fact]
    public void A_settings_change_keeps_what_is_not_given_and_clears_what_is_given_empty()
    {
        var saved = new PaastaSettings { Cluster = "a", TronUrl = "http://t", ClusterContext = new Dictionary<string, string> { ["p"] = "c" } };
        var changed = new SettingsChange(new PaastaSettings { Cluster = "b", TronUrl = "", ClusterContext = new Dictionary<string, string>() }).ApplyTo(saved);
        Assert.Equal(("b", (string?)null, (IReadOnlyDictionary<string, string>?)null), (changed.Cluster!, changed.TronUrl, changed.ClusterContext));
        Assert.Equal(saved with { Cluster = "b", TronUrl = null, ClusterContext = null }, changed);
    }

    [Fact]
    public void Every_setting_can_be_set_and_cleared_by_a_change()
    {
        foreach (var setting in typeof(PaastaSettings).GetProperties())
        {
            object value = setting.PropertyType == typeof(string) ? "v" : new Dictionary<string, string> { ["p"] = "c" };
            object empty = setting.PropertyType == typeof(string) ? "" : new Dictionary<string, string>();
            var given = new PaastaSettings();
            setting.SetValue(given, value);
            var set = new SettingsChange(given).ApplyTo(new PaastaSettings());
            Assert.Equivalent(value, setting.GetValue(set));
            setting.SetValue(given, empty);
            Assert.Null(setting.GetValue(new SettingsChange(given).ApplyTo(set)));
            Assert.Equal(set, new SettingsChange(new PaastaSettings()).ApplyTo(set));
        }
    }

    [Fact]
    public void Eight_writers_of_different_keys_through_the_operation_all_keep_their_key()
    {
        var path = Path.Combine(_soa.Root, "settings", "settings.json");
        var start = new ManualResetEventSlim();
        var changes = new SettingsChange[]
        {
            new(new() { SoaDir = "/s" }), new(new() { Cluster = "c" }), new(new() { KubeConfig = "/k" }), new(new() { KubeContext = "x" }),
            new(new() { DockerRegistry = "r:5000" }), new(new() { SensuSocket = "h:1" }), new(new() { TronUrl = "http://t" }), new(new() { HacheckSidecarImage = "i" }),
        };
        var writers = changes.Select(c => Task.Run(() =>
        {
            start.Wait();
            ConfigurationOperations.Set(Context(), c, path);
        })).ToArray();
        start.Set();
        Task.WaitAll(writers);
        Assert.Equal(new PaastaSettings
        {
            SoaDir = "/s", Cluster = "c", KubeConfig = "/k", KubeContext = "x", DockerRegistry = "r:5000", SensuSocket = "h:1", TronUrl = "http://t", HacheckSidecarImage = "i",
        }, PaastaSettingsStore.Load(path));
    }

    [Fact]
    public void Set_under_WhatIf_writes_nothing()
    {
        var path = Path.Combine(_soa.Root, "settings.json");
        _sink.Confirm = false;
        Assert.Null(ConfigurationOperations.Set(Context(), new SettingsChange(new PaastaSettings { Cluster = "c" }), path));
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void A_folder_that_cannot_take_the_lock_file_is_SettingsFileNotWritable_not_a_held_lock()
    {
        if (!OperatingSystem.IsLinux()) return;
        // /proc takes no new file, even from root: the lock file cannot be made.
        var e = Assert.Throws<PaastaException>(() => PaastaSettingsStore.Update("/proc/paasta-settings-test.json", s => s));
        Assert.Equal(("SettingsFileNotWritable", PaastaErrorKind.WriteError), (e.ErrorId, e.Kind));
        var file = _soa.Write("a-file", "x");
        Assert.Equal("SettingsFileNotWritable", Assert.Throws<PaastaException>(() => PaastaSettingsStore.Update(Path.Combine(file, "settings.json"), s => s)).ErrorId);
    }

    [Fact]
    public void Get_reads_the_file_only_for_the_saved_settings_and_reports_it_when_corrupt()
    {
        var corrupt = new OperationContext(new ResolvedSettings(new PaastaSettings { SoaDir = _soa.Root },
            () => throw new PaastaException("SettingsFileInvalid", PaastaErrorKind.InvalidData, "corrupt"), _ => null), _sink);
        Assert.Equal("SettingsFileInvalid", Assert.Throws<PaastaException>(() => ConfigurationOperations.Get(corrupt, effective: false)).ErrorId);
        // What the parameters give needs no file.
        Assert.Single(ValidationOperation.Validate(corrupt, new[] { "web" }).Services);
    }

    [Fact]
    public void Validate_returns_a_missing_service_as_a_selection_error_and_reports_it_only_when_asked()
    {
        var quiet = ValidationOperation.Validate(Context(), new[] { "web", "nosuch" }, reportSelectionErrors: false);
        Assert.False(quiet.Valid);
        Assert.Equal(new[] { "web" }, quiet.Services.Select(s => s.Service));
        Assert.Empty(_sink.Errors);
        ValidationOperation.Validate(Context(), new[] { "nosuch" });
        Assert.Equal(new[] { "ServiceNotFound" }, _sink.ErrorIds);
    }
}
