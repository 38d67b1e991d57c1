using Paasta.Config;
using Paasta.Deployments;
using Paasta.Errors;

namespace Paasta.Tron;

/// <summary>The image an action runs: what deployments.json says for its deploy group, and the full URL.</summary>
public sealed record ActionImage(DeploymentBranch? Branch, string DockerUrl)
{
    public bool HasImage => Branch is not null && DockerUrl.Length > 0;
}

/// <summary>
/// Finds the images of Tron actions (docs/BEHAVIOUR.md §10.1): deployments.json of the action's service, entry of its
/// deploy group, desired state always start and no force_bounce; the registry from -Registry, else the
/// action service's service.yaml docker_registry, else $PAASTA_DOCKER_REGISTRY / the saved setting. A
/// missing deployment is not an error here: the image is "" and the caller decides (Tron configs may be
/// pushed before the first deploy).
/// </summary>
public sealed class TronImageResolver
{
    private readonly SoaConfigReader _reader;
    private readonly string? _registryOverride;
    private readonly string? _defaultRegistry;
    private readonly Dictionary<string, DeploymentsDocument?> _deployments = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ServiceConfig?> _services = new(StringComparer.Ordinal);

    private readonly Func<ServiceConfig?, string?>? _registryFor;

    public TronImageResolver(SoaConfigReader reader, string? registryOverride, string? defaultRegistry)
    {
        _reader = reader;
        _registryOverride = registryOverride;
        _defaultRegistry = defaultRegistry;
    }

    /// <summary>
    /// Registries from <paramref name="registryFor"/>, given the action service's config (null when it cannot be
    /// loaded): operations pass their context's one rule (parameter, service.yaml, environment, settings file).
    /// </summary>
    public TronImageResolver(SoaConfigReader reader, Func<ServiceConfig?, string?> registryFor)
    {
        _reader = reader;
        _registryFor = registryFor;
    }

    /// <summary>Explanations of actions without an image (missing deployments.json or deploy group).</summary>
    public List<string> Warnings { get; } = new();

    public ActionImage For(TronAction action)
    {
        if (!action.RunsContainer) return new ActionImage(null, "");
        var group = action.Instance.DeployGroup;
        if (group is null) return new ActionImage(null, "");
        var doc = Deployments(action.ActionService);
        if (doc is null || !doc.Deployments.TryGetValue(group, out var entry) || entry.DockerImage is null || entry.GitSha is null)
        {
            if (doc is not null)
                Warnings.Add($"{action.Instance.Instance}: deploy group '{group}' of {action.ActionService} has no deployment yet (mark a version for deployment, then New-PaastaDeployments); its docker_image is \"\".");
            return new ActionImage(null, "");
        }
        var branch = new DeploymentBranch(entry.DockerImage, entry.GitSha, entry.ImageVersion, "start", null);
        var registry = RegistryFor(action.ActionService) ?? throw new PaastaException("RegistryNotConfigured", PaastaErrorKind.InvalidOperation,
            $"{action.Instance.Instance}: no docker registry for {action.ActionService}: set docker_registry in its service.yaml, pass -Registry, set $env:PAASTA_DOCKER_REGISTRY or Set-PaastaConfiguration -DockerRegistry.")
        { Target = action.Instance.ToString() };
        return new ActionImage(branch, $"{registry.TrimEnd('/')}/{entry.DockerImage}");
    }

    private string? RegistryFor(string service)
    {
        if (_registryFor is not null) return _registryFor(Service(service));
        if (!string.IsNullOrEmpty(_registryOverride)) return _registryOverride;
        var svc = Service(service);
        if (!string.IsNullOrEmpty(svc?.DockerRegistry)) return svc!.DockerRegistry;
        return string.IsNullOrEmpty(_defaultRegistry) ? null : _defaultRegistry;
    }

    private ServiceConfig? Service(string name)
    {
        if (_services.TryGetValue(name, out var s)) return s;
        try { s = _reader.LoadService(name); }
        catch (PaastaException) { s = null; }
        return _services[name] = s;
    }

    private DeploymentsDocument? Deployments(string service)
    {
        if (_deployments.TryGetValue(service, out var doc)) return doc;
        try
        {
            SoaConfigReader.ValidateServiceName(service);
            doc = DeploymentsFileStore.Load(DeploymentsFileStore.PathFor(Path.Combine(_reader.SoaDir, service)), service);
        }
        catch (PaastaException e)
        {
            Warnings.Add($"{service}: {e.Message} Its actions get docker_image \"\".");
            doc = null;
        }
        return _deployments[service] = doc;
    }
}
