using System.Diagnostics;
using Paasta.Config;
using Paasta.Deployments;
using Paasta.Errors;
using Paasta.Kubernetes;

namespace Paasta.Operations;

/// <summary>What to wait for: the instances of the services' deploy group running one version.</summary>
public sealed record DeploymentWaitRequest(IReadOnlyList<string> Services, string DeployGroup)
{
    public DeploymentWaitRequest(string service, string deployGroup) : this(new[] { service }, deployGroup) { }

    /// <summary>The commit (full sha or a prefix); null: the group's git_sha in each service's deployments.json.</summary>
    public string? Commit { get; init; }
    public string? ImageVersion { get; init; }
    /// <summary>Clusters (names or wildcards); null: the Cluster setting, else every cluster.</summary>
    public IReadOnlyList<string>? Clusters { get; init; }
    /// <summary>For the whole request: the services are waited for one after another within it.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromHours(1);
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(2);
    /// <summary>Stop before the timeout when copies of the version fail for good (a crash loop, an image never pulled); null: wait it out.</summary>
    public DeploymentProgress.FailingPodsRule? GiveUpWhenFailing { get; init; }
    /// <summary>Work done before each read of the clusters, given the instances waited for (Deploy-PaastaService -Sync runs a sync pass there).</summary>
    public Action<IReadOnlyList<InstanceConfig>>? BeforeEachRead { get; init; }
    /// <summary>The progress bar the wait's own bar is nested under, or null.</summary>
    public string? ParentActivity { get; init; }
}

/// <summary>How a wait ended: each instance's result, and why it failed (timeout or failing copies), null when every instance converged.</summary>
public sealed record DeploymentWaitOutcome(IReadOnlyList<DeploymentWaitResult> Results, PaastaException? Failure)
{
    public bool Converged => Failure is null;
}

/// <summary>
/// Wait-PaastaDeployment (paasta wait-for-deployment): polls the clusters until every long-running instance of a
/// deploy group runs the version and is ready (<see cref="DeploymentProgress"/>), or the timeout passes; each
/// cluster through its own connection. Services are names or wildcards (<see cref="InstanceQuery"/>): a service
/// named exactly must use the deploy group (DeployGroupNotUsed), one matched by a wildcard that does not is left
/// out. One object serves one call: a (service, deploy group) already waited for in it is not waited for again,
/// so piping several deployments of one group waits once.
/// </summary>
public sealed class DeploymentWaitOperation
{
    private readonly HashSet<(string, string)> _waited = new();
    private OperationContext _context = null!;

    /// <summary>
    /// Waits for each service in turn, within the request's timeout; writes one result per instance and, when some
    /// did not converge, DeploymentWaitTimedOut. A service that cannot be waited for is an error for that service.
    /// </summary>
    public IReadOnlyList<DeploymentWaitResult> Wait(OperationContext context, DeploymentWaitRequest request)
    {
        _context = context;
        var sink = _context.Sink;
        var watch = Stopwatch.StartNew();
        var results = new List<DeploymentWaitResult>();
        var named = new HashSet<string>(request.Services.Where(s => !NamePattern.HasWildcards(s)).Select(s => s.TrimEnd('/')), StringComparer.OrdinalIgnoreCase);
        var services = InstanceQuery.ServiceNames(_context, request.Services);
        var waitedFor = 0;
        foreach (var name in services)
        {
            if (!_waited.Add((name, request.DeployGroup)))
            {
                sink.Verbose($"{name} {request.DeployGroup}: already waited for in this call.");
                continue;
            }
            var activity = $"Wait-PaastaDeployment {name} {request.DeployGroup}";
            sink.Progress(new OperationProgress(activity, "Reading soa-configs") { ParentActivity = request.ParentActivity });
            try
            {
                var service = InstanceQuery.Service(_context, name);
                var left = request.Timeout - watch.Elapsed;
                var instances = InstancesOf(service, request);
                if (instances.Count == 0 && !named.Contains(name))
                {
                    sink.Verbose($"{name} has no long-running instance in deploy group {request.DeployGroup}; left out.");
                    continue;
                }
                waitedFor++;
                var outcome = Run(service, instances, request, left < TimeSpan.Zero ? TimeSpan.Zero : left, ref activity);
                foreach (var r in outcome.Results) sink.Output(r);
                if (outcome.Failure is { } failure) sink.Error(failure);
                results.AddRange(outcome.Results);
            }
            catch (PaastaException e) when (services.Count > 1) { sink.Error(e); }
            finally { sink.Progress(new OperationProgress(activity, "Done") { ParentActivity = request.ParentActivity }.Complete()); }
        }
        if (waitedFor == 0 && named.Count == 0 && services.Count > 0)
            throw new PaastaException("DeployGroupNotUsed", PaastaErrorKind.InvalidArgument,
                $"No long-running instance of {string.Join(", ", services)} uses deploy group '{request.DeployGroup}'.") { Target = request.DeployGroup };
        return results;
    }

