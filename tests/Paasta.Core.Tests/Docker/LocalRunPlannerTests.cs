using Paasta.Config;
using Paasta.Docker;
using Paasta.Errors;
using Paasta.Settings;

namespace Paasta.Tests.Docker;

public class LocalRunPlannerTests
{
    private const string Sha = "4ef01b5a574b519ab546309e89f72972a33b6b75";
    private static readonly DeploymentBranch Branch = new($"services-svc:paasta-{Sha}", Sha, null, "start", null);
    private static readonly LocalIdentity Me = new("alice", "box.example.com", "box");

    private static (SoaConfigReader Reader, ServiceConfig Service) Soa(string kubernetes = "", string adhoc = "", string smartstack = "", string serviceExtra = "")
    {
        var soa = new TempSoaDir();
        soa.Service("svc", "backend", "prod.main", "local.everything");
        if (serviceExtra.Length > 0) File.AppendAllText(Path.Combine(soa.Root, "svc/service.yaml"), serviceExtra);
        if (kubernetes.Length > 0) soa.Write("svc/kubernetes-local.yaml", kubernetes);
        if (adhoc.Length > 0) soa.Write("svc/adhoc-local.yaml", adhoc);
        if (smartstack.Length > 0) soa.Write("svc/smartstack.yaml", smartstack);
        var reader = new SoaConfigReader(soa.Root);
        return (reader, reader.LoadService("svc"));
    }

    private static InstanceConfig Instance(string kubernetes, string name = "main", string smartstack = "")
    {
        var (reader, service) = Soa(kubernetes, smartstack: smartstack);
        return reader.LoadInstances(service).Select(r => r.Value ?? throw r.Error!).Single(i => i.Instance == name && i.Cluster == "local");
    }

    private static LocalRunPlan Plan(InstanceConfig instance, LocalRunOptions? options = null, DeploymentBranch? branch = null, string image = "img:1") =>
        LocalRunPlanner.Plan(instance, branch ?? Branch, image, branch?.DockerImage ?? Branch.DockerImage, options ?? new LocalRunOptions(), Me, () => 40000);

    [Fact]
    public void EnvironmentIsPaastasThenTheInstancesThenLocalRunsThenTheCallers()
    {
        var plan = Plan(Instance("main: {cpus: 0.5, mem: 512, deploy_group: prod.main, env: {FOO: bar, PAASTA_CLUSTER: nope, PAASTA_PORT: '1'}}\n"),
            new LocalRunOptions { Env = new KeyValuePair<string, string>[] { new("EXTRA", "1"), new("FOO", "from -Env") } });
        var names = plan.Environment.Select(e => e.Key).ToList();
        Assert.Equal(new[]
        {
            // A kubernetes instance: PaaSTA drops PAASTA_CLUSTER (its pods read a label), local-run puts it back last.
            "PAASTA_SERVICE", "PAASTA_INSTANCE", "PAASTA_DEPLOY_GROUP", "PAASTA_DOCKER_IMAGE", "PAASTA_RESOURCE_CPUS",
            "PAASTA_RESOURCE_MEM", "PAASTA_RESOURCE_DISK", "PAASTA_GIT_SHA", "PAASTA_MONITORING_TEAM", "PAASTA_INSTANCE_TYPE", "AWS_SDK_UA_APP_ID",
            "FOO", "PAASTA_PORT", "PAASTA_SOA_CONFIGS_SHA", "HOST", "PAASTA_LAUNCHED_BY", "PAASTA_HOST", "PAASTA_CLUSTER", "EXTRA",
        }, names);
        var env = plan.Environment.ToDictionary(e => e.Key, e => e.Value);
        Assert.Equal("svc", env["PAASTA_SERVICE"]);
        Assert.Equal("main", env["PAASTA_INSTANCE"]);
        Assert.Equal("local", env["PAASTA_CLUSTER"]);               // local-run puts the real cluster back over env's
        Assert.Equal("prod.main", env["PAASTA_DEPLOY_GROUP"]);
        Assert.Equal($"services-svc:paasta-{Sha}", env["PAASTA_DOCKER_IMAGE"]);
        Assert.Equal("4ef01b5a", env["PAASTA_GIT_SHA"]);
        Assert.Equal("0.5", env["PAASTA_RESOURCE_CPUS"]);
        Assert.Equal("512", env["PAASTA_RESOURCE_MEM"]);
        Assert.Equal("8888", env["PAASTA_PORT"]);                    // env cannot override PAASTA_PORT
        Assert.Equal("from -Env", env["FOO"]);                       // -Env overrides everything
        Assert.Equal("box.example.com", env["HOST"]);
        Assert.Equal("box.example.com", env["PAASTA_HOST"]);
        Assert.Equal("alice", env["PAASTA_LAUNCHED_BY"]);
        Assert.Equal("", env["PAASTA_SOA_CONFIGS_SHA"]);            // unknown: empty, as PaaSTA passes it
    }

