using Paasta.Config;
using Paasta.Deployments;
using Paasta.Operations;
using Paasta.Tests.Git;

namespace Paasta.Tests.Operations;

/// <summary>Start, stop and restart through the operation, against real repositories.</summary>
public sealed class InstanceControlOperationsTests : IDisposable
{
    private readonly GitTestRepository _repo = new();
    private readonly SoaConfigsFolder _soa = new();
    private readonly RecordingSink _sink = new();
    private readonly string _main;
    private readonly string _eks;

    public InstanceControlOperationsTests()
    {
        _soa.Write("svc", "service.yaml", $"description: test\nexternal_link: http://example\ngit_url: {_repo.Remote}\n");
        _soa.Write("svc", "kubernetes-c1.yaml", "main:\n  deploy_group: prod.main\ncanary:\n  deploy_group: prod.canary\n");
        // The same cluster.instance in the eks file of the cluster, in another deploy group.
        _soa.Write("svc", "eks-c1.yaml", "main:\n  deploy_group: prod.eks\n");
        _main = _repo.Commit("main");
        _eks = _repo.Commit("eks");
        var setup = new RecordingSink();
        new DeploymentOperations().Publish(setup.Context(_soa.Root), new PublishRequest(new[]
        {
            new PublishTarget("svc", "prod.main", _main), new PublishTarget("svc", "prod.canary", _main), new PublishTarget("svc", "prod.eks", _eks),
        }));
        Assert.Empty(setup.Errors);
    }

    public void Dispose()
    {
        _repo.Dispose();
        _soa.Dispose();
    }

    private OperationContext Context => _sink.Context(_soa.Root);

    private List<KeyValuePair<string, string>> Tags(string suffix) => _repo.LsRemote().Where(k => k.Key.EndsWith(suffix, StringComparison.Ordinal)).ToList();

    private IReadOnlyList<InstanceControlResult> Control(ControlAction action, string? cluster, string? instance) =>
        new InstanceControlOperations().Control(Context, new InstanceControlRequest(action)
        {
            Selections = new[] { new InstanceControlSelection("svc", cluster is null ? null : new[] { cluster }, instance is null ? null : new[] { instance }) },
        });

    [Fact]
    public void An_instance_in_both_the_kubernetes_and_eks_file_gets_one_stop_tag()
    {
        var result = Assert.Single(Control(ControlAction.Stop, "c1", "main"));
        var tag = Assert.Single(Tags("-stop"));
        Assert.Equal("refs/tags/" + result.Tag, tag.Key);
        // paasta stop takes the instance type it finds first (kubernetes before eks): that deploy group's commit.
        Assert.Equal(("prod.main", _main), (result.DeployGroup, tag.Value));
        Assert.Contains(_sink.Messages, m => m.Text.Contains("is in its kubernetes and eks files", StringComparison.Ordinal));
    }

    [Fact]
    public void Piped_duplicates_are_tagged_once()
    {
        var reader = new SoaConfigReader(_soa.Root);
        var instances = reader.LoadInstances(reader.LoadService("svc")).Select(r => r.Value!).ToList();
        var request = new InstanceControlRequest(ControlAction.Restart)
        {
            Instances = instances.Concat(instances).ToList(),
            Selections = new[] { new InstanceControlSelection("svc", new[] { "c1" }, new[] { "canary" }) },
        };
        var results = new InstanceControlOperations().Control(Context, request);
        Assert.Equal(new[] { "canary", "main" }, results.Select(r => r.Instance).Order(StringComparer.Ordinal));
        Assert.Equal(2, Tags("-start").Count);
    }

    [Fact]
    public void Stop_needs_clusters_and_instances_by_name()
    {
        var e = Assert.Throws<Paasta.Errors.PaastaException>(() => Control(ControlAction.Stop, "c1", null));
        Assert.Equal("ExplicitInstanceRequired", e.ErrorId);
        Assert.Empty(Tags("-stop"));
    }

    [Fact]
    public void Not_found_comes_from_the_instance_query()
    {
        Assert.Empty(Control(ControlAction.Start, "c1", "nosuch"));
        Assert.Equal("InstanceNotFound", Assert.Single(_sink.ErrorIds));
        Assert.Empty(Control(ControlAction.Start, "nosuch", null));
        Assert.Equal("ClusterNotFound", _sink.ErrorIds.Last());
    }

    [Fact]
    public void Services_are_names_or_wildcards_of_the_instance_query()
    {
        var byWildcard = new InstanceControlRequest(ControlAction.Restart)
        {
            Selections = new[] { new InstanceControlSelection(new[] { "s*", "zz*" }, new[] { "c1" }, new[] { "canary" }) },
        };
        Assert.Equal("canary", Assert.Single(new InstanceControlOperations().Control(Context, byWildcard)).Instance);
        Assert.Empty(_sink.ErrorIds);

        var byName = new InstanceControlRequest(ControlAction.Restart) { Selections = new[] { new InstanceControlSelection(new[] { "nosuch" }, new[] { "c1" }) } };
        Assert.Empty(new InstanceControlOperations().Control(Context, byName));
        Assert.Equal("ServiceNotFound", Assert.Single(_sink.ErrorIds));
    }

    [Theory]
    [InlineData("ünï")]
    [InlineData("two words")]
    public void An_instance_name_no_tag_can_carry_is_refused_before_anything_is_written(string name)
    {
        _soa.Write("svc", "kubernetes-c2.yaml", $"\"{name}\":\n  deploy_group: prod.main\n");
        Assert.Empty(Control(ControlAction.Stop, "c2", name));
        var error = Assert.Single(_sink.Errors);
        Assert.Equal("InstanceNameNotTaggable", error.ErrorId);
        Assert.EndsWith("kubernetes-c2.yaml", error.File);
        Assert.Empty(_sink.Asked);
        Assert.Empty(Tags("-stop"));
    }

    [Fact]
    public void A_refused_name_does_not_stop_the_others()
    {
        _soa.Write("svc", "kubernetes-c2.yaml", "\"ünï\":\n  deploy_group: prod.main\nok:\n  deploy_group: prod.main\n");
        var results = Control(ControlAction.Start, "c2", null);
        Assert.Equal("ok", Assert.Single(results).Instance);
        Assert.Equal("InstanceNameNotTaggable", Assert.Single(_sink.ErrorIds));
        Assert.Single(Tags("-start"));
    }

    [Fact]
    public void Declined_instances_are_not_tagged_and_progress_names_each_step()
    {
        _sink.Confirm = false;
        Assert.Empty(Control(ControlAction.Restart, "c1", null));
        Assert.Equal(2, _sink.Asked.Count);
        Assert.Empty(Tags("-start"));

        var reports = new RecordingSink();
        new InstanceControlOperations().Control(reports.Context(_soa.Root), new InstanceControlRequest(ControlAction.Start)
        {
            Selections = new[] { new InstanceControlSelection("svc", new[] { "c1" }) },
        });
        var steps = reports.ProgressReports.Where(p => p.Activity == "Start-PaastaInstance" && p.State == ProgressState.Running && p.Status.StartsWith("svc.", StringComparison.Ordinal)).ToList();
        Assert.Equal(new[] { "svc.main on c1: writing the start tag", "svc.canary on c1: writing the start tag" }, steps.Select(s => s.Status));
        Assert.Equal(new[] { 0, 50 }, steps.Select(s => s.PercentComplete));
    }
}
