namespace Paasta.Config;

/// <summary>
/// One instance's effective configuration: the instance file merged over service.yaml and the other
/// service-wide files, with every code default of docs/BEHAVIOUR.md §1.4 applied, and where each value came from.
/// </summary>
public sealed class InstanceConfig
{
    public required string Service { get; init; }
    public required string Instance { get; init; }
    public required string Cluster { get; init; }
    /// <summary>kubernetes, eks, adhoc or tron.</summary>
    public required string InstanceType { get; init; }
    public required string SoaDir { get; init; }
    /// <summary>The instance file, and the line of the instance's key in it.</summary>
    public required string File { get; init; }
    public int Line { get; init; }

    /// <summary>The deploy group whose deploy tag this instance runs (null for a Tron action without one).</summary>
    public string? DeployGroup { get; init; }
    /// <summary><c>cluster.instance</c>: the name start/stop tags and deployments.json controls use.</summary>
    public string Branch => $"{Cluster}.{Instance}";

    public double Cpus { get; init; }
    public double CpuBurstAdd { get; init; }
    public double Mem { get; init; }
    public double Disk { get; init; }
    public double? Gpus { get; init; }
    public long CfsPeriodUs { get; init; }

    /// <summary>Requested copies when not autoscaled.</summary>
    public long Instances { get; init; }
    public long MinInstances { get; init; }
    public long? MaxInstances { get; init; }
    /// <summary>Autoscaling is on exactly when max_instances is set.</summary>
    public bool IsAutoscaled => MaxInstances is not null;

    /// <summary>cmd as written: a string (run with sh -c) or a list (run as is).</summary>
    public object? Cmd { get; init; }
    /// <summary>The container command: <c>sh -c cmd</c> for a string cmd, the list itself for a list.</summary>
    public IReadOnlyList<string>? Command { get; init; }
    public IReadOnlyList<string>? Args { get; init; }
    public IReadOnlyDictionary<string, string> Env { get; init; } = new Dictionary<string, string>();

    public long ContainerPort { get; init; }
    public string? HealthcheckMode { get; init; }
    public string? HealthcheckCmd { get; init; }
    public string HealthcheckUri { get; init; } = "/status";
    public double HealthcheckGracePeriodSeconds { get; init; }
    public double HealthcheckIntervalSeconds { get; init; }
    public double HealthcheckTimeoutSeconds { get; init; }
    public long HealthcheckMaxConsecutiveFailures { get; init; }

    /// <summary>crossover, brutal, downthenup or upthendown; null for Tron actions, which are not bounced.</summary>
    public string? BounceMethod { get; init; }
    public double BounceMarginFactor { get; init; }
    /// <summary>True when bounce_margin_factor is written somewhere rather than defaulted (PDBs use it only then).</summary>
    public bool BounceMarginFactorConfigured { get; init; }
    public long MinTaskUptime { get; init; }
    public string DrainMethod { get; init; } = "noop";
    /// <summary>True when soa-configs set drain_method (false: the code default, hacheck for mesh instances, noop otherwise).</summary>
    public bool DrainMethodConfigured { get; init; }
    public IReadOnlyDictionary<string, object?> DrainMethodParams { get; init; } = new Dictionary<string, object?>();

    public IReadOnlyList<string> Registrations { get; init; } = Array.Empty<string>();
    /// <summary>The mesh namespace: the part after the dot of the first registration.</summary>
    public string? NerveNamespace { get; init; }
    /// <summary>True when the nerve namespace has a proxy_port key in smartstack.yaml (even null).</summary>
    public bool IsInSmartstack { get; init; }
    public long? ProxyPort { get; init; }

    public long ReplicationThreshold { get; init; }
    public MonitoringConfig Monitoring { get; init; } = new();
    public string Pool { get; init; } = "default";
    public string Net { get; init; } = "bridge";
    public long Weight { get; init; }
    public string Namespace { get; init; } = "";
    public IReadOnlyList<ExtraVolume> ExtraVolumes { get; init; } = Array.Empty<ExtraVolume>();
    public bool UsesBulkdata { get; init; }
    /// <summary>adhoc only: an explicit image that overrides deployments.json.</summary>
    public string? DockerUrl { get; init; }
    public string? CostOwner { get; init; }

    /// <summary>tron only: the job and action this instance (<c>job.action</c>) stands for.</summary>
    public string? TronJob { get; init; }
    public string? TronAction { get; init; }

    // Built on first use: most callers (listing, syncing) never look at them, and they cost more than the rest.
    private Lazy<IReadOnlyDictionary<string, object?>> _config = new(() => new Dictionary<string, object?>());
    private Lazy<IReadOnlyDictionary<string, ValueSource>> _sources = new(() => new Dictionary<string, ValueSource>());

    /// <summary>The effective merged configuration as plain values (what PaaSTA's config_dict holds).</summary>
    public IReadOnlyDictionary<string, object?> Config => _config.Value;
    /// <summary>For each effective value (dotted path), the file and line it came from, or "default".</summary>
    public IReadOnlyDictionary<string, ValueSource> Sources => _sources.Value;

    internal Func<IReadOnlyDictionary<string, object?>> ConfigFactory { init => _config = new(value); }
    internal Func<IReadOnlyDictionary<string, ValueSource>> SourcesFactory { init => _sources = new(value); }

    internal Func<string, ValueSource?>? SourceLookup { private get; init; }

    /// <summary>Where a value (dotted path, e.g. <c>env.FOO</c>) came from; null when it is not set at all.</summary>
    public ValueSource? SourceOf(string path) =>
        _sources.IsValueCreated || SourceLookup is null ? (Sources.TryGetValue(path, out var s) ? s : null) : SourceLookup(path);

    public override string ToString() => $"{Service}.{Instance} on {Cluster} ({InstanceType})";
}

/// <summary>A host path bound into the container (extra_volumes).</summary>
public sealed record ExtraVolume(string ContainerPath, string HostPath, string Mode)
{
    public bool ReadOnly => !string.Equals(Mode, "RW", StringComparison.OrdinalIgnoreCase);
}