    [Fact]
    public void SoaConfigsShaIsPassedToLongRunningInstancesOnly()
    {
        var sha = "0123456789abcdef0123456789abcdef01234567";
        var k8s = Plan(Instance("main: {}\n"), new LocalRunOptions { SoaConfigsSha = sha }).Environment.ToDictionary(e => e.Key, e => e.Value);
        Assert.Equal(sha, k8s["PAASTA_SOA_CONFIGS_SHA"]);
        var (reader, service) = Soa(adhoc: "job: {}\n");
        var adhoc = reader.LoadInstances(service).Select(r => r.Value!).Single(i => i.Instance == "job");
        var names = Plan(adhoc, new LocalRunOptions { SoaConfigsSha = sha }).Environment.Select(e => e.Key).ToList();
        Assert.DoesNotContain("PAASTA_SOA_CONFIGS_SHA", names);
        Assert.Equal(2, names.IndexOf("PAASTA_CLUSTER"));           // adhoc keeps PAASTA_CLUSTER in its place
    }

    [Fact]
    public void LimitsFollowPaastasDockerParameters()
    {
        var plan = Plan(Instance("main: {cpus: 0.25, mem: 100.5, cpu_burst_add: 0.5, cfs_period_us: 50000}\n"));
        Assert.Equal(100L * 1024 * 1024, plan.MemoryBytes);          // --memory=int(mem)m
        Assert.Equal(165L * 1024 * 1024, plan.MemorySwapBytes);      // --memory-swap=ceil(mem+64)m
        Assert.Equal(50000, plan.CpuPeriod);
        Assert.Equal(37500, plan.CpuQuota);                          // (cpus + burst) * period
        var defaults = Plan(Instance("main: {}\n"));
        Assert.Equal(4096L * 1024 * 1024, defaults.MemoryBytes);
        Assert.Equal(200000, defaults.CpuQuota);                     // (1 + 1) * 100000
    }

    [Fact]
    public void DropsPaastasCapabilitiesExceptTheAddedOnes()
    {
        var plan = Plan(Instance("main: {cap_add: [NET_RAW, SYS_PTRACE]}\n"));
        Assert.Equal(new[] { "NET_RAW", "SYS_PTRACE" }, plan.CapAdd);
        Assert.Equal(13, plan.CapDrop.Count);
        Assert.DoesNotContain("NET_RAW", plan.CapDrop);
        Assert.Contains("KILL", plan.CapDrop);
        Assert.Equal(new Dictionary<string, string> { ["paasta_service"] = "svc", ["paasta_instance"] = "main" }, plan.Labels);
    }

