using Paasta.Config;
using Paasta.Operations;
using Paasta.Settings;
using Xunit;

namespace Paasta.Tests.Operations;

public sealed class InstanceQueryTests : IDisposable
{
    private readonly TempSoaDir _soa = new();
    private readonly RecordingSink _sink = new();

    public InstanceQueryTests()
    {
        _soa.Service("alpha");
        _soa.Write("alpha/kubernetes-prod.yaml", "main:\n  deploy_group: prod.main\ncanary:\n  deploy_group: prod.canary\n");
        _soa.Write("alpha/tron-prod.yaml", "nightly:\n  schedule: daily 04:00:00\n  actions:\n    run:\n      command: echo hi\n      deploy_group: prod.main\n");
        _soa.Service("beta");
        _soa.Write("beta/kubernetes-dev.yaml", "main: {}\n");
    }

    public void Dispose() => _soa.Dispose();

    private IReadOnlyList<InstanceConfig> Query(InstanceSelection selection) => InstanceQuery.Instances(_sink.Context(_soa.Root), selection);

    [Fact]
    public void A_literal_service_that_does_not_exist_is_ServiceNotFound_and_the_rest_still_load()
    {
        var found = Query(new InstanceSelection { Services = new[] { "nosuch", "beta" } });
        Assert.Equal(new[] { "ServiceNotFound" }, _sink.ErrorIds);
        Assert.Equal(new[] { "beta" }, found.Select(i => i.Service).Distinct());
    }

    [Fact]
    public void Among_no_service_a_named_cluster_or_instance_is_not_reported_again()
    {
        Assert.Empty(Query(new InstanceSelection { Services = new[] { "nosuch" }, Clusters = new[] { "prod" }, Instances = new[] { "main" } }));
        Assert.Equal(new[] { "ServiceNotFound" }, _sink.ErrorIds);
        while (_sink.Errors.TryDequeue(out _)) { }
        Assert.Empty(Query(new InstanceSelection { Services = new[] { "zz*" }, Clusters = new[] { "prod" } }));
        Assert.Empty(_sink.Errors);
    }

    [Fact]
    public void Clusters_are_those_of_the_instance_files_of_the_types_asked_for()
    {
        var context = _sink.Context(_soa.Root);
        Assert.Equal(new[] { "dev", "prod" }, InstanceQuery.Clusters(context, new InstanceSelection()));
        Assert.Equal(new[] { "prod" }, InstanceQuery.Clusters(context, new InstanceSelection { Clusters = new[] { "p*", "zz*" }, TypeFilter = t => t == InstanceTypes.Tron }));
        Assert.Empty(InstanceQuery.Clusters(context, new InstanceSelection { Clusters = new[] { "dev" }, TypeFilter = t => t == InstanceTypes.Tron }));
        Assert.Equal(new[] { "ClusterNotFound" }, _sink.ErrorIds);
    }

    [Fact]
    public void A_literal_cluster_that_matches_nothing_is_ClusterNotFound()
    {
        Assert.Empty(Query(new InstanceSelection { Clusters = new[] { "nosuch" } }));
        Assert.Equal(new[] { "ClusterNotFound" }, _sink.ErrorIds);
        Assert.Equal("nosuch", _sink.Errors.Single().Target);
    }

    [Fact]
    public void A_literal_instance_that_matches_nothing_is_InstanceNotFound()
    {
        Assert.Empty(Query(new InstanceSelection { Services = new[] { "alpha" }, Instances = new[] { "nosuch" } }));
        Assert.Equal(new[] { "InstanceNotFound" }, _sink.ErrorIds);
    }

    [Fact]
    public void A_literal_deploy_group_that_matches_nothing_is_DeployGroupNotFound()
    {
        Assert.Empty(Query(new InstanceSelection { Services = new[] { "alpha" }, DeployGroups = new[] { "prod.nosuch" } }));
        Assert.Equal(new[] { "DeployGroupNotFound" }, _sink.ErrorIds);
    }

    [Fact]
    public void Wildcards_may_match_nothing()
    {
        Assert.Empty(Query(new InstanceSelection { Services = new[] { "zz*" }, Clusters = new[] { "x*" }, Instances = new[] { "q?" } }));
        Assert.Empty(_sink.Errors);
    }

    [Fact]
    public void A_cluster_of_another_instance_type_does_not_count_as_found()
    {
        // beta has only kubernetes-dev; asking tron instances on dev finds no tron file for dev.
        Assert.Empty(Query(new InstanceSelection { Clusters = new[] { "dev" }, TypeFilter = t => t == InstanceTypes.Tron, TypeDescription = "tron" }));
        Assert.Equal(new[] { "ClusterNotFound" }, _sink.ErrorIds);
        Assert.Contains("tron instances", _sink.Errors.Single().Message);
    }

    [Fact]
    public void Names_match_case_insensitively_and_wildcards_select()
    {
        var found = Query(new InstanceSelection { Services = new[] { "ALPHA" }, Clusters = new[] { "PROD" }, Instances = new[] { "ma*", "nightly.run" } });
        Assert.Empty(_sink.Errors);
        Assert.Equal(new[] { "main", "nightly.run" }, found.Select(i => i.Instance).Order());
    }

    [Fact]
    public void Deploy_group_selection_keeps_only_that_group()
    {
        var found = Query(new InstanceSelection { DeployGroups = new[] { "prod.canary" } });
        Assert.Equal(new[] { "canary" }, found.Select(i => i.Instance));
    }

    [Fact]
    public void The_cluster_setting_applies_only_when_asked_for()
    {
        var sink = new RecordingSink();
        var context = sink.Context(_soa.Root, saved: new PaastaSettings { Cluster = "dev" });
        Assert.Equal(new[] { "dev" }, InstanceQuery.Instances(context, new InstanceSelection { DefaultClusterFromSettings = true }).Select(i => i.Cluster).Distinct());
        Assert.Contains("prod", InstanceQuery.Instances(context, new InstanceSelection()).Select(i => i.Cluster));
    }

    [Fact]
    public void A_trailing_slash_from_tab_completion_is_ignored()
    {
        Assert.Equal(new[] { "beta" }, InstanceQuery.ServiceNames(_sink.Context(_soa.Root), new[] { "beta/" }));
        Assert.Empty(_sink.Errors);
    }

    [Fact]
    public void A_service_name_that_is_a_path_is_refused()
    {
        InstanceQuery.ServiceNames(_sink.Context(_soa.Root), new[] { "../etc" });
        Assert.Equal(new[] { "InvalidServiceName" }, _sink.ErrorIds);
    }
}
