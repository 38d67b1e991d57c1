using Paasta.Yaml;

namespace Paasta.Config;

/// <summary>An instance file found in a service folder.</summary>
public sealed record InstanceFile(string InstanceType, string Cluster, string Path)
{
    public string FileName => System.IO.Path.GetFileName(Path);
}

/// <summary>A service folder of soa-configs: service.yaml metadata plus what the other files say service-wide.</summary>
public sealed class ServiceConfig
{
    public required string Name { get; init; }
    public required string SoaDir { get; init; }
    public required string Directory { get; init; }
    public string? Description { get; init; }
    public string? ExternalLink { get; init; }
    /// <summary>The service's git repository (service.yaml git_url); null when not set.</summary>
    public string? GitUrl { get; init; }
    /// <summary>True when service.yaml says <c>git_url: null</c>: the service has no repository and no deployments.</summary>
    public bool GitUrlExplicitlyNull { get; init; }
    public string? DockerRegistry { get; init; }
    public string? Team { get; init; }
    public string? CostOwner { get; init; }
    /// <summary>Clusters the service has instance files for, sorted.</summary>
    public IReadOnlyList<string> Clusters { get; init; } = Array.Empty<string>();
    public IReadOnlyList<InstanceFile> InstanceFiles { get; init; } = Array.Empty<InstanceFile>();
    /// <summary>Deploy groups of deploy.yaml's pipeline, in pipeline order (parallel steps flattened).</summary>
    public IReadOnlyList<string> DeployGroups { get; init; } = Array.Empty<string>();
    /// <summary>Every pipeline step name, deploy groups and special steps alike.</summary>
    public IReadOnlyList<string> PipelineSteps { get; init; } = Array.Empty<string>();
    /// <summary>deploy.yaml's pipeline with each step's settings, in order (parallel steps flattened).</summary>
    public IReadOnlyList<PipelineStep> Pipeline { get; init; } = Array.Empty<PipelineStep>();
    public IReadOnlyList<string> SmartstackNamespaces { get; init; } = Array.Empty<string>();
    public bool HasServiceYaml { get; init; }
    public bool HasMonitoringYaml { get; init; }
    public bool HasDeployYaml { get; init; }

    internal YMapping ServiceYaml { get; init; } = null!;
    internal YMapping? MonitoringYaml { get; init; }
    internal YMapping? DeployYaml { get; init; }
    internal YMapping? SmartstackYaml { get; init; }
    /// <summary>Plain values of service.yaml's keys.</summary>
    public IReadOnlyDictionary<string, object?> Metadata => (IReadOnlyDictionary<string, object?>)ServiceYaml.ToPlain()!;

    public override string ToString() => Name;
}
