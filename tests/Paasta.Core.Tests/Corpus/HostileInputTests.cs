using System.Diagnostics;
using System.Text;
using Paasta.Config;
using Paasta.Errors;
using Paasta.IO;
using Paasta.Tron;
using Paasta.Validation;
using Paasta.Yaml;

namespace Paasta.Tests.Corpus;

/// <summary>
/// Hostile input at the engine's level (issue 16): files that are not files, sizes and counts that would cost
/// minutes or the process, numbers that would wrap round, environment names that would split, and links. See
/// docs/RELIABILITY.md. The whole-cmdlet view of the same classes is the corpus (tests/corpus/malformed).
/// </summary>
public sealed class HostileInputTests
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(2);

    private static T Guarded<T>(Func<T> action, string what)
    {
        var task = Task.Run(action);
        Assert.True(task.Wait(HangGuard), $"{what} did not finish within {HangGuard.TotalSeconds:F0} s (a hang?)");
        return task.GetAwaiter().GetResult();
    }

    private static TempSoaDir ServiceWith(string file, string content)
    {
        var dir = new TempSoaDir();
        dir.Service("svc");
        dir.Write($"svc/{file}", content);
        return dir;
    }

    private static List<PaastaException> LoadErrors(string root)
    {
        var reader = new SoaConfigReader(root);
        return reader.LoadInstances(reader.LoadService("svc")).Where(r => r.Error is not null).Select(r => r.Error!).ToList();
    }

    // ---- Files that are not files ----

    [Theory]
    [InlineData("/dev/zero")]
    [InlineData("/dev/urandom")]
    public void AnInstanceFileLinkedToADeviceIsRefusedWithoutReading(string device)
    {
        if (!OperatingSystem.IsLinux()) return;
        using var dir = new TempSoaDir();
        dir.Service("svc");
        File.CreateSymbolicLink(Path.Combine(dir.Root, "svc", "kubernetes-prod.yaml"), device);
        var error = Assert.Single(Guarded(() => LoadErrors(dir.Root), $"a link to {device}"));
        Assert.Equal("NotARegularFile", error.ErrorId);
        Assert.EndsWith("kubernetes-prod.yaml", error.File);
    }

    [Fact]
    public void AFifoWhereAnInstanceFileBelongsIsRefusedInsteadOfBlocking()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var dir = new TempSoaDir();
        dir.Service("svc");
        Process.Start("mkfifo", Path.Combine(dir.Root, "svc", "kubernetes-prod.yaml")).WaitForExit();
        var error = Assert.Single(Guarded(() => LoadErrors(dir.Root), "a FIFO"));
        Assert.Equal("NotARegularFile", error.ErrorId);
        // The validator reports it too, and does not block on it either.
        var findings = Guarded(() => new ConfigValidator(new SoaConfigReader(dir.Root)).ValidateService("svc"), "validating a FIFO");
        Assert.Contains(findings, f => f.RuleId == "NotARegularFile" && f.File!.EndsWith("kubernetes-prod.yaml"));
    }

    [Fact]
    public void AServiceYamlThatIsAFifoIsRefused()
    {
        if (!OperatingSystem.IsLinux()) return;
        using var dir = new TempSoaDir();
        dir.Service("svc");
        File.Delete(Path.Combine(dir.Root, "svc", "service.yaml"));
        Process.Start("mkfifo", Path.Combine(dir.Root, "svc", "service.yaml")).WaitForExit();
        var e = Guarded(() => Assert.Throws<PaastaException>(() => new SoaConfigReader(dir.Root).LoadService("svc")), "a FIFO service.yaml");
        Assert.Equal("NotARegularFile", e.ErrorId);
    }

    [Fact]
    public void ALinkToNothingIsAnErrorNotAMissingFile()
    {
        using var dir = new TempSoaDir();
        dir.Service("svc");
        File.CreateSymbolicLink(Path.Combine(dir.Root, "svc", "kubernetes-prod.yaml"), Path.Combine(dir.Root, "nowhere.yaml"));
        var error = Assert.Single(LoadErrors(dir.Root));
        Assert.Equal("ConfigFileUnreadable", error.ErrorId);
        Assert.Equal(FileKind.BrokenLink, BoundedFile.KindOf(Path.Combine(dir.Root, "svc", "kubernetes-prod.yaml")));
    }

    [Fact]
    public void BoundedReadsCountBytesAndStreamLineByLine()
    {
        using var dir = new TempSoaDir();
        var path = dir.Write("f.txt", "one\ntwo\r\nthree");
        Assert.Equal(new[] { "one", "two", "three" }, BoundedFile.ReadAllLines(path));
        Assert.Null(BoundedFile.ReadAllTextIfExists(Path.Combine(dir.Root, "none")));
        using (var reader = new StreamReader(BoundedFile.OpenRead(path, 100))) Assert.Equal("one", reader.ReadLine());
        Assert.Equal("FileTooLarge", Assert.Throws<PaastaException>(() => BoundedFile.OpenRead(path, 5)).ErrorId);
        if (OperatingSystem.IsLinux())
        {
            // /proc files are regular and report size 0: the limit is kept by counting what is read.
            Assert.Equal(0, new FileInfo("/proc/self/status").Length);
            Assert.Equal("FileTooLarge", Assert.Throws<PaastaException>(() => BoundedFile.ReadAllBytes("/proc/self/status", 100)).ErrorId);
        }
    }

    // ---- Sizes and counts ----

    [Fact]
    public void AFileWithMoreInstancesThanTheLimitIsRefusedNamingTheFirstOneOver()
    {
        var yaml = new StringBuilder();
        for (var i = 0; i <= ConfigLimits.MaxEntriesPerFile; i++) yaml.Append("i").Append(i).Append(": {}\n");
        using var dir = ServiceWith("kubernetes-prod.yaml", yaml.ToString());
        var error = Assert.Single(LoadErrors(dir.Root));
        Assert.Equal("ConfigTooManyInstances", error.ErrorId);
        Assert.Equal(PaastaErrorKind.LimitsExceeded, error.Kind);
        Assert.Equal(ConfigLimits.MaxEntriesPerFile + 1, error.Line);
        Assert.Equal($"i{ConfigLimits.MaxEntriesPerFile}", error.Key);

        // Test-PaastaConfig reports the limit once, instead of a schema finding per instance.
        var findings = new ConfigValidator(new SoaConfigReader(dir.Root)).ValidateService("svc");
        Assert.Single(findings, f => f.RuleId == "ConfigTooManyInstances");
        Assert.True(findings.Count < 10, string.Join("\n", findings.Take(10)));
    }

    [Fact]
    public void AFileAtTheLimitLoads()
    {
        var yaml = new StringBuilder();
        for (var i = 0; i < ConfigLimits.MaxEntriesPerFile; i++) yaml.Append("i").Append(i).Append(": {cpus: 1}\n");
        using var dir = ServiceWith("kubernetes-prod.yaml", yaml.ToString());
        var reader = new SoaConfigReader(dir.Root);
        Assert.Equal(ConfigLimits.MaxEntriesPerFile, reader.LoadInstances(reader.LoadService("svc")).Count(r => r.Value is not null));
    }

    [Fact]
    public void ATronJobWithMoreActionsThanTheLimitIsRefused()
    {
        using var dir = ServiceWith("tron-prod.yaml", TronChain(ConfigLimits.MaxActionsPerJob + 1, cycle: false));
        var error = Assert.Single(LoadErrors(dir.Root));
        Assert.Equal("ConfigTooManyActions", error.ErrorId);
        Assert.Equal("nightly.actions", error.Key);
        Assert.True(error.Line > 0);
    }

    [Fact]
    public void TronActionsAcrossJobsAreLimitedPerFile()
    {
        var yaml = new StringBuilder();
        var perJob = ConfigLimits.MaxActionsPerJob;
        for (var job = 0; job * perJob <= ConfigLimits.MaxActionsPerFile; job++)
        {
            yaml.Append($"j{job}:\n  schedule: daily\n  deploy_group: prod.main\n  actions:\n");
            for (var a = 0; a < perJob; a++) yaml.Append($"    a{a}: {{command: echo}}\n");
        }
        using var dir = ServiceWith("tron-prod.yaml", yaml.ToString());
        var error = Assert.Single(LoadErrors(dir.Root));
        Assert.Equal("ConfigTooManyActions", error.ErrorId);
        Assert.Contains("in all", error.Message);
    }

    private static string TronChain(int actions, bool cycle)
    {
        var yaml = new StringBuilder("nightly:\n  schedule: \"cron 0 3 * * *\"\n  deploy_group: prod.main\n  actions:\n");
        for (var i = 0; i < actions; i++)
        {
            yaml.Append($"    a{i}:\n      command: echo {i}\n");
            if (i + 1 < actions) yaml.Append($"      requires: [a{i + 1}]\n");
            else if (cycle) yaml.Append("      requires: [a0]\n");
        }
        return yaml.ToString();
    }

    [Fact]
    public void MergingOneLargeAnchorIntoManyMappingsIsRefusedBeforeItFillsMemory()
    {
        var yaml = new StringBuilder("_big: &big\n");
        for (var i = 0; i < 20_000; i++) yaml.Append($"  k{i}: v\n");
        for (var i = 0; i < 200; i++) yaml.Append($"i{i}:\n  <<: *big\n");
        var e = Assert.Throws<PaastaException>(() => YamlLoader.Parse(yaml.ToString(), "k.yaml"));
        Assert.Equal("YamlAliasExpansionLimit", e.ErrorId);
        Assert.Equal(PaastaErrorKind.LimitsExceeded, e.Kind);
        Assert.True(e.Line > 20_000);
    }

    // ---- Graph walks ----

    [Fact]
    public void RequiresChainsAreWalkedWithoutRecursion()
    {
        // A recursive walk of 200,000 links needs far more than this thread's 256 KiB of stack.
        const int length = 200_000;
        var names = Enumerable.Range(0, length).Select(i => $"a{i}").ToList();
        var requires = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        for (var i = 0; i < length; i++) requires[names[i]] = i + 1 < length ? new[] { names[i + 1] } : Array.Empty<string>();

        IReadOnlyList<string>? cycle = new List<string>();
        IReadOnlyList<int>? order = null;
        var thread = new Thread(() =>
        {
            cycle = RequiresGraph.FindCycle(requires, names);
            order = RequiresGraph.Order(names, i => requires[names[i]], out _);
        }, maxStackSize: 256 * 1024);
        thread.Start();
        Assert.True(thread.Join(HangGuard), "the walks did not finish (quadratic?)");
        Assert.Null(cycle);
        Assert.NotNull(order);
        // Each action after what it requires: the last of the chain first.
        Assert.Equal(length - 1, order![0]);
        Assert.Equal(0, order[^1]);

        requires[names[^1]] = new[] { names[0] };
        var found = RequiresGraph.FindCycle(requires, names);
        Assert.NotNull(found);
        Assert.Equal(length + 1, found!.Count);
        Assert.Equal(found[0], found[^1]);
        Assert.Null(RequiresGraph.Order(names, i => requires[names[i]], out var unordered));
        Assert.Equal(length, unordered.Count);
    }

    [Fact]
    public void OrderKeepsTheWrittenOrderWhereRequiresLeavesAChoice()
    {
        var names = new[] { "c", "a", "b", "d" };
        var requires = new Dictionary<string, string[]> { ["c"] = new[] { "b" }, ["a"] = Array.Empty<string>(), ["b"] = Array.Empty<string>(), ["d"] = new[] { "a", "a" } };
        var order = RequiresGraph.Order(names, i => requires[names[i]], out _)!.Select(i => names[i]);
        Assert.Equal(new[] { "a", "b", "c", "d" }, order);
    }

    [Fact]
    public void TheValidatorFindsACycleAtTheEndOfALongChain()
    {
        using var dir = ServiceWith("tron-prod.yaml", TronChain(ConfigLimits.MaxActionsPerJob, cycle: true));
        var findings = new ConfigValidator(new SoaConfigReader(dir.Root)).ValidateService("svc");
        var cycle = Assert.Single(findings, f => f.RuleId == "TronRequiresCycle");
        Assert.Contains("a0 -> a1", cycle.Message);
        Assert.True(cycle.Message.Length < 2000, "the cycle is shortened in the message");
    }

    [Fact]
    public void TronJobsOrderLongChains()
    {
        using var dir = ServiceWith("tron-prod.yaml", TronChain(ConfigLimits.MaxActionsPerJob, cycle: false));
        var reader = new SoaConfigReader(dir.Root);
        var job = Assert.Single(TronJobReader.Load(reader, reader.LoadService("svc"), "prod"));
        var ordered = job.OrderedActions();
        Assert.Equal($"a{ConfigLimits.MaxActionsPerJob - 1}", ordered[0].Name);
        Assert.Equal("a0", ordered[^1].Name);
    }

    [Fact]
    public void ActionsWrittenAsAListCannotRepeatAName()
    {
        using var dir = ServiceWith("tron-prod.yaml", "nightly:\n  schedule: daily\n  deploy_group: prod.main\n  actions:\n    - name: a\n      command: x\n    - name: a\n      command: y\n");
        var error = Assert.Single(LoadErrors(dir.Root));
        Assert.Equal("TronDuplicateActionName", error.ErrorId);
        Assert.Equal(7, error.Line);
        var reader = new SoaConfigReader(dir.Root);
        // The job reader refuses the file instead of handing the builder two actions of one name.
        Assert.Equal("TronDuplicateActionName", Assert.Throws<PaastaException>(() => TronJobReader.Load(reader, reader.LoadService("svc"), "prod", validate: false)).ErrorId);
    }

    // ---- Numbers that would wrap round ----

    [Theory]
    [InlineData("0xFFFFFFFFFFFFFFFF")]
    [InlineData("0x10000000000000000")]
    [InlineData("0b1111111111111111111111111111111111111111111111111111111111111111")]
    [InlineData("01777777777777777777777")]
    [InlineData("9223372036854775808")]
    [InlineData("-9223372036854775809")]
    [InlineData("99999999999999999999999")]
    [InlineData("!!int 0xFFFFFFFFFFFFFFFF")]
    public void IntegersTooLargeFor64BitsAreRefusedNotWrapped(string literal)
    {
        using var dir = ServiceWith("kubernetes-prod.yaml", $"main:\n  cpus: 1\n  instances: {literal}\n");
        var error = Assert.Single(LoadErrors(dir.Root));
        Assert.Equal("ConfigValueOutOfRange", error.ErrorId);
        Assert.Equal(3, error.Line);
        Assert.Equal("instances", error.Key);
        Assert.EndsWith("kubernetes-prod.yaml", error.File);
        var scalar = (YScalar)((YMapping)YamlLoader.Parse($"a: {literal}", "t.yaml")!)["a"]!;
        Assert.True(scalar.IsOutOfRangeInteger);
        Assert.IsType<string>(scalar.Value);
    }

    [Theory]
    [InlineData("instances: 4294967297")]       // one replica once cast to Kubernetes' 32 bits
    [InlineData("instances: -2147483649")]
    [InlineData("container_port: 2147483648")]
    [InlineData("cpus: .inf")]                  // the quantity parser threw a raw FormatException
    [InlineData("disk: .nan")]                  // ... and a DivideByZeroException
    [InlineData("mem: 1.0e+300")]
    public void NumbersKubernetesCannotHoldAreRefusedAtTheSource(string setting)
    {
        using var dir = ServiceWith("kubernetes-prod.yaml", $"main:\n  deploy_group: prod.main\n  {setting}\n");
        var error = Assert.Single(LoadErrors(dir.Root));
        Assert.Equal("ConfigValueOutOfRange", error.ErrorId);
        Assert.Equal(3, error.Line);
        Assert.Equal(setting[..setting.IndexOf(':')], error.Key);
    }

    [Theory]
    [InlineData("instances: 2147483647")]
    [InlineData("cpus: 0.001")]
    [InlineData("mem: 2147483647.0")]
    public void NumbersAtTheEdgeOfTheRangeLoad(string setting)
    {
        using var dir = ServiceWith("kubernetes-prod.yaml", $"main:\n  deploy_group: prod.main\n  {setting}\n");
        Assert.Empty(LoadErrors(dir.Root));
    }

    [Theory]
    [InlineData("0x7FFFFFFFFFFFFFFF", long.MaxValue)]
    [InlineData("-0x8000000000000000", long.MinValue)]
    [InlineData("-9223372036854775808", long.MinValue)]
    [InlineData("0b101", 5L)]
    [InlineData("-017", -15L)]
    [InlineData("+0x_1F", 31L)]
    [InlineData("190:20:30", 685230L)]
    public void IntegersAtTheEdgesOfTheRangeResolve(string literal, long expected)
    {
        var scalar = (YScalar)((YMapping)YamlLoader.Parse($"a: {literal}", "t.yaml")!)["a"]!;
        Assert.Equal(expected, scalar.Value);
        Assert.False(scalar.IsOutOfRangeInteger);
    }

    [Theory]
    [InlineData("._")]
    [InlineData("._e+1")]
    public void FloatLookalikesThatDotNetCannotReadStayStrings(string text)
    {
        var root = Assert.IsType<YMapping>(YamlLoader.Parse($"a: {text}", "t.yaml"));
        Assert.Equal(text, ((YScalar)root["a"]!).Value);
    }

    // ---- Environment names ----

    [Theory]
    [InlineData("\"API_KEY=hunter2\": x", "ConfigEnvNameInvalid")]
    [InlineData("\"FOO\\nBAR\": x", "ConfigEnvNameInvalid")]
    [InlineData("\"FOO\\0\": x", "ConfigEnvNameInvalid")]
    [InlineData("\"\": x", "ConfigEnvNameInvalid")]
    [InlineData("FOO: \"a\\0b\"", "ConfigEnvValueInvalid")]
    public void EnvNamesThatWouldSplitOrTruncateAreRefusedWithFileLineAndKey(string entry, string errorId)
    {
        using var dir = ServiceWith("kubernetes-prod.yaml", $"main:\n  cpus: 1\n  env:\n    OK: fine\n    {entry}\n");
        var error = Assert.Single(LoadErrors(dir.Root));
        Assert.Equal(errorId, error.ErrorId);
        Assert.Equal(5, error.Line);
        Assert.StartsWith("env.", error.Key);
        Assert.DoesNotContain("hunter2", error.Message);
        Assert.DoesNotContain("hunter2", error.Key);
    }

    [Fact]
    public void TronActionEnvIsCheckedToo()
    {
        using var dir = ServiceWith("tron-prod.yaml", "nightly:\n  schedule: daily\n  deploy_group: prod.main\n  actions:\n    run:\n      command: x\n      env:\n        \"A=B\": c\n");
        Assert.Equal("ConfigEnvNameInvalid", Assert.Single(LoadErrors(dir.Root)).ErrorId);
    }

    [Theory]
    [InlineData("PATH", null)]
    [InlineData("my.var-1", null)]
    [InlineData("A=B", "'A…' contains '='")]
    [InlineData("A\nB", "control character")]
    public void TheEnvironmentNameRuleIsOneFunction(string name, string? problem)
    {
        var found = EnvironmentNames.NameProblem(name);
        if (problem is null) Assert.Null(found);
        else Assert.Contains(problem, found);
    }

    // ---- Links: followed, as PaaSTA does ----

    [Fact]
    public void AServiceFolderThatIsALinkIsFollowedAsPaastaDoes()
    {
        using var outside = new TempSoaDir();
        outside.Service("real");
        outside.Write("real/kubernetes-prod.yaml", "main:\n  cpus: 1\n");
        using var soa = new TempSoaDir();
        Directory.CreateSymbolicLink(Path.Combine(soa.Root, "linked"), Path.Combine(outside.Root, "real"));

        var reader = new SoaConfigReader(soa.Root);
        Assert.Contains("linked", reader.ListServices());
        var instance = Assert.Single(reader.LoadInstances(reader.LoadService("linked"))).Value!;
        Assert.Equal("linked", instance.Service);
        // Positions name the path through the soa dir, as the user sees it.
        Assert.StartsWith(soa.Root, instance.File);
        Assert.Empty(new ConfigValidator(reader).ValidateService("linked").Where(f => f.Severity == FindingSeverity.Error));
    }

    // ---- Work that does not grow with service-wide files ----

    [Fact]
    public void InstancesShareTheServiceWideConfigInsteadOfCopyingIt()
    {
        // 100,000 keys in service.yaml and in monitoring.yaml under 5,000 instances: copied per instance, that is
        // a billion entries; shared, it is what the files hold.
        var service = new StringBuilder("description: d\nexternal_link: http://e\nmonitoring:\n  team: a\n");
        for (var i = 0; i < 100_000; i++) service.Append($"k{i}: v\n");
        var monitoring = new StringBuilder("team: t\n");
        for (var i = 0; i < 100_000; i++) monitoring.Append($"m{i}: v\n");
        var instances = new StringBuilder();
        for (var i = 0; i < ConfigLimits.MaxEntriesPerFile; i++) instances.Append($"i{i}: {{cpus: 1, monitoring: {{page: true}}}}\n");
        using var dir = new TempSoaDir();
        dir.Service("svc");
        dir.Write("svc/service.yaml", service.ToString());
        dir.Write("svc/monitoring.yaml", monitoring.ToString());
        dir.Write("svc/kubernetes-prod.yaml", instances.ToString());
        var reader = new SoaConfigReader(dir.Root);
        var loaded = Guarded(() => reader.LoadInstances(reader.LoadService("svc")).Select(r => r.Value!).ToList(), "5,000 instances over a large service.yaml");
        Assert.Equal(ConfigLimits.MaxEntriesPerFile, loaded.Count);
        // Values still resolve through the service-wide files.
        Assert.Equal("a", loaded[0].Monitoring.Team);          // service.yaml's monitoring key wins over monitoring.yaml
        Assert.True(loaded[0].Monitoring.Page);
        Assert.Equal("v", loaded[0].Monitoring.All["m7"]);
        Assert.Equal("v", loaded[^1].Config["k99999"]);
        Assert.Equal(ValueOrigin.ServiceYaml, loaded[5].SourceOf("k3")!.Origin);
        Assert.Equal(ValueOrigin.InstanceFile, loaded[5].SourceOf("cpus")!.Origin);
    }

    [Theory]
    [InlineData("hello")]
    [InlineData("example_service")]
    public void SourceOfOneKeyAgreesWithAllSources(string service)
    {
        var reader = new SoaConfigReader(Path.Combine(MalformedCorpusTests.RepoRoot, "examples", "soa-configs"));
        foreach (var result in reader.LoadInstances(reader.LoadService(service)))
        {
            var fresh = reader.LoadInstances(reader.LoadService(service)).First(r => r.Value?.Instance == result.Value!.Instance && r.Value.Cluster == result.Value.Cluster).Value!;
            foreach (var (path, source) in result.Value!.Sources)
                Assert.Equal(source, fresh.SourceOf(path));
            Assert.Null(fresh.SourceOf("no.such.key"));
        }
    }
}