    /// <summary>The service's long-running instances in the deploy group, on the clusters asked for.</summary>
    private List<InstanceConfig> InstancesOf(ServiceConfig service, DeploymentWaitRequest request)
    {
        var selection = KubernetesInstances.Selection(new[] { service.Name }, request.Clusters, null);
        return KubernetesInstances.Select(_context, selection).Where(i => i.DeployGroup == request.DeployGroup).ToList();
    }

    /// <summary>
    /// The wait for one service, for operations that wait as one of their steps (Deploy-PaastaService): the same
    /// loop and verdicts, but nothing is written to the sink's output or errors; the outcome says how it ended.
    /// </summary>
    public DeploymentWaitOutcome Await(OperationContext context, DeploymentWaitRequest request)
    {
        _context = context;
        if (request.Services.Count != 1) throw new ArgumentException("Await waits for exactly one service.", nameof(request));
        var activity = $"Wait-PaastaDeployment {request.Services[0]} {request.DeployGroup}";
        context.Sink.Progress(new OperationProgress(activity, "Reading soa-configs") { ParentActivity = request.ParentActivity });
        try
        {
            var service = InstanceQuery.Service(context, request.Services[0]);
            return Run(service, InstancesOf(service, request), request, request.Timeout, ref activity);
        }
        finally { context.Sink.Progress(new OperationProgress(activity, "Done") { ParentActivity = request.ParentActivity }.Complete()); }
    }

    private DeploymentWaitOutcome Run(ServiceConfig service, List<InstanceConfig> instances, DeploymentWaitRequest request, TimeSpan timeout, ref string activity)
    {
        var sink = _context.Sink;
        var clusters = request.Clusters ?? (_context.Settings.Cluster is { } c ? new[] { c } : null);
        if (instances.Count == 0)
            throw new PaastaException("DeployGroupNotUsed", PaastaErrorKind.InvalidArgument,
                $"No long-running instance of {service.Name}{(clusters is null ? "" : " on " + string.Join(", ", clusters))} uses deploy group '{request.DeployGroup}'. Groups in deploy.yaml: {string.Join(", ", service.DeployGroups)}.")
            { Target = request.DeployGroup };
        var groups = ClusterConnections.Group(_context, instances.Select(i => i.Cluster), readOnly: true);

        var doc = TryLoadDeployments(service, request);
        var (sha, imageVersion) = TargetVersion(doc, request, service.Name);
        var target = $"{Short(sha)}{(imageVersion is null ? "" : "+" + imageVersion)}";
        // Later reports replace the first bar: the same id, a title that names the version.
        var previous = activity;
        activity = $"Waiting for {service.Name} {request.DeployGroup} to run {target}";
        sink.Progress(new OperationProgress(previous, "").Complete());
        sink.Verbose($"Waiting up to {timeout.TotalSeconds:0} s for {instances.Count} instance(s) on {string.Join(", ", groups.SelectMany(g => g.Clusters))} to run {target}: {string.Join(", ", instances.Select(i => i.Instance))}.");

        var watch = Stopwatch.StartNew();
        var last = new Dictionary<InstanceConfig, string>(ReferenceEqualityComparer.Instance);
        List<(InstanceConfig Instance, InstanceStatus Status, DeploymentProgress.Verdict Verdict)> states;
        string? failing = null;
        while (true)
        {
            if (request.BeforeEachRead is { } work)
            {
                work(instances);
                doc = TryLoadDeployments(service, request); // the work may have regenerated it
            }
            states = Read(groups, instances, doc, sha, imageVersion, explain: false);
            foreach (var (i, _, v) in states)
            {
                if (!last.TryGetValue(i, out var before) || before != v.Reason) sink.Verbose($"{i.Service}.{i.Instance} on {i.Cluster}: {v.Reason}");
                last[i] = v.Reason;
            }
            var converged = states.Count(s => s.Verdict.Done);
            var pending = states.FirstOrDefault(s => !s.Verdict.Done);
            sink.Progress(new OperationProgress(activity, $"{converged} of {states.Count} instance(s) ready at {target} ({(int)watch.Elapsed.TotalSeconds} s)")
            {
                PercentComplete = (int)(100.0 * converged / states.Count),
                CurrentOperation = pending.Instance is null ? "" : $"{pending.Instance.Instance}: {pending.Verdict.Reason}",
                ParentActivity = request.ParentActivity,
            });
            if (converged == states.Count || watch.Elapsed >= timeout) break;
            if (request.GiveUpWhenFailing is { } rule
                && states.Where(s => !s.Verdict.Done).Select(s => DeploymentProgress.Failing(s.Status, sha, imageVersion, rule)).FirstOrDefault(f => f is not null) is { } why)
            {
                failing = why;
                sink.Verbose($"Not waiting any longer: {why}.");
                break;
            }
            var left = timeout - watch.Elapsed;
            var delay = request.PollInterval < left ? request.PollInterval : left;
            Task.Delay(delay < TimeSpan.FromMilliseconds(100) ? TimeSpan.FromMilliseconds(100) : delay, _context.Cancellation).WaitAsync(_context.Cancellation).GetAwaiter().GetResult();
        }

        var failed = states.Where(s => !s.Verdict.Done).ToList();
        if (failed.Count > 0)
        {
            // The final word gets the pods' own explanations (probe messages from events), fetched once.
            var explained = Read(groups, failed.Select(f => f.Instance).ToList(), doc, sha, imageVersion, explain: true)
                .ToDictionary<(InstanceConfig Instance, InstanceStatus Status, DeploymentProgress.Verdict Verdict), InstanceConfig>(s => s.Instance, ReferenceEqualityComparer.Instance);
            states = states.Select(s => explained.TryGetValue(s.Instance, out var e) ? e : s).ToList();
            failed = states.Where(s => !s.Verdict.Done).ToList();
        }
        var results = states.Select(s => new DeploymentWaitResult
        {
            Service = s.Instance.Service,
            Cluster = s.Instance.Cluster,
            Instance = s.Instance.Instance,
            DeployGroup = request.DeployGroup,
            GitSha = sha,
            ImageVersion = imageVersion,
            Converged = s.Verdict.Done,
            ReadyReplicas = s.Verdict.Ready,
            RequiredReplicas = s.Verdict.Required,
            Replicas = s.Status.Replicas,
            Elapsed = watch.Elapsed,
            Reason = s.Verdict.Reason,
        }).ToList();
        if (failed.Count == 0) return new DeploymentWaitOutcome(results, null);
        var details = string.Concat(failed.Select(f => $"\n  {f.Instance.Instance} on {f.Instance.Cluster}: {f.Verdict.Reason}"));
        var failure = failing is not null
            ? new PaastaException("DeploymentFailing", PaastaErrorKind.InvalidResult,
                $"{service.Name} in {request.DeployGroup} does not come up at {target}: {failing} (after {(int)watch.Elapsed.TotalSeconds} s):{details}")
            { Target = $"{service.Name}:{request.DeployGroup}" }
            : new PaastaException("DeploymentWaitTimedOut", PaastaErrorKind.OperationTimeout,
                $"{failed.Count} of {states.Count} instance(s) of {service.Name} in {request.DeployGroup} did not run {target} within {request.Timeout.TotalSeconds:0} s (PaaSTA keeps deploying; see Get-PaastaInstanceStatus -Service {service.Name}):{details}")
            { Target = $"{service.Name}:{request.DeployGroup}" };
        return new DeploymentWaitOutcome(results, failure);
    }

