using Paasta.Config;

namespace Paasta.Tests.Config;

public class ContainerRulesTests
{
    [Fact]
    public void VolumesAreDeduplicatedOnBothPathsWithoutTrailingSlashesTheLaterWinningThenSorted()
    {
        var volumes = ContainerVolumes.Reorder(new[]
        {
            new ExtraVolume("/b/", "/host/b", "RO"),
            new ExtraVolume("/a", "/host/a", "RO"),
            new ExtraVolume("/b", "/host/b/", "RW"),       // the same mount as the first: it wins
            new ExtraVolume("/b", "/other", "RO"),         // another host path: another mount (as PaaSTA keeps it)
            new ExtraVolume("/a", "/host/a", "RO"),
        });
        Assert.Equal(new[]
        {
            new ExtraVolume("/a", "/host/a", "RO"),
            new ExtraVolume("/b", "/host/b/", "RW"),
            new ExtraVolume("/b", "/other", "RO"),
        }, volumes);
    }

    [Fact]
    public void BulkdataIsOneOfTheSortedVolumes()
    {
        var soa = new TempSoaDir();
        soa.Service("svc");
        soa.Write("svc/kubernetes-local.yaml", "main: {uses_bulkdata: true, extra_volumes: [{hostPath: /x, containerPath: /z, mode: RO}, {hostPath: /y, containerPath: /a, mode: RW}]}\n");
        var reader = new SoaConfigReader(soa.Root);
        var main = reader.LoadInstances(reader.LoadService("svc")).Single().Value!;
        Assert.Equal(new[] { "/a", "/nail/bulkdata", "/z" }, ContainerVolumes.Of(main).Select(v => v.ContainerPath));
    }

    [Theory]
    [InlineData("PATH", false)]
    [InlineData("lower_case.dots-ok", false)]
    [InlineData("", true)]
    [InlineData("A=B", true)]
    [InlineData("A\nB", true)]
    [InlineData("A\rB", true)]
    [InlineData("A\0B", true)]
    [InlineData("A\tB", true)]
    public void EnvironmentNamesMustBeCarriedExactly(string name, bool refused) =>
        Assert.Equal(refused, EnvironmentNames.NameProblem(name) is not null);

    [Fact]
    public void SoaConfigsShaComesFromMetadataJsonAndIsEmptyWhenUnknown()
    {
        var soa = new TempSoaDir();
        Assert.Equal("", SoaMetadata.GitSha(soa.Root));
        soa.Write(".metadata.json", "{\"git_sha\": \"abc123\", \"other\": 1}");
        Assert.Equal("abc123", SoaMetadata.GitSha(soa.Root));
        soa.Write(".metadata.json", "{\"other\": 1}");
        Assert.Equal("", SoaMetadata.GitSha(soa.Root));
        soa.Write(".metadata.json", "not json");
        var warnings = new List<string>();
        Assert.Equal("", SoaMetadata.GitSha(soa.Root, warnings.Add));
        Assert.Contains("PAASTA_SOA_CONFIGS_SHA will be empty", Assert.Single(warnings));
    }
}