    [Fact]
    public void CommandComesFromTheCallerThenTheInstance()
    {
        var withCmd = Instance("main: {cmd: 'echo hi'}\n");
        Assert.Equal(new[] { "sh", "-c", "echo hi" }, Plan(withCmd).Command);
        Assert.Equal(new[] { "sh", "-c", "exit 3" }, Plan(withCmd, new LocalRunOptions { Command = new[] { "exit 3" } }).Command);
        Assert.Equal(new[] { "env", "-0" }, Plan(withCmd, new LocalRunOptions { Command = new[] { "env", "-0" } }).Command);
        Assert.Equal(new[] { "sh", "-c", LocalRunPlanner.InteractiveShell }, Plan(withCmd, new LocalRunOptions { Interactive = true }).Command);
        Assert.Equal(new[] { "python", "app.py" }, Plan(Instance("main: {cmd: [python, app.py]}\n")).Command);
        Assert.Equal(new[] { "--port", "1" }, Plan(Instance("main: {args: ['--port', '1']}\n")).Command);
        Assert.Null(Plan(Instance("main: {}\n")).Command);          // the image's own CMD
    }

    [Fact]
    public void CmdWithArgsIsRefused()
    {
        var instance = Instance("main: {cmd: a, args: [b]}\n");
        var e = Assert.Throws<PaastaException>(() => Plan(instance));
        Assert.Equal("InstanceConfigInvalid", e.ErrorId);
        Assert.Same(instance, e.Target);
    }

    [Fact]
    public void HttpInstancesArePublishedAndChecked()
    {
        var plan = Plan(Instance("main: {healthcheck_mode: http, healthcheck_uri: /health, healthcheck_grace_period_seconds: 3, healthcheck_interval_seconds: 1, healthcheck_max_consecutive_failures: 4}\n"));
        Assert.Equal(40000, plan.HostPort);
        Assert.Equal("http://127.0.0.1:40000/", plan.Url);
        Assert.Equal(new HealthcheckSpec("http", "http://127.0.0.1:40000/health", 3, 1, 10, 4), plan.Healthcheck);
        Assert.Contains("--publish=40000:8888", plan.DockerArguments);
        Assert.Equal("http://127.0.0.1:41234/health", plan.Healthcheck!.ForPort(41234).Target);
    }

    [Fact]
    public void MeshRegisteredInstancesGetTheSmartstackHealthcheck()
    {
        var plan = Plan(Instance("main: {}\n", smartstack: "main: {proxy_port: 20001}\n"));
        Assert.Equal("http", plan.Healthcheck!.Mode);
        Assert.Equal("http://127.0.0.1:40000/status", plan.Healthcheck.Target);
    }

    [Fact]
    public void WorkersWithoutAHealthcheckAreNotPublished()
    {
        var plan = Plan(Instance("main: {}\n"));
        Assert.Null(plan.HostPort);
        Assert.Null(plan.Healthcheck);
        Assert.Null(plan.Url);
        Assert.DoesNotContain(plan.DockerArguments, a => a.StartsWith("--publish", StringComparison.Ordinal));
        // Not even when a port is asked for (PaaSTA ignores --port there); a warning says so.
        var asked = Plan(Instance("main: {}\n"), new LocalRunOptions { Port = 4567 });
        Assert.Null(asked.HostPort);
        Assert.Contains(asked.Warnings, w => w.StartsWith("-Port 4567 is ignored", StringComparison.Ordinal) && w.Contains("no healthcheck"));
    }

    [Fact]
    public void WorkersWithoutAHealthcheckRunInteractivelyWithTheirOwnCommand()
    {
        // docs/BEHAVIOUR.md §9.3 step 10: no healthcheck mode forces --interactive (PaaSTA), the command stays the instance's.
        var worker = Plan(Instance("main: {cmd: ./work}\n"));
        Assert.True(worker.Interactive);
        Assert.Equal(new[] { "sh", "-c", "./work" }, worker.Command);
        Assert.Contains("--interactive=true", worker.DockerArguments);
        Assert.Contains("--tty=true", Plan(Instance("main: {cmd: ./work}\n"), new LocalRunOptions { Tty = true }).DockerArguments);
        // -Interactive:$false and -Detach run it unattached; an instance with a healthcheck is not forced.
        Assert.False(Plan(Instance("main: {cmd: ./work}\n"), new LocalRunOptions { Interactive = false }).Interactive);
        Assert.False(Plan(Instance("main: {cmd: ./work}\n"), new LocalRunOptions { Detach = true }).Interactive);
        Assert.False(Plan(Instance("main: {healthcheck_mode: http}\n")).Interactive);
        // -HealthcheckOnly has nothing to check: refused before anything runs.
        Assert.Equal("HealthcheckNotDefined", Assert.Throws<PaastaException>(() => Plan(Instance("main: {}\n"), new LocalRunOptions { HealthcheckOnly = true })).ErrorId);
    }

