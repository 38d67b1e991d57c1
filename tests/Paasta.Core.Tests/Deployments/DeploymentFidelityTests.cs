using Paasta.Config;
using Paasta.Deployments;

namespace Paasta.Tests.Deployments;

/// <summary>deployments.json as PaaSTA reads and writes it where Paasta used to differ (issue 15).</summary>
public class DeploymentFidelityTests
{
    private const string Sha = "4ef01b5a574b519ab546309e89f72972a33b6b75";

    private static List<InstanceConfig> Instances(TempSoaDir soa)
    {
        var reader = new SoaConfigReader(soa.Root);
        return DeploymentService.LoadAllInstances(reader, reader.LoadService("svc")).ToList();
    }

    [Fact]
    public void Deploy_group_null_stays_None()
    {
        using var soa = new TempSoaDir();
        soa.Service("svc");
        soa.Write("svc/kubernetes-c1.yaml", "nogroup:\n  deploy_group: null\ndefaulted: {}\n");
        var instances = Instances(soa);
        // PaaSTA's get_deploy_group is config.get("deploy_group", branch): a key set to null is None, not the default.
        Assert.Null(instances.Single(i => i.Instance == "nogroup").DeployGroup);
        Assert.Equal("c1.defaulted", instances.Single(i => i.Instance == "defaulted").DeployGroup);
        Assert.Equal(new[] { "c1.defaulted" }, DeploymentsGenerator.ControlBranches(instances).Select(b => b.Branch));
    }

    [Fact]
    public void An_instance_without_a_control_entry_has_no_branch()
    {
        using var soa = new TempSoaDir();
        soa.Service("svc");
        soa.Write("svc/kubernetes-c1.yaml", "main:\n  deploy_group: prod.main\nlate:\n  deploy_group: prod.main\n");
        var instances = Instances(soa);
        var document = new DeploymentsDocument();
        document.Deployments["prod.main"] = new DeploymentEntry($"services-svc:paasta-{Sha}", Sha, null);
        document.Controls["svc:c1.main"] = new ControlEntry("stop", "20240101T000000");

        var main = DeploymentBranches.For(instances.Single(i => i.Instance == "main"), document);
        Assert.Equal(("stop", "20240101T000000"), (main!.DesiredState, main.ForceBounce));
        // PaaSTA raises NoDeploymentsAvailable for a missing controls entry, and setup_kubernetes_job skips the instance.
        Assert.Null(DeploymentBranches.For(instances.Single(i => i.Instance == "late"), document));
        var described = DeploymentService.DescribeFromFile("svc", instances, document).ToList();
        Assert.True(described.Single(i => i.Instance == "main").Deployed);
        Assert.False(described.Single(i => i.Instance == "late").Deployed);
    }

    [Fact]
    public void Groups_dropped_while_in_use_are_the_loss()
    {
        using var soa = new TempSoaDir();
        soa.Service("svc");
        soa.Write("svc/kubernetes-c1.yaml", "main:\n  deploy_group: prod.main\n");
        var branches = DeploymentsGenerator.ControlBranches(Instances(soa));
        var current = new DeploymentsDocument();
        current.Deployments["prod.main"] = new DeploymentEntry("x", Sha, null);
        current.Deployments["prod.gone"] = new DeploymentEntry("x", Sha, null);
        Assert.Equal(new[] { "prod.main" }, DeploymentsGenerator.DroppedDeployGroups(current, new DeploymentsDocument(), branches));
        Assert.Empty(DeploymentsGenerator.DroppedDeployGroups(current, current, branches));
        Assert.Empty(DeploymentsGenerator.DroppedDeployGroups(null, new DeploymentsDocument(), branches));
    }
}
