using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using Paasta.Config;

namespace Paasta.Commands;

/// <summary>
/// Tab completion from the soa-configs in use (the -SoaDir already typed, else the configured one).
/// Completers read local folders and files only, never a cluster or a remote, so they stay fast.
/// </summary>
public abstract class SoaConfigCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var word = wordToComplete.Trim('\'', '"');
        var pattern = WildcardPattern.Get(word + "*", WildcardOptions.IgnoreCase);
        IEnumerable<string> candidates;
        try
        {
            var soaDir = SoaConfigReader.ResolveSoaDir(fakeBoundParameters["SoaDir"] as string, SafeSettings().SoaDir);
            if (!Directory.Exists(soaDir)) return Array.Empty<CompletionResult>();
            candidates = Candidates(new SoaConfigReader(soaDir), fakeBoundParameters);
        }
        catch (Exception e) when (e is PaastaException or IOException or UnauthorizedAccessException)
        {
            return Array.Empty<CompletionResult>();
        }
        return candidates.Where(pattern.IsMatch).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .Select(c => new CompletionResult(Quote(c), c, CompletionResultType.ParameterValue, c));
    }

    protected abstract IEnumerable<string> Candidates(SoaConfigReader reader, IDictionary bound);

    /// <summary>The services already named on the command line, else all of them.</summary>
    protected static IEnumerable<ServiceConfig> BoundServices(SoaConfigReader reader, IDictionary bound)
    {
        var names = bound["Service"] switch
        {
            string s => new[] { s },
            object[] many => many.OfType<string>().ToArray(),
            _ => null,
        };
        var selected = names is null ? reader.ListServices() : reader.ListServices(n => names.Any(p => WildcardPattern.Get(p, WildcardOptions.IgnoreCase).IsMatch(n)));
        foreach (var name in selected)
        {
            ServiceConfig? svc = null;
            try { svc = reader.LoadService(name); } catch (PaastaException) { }
            if (svc is not null) yield return svc;
        }
    }

    private static PaastaSettings SafeSettings()
    {
        try { return PaastaSettingsStore.Current; } catch (PaastaException) { return new PaastaSettings(); }
    }

    private static string Quote(string s) => s.IndexOfAny(new[] { ' ', '\'', '"', '$', '`', '(', ')', ';', ',', '{', '}' }) >= 0
        ? "'" + s.Replace("'", "''") + "'" : s;
}

public sealed class ServiceCompleter : SoaConfigCompleter
{
    protected override IEnumerable<string> Candidates(SoaConfigReader reader, IDictionary bound) => reader.ListServices();
}

public sealed class ClusterCompleter : SoaConfigCompleter
{
    protected override IEnumerable<string> Candidates(SoaConfigReader reader, IDictionary bound) =>
        BoundServices(reader, bound).SelectMany(s => s.Clusters);
}

public sealed class InstanceCompleter : SoaConfigCompleter
{
    protected override IEnumerable<string> Candidates(SoaConfigReader reader, IDictionary bound)
    {
        var cluster = bound["Cluster"] as string;
        var filter = new InstanceFilter(cluster is null ? null : c => WildcardPattern.Get(cluster, WildcardOptions.IgnoreCase).IsMatch(c));
        return BoundServices(reader, bound)
            .SelectMany(s => reader.LoadInstances(s, filter))
            .Where(r => r.Value is not null)
            .Select(r => r.Value!.Instance);
    }
}

public sealed class DeployGroupCompleter : SoaConfigCompleter
{
    protected override IEnumerable<string> Candidates(SoaConfigReader reader, IDictionary bound) =>
        BoundServices(reader, bound).SelectMany(s => s.DeployGroups);
}

public sealed class InstanceTypeCompleter : SoaConfigCompleter
{
    protected override IEnumerable<string> Candidates(SoaConfigReader reader, IDictionary bound) => InstanceTypes.Supported;
}

/// <summary>Tron job names (the top-level keys of tron-CLUSTER.yaml) of the services and cluster already typed.</summary>
public sealed class JobCompleter : SoaConfigCompleter
{
    protected override IEnumerable<string> Candidates(SoaConfigReader reader, IDictionary bound)
    {
        var cluster = bound["Cluster"] as string;
        var filter = new InstanceFilter(cluster is null ? null : c => WildcardPattern.Get(cluster, WildcardOptions.IgnoreCase).IsMatch(c), null, t => t == InstanceTypes.Tron);
        return BoundServices(reader, bound)
            .SelectMany(s => reader.LoadInstances(s, filter))
            .Where(r => r.Value?.TronJob is not null)
            .Select(r => r.Value!.TronJob!);
    }
}