    [Fact]
    public void NoHealthcheckSkipsTheCheckAndPublishesOnlyAnAskedPort()
    {
        // PaaSTA: with --no-healthcheck the port is published only when --port is given.
        var plan = Plan(Instance("main: {healthcheck_mode: tcp}\n"), new LocalRunOptions { NoHealthcheck = true });
        Assert.Null(plan.Healthcheck);
        Assert.Null(plan.HostPort);
        Assert.False(plan.Interactive);
        Assert.Equal(4567, Plan(Instance("main: {healthcheck_mode: tcp}\n"), new LocalRunOptions { NoHealthcheck = true, Port = 4567 }).HostPort);
        var only = Plan(Instance("main: {healthcheck_mode: tcp}\n"), new LocalRunOptions { NoHealthcheck = true, HealthcheckOnly = true });
        Assert.Equal("tcp://127.0.0.1:40000", only.Healthcheck!.Target);
    }

    [Fact]
    public void HostNetworkUsesTheContainerPortAndNoHostname()
    {
        var plan = Plan(Instance("main: {net: host, container_port: 9000, healthcheck_mode: http}\n"));
        Assert.Null(plan.HostPort);
        Assert.Null(plan.Hostname);
        Assert.Equal("http://127.0.0.1:9000/status", plan.Healthcheck!.Target);
        Assert.Contains("--net=host", plan.DockerArguments);
        Assert.Equal("box", Plan(Instance("main: {}\n")).Hostname);
    }

    [Fact]
    public void CmdHealthchecksNeedTheirCommand()
    {
        Assert.Equal("test -f /ready", Plan(Instance("main: {healthcheck_mode: cmd, healthcheck_cmd: test -f /ready}\n")).Healthcheck!.Target);
        Assert.Equal("InstanceConfigInvalid", Assert.Throws<PaastaException>(() => Plan(Instance("main: {healthcheck_mode: cmd}\n"))).ErrorId);
    }

    [Fact]
    public void VolumesThatExistAreMountedOthersAreWarnedAbout()
    {
        var dir = Directory.CreateTempSubdirectory("paasta-vol-").FullName;
        try
        {
            var plan = Plan(Instance($"main: {{extra_volumes: [{{hostPath: {dir}, containerPath: /data, mode: RW}}, {{hostPath: /does/not/exist, containerPath: /x, mode: RO}}]}}\n"),
                new LocalRunOptions { Volumes = new[] { "/tmp:/scratch" } });
            Assert.Equal(new[] { "/tmp:/scratch:rw", $"{dir}:/data:rw" }, plan.Volumes);   // PaaSTA: --volume values first
            Assert.Contains(plan.Warnings, w => w.Contains("/does/not/exist", StringComparison.Ordinal));
        }
        finally { Directory.Delete(dir); }
        Assert.Equal("VolumeSpecInvalid", Assert.Throws<PaastaException>(() => LocalRunPlanner.ValidateVolume("relative:/x")).ErrorId);
        Assert.Equal("VolumeSpecInvalid", Assert.Throws<PaastaException>(() => LocalRunPlanner.ValidateVolume("/a:/b:rx")).ErrorId);
        Assert.Equal("/a:/b:ro", LocalRunPlanner.ValidateVolume("/a:/b:RO"));
    }

