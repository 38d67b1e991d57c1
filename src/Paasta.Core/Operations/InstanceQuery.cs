using System.Runtime.CompilerServices;
using Paasta.Config;
using Paasta.Errors;

namespace Paasta.Operations;

/// <summary>
/// Which instances a call is about, as the user wrote it. Every list is names or wildcard patterns; null
/// means all. See docs/ARCHITECTURE.md, "Selecting instances".
/// </summary>
public sealed record InstanceSelection
{
    public IReadOnlyList<string>? Services { get; init; }
    public IReadOnlyList<string>? Clusters { get; init; }
    public IReadOnlyList<string>? Instances { get; init; }
    public IReadOnlyList<string>? InstanceTypes { get; init; }
    public IReadOnlyList<string>? DeployGroups { get; init; }
    /// <summary>Without -Cluster, take the Cluster setting ($env:PAASTA_CLUSTER, the saved one) when there is one.</summary>
    public bool DefaultClusterFromSettings { get; init; }
    /// <summary>The instance types the operation works on (long-running only, tron only…); null: all.</summary>
    public Func<string, bool>? TypeFilter { get; init; }
    /// <summary>How to name those types in a not-found message ("long-running", "tron").</summary>
    public string? TypeDescription { get; init; }
}

/// <summary>
/// The one instance query: services, then instance files, then instances, by names or wildcards. A literal
/// name that matches nothing is an error (ServiceNotFound, ClusterNotFound, InstanceNotFound,
/// DeployGroupNotFound) while a wildcard may match nothing; a file that cannot be read is an error for that
/// file only. Errors go to the context's sink and the query goes on with what it could read.
/// </summary>
public static class InstanceQuery
{
    /// <summary>The services named (sorted, each once); a literal name that is no service folder is ServiceNotFound.</summary>
    public static IReadOnlyList<ServiceConfig> Services(OperationContext context, IReadOnlyList<string>? names) =>
        ServiceNames(context, names).Select(n => TryLoadService(context, n)).OfType<ServiceConfig>().ToList();

    /// <summary>The service names selected, without loading them.</summary>
    public static IReadOnlyList<string> ServiceNames(OperationContext context, IReadOnlyList<string>? names)
    {
        var reader = context.Reader;
        if (names is null || names.Count == 0) return reader.ListServices();
        var patterns = names.Select(n => NamePattern.Parse(WithoutTrailingSlash(n))).ToList();
        var result = new SortedSet<string>(StringComparer.Ordinal);
        var wildcards = patterns.Where(p => p.IsWildcard).ToList();
        if (wildcards.Count > 0)
            foreach (var s in reader.ListServices(NamePattern.Any(wildcards))) result.Add(s);
        foreach (var literal in patterns.Where(p => !p.IsWildcard))
        {
            try
            {
                SoaConfigReader.ValidateServiceName(literal.Literal);
                result.Add(Directory.Exists(Path.Combine(reader.SoaDir, literal.Literal)) ? literal.Literal
                    // Names match as -like does, case-insensitively; the folder's own spelling is used from here on.
                    : reader.ListServices(n => string.Equals(n, literal.Literal, StringComparison.OrdinalIgnoreCase)).FirstOrDefault()
                      ?? throw new PaastaException("ServiceNotFound", PaastaErrorKind.ObjectNotFound,
                          $"There is no service '{literal.Literal}' in {reader.SoaDir}.") { Target = literal.Literal });
            }
            catch (PaastaException e) { context.Sink.Error(e); }
        }
        return result.ToList();
    }

    /// <summary>One service by its literal name; ServiceNotFound or InvalidServiceName thrown.</summary>
    public static ServiceConfig Service(OperationContext context, string name) => context.Reader.LoadService(WithoutTrailingSlash(name));

    // Tab completion of a folder adds '/'; "/" alone stays, to be refused as a path.
    private static string WithoutTrailingSlash(string name) => name.Length > 1 && name.EndsWith('/') ? name[..^1] : name;

