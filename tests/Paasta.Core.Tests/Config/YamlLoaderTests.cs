using Paasta.Yaml;
using Paasta.Errors;

namespace Paasta.Tests.Config;

public class YamlLoaderTests
{
    private static YMapping Map(string yaml) => (YMapping)YamlLoader.Parse(yaml, "t.yaml")!;

    [Theory]
    [InlineData("a: yes", true)]
    [InlineData("a: Off", false)]
    [InlineData("a: 0755", 493L)]
    [InlineData("a: 0x1F", 31L)]
    [InlineData("a: 1:30", 90L)]
    [InlineData("a: 1_000", 1000L)]
    [InlineData("a: 1.0", 1.0)]
    [InlineData("a: .5", 0.5)]
    [InlineData("a: 1e3", "1e3")]   // YAML 1.1: not a float without a dot
    [InlineData("a: '1'", "1")]
    [InlineData("a: 08", "08")]     // not octal, not decimal: a string
    [InlineData("a: ~", null)]
    [InlineData("a: !!str 12", "12")]
    [InlineData("a: !!float 1", 1.0)]
    public void ScalarsResolveAsPyYamlSafeLoaderDoes(string yaml, object? expected)
    {
        var value = ((YScalar)Map(yaml)["a"]!).Value;
        Assert.Equal(expected, value);
        if (expected is not null) Assert.IsType(expected.GetType(), value);
    }

    [Fact]
    public void MergeKeysKeepExplicitKeysAndEarlierSources()
    {
        var root = Map("""
            _a: &a {x: 1, y: 1, z: 1}
            _b: &b {y: 2, w: 2}
            m:
              <<: [*a, *b]
              x: 9
            """);
        var m = (YMapping)root["m"]!;
        Assert.Equal(9L, ((YScalar)m["x"]!).Value);
        Assert.Equal(1L, ((YScalar)m["y"]!).Value);   // first merge source wins over later ones
        Assert.Equal(2L, ((YScalar)m["w"]!).Value);
        Assert.False(m.ContainsKey("<<"));
        Assert.Equal("_a", m["z"]!.TopLevelKey);       // merged values remember they came from the template
        Assert.Equal(1, m["z"]!.Line);
    }

    [Fact]
    public void PositionsAreOneBasedLinesAndColumns()
    {
        var root = Map("main:\n  cpus: 1\n  env:\n    FOO: bar\n");
        var env = (YMapping)((YMapping)root["main"]!)["env"]!;
        Assert.Equal(4, env["FOO"]!.Line);
        Assert.Equal(10, env["FOO"]!.Column);
        Assert.Equal(4, env.KeyNode("FOO")!.Line);
        Assert.Equal(5, env.KeyNode("FOO")!.Column);
    }

    [Fact]
    public void DuplicateKeysAreRefusedWithBothLines()
    {
        var e = Assert.Throws<PaastaException>(() => YamlLoader.Parse("main:\n  cpus: 1\n  mem: 2\n  cpus: 3\n", "k.yaml"));
        Assert.Equal("YamlDuplicateKey", e.ErrorId);
        Assert.Equal(4, e.Line);
        Assert.Equal("cpus", e.Key);
        Assert.Contains("line 2", e.Message);
    }

    [Fact]
    public void TabIndentationIsNamedAsSuch()
    {
        var e = Assert.Throws<PaastaException>(() => YamlLoader.Parse("main:\n\tcpus: 1\n", "k.yaml"));
        Assert.Equal("YamlTabIndentation", e.ErrorId);
        Assert.Equal(2, e.Line);
    }

    [Fact]
    public void BillionLaughsIsRefusedQuicklyWithoutExpanding()
    {
        var yaml = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
        for (var i = 1; i < 10; i++)
        {
            var prev = (char)('a' + i - 1);
            var cur = (char)('a' + i);
            yaml += $"{cur}: &{cur} [{string.Join(", ", Enumerable.Repeat("*" + prev, 9))}]\n";
        }
        var started = DateTime.UtcNow;
        var e = Assert.Throws<PaastaException>(() => YamlLoader.Parse(yaml, "bomb.yaml"));
        Assert.Equal("YamlAliasExpansionLimit", e.ErrorId);
        Assert.True(e.Line > 0);
    }

    [Fact]
    public void DeepNestingIsRefused()
    {
        var yaml = "a: " + new string('[', 500) + new string(']', 500) + "\n";
        var e = Assert.Throws<PaastaException>(() => YamlLoader.Parse(yaml, "deep.yaml"));
        Assert.Equal("YamlNestingTooDeep", e.ErrorId);
    }

    [Theory]
    [InlineData("a: !!python/object:os.system x\n", "YamlUnknownTag")]
    [InlineData("a: *nothing\n", "YamlUnknownAlias")]
    [InlineData("a: 1\n---\nb: 2\n", "YamlMultipleDocuments")]
    [InlineData("? [a, b]\n: 1\n", "YamlComplexKey")]
    [InlineData("a: [1, 2\n", "YamlSyntaxError")]
    [InlineData("a: &x 1\nb:\n  <<: *x\n", "YamlInvalidMerge")]
    public void UnsafeOrBrokenYamlIsRefusedWithItsOwnErrorId(string yaml, string errorId)
    {
        var e = Assert.Throws<PaastaException>(() => YamlLoader.Parse(yaml, "bad.yaml"));
        Assert.Equal(errorId, e.ErrorId);
        Assert.Equal("bad.yaml", e.File);
        Assert.True(e.Line >= 1, $"line {e.Line}");
    }

    [Fact]
    public void OversizedFilesAreRefusedBeforeReading()
    {
        var path = Path.GetTempFileName();
        try
        {
            using (var f = File.OpenWrite(path)) f.SetLength(YamlLoader.MaxFileBytes + 1);
            var e = Assert.Throws<PaastaException>(() => YamlLoader.LoadFile(path));
            Assert.Equal("ConfigFileTooLarge", e.ErrorId);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void EmptyAndMissingFilesAreEmptyMappingsAndNull()
    {
        var path = Path.GetTempFileName();
        try
        {
            Assert.Equal(0, YamlLoader.LoadMappingFile(path)!.Count);
            Assert.Null(YamlLoader.LoadMappingFile(path + ".missing"));
        }
        finally { File.Delete(path); }
    }

    [Theory]
    [InlineData(1.0, "1.0")]
    [InlineData(0.5, "0.5")]
    [InlineData(1e16, "1e+16")]
    [InlineData(1.5e-05, "1.5e-05")]
    [InlineData(123456789012.5, "123456789012.5")]
    public void FloatsRenderAsPythonStr(double value, string expected) => Assert.Equal(expected, PythonText.Float(value));
}