    [Fact]
    public void ExtraVolumesAreDeduplicatedAndSortedAsPaastaDoes()
    {
        var dir = Directory.CreateTempSubdirectory("paasta-vol-").FullName;
        try
        {
            // /b/ and /b are one path (the later entry wins, its mode too); the rest is sorted by container path.
            var plan = Plan(Instance($"main: {{uses_bulkdata: false, extra_volumes: [{{hostPath: {dir}, containerPath: /b/, mode: RO}}, {{hostPath: {dir}/, containerPath: /a, mode: RO}}, {{hostPath: {dir}/, containerPath: /b, mode: RW}}]}}\n"));
            Assert.Equal(new[] { $"{dir}/:/a:ro", $"{dir}/:/b:rw" }, plan.Volumes);
        }
        finally { Directory.Delete(dir); }
    }

    [Fact]
    public void SecretReferencesAreWarnedAbout()
    {
        var plan = Plan(Instance("main: {env: {TOKEN: SECRET(api_token)}}\n"));
        Assert.Contains(plan.Warnings, w => w.Contains("api_token", StringComparison.Ordinal));
    }

    [Fact]
    public void TheDockerCommandLineFollowsPaastasOrderAndQuotes()
    {
        var plan = Plan(Instance("main: {env: {GREETING: hello world}, cmd: echo \"$GREETING\"}\n"), new LocalRunOptions { ContainerName = "paasta_local_run_alice_1", Interactive = false });
        var args = plan.DockerArguments;
        Assert.Equal("run", args[0]);
        Assert.True(args.ToList().IndexOf("--memory=4096m") > args.ToList().FindLastIndex(a => a.StartsWith("--env=", StringComparison.Ordinal)));
        Assert.Equal(new[] { "--name=paasta_local_run_alice_1", "--rm", "img:1", "sh", "-c", "echo \"$GREETING\"" }, args.TakeLast(6));
        Assert.Contains("'--env=GREETING=hello world'", plan.CommandLine);
        Assert.EndsWith("img:1 sh -c 'echo \"$GREETING\"'", plan.CommandLine);
        Assert.Equal("'it'\\''s'", LocalRunPlan.ShellQuote("it's"));
        var detached = Plan(Instance("main: {}\n"), new LocalRunOptions { Detach = true });
        Assert.Contains("--detach=true", detached.DockerArguments);
        Assert.DoesNotContain("--rm", detached.DockerArguments);
        var tty = Plan(Instance("main: {}\n"), new LocalRunOptions { Interactive = true, Tty = true });
        Assert.Contains("--interactive=true", tty.DockerArguments);
        Assert.Contains("--tty=true", tty.DockerArguments);
    }

    [Fact]
    public void EnvValuesAreOnlyInTheCommandLineThatRunsAsIs()
    {
        var plan = Plan(Instance("main: {env: {GREETING: hi}}\n"), new LocalRunOptions { Env = new KeyValuePair<string, string>[] { new("API_TOKEN", "s3cr3t value") } });
        Assert.Contains("--env=API_TOKEN=s3cr3t value", plan.DockerArguments);          // -DryRun: the line runs as it is
        Assert.Contains("'--env=API_TOKEN=s3cr3t value'", plan.CommandLine);
        var safe = plan.DockerArgumentsWithoutValues;
        Assert.Equal(new[] { "run", "--env", "PAASTA_SERVICE" }, safe.Take(3));        // PaaSTA's --env NAME
        Assert.Contains("--env API_TOKEN ", plan.CommandLineWithoutValues);
        Assert.Contains("--env GREETING ", plan.CommandLineWithoutValues);
        Assert.DoesNotContain("s3cr3t", plan.CommandLineWithoutValues);
        Assert.DoesNotContain(safe, a => a.Contains("s3cr3t", StringComparison.Ordinal) || a.StartsWith("--env=", StringComparison.Ordinal));
        Assert.DoesNotContain("s3cr3t", plan.ToString());
        Assert.Equal(plan.DockerArguments.Count + plan.Environment.Count, safe.Count);  // nothing else differs
    }

