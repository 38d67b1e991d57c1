using System.Text;
using k8s.Models;
using Paasta.Kubernetes;
using Paasta.Config;

namespace Paasta.Tests.Kubernetes;

/// <summary>Secret signatures: what makes a rotated secret bounce, and what must not.</summary>
public sealed class SecretSignaturesTests
{
    private static V1Secret Secret(string ns, string name, params (string Key, string Value)[] data) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, Labels = new Dictionary<string, string> { ["x"] = "y" } },
        Data = data.ToDictionary(d => d.Key, d => Encoding.UTF8.GetBytes(d.Value)),
    };

    [Fact]
    public void TheSignatureFollowsTheDataOnly()
    {
        var a = SecretSignatures.Sign(Secret("ns", "s", ("k", "v1"), ("j", "w")));
        Assert.Matches("^[0-9a-f]{16}$", a);
        Assert.Equal(a, SecretSignatures.Sign(Secret("ns", "s", ("j", "w"), ("k", "v1")))); // key order does not matter
        var relabelled = Secret("ns", "s", ("k", "v1"), ("j", "w"));
        relabelled.Metadata.Labels["x"] = "z";
        relabelled.Metadata.ResourceVersion = "999";
        Assert.Equal(a, SecretSignatures.Sign(relabelled));
        Assert.NotEqual(a, SecretSignatures.Sign(Secret("ns", "s", ("k", "v2"), ("j", "w"))));
        // Keys and values cannot trade bytes: "ab"+"c" is not "a"+"bc".
        Assert.NotEqual(SecretSignatures.Sign(Secret("ns", "s", ("ab", "c"))), SecretSignatures.Sign(Secret("ns", "s", ("a", "bc"))));
    }

    [Fact]
    public void EachReferenceGetsTheSignatureOfTheSecretItNames_AndRotationChangesConfigSha()
    {
        var instance = KubernetesObjectsTests.Load("main: {env: {TOKEN: SECRET(token), SHARED: SHARED_SECRET(common), PLAIN: x}}\n");
        var own = KubernetesObjectBuilder.SecretName(instance, shared: false, "token");
        var common = KubernetesObjectBuilder.SecretName(instance, shared: true, "common");
        var ns = instance.Namespace;
        SecretSignatures Observed(string tokenValue) => new(new Dictionary<(string, string), string>
        {
            [(ns, own)] = SecretSignatures.Sign(Secret(ns, own, (own, tokenValue))),
            [(ns, common)] = SecretSignatures.Sign(Secret(ns, common, (common, "c"))),
            [("elsewhere", own)] = "ffffffffffffffff",
        });
        var picked = Observed("v1").For(instance)!;
        Assert.Equal(new[] { "SECRET(token)", "SHARED_SECRET(common)" }, picked.Keys.OrderBy(k => k, StringComparer.Ordinal));
        Assert.True(SecretSignatures.Referenced(instance));
        Assert.False(SecretSignatures.Referenced(KubernetesObjectsTests.Load("main: {env: {PLAIN: x}}\n")));
        Assert.Null(SecretSignatures.None.For(instance));

        var branch = new DeploymentBranch("services-example_service:paasta-abc", new string('a', 40), null, "start", null);
        string Sha(SecretSignatures s) => KubernetesObjectBuilder.Build(instance, branch, new KubernetesBuildContext("r.example") { SecretSignatures = s.For(instance) }).ConfigSha;
        Assert.Equal(Sha(Observed("v1")), Sha(Observed("v1")));
        Assert.NotEqual(Sha(Observed("v1")), Sha(Observed("v2")));
    }
}