    /// <summary>The instances selected, in service, file and file order; not-found and load errors go to the sink.</summary>
    public static IReadOnlyList<InstanceConfig> Instances(OperationContext context, InstanceSelection selection)
    {
        var clusters = selection.Clusters;
        if (clusters is null && selection.DefaultClusterFromSettings && context.Settings.Cluster is { } fallback)
        {
            clusters = new[] { fallback };
            context.Sink.Verbose($"Cluster {fallback} (from $env:PAASTA_CLUSTER or Set-PaastaConfiguration -Cluster).");
        }
        var clusterPatterns = NamePattern.ParseAll(clusters);
        var instancePatterns = NamePattern.ParseAll(selection.Instances);
        var typePatterns = NamePattern.ParseAll(selection.InstanceTypes);
        var groupPatterns = NamePattern.ParseAll(selection.DeployGroups);
        var typeMatch = NamePattern.Any(typePatterns);
        Func<string, bool> typeFilter = t => (selection.TypeFilter?.Invoke(t) ?? true) && (typeMatch?.Invoke(t) ?? true);
        var filter = new InstanceFilter(NamePattern.Any(clusterPatterns), NamePattern.Any(instancePatterns), typeFilter);

        var names = ServiceNames(context, selection.Services);
        // Services load in parallel; the results keep the service order. One service (what a runbook or a cron job
        // names) loads on this thread: PLINQ's start-up (its assembly, threads, JIT) costs a new process more than it saves.
        var loaded = names.Count == 1 ? new() { Load(context, names[0], filter) } : LoadInParallel(context, names, filter);

        var seenClusters = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var instances = new List<InstanceConfig>();
        foreach (var (service, results) in loaded)
        {
            if (service is not null)
                foreach (var file in service.InstanceFiles)
                    if (InstanceTypes.Supported.Contains(file.InstanceType) && typeFilter(file.InstanceType)) seenClusters.Add(file.Cluster);
            foreach (var r in results)
            {
                if (r.Error is not null) { context.Sink.Error(r.Error); continue; }
                var instance = r.Value!;
                if (groupPatterns is not null && (instance.DeployGroup is not { } g || !groupPatterns.Any(p => p.IsMatch(g)))) continue;
                instances.Add(instance);
            }
        }

        // Named services that do not exist were reported; a cluster or instance "not found" among none says nothing more.
        if (names.Count == 0 && selection.Services is { Count: > 0 }) return instances;
        var scope = Scope(names, selection);
        ReportMissing(context, clusterPatterns, seenClusters, ("ClusterNotFound", PaastaErrorKind.ObjectNotFound), "cluster", scope);
        ReportMissing(context, instancePatterns, instances.Select(i => i.Instance), ("InstanceNotFound", PaastaErrorKind.ObjectNotFound), "instance",
            scope + (clusters is null ? "" : $" on {string.Join(", ", clusters)}"));
        ReportMissing(context, groupPatterns, instances.Select(i => i.DeployGroup).OfType<string>(), ("DeployGroupNotFound", PaastaErrorKind.ObjectNotFound), "deploy group", scope);
        context.Timings.Mark("read soa-configs");
        return instances;
    }

    /// <summary>
    /// The clusters the selected services have instance files for (of the selection's types) that match its cluster
    /// names or wildcards, sorted, each once; a literal cluster among none of them is ClusterNotFound (to the sink).
    /// For operations that work per cluster rather than per instance (Sync-PaastaJob, Get-PaastaJob).
    /// </summary>
    public static IReadOnlyList<string> Clusters(OperationContext context, InstanceSelection selection)
    {
        var patterns = NamePattern.ParseAll(selection.Clusters);
        var match = NamePattern.Any(patterns);
        var types = NamePattern.Any(NamePattern.ParseAll(selection.InstanceTypes));
        var names = ServiceNames(context, selection.Services);
        var found = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var service in names.Select(n => TryLoadService(context, n)).OfType<ServiceConfig>())
            foreach (var file in service.InstanceFiles)
                if (InstanceTypes.Supported.Contains(file.InstanceType) && (selection.TypeFilter?.Invoke(file.InstanceType) ?? true)
                    && (types?.Invoke(file.InstanceType) ?? true) && (match?.Invoke(file.Cluster) ?? true))
                    found.Add(file.Cluster);
        ReportMissing(context, patterns, found.ToHashSet(StringComparer.OrdinalIgnoreCase), ("ClusterNotFound", PaastaErrorKind.ObjectNotFound), "cluster", Scope(names, selection));
        return found.ToList();
    }

    // A method of its own: the runtime loads PLINQ's assembly when it prepares the method that uses it.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static List<(ServiceConfig? Service, List<LoadResult<InstanceConfig>> Results)> LoadInParallel(OperationContext context, IReadOnlyList<string> names, InstanceFilter filter) =>
        names.AsParallel().AsOrdered().WithCancellation(context.Cancellation)
            .Select(name => Load(context, name, filter))
            .ToList();

    private static (ServiceConfig? Service, List<LoadResult<InstanceConfig>> Results) Load(OperationContext context, string name, InstanceFilter filter)
    {
        try
        {
            var service = context.Reader.LoadService(name);
            return (service, context.Reader.LoadInstances(service, filter).ToList());
        }
        catch (PaastaException e) { return (null, new() { LoadResult<InstanceConfig>.Fail(e) }); }
    }

    private static ServiceConfig? TryLoadService(OperationContext context, string name)
    {
        try { return context.Reader.LoadService(name); }
        catch (PaastaException e)
        {
            context.Sink.Error(e);
            return null;
        }
    }

    private static string Scope(IReadOnlyList<string> services, InstanceSelection selection)
    {
        var what = selection.TypeDescription is null ? "" : selection.TypeDescription + " ";
        var of = services.Count switch
        {
            0 => "any service",
            1 => services[0],
            <= 3 => string.Join(", ", services),
            _ => $"{services.Count} services",
        };
        return $"{what}instances of {of}";
    }

    private static void ReportMissing(OperationContext context, IReadOnlyList<NamePattern>? patterns, IEnumerable<string> found, (string Id, PaastaErrorKind Kind) error, string what, string scope)
    {
        if (patterns is null) return;
        var present = found as ISet<string> ?? new HashSet<string>(found, StringComparer.OrdinalIgnoreCase);
        foreach (var literal in patterns.Where(p => !p.IsWildcard))
        {
            if (present.Contains(literal.Literal)) continue;
            context.Sink.Error(new PaastaException(error.Id, error.Kind,
                $"No {what} '{literal.Literal}' among the {scope}.") { Target = literal.Literal });
        }
    }
}
