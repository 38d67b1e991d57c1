using Paasta.Yaml;

namespace Paasta.Config;

/// <summary>Builds <see cref="InstanceConfig"/>s: merge (spec §1.3), then every code default of §1.4.</summary>
internal static class InstanceBuilder
{
    // Whole-file keys of the general config: present in Config, but not "values" of the instance.
    private static readonly HashSet<string> FileKeys = new(StringComparer.Ordinal) { "deploy", "smartstack", "data", "dependencies", "port" };

    public static InstanceConfig LongRunning(ServiceConfig service, InstanceFile file, string instance, int line, YMapping instanceNode, YMapping general)
    {
        var effective = DeepMerge(instanceNode, general);
        var r = new ValueReader(effective, file.Path);
        var isAdhoc = file.InstanceType == InstanceTypes.Adhoc;

        var registrations = r.StringList("registrations")
            ?? (r.String("nerve_ns") is { } nerveNs ? new[] { $"{service.Name}.{nerveNs}" } : null);
        if (registrations is null)
        {
            registrations = new[] { $"{service.Name}.{instance}" };
            r.Defaulted("registrations");
        }
        var nerveNamespace = registrations.Count > 0 && registrations[0].Split('.') is { Length: >= 2 } parts ? parts[1] : null;
        var meshEntry = nerveNamespace is null ? null : service.SmartstackYaml?[nerveNamespace] as YMapping;
        var inSmartstack = meshEntry?.ContainsKey("proxy_port") == true;

        // healthcheck mode: instance, else the mesh namespace's healthcheck_mode or mode (http2 means http).
        var healthcheckMode = r.String("healthcheck_mode");
        if (healthcheckMode is null && meshEntry is not null)
        {
            var meshMode = SoaConfigReader.ScalarText(meshEntry["healthcheck_mode"]) ?? SoaConfigReader.ScalarText(meshEntry["mode"])
                ?? (inSmartstack ? "http" : null);
            healthcheckMode = meshMode == "http2" ? "http" : meshMode;
            if (healthcheckMode is not null) r.From("healthcheck_mode", meshEntry, ValueOrigin.SmartstackYaml);
        }
        else if (healthcheckMode is null) r.Defaulted("healthcheck_mode");

        var healthcheckUri = r.String("healthcheck_uri");
        if (healthcheckUri is null && meshEntry is not null && SoaConfigReader.ScalarText(meshEntry["healthcheck_uri"]) is { } meshUri)
        {
            healthcheckUri = meshUri;
            r.From("healthcheck_uri", meshEntry, ValueOrigin.SmartstackYaml);
        }
        healthcheckUri ??= r.DefaultedValue("healthcheck_uri", "/status");

        var cmdNode = effective["cmd"];
        object? cmd = cmdNode switch
        {
            null => null,
            YScalar { Value: null } => null,
            YScalar s => SoaConfigReader.ScalarText(s),
            YSequence => r.StringList("cmd")!.ToArray(),
            _ => throw r.WrongType("cmd", cmdNode, "a string or a list of strings"),
        };
        if (cmd is null) r.Defaulted("cmd");
        var args = r.StringList("args");
        IReadOnlyList<string>? command = cmd switch
        {
            string s => new[] { "sh", "-c", s },
            string[] list => list,
            _ => null,
        };
        // PaaSTA: no cmd → args or []; cmd and no args → null (cmd plus args is refused by validation).
        if (cmd is null && args is null) args = Array.Empty<string>();

        // deploy_group: null is None in PaaSTA (dict.get finds the key), not the cluster.instance default: such an instance has no deploy group.
        var deployGroup = effective.TryGet("deploy_group", out var groupNode) && groupNode is YScalar { Value: null } ? null
            : FormatDeployGroup(r.String("deploy_group") ?? r.DefaultedValue("deploy_group", $"{file.Cluster}.{instance}"), file.Cluster, instance, service.Name);
        var bounceMargin = r.Number("bounce_margin_factor", 0.95);

        return new InstanceConfig
        {
            Service = service.Name,
            Instance = instance,
            Cluster = file.Cluster,
            InstanceType = file.InstanceType,
            SoaDir = service.SoaDir,
            File = file.Path,
            Line = line,
            DeployGroup = deployGroup,
            Cpus = r.Number("cpus", 1),
            CpuBurstAdd = r.Number("cpu_burst_add", 1),
            Mem = r.Number("mem", 4096),
            Disk = r.Number("disk", 1024),
            Gpus = r.OptionalNumber("gpus"),
            CfsPeriodUs = r.Integer("cfs_period_us", 100000),
            Instances = r.Integer("instances", 1),
            MinInstances = r.Integer("min_instances", 1),
            MaxInstances = r.OptionalInteger("max_instances"),
            Cmd = cmd,
            Command = command,
            Args = args,
            Env = r.StringMap("env"),
            ContainerPort = r.Integer("container_port", 8888),
            HealthcheckMode = healthcheckMode,
            HealthcheckCmd = r.String("healthcheck_cmd"),
            HealthcheckUri = healthcheckUri,
            HealthcheckGracePeriodSeconds = r.Number("healthcheck_grace_period_seconds", 60),
            HealthcheckIntervalSeconds = r.Number("healthcheck_interval_seconds", 10),
            HealthcheckTimeoutSeconds = r.Number("healthcheck_timeout_seconds", 10),
            HealthcheckMaxConsecutiveFailures = r.Integer("healthcheck_max_consecutive_failures", 30),
            BounceMethod = r.String("bounce_method") ?? r.DefaultedValue("bounce_method", "crossover"),
            BounceMarginFactor = bounceMargin,
            BounceMarginFactorConfigured = effective.ContainsKey("bounce_margin_factor"),
            MinTaskUptime = r.Integer("bounce_health_params.min_task_uptime", 0),
            DrainMethod = r.String("drain_method") ?? r.DefaultedValue("drain_method", inSmartstack ? "hacheck" : "noop"),
            DrainMethodConfigured = effective.ContainsKey("drain_method"),
            DrainMethodParams = r.Map("drain_method_params") ?? r.DefaultedValue<IReadOnlyDictionary<string, object?>>("drain_method_params",
                inSmartstack ? new Dictionary<string, object?> { ["delay"] = 60L } : new Dictionary<string, object?>()),
            Registrations = registrations,
            NerveNamespace = nerveNamespace,
            IsInSmartstack = inSmartstack,
            ProxyPort = meshEntry?["proxy_port"] is YScalar { Value: long port } ? port : null,
            ReplicationThreshold = r.Integer("replication_threshold", 50),
            Monitoring = Monitoring(service, effective["monitoring"] as YMapping, general),
            Pool = r.String("pool") ?? r.DefaultedValue("pool", "default"),
            Net = r.String("net") ?? r.DefaultedValue("net", "bridge"),
            Weight = r.Integer("weight", 10),
            Namespace = r.String("namespace") ?? r.DefaultedValue("namespace", isAdhoc ? "paasta" : $"paastasvc-{Names.Sanitise(service.Name)}"),
            ExtraVolumes = r.Volumes("extra_volumes"),
            UsesBulkdata = r.Bool("uses_bulkdata", false),
            DockerUrl = isAdhoc ? r.String("docker_url") : null,
            CostOwner = r.String("cost_owner"),
            ConfigFactory = () => (IReadOnlyDictionary<string, object?>)effective.ToPlain()!,
            SourcesFactory = () => r.Sources(FileKeys),
        };
    }

