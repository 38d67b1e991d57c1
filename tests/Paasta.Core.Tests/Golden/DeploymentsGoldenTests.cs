using Paasta.Config;
using Paasta.Deployments;
using Paasta.Git;

namespace Paasta.Tests.Golden;

/// <summary>
/// deployments.json as Paasta generates it from the fixture service's instances and its repository's refs (the
/// refs `git ls-remote` printed for the repository tests/golden/fixtures/make-git-repos.sh builds), against the
/// file PaaSTA's generate_deployments_for_service wrote from the same repository: byte for byte.
/// </summary>
public class DeploymentsGoldenTests
{
    public static TheoryData<string> Goldens => GoldenData.Files("deployments", "*.deployments.json");

    [Theory]
    [MemberData(nameof(Goldens))]
    public void Deployments_json_is_PaaSTAs_byte_for_byte(string golden)
    {
        var service = Path.GetFileName(golden)[..^".deployments.json".Length];
        var refs = File.ReadAllLines(GoldenData.Dir("deployments", service + ".refs"))
            .Where(l => l.Length > 0)
            .Select(l => l.Split('\t'))
            .Select(p => new GitRef(p[1], p[0]));
        var listing = new GitRefListing(GitRepositoryLocation.Parse("/nonexistent/" + service + ".git"), refs);
        var reader = new SoaConfigReader(GoldenData.Soa);
        var instances = reader.LoadInstances(reader.LoadService(service)).Select(r => r.Value ?? throw r.Error!);
        var json = DeploymentsGenerator.Generate(service, DeploymentsGenerator.ControlBranches(instances), listing).ToJson();
        Assert.Equal(File.ReadAllText(GoldenData.Dir(golden)), json);
    }
}
