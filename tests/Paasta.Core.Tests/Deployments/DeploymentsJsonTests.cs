using System.Text;
using Paasta.Deployments;
using Paasta.Git;
using Paasta.Config;

namespace Paasta.Tests.Deployments;

public class DeploymentsJsonTests
{
    private const string Main = "4ef01b5a574b519ab546309e89f72972a33b6b75";
    private const string Canary = "9085fd67ed1bb5fadafa7f2afaf8dedee7342711";

    // Spec §3.3's example as Python's json.dump writes it (checked against CPython's json.dumps).
    private const string SpecExample =
        "{\"v1\": {\"example_service:paasta-pnw-prod.main\": {\"docker_image\": \"services-example_service:paasta-4ef01b5a574b519ab546309e89f72972a33b6b75\", \"desired_state\": \"start\", \"force_bounce\": null}, " +
        "\"example_service:paasta-pnw-prod.canary\": {\"docker_image\": \"services-example_service:paasta-9085fd67ed1bb5fadafa7f2afaf8dedee7342711-1710512553\", \"desired_state\": \"stop\", \"force_bounce\": \"20240316T090000\"}}, " +
        "\"v2\": {\"deployments\": {\"prod.non_canary\": {\"docker_image\": \"services-example_service:paasta-4ef01b5a574b519ab546309e89f72972a33b6b75\", \"git_sha\": \"4ef01b5a574b519ab546309e89f72972a33b6b75\", \"image_version\": null}, " +
        "\"prod.canary\": {\"docker_image\": \"services-example_service:paasta-9085fd67ed1bb5fadafa7f2afaf8dedee7342711-1710512553\", \"git_sha\": \"9085fd67ed1bb5fadafa7f2afaf8dedee7342711\", \"image_version\": \"1710512553\"}}, " +
        "\"controls\": {\"example_service:pnw-prod.main\": {\"desired_state\": \"start\", \"force_bounce\": null}, \"example_service:pnw-prod.canary\": {\"desired_state\": \"stop\", \"force_bounce\": \"20240316T090000\"}}}}";

    internal static InstanceConfig Instance(string cluster, string instance, string? deployGroup, string type = "kubernetes", string service = "example_service") => new()
    {
        Service = service,
        Instance = instance,
        Cluster = cluster,
        InstanceType = type,
        SoaDir = "/soa",
        File = $"/soa/{service}/{type}-{cluster}.yaml",
        DeployGroup = deployGroup,
    };

    internal static GitRefListing Refs(params (string Name, string Sha)[] refs) =>
        new(GitRepositoryLocation.Parse("/nonexistent/repo.git"), refs.Select(r => new GitRef(r.Name, r.Sha)));

    [Fact]
    public void The_spec_example_serialises_byte_for_byte()
    {
        var refs = Refs(
            ("refs/heads/main", Main),
            ("refs/tags/paasta-prod.non_canary-20240315T142233-deploy", Main),
            ("refs/tags/paasta-prod.canary+1710512553-20240315T142233-deploy", Canary),
            ("refs/tags/paasta-pnw-prod.canary-20240316T090000-stop", Canary));
        var branches = DeploymentsGenerator.ControlBranches(new[]
        {
            Instance("pnw-prod", "main", "prod.non_canary"),
            Instance("pnw-prod", "canary", "prod.canary"),
        });
        var json = DeploymentsGenerator.Generate("example_service", branches, refs).ToJson();
        Assert.Equal(SpecExample, json);
        Assert.DoesNotContain("\n", json);
    }

    [Fact]
    public void Empty_deployments_are_the_git_url_null_file()
    {
        Assert.Equal("{\"v1\": {}, \"v2\": {\"deployments\": {}, \"controls\": {}}}", new DeploymentsDocument().ToJson());
        Assert.Equal("{\"v1\": {}, \"v2\": {\"deployments\": {}, \"controls\": {}}}",
            DeploymentsGenerator.Generate("svc", DeploymentsGenerator.ControlBranches(new[] { Instance("c", "i", "g") }), (GitRefListing?)null).ToJson());
    }