    public static InstanceConfig TronAction(ServiceConfig service, InstanceFile file, string job, YMapping jobNode, string action, YMapping actionNode, int line)
    {
        // Tron actions are not merged with service.yaml; service, deploy_group and cost_owner come from the job.
        var effective = new YMapping(actionNode.File, actionNode.Line, actionNode.Column, actionNode.TopLevelKey);
        foreach (var (k, v) in actionNode.Entries) effective.Add(k, v, actionNode.KeyNode(k));
        foreach (var inherited in new[] { "service", "deploy_group", "cost_owner" })
            if (!effective.ContainsKey(inherited) && jobNode[inherited] is { } v)
                effective.Add(inherited, v, jobNode.KeyNode(inherited));
        var r = new ValueReader(effective, file.Path);
        var instance = $"{job}.{action}";
        var serviceName = r.String("service") ?? service.Name;
        var deployGroup = r.String("deploy_group");
        if (deployGroup is not null) deployGroup = FormatDeployGroup(deployGroup, file.Cluster, instance, serviceName);

        return new InstanceConfig
        {
            Service = service.Name,
            Instance = instance,
            Cluster = file.Cluster,
            InstanceType = InstanceTypes.Tron,
            SoaDir = service.SoaDir,
            File = file.Path,
            Line = line,
            DeployGroup = deployGroup,
            Cpus = r.Number("cpus", 1),
            CpuBurstAdd = 0,
            Mem = r.Number("mem", 4096),
            Disk = r.Number("disk", 4096),
            Gpus = r.OptionalNumber("gpus"),
            CfsPeriodUs = r.Integer("cfs_period_us", 100000),
            Instances = 1,
            MinInstances = 1,
            Cmd = r.String("command"),
            Command = r.String("command") is { } c ? new[] { "sh", "-c", c } : null,
            Env = r.StringMap("env"),
            Pool = r.String("pool") ?? r.DefaultedValue("pool", "default"),
            Namespace = "tron",
            ExtraVolumes = r.Volumes("extra_volumes"),
            Monitoring = Monitoring(service, jobNode["monitoring"] as YMapping, null),
            CostOwner = r.String("cost_owner") ?? service.CostOwner,
            TronJob = job,
            TronAction = action,
            ConfigFactory = () => (IReadOnlyDictionary<string, object?>)effective.ToPlain()!,
            SourcesFactory = () => r.Sources(FileKeys),
        };
    }