    [Fact]
    public void PortIsWarnedAboutWhenTheNetDoesNotPublishIt()
    {
        var host = Plan(Instance("main: {net: host, container_port: 9000, healthcheck_mode: tcp}\n"), new LocalRunOptions { Port = 4567 });
        Assert.Null(host.HostPort);
        Assert.Contains(host.Warnings, w => w.StartsWith("-Port 4567 is ignored: with net: host", StringComparison.Ordinal) && w.Contains("9000"));
        var none = Plan(Instance("main: {net: none, healthcheck_mode: cmd, healthcheck_cmd: 'true'}\n"), new LocalRunOptions { Port = 4567 });
        Assert.Contains(none.Warnings, w => w.StartsWith("-Port 4567 is ignored: with net: none", StringComparison.Ordinal));
        Assert.DoesNotContain(Plan(Instance("main: {healthcheck_mode: http}\n"), new LocalRunOptions { Port = 4567 }).Warnings, w => w.Contains("-Port", StringComparison.Ordinal));
        Assert.DoesNotContain(Plan(Instance("main: {net: host}\n")).Warnings, w => w.Contains("-Port", StringComparison.Ordinal));
    }

    [Fact]
    public void ExtraDockerArgsBecomeContainerSettings()
    {
        var plan = Plan(Instance("""
            main:
              extra_docker_args:
                shm-size: 256m
                ulimit: [nofile=1024:2048, nproc=512]
                cap-add: SYS_PTRACE
                privileged: true
                add-host: ['db.local:10.1.2.3', 'v6:fe80::1']
                dns: 10.0.0.53
                dns-search: example.com
                memory-swap: -1
                memory-reservation: 1g
                pids-limit: 100
                sysctl: net.core.somaxconn=1024
                tmpfs: /run:rw,size=64m
                user: '1000:1000'
                workdir: /srv
                hostname: box-in-a-box
                label: team=backend
            """));
        var x = plan.ExtraDocker;
        Assert.Equal(256L << 20, x.ShmSize);
        Assert.Equal(new[] { new DockerUlimit("nofile", 1024, 2048), new DockerUlimit("nproc", 512, 512) }, x.Ulimits);
        Assert.Equal(new[] { "SYS_PTRACE" }, x.CapAdd);
        Assert.True(x.Privileged);
        Assert.Equal(new[] { "db.local:10.1.2.3", "v6:fe80::1" }, x.ExtraHosts);
        Assert.Equal(new[] { "10.0.0.53" }, x.Dns);
        Assert.Equal(-1L, x.MemorySwap);
        Assert.Equal(1L << 30, x.MemoryReservation);
        Assert.Equal(100L, x.PidsLimit);
        Assert.Equal("1024", x.Sysctls["net.core.somaxconn"]);
        Assert.Equal("rw,size=64m", x.Tmpfs["/run"]);
        Assert.Equal(("1000:1000", "/srv", "box-in-a-box"), (x.User, x.WorkingDir, x.Hostname));
        Assert.Null(plan.Hostname);   // a hostname given: the wrapper's default one is not added
        Assert.Contains("--shm-size=256m", plan.DockerArguments);
        Assert.Contains("--privileged=True", plan.DockerArguments);   // PaaSTA's str() of the YAML value; docker parses it
        Assert.Contains("--ulimit=nofile=1024:2048", plan.DockerArguments);
        Assert.Contains("--ulimit=nproc=512", plan.DockerArguments);
        Assert.DoesNotContain(plan.Warnings, w => w.Contains("extra_docker_args", StringComparison.Ordinal));

        // What the Docker API is asked for.
        var create = new global::Docker.DotNet.Models.CreateContainerParameters { Hostname = "box", HostConfig = new global::Docker.DotNet.Models.HostConfig { CapAdd = new List<string> { "NET_RAW" }, MemorySwap = 5 } };
        ExtraDockerArgs.Apply(x, create);
        var h = create.HostConfig;
        Assert.Equal((256L << 20, -1L, 1L << 30, (long?)100, true), (h.ShmSize, h.MemorySwap, h.MemoryReservation, h.PidsLimit, h.Privileged));
        Assert.Equal(new[] { "NET_RAW", "SYS_PTRACE" }, h.CapAdd);
        Assert.Equal(new[] { ("nofile", 1024L, 2048L), ("nproc", 512L, 512L) }, h.Ulimits.Select(u => (u.Name, u.Soft, u.Hard)));
        Assert.Equal(new[] { "db.local:10.1.2.3", "v6:fe80::1" }, h.ExtraHosts);
        Assert.Equal(new[] { "example.com" }, h.DNSSearch);
        Assert.Equal(("1000:1000", "/srv", "box-in-a-box", "backend"), (create.User, create.WorkingDir, create.Hostname, create.Labels!["team"]));
    }

