using System.Text.Json.Nodes;
using Paasta.Config;
using Paasta.Jobs;
using Paasta.Tron;
using Paasta.Errors;

namespace Paasta.Tests.Jobs;

/// <summary>
/// Sync-PaastaJob's plan against live CronJobs given as JSON (no server): what is kept, replaced, refused and
/// pruned. A live CronJob is only touched for the service, cluster and job its labels name.
/// </summary>
public class JobReconcilerTests : IDisposable
{
    private const string Sha = "4ef01b5a574b519ab546309e89f72972a33b6b75";
    private const string Cluster = "pnw-prod";
    private readonly TempSoaDir _soa = new();

    public void Dispose() => _soa.Dispose();

    private static string Job(string name, string command = "true") => $"""
        {name}:
          schedule: "cron 0 3 * * *"
          deploy_group: prod.main
          actions:
            run:
              command: "{command}"
        """ + "\n";

    private void Service(string name, string tronFile)
    {
        _soa.Service(name, "backend", "prod.main");
        _soa.Write($"{name}/tron-{Cluster}.yaml", tronFile);
        _soa.Write($"{name}/deployments.json",
            """{"v2": {"deployments": {"prod.main": {"docker_image": "services-x:paasta-SHA", "git_sha": "SHA", "image_version": null}}, "controls": {}}}""".Replace("SHA", Sha));
    }

    private JobSyncRequest Request(string service, string job)
    {
        var reader = new SoaConfigReader(_soa.Root);
        var j = TronJobReader.Load(reader, reader.LoadService(service), Cluster).Single(x => x.Name == job);
        var images = new TronImageResolver(reader, "registry.example:443", null);
        return new JobSyncRequest(j, j.Actions.ToDictionary(a => a.Name, images.For));
    }

    /// <summary>The CronJob Paasta writes for the job as it is on disk now, as the server would list it.</summary>
    private JsonObject Live(string service, string job)
    {
        var r = Request(service, job);
        var body = (JsonObject)CronJobBuilder.Build(r.Job, r.Images, CronJobBuilderTests.V1beta1).Body.DeepClone();
        body["metadata"]!["resourceVersion"] = "1";
        return body;
    }

    private static async Task<JobReconciler> Reconciler()
    {
        // batch/v1beta1, as Kubernetes 1.20 serves it; the plan itself makes no request.
        using var offline = new Kubernetes.OfflineKubeConnection();
        var api = await CronJobApi.DiscoverAsync(offline.Kube, new StaticDiscovery(), CancellationToken.None);
        return new JobReconciler(api);
    }

    private sealed class StaticDiscovery : ICronJobDiscovery
    {
        public Task<bool> ServesAsync(string groupVersion, CancellationToken cancellation) => Task.FromResult(groupVersion == "batch/v1beta1");
        public Task<IReadOnlyCollection<string>> BatchV1ResourcesAsync(CancellationToken cancellation) => Task.FromResult<IReadOnlyCollection<string>>(Array.Empty<string>());
        public Task<KubeServerVersion?> VersionAsync(CancellationToken cancellation) => Task.FromResult<KubeServerVersion?>(null);
    }

    [Fact]
    public async Task AConfiguredJobThatCouldNotBePlannedKeepsItsCronJob()
    {
        Service("svc", Job("keep") + Job("other") + Job("gone"));
        var live = new List<JsonObject> { Live("svc", "keep"), Live("svc", "other"), Live("svc", "gone") };
        Service("svc", Job("keep") + Job("other"));
        // 'keep' is still in tron-pnw-prod.yaml, but its image lookup failed, so there is no request for it.
        var plan = (await Reconciler()).Plan(new[] { Request("svc", "other") }, new[] { new JobScope("svc", Cluster, new[] { "keep", "other" }) }, live);

        Assert.Equal(JobSyncAction.Unchanged, plan.Single(p => p.Result.Job == "other").Result.Action);
        Assert.DoesNotContain(plan, p => p.Result.Job == "keep");
        var gone = Assert.Single(plan, p => p.Result.Action == JobSyncAction.Deleted);
        Assert.Equal("gone", gone.Result.Job);
        Assert.Equal("svc-gone", gone.Result.Name);
    }

    [Fact]
    public async Task ACronJobOfAnotherServiceWithTheSameNameIsNeitherReplacedNorPruned()
    {
        // service a-b job c and service a job b-c are both CronJob a-b-c.
        Service("a-b", Job("c", "echo a-b"));
        Service("a", Job("b-c", "echo a"));
        var live = new List<JsonObject> { Live("a-b", "c") };
        Assert.Equal("a-b-c", live[0]["metadata"]!["name"]!.GetValue<string>());

        var plan = (await Reconciler()).Plan(new[] { Request("a", "b-c") }, new[] { new JobScope("a", Cluster, new[] { "b-c" }) }, live);
        var refused = Assert.Single(plan);
        Assert.Equal(JobSyncAction.Failed, refused.Result.Action);
        Assert.Equal("CronJobNameConflict", refused.Error!.ErrorId);
        Assert.Equal(PaastaErrorKind.InvalidOperation, refused.Error.Kind);
        Assert.Contains("service a-b job c on cluster pnw-prod", refused.Error.Message);
        Assert.Null(refused.Desired); // nothing to write

        // Its owner's own sync still prunes it once job c is gone from a-b's file.
        var owners = (await Reconciler()).Plan(Array.Empty<JobSyncRequest>(), new[] { new JobScope("a-b", Cluster, Array.Empty<string>()), new JobScope("a", Cluster, new[] { "b-c" }) }, live);
        var deleted = Assert.Single(owners);
        Assert.Equal(JobSyncAction.Deleted, deleted.Result.Action);
        Assert.Equal("a-b", deleted.Result.Service);
    }

    [Fact]
    public async Task TwoJobsOfOneSyncThatShareANameCreateOnlyTheFirst()
    {
        Service("a-b", Job("c"));
        Service("a", Job("b-c"));
        var plan = (await Reconciler()).Plan(new[] { Request("a-b", "c"), Request("a", "b-c") }, Array.Empty<JobScope>(), new List<JsonObject>());
        Assert.Equal(JobSyncAction.Created, plan[0].Result.Action);
        Assert.Equal(JobSyncAction.Failed, plan[1].Result.Action);
        Assert.Equal("CronJobNameConflict", plan[1].Error!.ErrorId);
        Assert.Contains("job 'c' of a-b", plan[1].Error!.Message);
    }

    [Fact]
    public async Task AReplacementListsTheFieldsItChanges()
    {
        Service("svc", Job("nightly", "echo old"));
        var live = new List<JsonObject> { Live("svc", "nightly") };
        Service("svc", Job("nightly", "echo new").Replace("cron 0 3 * * *", "cron 0 4 * * *"));
        var item = Assert.Single((await Reconciler()).Plan(new[] { Request("svc", "nightly") }, Array.Empty<JobScope>(), live));
        Assert.Equal(JobSyncAction.Updated, item.Result.Action);
        Assert.Contains(item.Result.Changes, c => c.Contains("spec.schedule: '0 3 * * *' -> '0 4 * * *'"));
        Assert.Contains(item.Result.Changes, c => c.Contains("containers[run].command") && c.Contains("'echo old' -> 'echo new'"));
        Assert.Contains(item.Result.Changes, c => c.StartsWith("config_sha config"));
        Assert.DoesNotContain(item.Result.Changes, c => c.Contains(CronJobBuilder.ConfigShaLabel));
    }
}
