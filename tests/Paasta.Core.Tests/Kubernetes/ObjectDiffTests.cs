using System.Text.Json.Nodes;
using Paasta.Kubernetes;

namespace Paasta.Tests.Kubernetes;

public class ObjectDiffTests
{
    private static JsonNode J(string json) => JsonNode.Parse(json)!;

    [Fact]
    public void FieldsTheServerDefaultsAreNotDifferences()
    {
        var live = J("""{"spec": {"replicas": 3, "progressDeadlineSeconds": 600, "template": {"spec": {"dnsPolicy": "ClusterFirst", "containers": [{"name": "main", "image": "a", "imagePullPolicy": "IfNotPresent"}]}}}}""");
        var desired = J("""{"spec": {"replicas": 3, "template": {"spec": {"containers": [{"name": "main", "image": "a"}]}}}}""");
        Assert.Empty(ObjectDiff.Describe(live, desired));
        Assert.True(ObjectDiff.Matches(live, desired));
    }

    [Fact]
    public void NamedListsAreMatchedByNameAndReportAddedChangedAndRemovedItems()
    {
        var live = J("""{"env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}, {"name": "GONE", "value": "x"}]}""");
        var desired = J("""{"env": [{"name": "B", "value": "3"}, {"name": "A", "value": "1"}, {"name": "NEW", "value": "n"}]}""");
        Assert.Equal(new[]
        {
            "env[B].value: '2' -> '3'",
            """env[NEW]: + {"name":"NEW","value":"n"}""",
            """env[GONE]: - {"name":"GONE","value":"x"}""",
        }, ObjectDiff.Describe(live, desired));
    }

    [Fact]
    public void OwnedMapsReportRemovedKeysOtherMapsDoNot()
    {
        var live = J("""{"metadata": {"labels": {"a": "1", "old": "x"}, "annotations": {"deployment.kubernetes.io/revision": "3"}}, "status": {"x": 1}}""");
        var desired = J("""{"metadata": {"labels": {"a": "1"}}}""");
        Assert.Equal(new[] { "metadata.labels.old: - 'x'" }, ObjectDiff.Describe(live, desired));
    }

    [Fact]
    public void NumbersCompareByValueAndTypesMatter()
    {
        Assert.Empty(ObjectDiff.Describe(J("""{"a": 1.0}"""), J("""{"a": 1}""")));
        Assert.Equal(new[] { "a: '1' -> 1" }, ObjectDiff.Describe(J("""{"a": "1"}"""), J("""{"a": 1}""")));
        Assert.Equal(new[] { "b: + true" }, ObjectDiff.Describe(J("""{}"""), J("""{"b": true}""")));
    }

    [Fact]
    public void KeysWithDotsAreBracketedAndSkippedKeysIgnored()
    {
        var live = J("""{"labels": {"paasta.yelp.com/config_sha": "configa", "paasta.yelp.com/pool": "default"}}""");
        var desired = J("""{"labels": {"paasta.yelp.com/config_sha": "configb", "paasta.yelp.com/pool": "batch"}}""");
        Assert.Equal(new[] { "labels[paasta.yelp.com/pool]: 'default' -> 'batch'" }, ObjectDiff.Describe(live, desired, skipKeys: ObjectDiff.VersionLabels));
    }

    [Fact]
    public void ZeroValuesTheServerOmitsAreNotDifferences()
    {
        var desired = J("""{"spec": {"minReadySeconds": 0, "paused": false, "env": [{"name": "E", "value": ""}], "volumes": [], "x": {}}}""");
        var live = J("""{"spec": {"env": [{"name": "E"}]}}""");
        Assert.Empty(ObjectDiff.Describe(live, desired));
        Assert.Equal(new[] { "spec.minReadySeconds: + 5" }, ObjectDiff.Describe(live, J("""{"spec": {"minReadySeconds": 5}}""")));
    }

    [Fact]
    public void LongDiffsAreCut()
    {
        var desired = new JsonObject();
        for (var i = 0; i < 40; i++) desired[$"k{i}"] = i;
        var lines = ObjectDiff.Describe(new JsonObject(), desired, max: 10);
        Assert.Equal(11, lines.Count);
        Assert.Equal("… and 30 more", lines[^1]);
    }
}