    [Fact]
    public void UnknownOrMalformedExtraDockerArgsAreRefusedNamingKeyAndFile()
    {
        var unknown = Assert.Throws<PaastaException>(() => Plan(Instance("main: {extra_docker_args: {cgroup-parent: /x}}\n")));
        Assert.Equal("ExtraDockerArgUnsupported", unknown.ErrorId);
        Assert.Equal(PaastaErrorKind.InvalidData, unknown.Kind);
        Assert.Equal("extra_docker_args.cgroup-parent", unknown.Key);
        Assert.Contains("'cgroup-parent'", unknown.Message);
        Assert.Contains("kubernetes-local.yaml", unknown.Message);
        Assert.Contains("shm-size", unknown.Message);   // says what is supported
        Assert.EndsWith("kubernetes-local.yaml", unknown.File);

        foreach (var bad in new[] { "shm-size: lots", "ulimit: nofile", "ulimit: nofiles=1", "ulimit: nofile=10:5", "add-host: db", "privileged: maybe", "memory-swappiness: 101", "workdir: srv", "sysctl: x" })
        {
            var e = Assert.Throws<PaastaException>(() => Plan(Instance($"main: {{extra_docker_args: {{{bad}}}}}\n")));
            Assert.Equal("ExtraDockerArgInvalid", e.ErrorId);
            Assert.Contains(bad.Split(':')[0], e.Message);
        }
        Assert.Equal("ExtraDockerArgInvalid", Assert.Throws<PaastaException>(() => Plan(Instance("main: {extra_docker_args: [shm-size]}\n"))).ErrorId);
    }

    [Fact]
    public void PreferredPortIsPaastasStableChoice()
    {
        // 33000 + int(sha1("service,user").hexdigest(), 16) % 25000, computed with Python.
        Assert.Equal(41005, PortPicker.Preferred("hello", "root"));
        Assert.Equal(33509, PortPicker.Preferred("example_service", "alice"));
        var port = PortPicker.FreePort();
        Assert.InRange(port, 1, 65535);
    }

    [Fact]
    public void InteractiveInstanceGetsBigDefaultsWhereNothingSetsThem()
    {
        var (reader, service) = Soa(adhoc: "interactive: {mem: 256, deploy_group: local.everything}\n");
        var i = LocalRunInstances.Interactive(reader, service, "local");
        Assert.Equal("interactive", i.Instance);
        Assert.Equal("adhoc", i.InstanceType);
        Assert.Equal(4, i.Cpus);
        Assert.Equal(256, i.Mem);
        Assert.Equal(1024, i.Disk);
        Assert.Equal("local.everything", i.DeployGroup);
        var env = PaastaEnvironment.Build(i, null).ToDictionary(e => e.Key, e => e.Value);
        Assert.Equal("4", env["PAASTA_RESOURCE_CPUS"]);

        // No adhoc file at all: an empty config, still merged over service.yaml.
        var (reader2, service2) = Soa(kubernetes: "main: {}\n", serviceExtra: "cpus: 2\n");
        var bare = LocalRunInstances.Interactive(reader2, service2, "local");
        Assert.Equal(2, bare.Cpus);
        Assert.Equal(10240, bare.Mem);
        Assert.Equal("local.interactive", bare.DeployGroup);
    }
}
