namespace Paasta.Errors;

/// <summary>
/// What to do about each ErrorId (ErrorRecord.ErrorDetails.RecommendedAction). The catalogue for users is
/// docs/en-US/about_Paasta_Errors.help.txt; a convention test keeps the two in step.
/// </summary>
public static class ErrorCatalog
{
    private static readonly Dictionary<string, string> Actions = new(StringComparer.Ordinal)
    {
        ["ServiceNotFound"] = "Check the name with Get-PaastaService, or pass the -SoaDir that holds the service.",
        ["ClusterNotFound"] = "Check the cluster name: Get-PaastaService lists each service's clusters.",
        ["InstanceNotFound"] = "Check the instance name: Get-PaastaInstance lists the instances of a service and cluster.",
        ["DeployGroupNotFound"] = "Check the deploy group: Get-PaastaInstance shows each instance's DeployGroup.",
        ["DeployGroupsWouldBeDropped"] = "Check git_url in service.yaml (or -Repository) and the repository's deploy tags (Get-PaastaDeployment -Live); -Force writes the file anyway.",
        ["ConflictingDeployVersions"] = "Pipe one version per deploy group into Publish-PaastaDeployment.",
    };

    /// <summary>The recommended action for an error: fix the file and line it names, else the catalogue's advice.</summary>
    public static string? RecommendedAction(PaastaException e)
    {
        if (Actions.TryGetValue(e.ErrorId, out var action)) return action;
        if (e.Location is { } location) return $"Fix {location}{(e.Key is null ? "" : $" (key '{e.Key}')")}.";
        return null;
    }

    /// <summary>Every ErrorId that has a recommended action of its own.</summary>
    public static IReadOnlyCollection<string> ErrorIds => Actions.Keys;
}
