using Paasta.Config;
using Paasta.Docker;
using Paasta.Errors;
using Paasta.Tron;

namespace Paasta.Operations;

/// <summary>Which Tron namespace configs to generate (ConvertTo-PaastaTronConfig, Sync-PaastaTronNamespace -Service).</summary>
public sealed record TronNamespaceRequest
{
    /// <summary>Service names or wildcards. A wildcard keeps only services with a job that has a paasta, ssh or spark action (setup_tron_namespace --all).</summary>
    public IReadOnlyList<string> Services { get; init; } = Array.Empty<string>();
    /// <summary>The Tron cluster; null: the Cluster setting.</summary>
    public string? Cluster { get; init; }
    /// <summary>Also generate MASTER (first) from SOA_DIR/tron/CLUSTER/MASTER.yaml.</summary>
    public bool IncludeMaster { get; init; }
    /// <summary>With <see cref="IncludeMaster"/>: /host:/container[:ro|rw] volumes for MASTER's k8s_options.default_volumes.</summary>
    public IReadOnlyList<string>? DefaultVolumes { get; init; }
}

/// <summary>How to talk to the Tron master.</summary>
public sealed record TronSyncRequest
{
    /// <summary>-TronToken; null: $env:PAASTA_TRON_TOKEN (required when $env:TRONCTL_API_AUTH is set).</summary>
    public string? Token { get; init; }
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// Tron namespaces: generating each service's config from soa-configs as setup_tron_namespace does, and pushing
/// configs to a Tron master with its compare-then-post protocol (docs/BEHAVIOUR.md §10.2–10.3). A job with a
/// stopped action is written with enabled: false until the next deploy (<see cref="TronJobControls"/>).
/// </summary>
public static class TronNamespaceOperation
{
    /// <summary>
    /// The namespace configs asked for: MASTER first (with IncludeMaster), then one per service, sorted. A service
    /// named exactly without a tron file for the cluster gives an empty namespace (jobs: {}), as PaaSTA generates
    /// it, so syncing it removes its jobs from the master; with wildcards such services are left out. A cluster
    /// that no service has a tron file for, and that has no tron/CLUSTER folder, is ClusterNotFound: a typo must
    /// not push empty namespaces. Per-service failures go to the sink and the others are still generated.
    /// </summary>
    public static IReadOnlyList<TronNamespaceConfig> Generate(OperationContext context, TronNamespaceRequest request, string command = "ConvertTo-PaastaTronConfig")
    {
        var reader = context.Reader;
        var cluster = ClusterSetting.Required(context, request.Cluster, command);
        if (request.DefaultVolumes is not null && !request.IncludeMaster)
            throw new PaastaException("DefaultVolumeNeedsMaster", PaastaErrorKind.InvalidArgument,
                "-DefaultVolume sets MASTER's default_volumes; add -IncludeMaster.") { Target = "DefaultVolume" };
        var volumes = request.DefaultVolumes?.Select(ParseVolume).ToList();

        var patterns = request.Services.Select(NamePattern.Parse).ToList();
        var names = InstanceQuery.ServiceNames(context, request.Services);
        bool Named(string service) => patterns.Any(p => !p.IsWildcard && p.IsMatch(service));
        if (!names.Any(n => File.Exists(Path.Combine(reader.SoaDir, n, $"tron-{cluster}.yaml"))))
            ClusterSetting.RequireTronCluster(context, cluster);

        var configs = new List<TronNamespaceConfig>();
        if (request.IncludeMaster)
        {
            var master = TronConfigBuilder.BuildMaster(reader.SoaDir, cluster, volumes);
            if (master is null)
                context.Sink.Error(new PaastaException("TronMasterConfigNotFound", PaastaErrorKind.ObjectNotFound,
                    $"-IncludeMaster: there is no {TronConfigBuilder.MasterPath(reader.SoaDir, cluster)}.") { Target = TronConfigBuilder.MasterNamespace });
            else configs.Add(master);
        }
        var controls = new TronJobControls(reader.SoaDir);
        foreach (var name in names)
        {
            context.Cancellation.ThrowIfCancellationRequested();
            try
            {
                var service = reader.LoadService(name);
                var file = TronJobReader.FileFor(service, cluster);
                var named = Named(name);
                if (!File.Exists(file))
                {
                    if (!named) continue;
                    context.Sink.Verbose($"{name} has no {Path.GetFileName(file)}: its namespace has no jobs.");
                }
                var images = new TronImageResolver(reader, svc => svc is null ? context.Settings.DockerRegistry : context.RegistryFor(svc));
                // A job that fails its checks is left out and reported; the service's valid jobs still go (docs/DIFFERENCES.md#tron-invalid-jobs).
                var config = TronConfigBuilder.BuildServiceNamespace(reader, service, cluster, images, controls);
                foreach (var problem in config.InvalidJobs) context.Sink.Error(problem.ToException());
                if (!named && !config.HasSchedulableAction)
                {
                    context.Sink.Verbose($"{name}: {Path.GetFileName(file)} has no job with a paasta, ssh or spark action; left out, as setup_tron_namespace --all does.");
                    continue;
                }
                foreach (var job in config.StoppedJobs)
                    context.Sink.Verbose($"{name}.{job.Job}: stopped (deployments.json says stop for {string.Join(", ", job.Actions)}); written with enabled: false until the next deploy.");
                foreach (var warning in config.Warnings) context.Sink.Warning(warning);
                configs.Add(config);
            }
            catch (PaastaException e) { context.Sink.Error(e); }
        }
        return configs;
    }