    [Fact]
    public void Strings_are_escaped_like_ensure_ascii()
    {
        var sb = new StringBuilder();
        PythonJson.WriteString(sb, "é\u007f\u0001\"\\\n\t\b\f\r😀 ~");
        Assert.Equal("\"\\u00e9\\u007f\\u0001\\\"\\\\\\n\\t\\b\\f\\r\\ud83d\\ude00 ~\"", sb.ToString());
    }

    [Fact]
    public void Non_ascii_names_are_escaped_in_the_file()
    {
        var doc = new DeploymentsDocument();
        doc.Controls["sérvice:c.i"] = new ControlEntry("start", null);
        Assert.Equal("{\"v1\": {}, \"v2\": {\"deployments\": {}, \"controls\": {\"s\\u00e9rvice:c.i\": {\"desired_state\": \"start\", \"force_bounce\": null}}}}", doc.ToJson());
    }

    [Fact]
    public void Parse_reads_back_what_ToJson_writes()
    {
        var doc = DeploymentsDocument.Parse(SpecExample);
        Assert.Equal(SpecExample, doc.ToJson());
        Assert.Equal("1710512553", doc.Deployments["prod.canary"].ImageVersion);
        Assert.Equal("stop", doc.Controls["example_service:pnw-prod.canary"].DesiredState);
        Assert.Null(doc.Controls["example_service:pnw-prod.main"].ForceBounce);
    }

    [Fact]
    public void The_old_file_is_compared_as_a_dict()
    {
        using var dir = new Paasta.Tests.Git.SoaConfigsFolder();
        var path = Path.Combine(dir.Root, "deployments.json");
        Assert.True(DeploymentsFileStore.Differs(path, SpecExample)); // missing → {}
        File.WriteAllText(path, "{not json");
        Assert.True(DeploymentsFileStore.Differs(path, SpecExample)); // invalid → {}
        File.WriteAllText(path, "[]");
        Assert.True(DeploymentsFileStore.Differs(path, SpecExample));
        File.WriteAllText(path, SpecExample);
        Assert.False(DeploymentsFileStore.Differs(path, SpecExample));
        // Same dict, other key order and spacing: Python's != says equal, so no rewrite.
        var reordered = "{ \"v2\": {\"controls\": {\"example_service:pnw-prod.canary\": {\"force_bounce\": \"20240316T090000\", \"desired_state\": \"stop\"}, \"example_service:pnw-prod.main\": {\"desired_state\": \"start\", \"force_bounce\": null}}, " +
            "\"deployments\": {\"prod.canary\": {\"docker_image\": \"services-example_service:paasta-9085fd67ed1bb5fadafa7f2afaf8dedee7342711-1710512553\", \"git_sha\": \"9085fd67ed1bb5fadafa7f2afaf8dedee7342711\", \"image_version\": \"1710512553\"}, \"prod.non_canary\": {\"docker_image\": \"services-example_service:paasta-4ef01b5a574b519ab546309e89f72972a33b6b75\", \"git_sha\": \"4ef01b5a574b519ab546309e89f72972a33b6b75\", \"image_version\": null}}},\n" +
            "\"v1\": {\"example_service:paasta-pnw-prod.canary\": {\"docker_image\": \"services-example_service:paasta-9085fd67ed1bb5fadafa7f2afaf8dedee7342711-1710512553\", \"desired_state\": \"stop\", \"force_bounce\": \"20240316T090000\"}, \"example_service:paasta-pnw-prod.main\": {\"docker_image\": \"services-example_service:paasta-4ef01b5a574b519ab546309e89f72972a33b6b75\", \"desired_state\": \"start\", \"force_bounce\": null}}}\n";
        File.WriteAllText(path, reordered);
        Assert.False(DeploymentsFileStore.Differs(path, SpecExample));
        File.WriteAllText(path, SpecExample.Replace("\"stop\"", "\"start\""));
        Assert.True(DeploymentsFileStore.Differs(path, SpecExample));
    }
}

public class DeploymentsGeneratorTests
{
    private const string Old = "1111111111111111111111111111111111111111";
    private const string New = "2222222222222222222222222222222222222222";
    private static InstanceConfig Instance(string c, string i, string? g, string type = "kubernetes") => DeploymentsJsonTests.Instance(c, i, g, type, "svc");

