using System.Text.RegularExpressions;
using Paasta.Deployments;
using Paasta.Config;
using Paasta.Settings;
using Paasta.Errors;

namespace Paasta.Docker;

/// <summary>Docker image names as PaaSTA forms and parses them (docs/BEHAVIOUR.md §3.5).</summary>
public static partial class ImageNames
{
    /// <summary>The registry of a service: -Registry, else service.yaml docker_registry, else the user's setting (PAASTA_DOCKER_REGISTRY).</summary>
    public static string ResolveRegistry(string? given, ServiceConfig service, ResolvedSettings settings)
    {
        var registry = !string.IsNullOrWhiteSpace(given) ? given
            : !string.IsNullOrWhiteSpace(service.DockerRegistry) ? service.DockerRegistry
            : settings.DockerRegistry;
        if (string.IsNullOrWhiteSpace(registry))
            throw new PaastaException("DockerRegistryNotConfigured", PaastaErrorKind.InvalidArgument,
                $"No Docker registry for {service.Name}: pass -Registry, set docker_registry in {service.Name}/service.yaml, " +
                "or Set-PaastaConfiguration -DockerRegistry (or $env:PAASTA_DOCKER_REGISTRY).")
            { Target = service.Name };
        return registry.Trim().TrimEnd('/');
    }

    /// <summary><c>registry/services-svc:paasta-sha[-iv]</c>.</summary>
    public static string Full(string registry, string service, string sha, string? imageVersion) =>
        $"{registry.TrimEnd('/')}/{DeploymentsGenerator.DockerImage(service, sha, imageVersion)}";

    [GeneratedRegex(@".*:paasta-(?<sha>[A-Za-z0-9]+)(-(?<iv>.+))?")]
    private static partial Regex PaastaTag();

    /// <summary>
    /// The git sha a docker URL names: the part after <c>:paasta-</c>, else (PaaSTA's fallback) the text after
    /// the last '-' of the last path segment, then after the last ':'.
    /// </summary>
    public static (string Sha, string? ImageVersion) ParseGitSha(string dockerUrl)
    {
        var m = PaastaTag().Match(dockerUrl);
        if (m.Success) return (m.Groups["sha"].Value, m.Groups["iv"].Success ? m.Groups["iv"].Value : null);
        var last = dockerUrl[(dockerUrl.LastIndexOf('/') + 1)..];
        last = last[(last.LastIndexOf('-') + 1)..];
        return (last[(last.LastIndexOf(':') + 1)..], null);
    }

    /// <summary>Splits <c>host:5000/a/b:tag</c> into (host:5000/a/b, tag); the tag is "latest" when absent. Digests are kept in the tag part.</summary>
    public static (string Repository, string Tag) SplitTag(string image)
    {
        var at = image.IndexOf('@');
        if (at >= 0) return (image[..at], image[at..]);
        var slash = image.LastIndexOf('/');
        var colon = image.LastIndexOf(':');
        return colon > slash ? (image[..colon], image[(colon + 1)..]) : (image, "latest");
    }

    /// <summary>
    /// Splits an image into (registry host, repository path, tag) for the registry API. The first path part is a
    /// registry when it has a '.', a ':' or is "localhost" (Docker's rule); otherwise the image lives on Docker Hub.
    /// </summary>
    public static (string Registry, string Repository, string Tag) SplitRegistry(string image)
    {
        var (repo, tag) = SplitTag(image);
        var slash = repo.IndexOf('/');
        if (slash > 0)
        {
            var first = repo[..slash];
            if (first.Contains('.') || first.Contains(':') || first == "localhost")
                return (first, repo[(slash + 1)..], tag);
        }
        return ("registry-1.docker.io", repo.Contains('/') ? repo : "library/" + repo, tag);
    }

    /// <summary>Docker tags must be lower case and may only hold [a-z0-9._-]; everything else becomes '-'.</summary>
    public static string SafeTagPart(string value) =>
        Regex.Replace(value.ToLowerInvariant(), "[^a-z0-9._-]", "-");
}