    /// <summary>One read of every cluster: each instance's status and verdict, in the order given.</summary>
    private List<(InstanceConfig Instance, InstanceStatus Status, DeploymentProgress.Verdict Verdict)> Read(IReadOnlyList<ClusterGroup> groups,
        IReadOnlyList<InstanceConfig> instances, DeploymentsDocument? doc, string sha, string? imageVersion, bool explain)
    {
        var byInstance = new Dictionary<InstanceConfig, InstanceStatus>(ReferenceEqualityComparer.Instance);
        foreach (var group in groups)
        {
            var mine = instances.Where(i => group.Contains(i.Cluster)).ToList();
            if (mine.Count == 0) continue;
            var requests = mine.Select(i => new StatusRequest(i, doc is null ? null : DeploymentBranches.For(i, doc), null)).ToList();
            var statuses = new KubernetesStatusReader(group.Connect(_context)).ReadAsync(requests, _context.Cancellation, explain)
                .WaitAsync(_context.Cancellation).GetAwaiter().GetResult();
            foreach (var (i, s) in mine.Zip(statuses)) byInstance[i] = s;
        }
        return instances.Select(i => (i, byInstance[i], DeploymentProgress.Evaluate(byInstance[i], i, sha, imageVersion))).ToList();
    }

    private DeploymentsDocument? TryLoadDeployments(ServiceConfig service, DeploymentWaitRequest request)
    {
        try { return DeploymentsFileStore.Load(DeploymentsFileStore.PathFor(service.Directory), service.Name); }
        catch (PaastaException e) when (request.Commit is not null)
        {
            _context.Sink.Verbose($"No usable deployments.json ({e.Message}); waiting on the cluster only.");
            return null;
        }
    }

    /// <summary>The version to wait for: -Commit (with -ImageVersion), else what deployments.json says the group runs.</summary>
    public (string Sha, string? ImageVersion) TargetVersion(DeploymentsDocument? doc, DeploymentWaitRequest request, string service)
    {
        if (request.Commit is not null) return (request.Commit.ToLowerInvariant(), request.ImageVersion);
        if (doc is not null && doc.Deployments.TryGetValue(request.DeployGroup, out var d) && d.GitSha is not null)
        {
            _context.Sink.Verbose($"Version from deployments.json: {d.GitSha}{(d.ImageVersion is null ? "" : " image version " + d.ImageVersion)}.");
            return (d.GitSha, request.ImageVersion ?? d.ImageVersion);
        }
        throw new PaastaException("DeployGroupNotDeployed", PaastaErrorKind.ObjectNotFound,
            $"deployments.json of {service} has no deployment for '{request.DeployGroup}'; pass -Commit, or mark a version (Publish-PaastaDeployment) and run New-PaastaDeployments.")
        { Target = request.DeployGroup };
    }

    private static string Short(string sha) => sha.Length > 8 ? sha[..8] : sha;
}