    private static DeploymentsDocument Generate(InstanceConfig[] instances, params (string, string)[] refs) =>
        DeploymentsGenerator.Generate("svc", DeploymentsGenerator.ControlBranches(instances), DeploymentsJsonTests.Refs(refs));

    [Fact]
    public void A_stop_tag_on_an_older_sha_is_ignored()
    {
        var doc = Generate(new[] { Instance("c", "main", "prod") },
            ("refs/tags/paasta-prod-20240101T000000-deploy", Old),
            ("refs/tags/paasta-c.main-20240102T000000-stop", Old),
            ("refs/tags/paasta-prod-20240103T000000-deploy", New));
        Assert.Equal(New, doc.Deployments["prod"].GitSha);
        Assert.Equal(new ControlEntry("start", null), doc.Controls["svc:c.main"]);
        Assert.Equal(new V1Entry($"services-svc:paasta-{New}", "start", null), doc.V1["svc:paasta-c.main"]);
    }

    [Fact]
    public void A_stop_tag_on_the_current_sha_applies()
    {
        var doc = Generate(new[] { Instance("c", "main", "prod") },
            ("refs/tags/paasta-prod-20240101T000000-deploy", Old),
            ("refs/tags/paasta-c.main-20240102T000000-stop", Old));
        Assert.Equal(new ControlEntry("stop", "20240102T000000"), doc.Controls["svc:c.main"]);
    }

    [Fact]
    public void Restart_after_stop_starts_with_a_new_force_bounce()
    {
        var doc = Generate(new[] { Instance("c", "main", "prod") },
            ("refs/tags/paasta-prod-20240101T000000-deploy", Old),
            ("refs/tags/paasta-c.main-20240102T000000-stop", Old),
            ("refs/tags/paasta-c.main-20240103T000000-start", Old));
        Assert.Equal(new ControlEntry("start", "20240103T000000"), doc.Controls["svc:c.main"]);
    }

    [Fact]
    public void A_deploy_group_without_a_tag_gets_no_entries()
    {
        var doc = Generate(new[] { Instance("c", "main", "prod"), Instance("c", "canary", "canary") },
            ("refs/tags/paasta-prod-20240101T000000-deploy", Old));
        Assert.Equal(new[] { "prod" }, doc.Deployments.Keys);
        Assert.Equal(new[] { "svc:c.main" }, doc.Controls.Keys);
        Assert.Equal(new[] { "svc:paasta-c.main" }, doc.V1.Keys);
    }

    [Fact]
    public void Image_versions_reach_the_docker_image()
    {
        var doc = Generate(new[] { Instance("c", "main", "prod") },
            ("refs/tags/paasta-prod+42-20240101T000000-deploy", Old));
        Assert.Equal(new DeploymentEntry($"services-svc:paasta-{Old}-42", Old, "42"), doc.Deployments["prod"]);
    }

    [Fact]
    public void Tron_actions_are_cluster_job_action_and_need_a_deploy_group()
    {
        var doc = Generate(new[] { Instance("c", "job.action", "prod", "tron"), Instance("c", "job.other", null, "tron") },
            ("refs/tags/paasta-prod-20240101T000000-deploy", Old),
            ("refs/tags/paasta-c.job.action-20240102T000000-stop", Old));
        Assert.Equal(new[] { "svc:c.job.action" }, doc.Controls.Keys);
        Assert.Equal("stop", doc.Controls["svc:c.job.action"].DesiredState);
    }

    [Fact]
    public void Control_branches_follow_cluster_then_type_order()
    {
        var branches = DeploymentsGenerator.ControlBranches(new[]
        {
            Instance("b", "x", "g"), Instance("a", "t.a", "g", "tron"), Instance("a", "k", "g"), Instance("a", "h", "g", "adhoc"),
        });
        Assert.Equal(new[] { "a.h", "a.k", "a.t.a", "b.x" }, branches.Select(b => b.Branch));
    }

    [Fact]
    public void Deploy_groups_with_dots_are_not_regex_wildcards()
    {
        var doc = Generate(new[] { Instance("c", "main", "prod.main") },
            ("refs/tags/paasta-prodXmain-20240101T000000-deploy", Old));
        Assert.Empty(doc.Deployments);
    }
}
