using Paasta.Config;
using Paasta.Deployments;
using Paasta.Errors;
using Paasta.Git;

namespace Paasta.Operations;

/// <summary>
/// The instances a Start-, Stop- or Restart-PaastaInstance record names: services, clusters and instances, each a
/// name or a wildcard (null clusters or instances: all), selected through <see cref="InstanceQuery"/>.
/// </summary>
public sealed record InstanceControlSelection(IReadOnlyList<string> Services, IReadOnlyList<string>? Clusters = null, IReadOnlyList<string>? Instances = null)
{
    public InstanceControlSelection(string service, IReadOnlyList<string>? clusters = null, IReadOnlyList<string>? instances = null)
        : this(new[] { service }, clusters, instances) { }
}

/// <summary>Start-, Stop- or Restart-PaastaInstance: every record of the call, by name and from the pipeline.</summary>
public sealed record InstanceControlRequest(ControlAction Action)
{
    public IReadOnlyList<InstanceControlSelection> Selections { get; init; } = Array.Empty<InstanceControlSelection>();
    /// <summary>Instances given as objects (Get-PaastaInstance output).</summary>
    public IReadOnlyList<InstanceConfig> Instances { get; init; } = Array.Empty<InstanceConfig>();
    public string? Repository { get; init; }
}

/// <summary>
/// paasta start, stop and restart (docs/BEHAVIOUR.md §2.7, §9.1): a start or stop tag per instance at the commit of
/// its deploy group's current deploy tag. Every instance's name is checked against what a tag can carry before any
/// tag is written; an instance named twice (by two records, or in both the kubernetes- and eks- file of a cluster,
/// which share one cluster.instance) gets one tag.
/// </summary>
public sealed class InstanceControlOperations
{
    public InstanceControlOperations(GitSession? git = null) => Git = git ?? new GitSession();

    public GitSession Git { get; }

    public static string Activity(ControlAction action) => $"{action}-PaastaInstance";

    public IReadOnlyList<InstanceControlResult> Control(OperationContext context, InstanceControlRequest request)
    {
        var sink = context.Sink;
        var activity = Activity(request.Action);
        var instances = Select(context, request);

        // Names first, all of them: nothing is written for a call that names an instance no tag can carry.
        var taggable = new List<InstanceConfig>();
        foreach (var instance in instances)
        {
            try
            {
                TagNames.RequireControlBranch(instance.Branch, instance, instance.File, instance.Line);
                taggable.Add(instance);
            }
            catch (PaastaException e) { sink.Error(e); }
        }

        var results = new List<InstanceControlResult>();
        var noticeGiven = false;
        for (var index = 0; index < taggable.Count; index++)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            var instance = taggable[index];
            try
            {
                var svc = ReaderFor(context, instance).LoadService(instance.Service);
                var location = GitSession.RequireLocation(context, svc, request.Repository);
                var refs = Git.Refs(context, location, activity);
                var plan = DeploymentService.PlanControl(instance, location, refs.Tags, request.Action);
                var deploy = plan.DeployTag;
                if (!sink.ShouldProcess($"{instance.Service}.{instance.Instance} on {instance.Cluster}",
                        $"{request.Action}: tag paasta-{instance.Branch}-<UTC now>-{plan.State} at {Short(deploy.Sha)} (deploy group {deploy.DeployGroup}, {location.Url})"))
                    continue;
                var percent = taggable.Count > 1 ? 100 * index / taggable.Count : -1;
                var result = Git.Step(context, activity, $"{instance.Service}.{instance.Instance} on {instance.Cluster}: writing the {plan.State} tag", percent, writer =>
                    new DeploymentService(Git.Client) { Writer = writer }.ApplyControl(plan, refs.Refs, context.Cancellation));
                sink.Verbose($"Wrote {result.Tag} at {result.Sha}");
                if (!noticeGiven)
                {
                    noticeGiven = true;
                    sink.Verbose(request.Action == ControlAction.Stop
                        ? "Stopped instances stay stopped until a different commit is deployed to their deploy group; set instances: 0 to stop one for good."
                        : "Instances (re)start gracefully, following their bounce method, once deployments.json is regenerated (New-PaastaDeployments).");
                }
                results.Add(result);
            }
            catch (PaastaException e) { sink.Error(e); }
        }
        return results;
    }

    /// <summary>
    /// The instances of the request, each control branch once. Stop refuses to guess: by name it needs clusters and
    /// instances (ExplicitInstanceRequired, for the whole call, before anything is selected).
    /// </summary>
    private static IReadOnlyList<InstanceConfig> Select(OperationContext context, InstanceControlRequest request)
    {
        if (request.Action == ControlAction.Stop)
            foreach (var s in request.Selections.Where(s => s.Clusters is not { Count: > 0 } || s.Instances is not { Count: > 0 }))
                throw new PaastaException("ExplicitInstanceRequired", PaastaErrorKind.InvalidArgument,
                    $"{Activity(request.Action)} needs -Cluster and -Instance (or instances from the pipeline): stopping every instance of a service by accident is too easy.")
                { Target = string.Join(",", s.Services) };

        var selected = new List<InstanceConfig>();
        foreach (var s in request.Selections.Where(s => s.Services.Count > 0))
            selected.AddRange(InstanceQuery.Instances(context, new InstanceSelection { Services = s.Services, Clusters = s.Clusters, Instances = s.Instances }));
        selected.AddRange(request.Instances);
        return OnePerControlBranch(context, selected);
    }

    /// <summary>
    /// One instance per (soa dir, service, cluster.instance), in first-seen order. Where one name is in two files of a
    /// cluster (kubernetes- and eks-), the one PaaSTA's paasta stop finds first in its type order is kept: its deploy
    /// group decides the commit the tag points at.
    /// </summary>
    internal static IReadOnlyList<InstanceConfig> OnePerControlBranch(OperationContext context, IEnumerable<InstanceConfig> instances)
    {
        var chosen = new Dictionary<(string, string, string), int>();
        var result = new List<InstanceConfig>();
        foreach (var instance in instances)
        {
            var key = (instance.SoaDir, instance.Service, instance.Branch);
            if (!chosen.TryGetValue(key, out var at))
            {
                chosen[key] = result.Count;
                result.Add(instance);
                continue;
            }
            var kept = result[at];
            if (kept.InstanceType == instance.InstanceType) continue;
            var first = DeploymentsGenerator.TypeRank(instance.InstanceType) < DeploymentsGenerator.TypeRank(kept.InstanceType) ? instance : kept;
            var second = ReferenceEquals(first, instance) ? kept : instance;
            result[at] = first;
            context.Sink.Verbose($"{instance.Service}.{instance.Instance} on {instance.Cluster} is in its {first.InstanceType} and {second.InstanceType} files, " +
                $"which share one start/stop tag: it is written once, at the deploy group of the {first.InstanceType} one ({first.DeployGroup ?? "none"}).");
        }
        return result;
    }

    private static SoaConfigReader ReaderFor(OperationContext context, InstanceConfig instance) =>
        string.Equals(Path.GetFullPath(instance.SoaDir), context.Reader.SoaDir, StringComparison.Ordinal) ? context.Reader : new SoaConfigReader(instance.SoaDir);

    private static string Short(string sha) => sha.Length > 8 ? sha[..8] : sha;
}