    /// <summary>deploy_group may use {cluster}, {instance} and {service}; nothing else is formatted.</summary>
    internal static string FormatDeployGroup(string value, string cluster, string instance, string service) =>
        value.Replace("{cluster}", cluster).Replace("{instance}", instance).Replace("{service}", service);

    /// <summary>
    /// PaaSTA's deep merge: mappings merge key by key, anything else (lists included) is replaced by the override.
    /// Nodes are shared, not copied, so each value keeps the file and line it was written at.
    /// </summary>
    internal static YMapping DeepMerge(YMapping over, YMapping defaults)
    {
        var result = new YMapping(over.File, over.Line, over.Column, over.TopLevelKey);
        foreach (var (k, v) in defaults.Entries) result.Add(k, v, defaults.KeyNode(k));
        foreach (var (k, v) in over.Entries)
        {
            if (v is YMapping om && result[k] is YMapping dm) result.Set(k, DeepMerge(om, dm), over.KeyNode(k));
            else result.Set(k, v, over.KeyNode(k));
        }
        return result;
    }

    /// <summary>
    /// Monitoring keys (spec §1.5): default, then service.yaml's top-level key, then service.yaml's
    /// monitoring.K, then monitoring.yaml, then the instance's (or Tron job's) monitoring — last one wins.
    /// </summary>
    private static MonitoringConfig Monitoring(ServiceConfig service, YMapping? overrides, YMapping? _)
    {
        var values = new Dictionary<string, object?>(StringComparer.Ordinal);
        void Layer(YMapping? m, Func<string, bool>? onlyKeys = null)
        {
            if (m is null) return;
            foreach (var (k, v) in m.Entries)
                if (onlyKeys is null || onlyKeys(k)) values[k] = v.ToPlain();
        }
        Layer(service.ServiceYaml, MonitoringKeys.Contains);
        Layer(service.ServiceYaml["monitoring"] as YMapping);
        Layer(service.MonitoringYaml);
        Layer(overrides);

        string? S(string k) => values.TryGetValue(k, out var v) && v is not null ? (v as string ?? PythonText.Str(v)) : null;
        bool B(string k, bool d) => values.TryGetValue(k, out var v) && v is bool b ? b : d;
        IReadOnlyList<string> L(string k) => values.TryGetValue(k, out var v) switch
        {
            true when v is List<object?> list => list.Select(PythonText.Str).ToList(),
            true when v is string s => new[] { s },
            _ => Array.Empty<string>(),
        };
        return new MonitoringConfig
        {
            Team = S("team"),
            Page = B("page", false),
            Runbook = S("runbook") ?? MonitoringConfig.DefaultRunbook,
            Tip = S("tip") ?? MonitoringConfig.DefaultTip,
            NotificationEmail = S("notification_email"),
            IrcChannels = L("irc_channels"),
            SlackChannels = L("slack_channels"),
            Ticket = B("ticket", false),
            Project = S("project"),
            Priority = S("priority"),
            Tags = L("tags"),
            Component = S("component"),
            Description = S("description"),
            AlertAfter = S("alert_after") ?? "10m",
            RealertEvery = values.TryGetValue("realert_every", out var re) && re is long l ? l : -1,
            CheckEvery = "1m",
            CheckOomEvents = B("check_oom_events", true),
            All = values,
        };
    }

    internal static readonly HashSet<string> MonitoringKeys = new(StringComparer.Ordinal)
    {
        "team", "page", "runbook", "tip", "notification_email", "irc_channels", "slack_channels", "ticket", "project",
        "priority", "tags", "component", "description", "alert_after", "realert_every", "check_every", "check_oom_events",
    };
}