    /// <summary>
    /// Sends each config to the Tron master (-TronUrl, $env:PAASTA_TRON_URL, the setting), MASTER first, then by
    /// name: reads what the master holds, sends nothing when the YAML says the same (Unchanged), else asks
    /// ShouldProcess with the diff and posts the config with the hash it read. A namespace that fails is a
    /// Failed result and an error; the others still go.
    /// </summary>
    public static IReadOnlyList<TronNamespaceSyncResult> Sync(OperationContext context, IReadOnlyList<TronNamespaceConfig> configs, TronSyncRequest request, HttpMessageHandler? handler = null)
    {
        var results = new List<TronNamespaceSyncResult>();
        if (configs.Count == 0) return results;
        var url = TronClient.ResolveUrl(context.Settings);
        var token = TronClient.ResolveToken(request.Token);
        if (token is not null) context.Sink.Verbose("Tron API requests carry a bearer token.");
        using var client = new TronClient(url, token, handler, request.Timeout);
        var sync = new TronNamespaceSync(client);
        // MASTER first (it defines what the other namespaces may use), then the rest in name order.
        var ordered = configs.OrderBy(c => c.Namespace == TronConfigBuilder.MasterNamespace ? 0 : 1).ThenBy(c => c.Namespace, StringComparer.Ordinal).ToList();
        for (var i = 0; i < ordered.Count; i++)
        {
            var config = ordered[i];
            context.Sink.Progress(new OperationProgress($"Syncing Tron namespaces on {url}", config.Namespace) { PercentComplete = 100 * i / ordered.Count });
            results.Add(SyncOne(context, sync, config, url));
        }
        context.Sink.Progress(new OperationProgress($"Syncing Tron namespaces on {url}", "done").Complete());
        context.Sink.Verbose($"Tron API: {client.Requests} request(s), {client.Posts} update(s).");
        return results;
    }

    private static TronNamespaceSyncResult SyncOne(OperationContext context, TronNamespaceSync sync, TronNamespaceConfig config, Uri url)
    {
        TronNamespaceSyncResult result;
        TronStoredConfig current;
        try { (result, current) = sync.PlanAsync(config, context.Cancellation).GetAwaiter().GetResult(); }
        catch (PaastaException e)
        {
            context.Sink.Error(e);
            return new TronNamespaceSyncResult { Namespace = config.Namespace, Cluster = config.Cluster, TronUrl = url.ToString(), Action = TronSyncAction.Failed, NewHash = config.Hash, Jobs = config.Jobs, Message = e.Message };
        }
        if (result.Action == TronSyncAction.Unchanged)
        {
            context.Sink.Verbose($"{config.Namespace}: the Tron master already holds this config (hash {result.OldHash}); nothing sent.");
            return result;
        }
        if (!context.Sink.ShouldProcess($"Tron namespace {config.Namespace} on {url}: update\n{result.Diff}", "Send this config")) return result with { WhatIf = true };
        try
        {
            sync.ApplyAsync(config, current, context.Cancellation).GetAwaiter().GetResult();
            return result;
        }
        catch (PaastaException e)
        {
            context.Sink.Error(e);
            return result with { Action = TronSyncAction.Failed, NewHash = current.Hash, Message = e.Message };
        }
    }

    /// <summary>/host:/container[:ro|rw] as MASTER's volume entry (mode RO or RW, as PaaSTA writes system volumes).</summary>
    private static ExtraVolume ParseVolume(string spec)
    {
        var parts = LocalRunPlanner.ValidateVolume(spec).Split(':');
        return new ExtraVolume(parts[1], parts[0], parts[2].ToUpperInvariant());
    }
}
