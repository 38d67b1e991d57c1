using Paasta.Yaml;

namespace Paasta.Config;

/// <summary>Builds <see cref="InstanceConfig"/>s: merge (docs/BEHAVIOUR.md §1.3), then every code default of §1.4.</summary>
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

        var deployGroup = FormatDeployGroup(r.String("deploy_group") ?? r.DefaultedValue("deploy_group", $"{file.Cluster}.{instance}"), file.Cluster, instance, service.Name);
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
            // `instances: false` is 0 to PaaSTA (Python's False is the integer 0); any other non-number is refused.
            Instances = effective["instances"] is YScalar { Value: false } ? 0 : r.Integer("instances", 1),
            MinInstances = r.Integer("min_instances", 1),
            MaxInstances = r.OptionalInteger("max_instances"),
            Cmd = cmd,
            Command = command,
            Args = args,
            Env = r.Environment("env"),
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
            Monitoring = LongRunningMonitoring(service, instanceNode, effective),
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
            SourceLookup = path => r.SourceOf(path, FileKeys),
        };
    }

    public static InstanceConfig TronAction(ServiceConfig service, InstanceFile file, string job, YMapping jobNode, string action, YMapping actionNode, int line)
    {
        // Tron actions are not merged with service.yaml; deploy_group and cost_owner come from the job. A job's
        // `service` is not inherited: PaaSTA's code reads it only for a job without an owning service (never from
        // soa-configs), so only an action's own `service` picks another service's image.
        var effective = new YMapping(actionNode.File, actionNode.Line, actionNode.Column, actionNode.TopLevelKey);
        foreach (var (k, v) in actionNode.Entries) effective.Add(k, v, actionNode.KeyNode(k));
        foreach (var inherited in new[] { "deploy_group", "cost_owner" })
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
            Env = r.Environment("env"),
            Pool = r.String("pool") ?? r.DefaultedValue("pool", "default"),
            Namespace = "tron",
            ExtraVolumes = r.Volumes("extra_volumes"),
            Monitoring = Monitoring(ServiceLayers(service).WithoutGeneral, jobNode["monitoring"] as YMapping),
            CostOwner = r.String("cost_owner") ?? service.CostOwner,
            TronJob = job,
            TronAction = action,
            ConfigFactory = () => (IReadOnlyDictionary<string, object?>)effective.ToPlain()!,
            SourcesFactory = () => r.Sources(FileKeys),
            SourceLookup = path => r.SourceOf(path, FileKeys),
        };
    }

    /// <summary>deploy_group may use {cluster}, {instance} and {service}; nothing else is formatted.</summary>
    internal static string FormatDeployGroup(string value, string cluster, string instance, string service) =>
        value.Replace("{cluster}", cluster).Replace("{instance}", instance).Replace("{service}", service);

    /// <summary>PaaSTA's deep merge (see <see cref="YMapping.Merged"/>): done as it is read, so its cost follows what is read.</summary>
    internal static YMapping DeepMerge(YMapping over, YMapping defaults) => YMapping.Merged(over, defaults);

    /// <summary>
    /// Monitoring keys (docs/BEHAVIOUR.md §1.5): default, then service.yaml's top-level key, then service.yaml's
    /// monitoring.K, then monitoring.yaml, then the instance's (or Tron job's) monitoring — last one wins.
    /// The service-wide layers are resolved once per service; an instance adds only the keys it writes, so its
    /// cost does not grow with monitoring.yaml (docs/RELIABILITY.md, "Limits").
    /// </summary>
    private static MonitoringConfig LongRunningMonitoring(ServiceConfig service, YMapping instanceNode, YMapping effective)
    {
        var layers = ServiceLayers(service);
        // The effective monitoring is the instance's merged over the general one (service.yaml's monitoring key,
        // else monitoring.yaml); an instance value that is not a mapping leaves only the service-wide layers.
        if (!instanceNode.TryGet("monitoring", out var own)) return Monitoring(layers.WithGeneral, null);
        if (own is not YMapping) return Monitoring(layers.WithoutGeneral, null);
        return Monitoring(layers.HasGeneral ? layers.WithGeneral : layers.WithoutGeneral, effective["monitoring"] as YMapping, ((YMapping)own).Keys);
    }

    private sealed record MonitoringLayers(Dictionary<string, YNode> WithoutGeneral, Dictionary<string, YNode> WithGeneral, bool HasGeneral);

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<ServiceConfig, MonitoringLayers> Layers = new();

    private static MonitoringLayers ServiceLayers(ServiceConfig service) => Layers.GetValue(service, static service =>
    {
        var without = new Dictionary<string, YNode>(StringComparer.Ordinal);
        void Layer(Dictionary<string, YNode> values, YMapping? m, Func<string, bool>? onlyKeys = null)
        {
            if (m is null) return;
            foreach (var (k, v) in m.Entries)
                if (onlyKeys is null || onlyKeys(k)) values[k] = v;
        }
        Layer(without, service.ServiceYaml, MonitoringKeys.Contains);
        Layer(without, service.ServiceYaml["monitoring"] as YMapping);
        Layer(without, service.MonitoringYaml);
        // The general config's monitoring: service.yaml's own key when it has one, else monitoring.yaml.
        var general = service.ServiceYaml.ContainsKey("monitoring") ? service.ServiceYaml["monitoring"] as YMapping : service.MonitoringYaml;
        var with = new Dictionary<string, YNode>(without, StringComparer.Ordinal);
        Layer(with, general);
        return new MonitoringLayers(without, with, general is not null);
    });

    private static MonitoringConfig Monitoring(Dictionary<string, YNode> serviceWide, YMapping? overrides, IEnumerable<string>? onlyKeys = null)
    {
        var values = new MonitoringValues(serviceWide, overrides, onlyKeys);

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

    /// <summary>
    /// The resolved monitoring keys of one instance: the service-wide values (shared by every instance of the
    /// service) with the instance's own keys over them, converted to plain values as they are read.
    /// </summary>
    private sealed class MonitoringValues : IReadOnlyDictionary<string, object?>
    {
        private readonly Dictionary<string, YNode> _serviceWide;
        // Insertion-ordered (nothing is removed), as the service-wide layer is.
        private readonly Dictionary<string, YNode> _own = new(StringComparer.Ordinal);

        public MonitoringValues(Dictionary<string, YNode> serviceWide, YMapping? overrides, IEnumerable<string>? onlyKeys)
        {
            _serviceWide = serviceWide;
            if (overrides is null) return;
            foreach (var key in onlyKeys ?? overrides.Keys)
                if (overrides.TryGet(key, out var value)) _own.TryAdd(key, value);
        }

        private YNode? Node(string key) =>
            _own.TryGetValue(key, out var own) ? own : _serviceWide.TryGetValue(key, out var node) ? node : null;

        public bool TryGetValue(string key, out object? value)
        {
            var node = Node(key);
            value = node?.ToPlain();
            return node is not null;
        }

        public object? this[string key] => TryGetValue(key, out var v) ? v : throw new KeyNotFoundException(key);
        public bool ContainsKey(string key) => _own.ContainsKey(key) || _serviceWide.ContainsKey(key);
        public int Count => _serviceWide.Count + _own.Count(e => !_serviceWide.ContainsKey(e.Key));
        public IEnumerable<string> Keys => this.Select(e => e.Key);
        public IEnumerable<object?> Values => this.Select(e => e.Value);

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
        {
            // Keys in the order they were first set: service-wide ones, then the instance's new ones.
            foreach (var (k, v) in _serviceWide)
                yield return new(k, (_own.TryGetValue(k, out var own) ? own : v).ToPlain());
            foreach (var (k, v) in _own)
                if (!_serviceWide.ContainsKey(k)) yield return new(k, v.ToPlain());
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
