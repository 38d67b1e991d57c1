using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using Paasta.Config;
using Paasta.Drain;
using Paasta.Settings;
using Paasta.Errors;

namespace Paasta.Commands;

/// <summary>
/// The completion idioms every Paasta completer shares: quotes stripped from the word, a case-insensitive
/// prefix match, results sorted and re-quoted, and no exception ever reaching the user's prompt.
/// </summary>
public abstract class PaastaCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var word = wordToComplete.Trim('\'', '"');
        var pattern = WildcardPattern.Get(word + "*", WildcardOptions.IgnoreCase);
        List<string> candidates;
        try
        {
            // Materialised here: the candidate lists are lazy, and a file that fails to load must not escape to the prompt.
            candidates = Candidates(fakeBoundParameters).ToList();
        }
        catch (Exception e) when (e is PaastaException or IOException or UnauthorizedAccessException)
        {
            return Array.Empty<CompletionResult>();
        }
        return candidates.Where(pattern.IsMatch).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .Select(c => new CompletionResult(Quote(c), c, CompletionResultType.ParameterValue, c)).ToList();
    }

    protected abstract IEnumerable<string> Candidates(IDictionary bound);

    private static string Quote(string s) => s.IndexOfAny(new[] { ' ', '\'', '"', '$', '`', '(', ')', ';', ',', '{', '}' }) >= 0
        ? "'" + s.Replace("'", "''") + "'" : s;
}

/// <summary>
/// Tab completion from the soa-configs in use (the -SoaDir already typed, else the configured one).
/// Completers read local folders and files only, never a cluster or a remote, so they stay fast.
/// </summary>
public abstract class SoaConfigCompleter : PaastaCompleter
{
    protected sealed override IEnumerable<string> Candidates(IDictionary bound)
    {
        var soaDir = new ResolvedSettings(new PaastaSettings { SoaDir = bound["SoaDir"] as string }, SafeSettings).SoaDir;
        if (!Directory.Exists(soaDir)) return Array.Empty<string>();
        return Candidates(new SoaConfigReader(soaDir), bound);
    }

    protected abstract IEnumerable<string> Candidates(SoaConfigReader reader, IDictionary bound);

    /// <summary>The names or wildcards already typed for a parameter (one, or several); null when none.</summary>
    protected static string[]? BoundNames(IDictionary bound, string parameter) => bound[parameter] switch
    {
        string s => new[] { s },
        IEnumerable<object> many => many.OfType<string>().ToArray(),
        _ => null,
    };

    /// <summary>Matches what any of <paramref name="patterns"/> matches (-like rules); null (everything) without patterns.</summary>
    protected static Func<string, bool>? Matching(string[]? patterns) =>
        patterns is null ? null : n => patterns.Any(p => WildcardPattern.Get(p, WildcardOptions.IgnoreCase).IsMatch(n));

    /// <summary>The services already named on the command line, else all of them.</summary>
    protected static IEnumerable<ServiceConfig> BoundServices(SoaConfigReader reader, IDictionary bound)
    {
        var names = Matching(BoundNames(bound, "Service"));
        var selected = names is null ? reader.ListServices() : reader.ListServices(n => names(n));
        foreach (var name in selected)
        {
            ServiceConfig? svc = null;
            try { svc = reader.LoadService(name); } catch (PaastaException) { }
            if (svc is not null) yield return svc;
        }
    }

    private static PaastaSettings SafeSettings()
    {
        try { return PaastaSettingsStore.Load(); } catch (PaastaException) { return new PaastaSettings(); }
    }
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
        var filter = new InstanceFilter(Matching(BoundNames(bound, "Cluster")));
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

/// <summary>The instance types Paasta loads: a fixed list, so it completes even where no soa-configs exist yet.</summary>
public sealed class InstanceTypeCompleter : PaastaCompleter
{
    protected override IEnumerable<string> Candidates(IDictionary bound) => InstanceTypes.Supported;
}

/// <summary>Tron job names (the top-level keys of tron-CLUSTER.yaml) of the services and cluster already typed.</summary>
public sealed class JobCompleter : SoaConfigCompleter
{
    protected override IEnumerable<string> Candidates(SoaConfigReader reader, IDictionary bound)
    {
        var filter = new InstanceFilter(Matching(BoundNames(bound, "Cluster")), null, t => t == InstanceTypes.Tron);
        return BoundServices(reader, bound)
            .SelectMany(s => reader.LoadInstances(s, filter))
            .Where(r => r.Value?.TronJob is not null)
            .Select(r => r.Value!.TronJob!);
    }
}

/// <summary>
/// Drain methods an operator can name: the built-in and registered ones of this process. PaaSTA's test methods (test,
/// crashy_drain) work by name but are offered only once -IncludeTestMethods is typed.
/// </summary>
public sealed class DrainMethodCompleter : PaastaCompleter
{
    protected override IEnumerable<string> Candidates(IDictionary bound) =>
        DrainMethodRegistry.Default.List(includeTestMethods: bound.Contains("IncludeTestMethods")).Select(i => i.Name);
}

/// <summary>The drain methods registered in this process: what Unregister-PaastaDrainMethod removes and Register-PaastaDrainMethod -Force replaces.</summary>
public sealed class RegisteredDrainMethodCompleter : PaastaCompleter
{
    protected override IEnumerable<string> Candidates(IDictionary bound) =>
        DrainMethodRegistry.Default.List().Where(i => i.Source != DrainMethodSource.BuiltIn).Select(i => i.Name);
}
