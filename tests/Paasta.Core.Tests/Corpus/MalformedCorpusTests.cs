using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Paasta.Config;
using Paasta.Validation;
using Paasta.Errors;

namespace Paasta.Tests.Corpus;

/// <summary>
/// The malformed soa-configs corpus (tests/corpus/malformed/NN-name/): each case is a soa-configs root with one
/// service and exactly one defect, described by its case.json. Bad input must never crash or hang: the
/// validator reports each case with its rule, file and line, and the loader refuses load-level defects with a
/// <see cref="PaastaException"/> carrying a stable ErrorId, the file and the line.
/// </summary>
public class MalformedCorpusTests
{
    public const int MinimumCases = 60;
    /// <summary>Guards against a hang; a case that does not finish in this time fails instead of stalling the run.</summary>
    private static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(2);
    private const long LargeFileBytes = 50L * 1024 * 1024;

    private static readonly HashSet<string> KnownCaseProperties = new(StringComparer.Ordinal)
        { "description", "service", "ruleId", "file", "line", "errorId", "generate", "severity", "knownIssue" };

    public static string RepoRoot { get; } = FindRepoRoot();

    public static string CorpusDir => Path.Combine(RepoRoot, "tests", "corpus", "malformed");

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Paasta.sln"))) return dir.FullName;
        throw new InvalidOperationException($"No Paasta.sln above {AppContext.BaseDirectory}.");
    }

    public static IEnumerable<object[]> CaseNames() =>
        Directory.EnumerateDirectories(CorpusDir).Select(Path.GetFileName).Order(StringComparer.Ordinal).Select(n => new object[] { n! });

    public static IEnumerable<object[]> LoadLevelCaseNames() =>
        CaseNames().Where(row => CorpusCase.Load((string)row[0]).ErrorId is not null);

    [Fact]
    public void CorpusHasAtLeastSixtyCases()
    {
        var count = CaseNames().Count();
        Assert.True(count >= MinimumCases, $"The corpus has {count} cases; at least {MinimumCases} are required.");
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void EveryCaseHasAValidCaseJson(string name)
    {
        var folder = Path.Combine(CorpusDir, name);
        Assert.Matches(@"^\d{2,}-[a-z0-9-]+$", name);
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "case.json")));
        foreach (var property in doc.RootElement.EnumerateObject())
            Assert.True(KnownCaseProperties.Contains(property.Name), $"{name}/case.json: unknown property '{property.Name}'.");

        var c = CorpusCase.Load(name);
        Assert.False(string.IsNullOrWhiteSpace(c.Description), $"{name}: description is empty.");
        Assert.Matches("^[A-Za-z0-9]+$", c.RuleId);
        Assert.False(string.IsNullOrWhiteSpace(c.File), $"{name}: file is empty.");
        Assert.False(Path.IsPathRooted(c.File), $"{name}: file must be relative to the case folder.");
        Assert.True(c.Line >= 0, $"{name}: line must be 0 (file-level) or a 1-based line.");
        if (c.ErrorId is not null) Assert.Matches("^[A-Za-z0-9]+$", c.ErrorId);
        Assert.True(c.Generate is null or "large", $"{name}: generate must be 'large' when present.");
        Assert.True(c.Severity is "Error" or "Warning", $"{name}: severity must be Error or Warning.");
        Assert.True(Directory.Exists(Path.Combine(folder, c.Service)), $"{name}: the service folder '{c.Service}' is missing.");
        // The only folder in a case is its service, so the case is exactly one service with one defect.
        Assert.Equal(new[] { c.Service }, Directory.EnumerateDirectories(folder).Select(Path.GetFileName).ToArray());
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void ValidatorReportsTheCaseWithFileAndLine(string name)
    {
        var c = CorpusCase.Load(name);
        using var copy = c.Materialise();
        var (findings, elapsed) = RunGuarded(name, () => new ConfigValidator(new SoaConfigReader(copy.Root)).ValidateService(c.Service));

        var match = findings.FirstOrDefault(f => f.RuleId == c.RuleId && EndsWithPath(f.File, c.File) && f.Line == c.Line);
        Assert.True(match is not null,
            $"{name}: expected {c.RuleId} at {c.File}:{c.Line}{KnownIssueNote(c)} (took {elapsed.TotalMilliseconds:F0} ms); got:\n  "
            + string.Join("\n  ", findings.Select(f => $"{f.RuleId} {f.File}:{f.Line}:{f.Column} {f.Message}")));
        Assert.Equal(c.Severity == "Warning" ? FindingSeverity.Warning : FindingSeverity.Error, match!.Severity);
        Assert.False(string.IsNullOrWhiteSpace(match.Message));
        if (c.Severity == "Error")
            Assert.Contains(findings, f => f.Severity == FindingSeverity.Error);
    }

    [Theory]
    [MemberData(nameof(LoadLevelCaseNames))]
    public void LoaderRefusesTheCaseWithItsErrorIdFileAndLine(string name)
    {
        var c = CorpusCase.Load(name);
        using var copy = c.Materialise();
        var (errors, elapsed) = RunGuarded(name, () =>
        {
            var reader = new SoaConfigReader(copy.Root);
            var found = new List<PaastaException>();
            ServiceConfig service;
            try { service = reader.LoadService(c.Service); }
            catch (PaastaException e) { found.Add(e); return found; }
            foreach (var result in reader.LoadInstances(service))
                if (result.Error is { } error) found.Add(error);
            return found;
        });

        var match = errors.FirstOrDefault(e => e.ErrorId == c.ErrorId);
        Assert.True(match is not null,
            $"{name}: expected a PaastaException {c.ErrorId}{KnownIssueNote(c)} (took {elapsed.TotalMilliseconds:F0} ms); got:\n  "
            + string.Join("\n  ", errors.Select(e => $"{e.ErrorId} {e.File}:{e.Line} {e.Message}")));
        Assert.True(match!.File is not null && EndsWithPath(match.File, c.File), $"{name}: the error names file '{match.File}', expected …/{c.File}.");
        if (c.Line > 0)
            Assert.True(match.Line > 0, $"{name}: the error names no line{KnownIssueNote(c)}.");
        Assert.False(string.IsNullOrWhiteSpace(match.Message));
    }

    [Theory]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("/etc")]
    [InlineData("a/b")]
    [InlineData("../svc")]
    [InlineData("a\\b")]
    [InlineData("")]
    [InlineData(" ")]
    public void ServiceNamesThatArePathsAreRefused(string service)
    {
        var reader = new SoaConfigReader(Path.Combine(RepoRoot, "examples", "soa-configs"));
        var e = Assert.Throws<PaastaException>(() => reader.LoadService(service));
        Assert.Equal("InvalidServiceName", e.ErrorId);

        // The validator reports the same refusal as a finding and never reads outside the soa dir.
        var findings = new ConfigValidator(reader).ValidateService(service);
        var finding = Assert.Single(findings);
        Assert.Equal("InvalidServiceName", finding.RuleId);
    }

    [Fact]
    public void ValidatorNeverReadsFilesOutsideTheSoaDir()
    {
        // A broken service.yaml just outside the soa dir: validating '..' or an absolute path must not report it.
        using var dir = new TempSoaDir();
        dir.Write("service.yaml", "description: [never closed\n");
        dir.Write("soa/svc/service.yaml", "description: inside\nexternal_link: http://example\n");
        var validator = new ConfigValidator(new SoaConfigReader(Path.Combine(dir.Root, "soa")));
        foreach (var service in new[] { "..", dir.Root, Path.Combine(dir.Root, "soa", "..") })
        {
            var findings = validator.ValidateService(service);
            Assert.True(findings.Count == 1 && findings[0].RuleId == "InvalidServiceName",
                $"ValidateService('{service}'): expected only InvalidServiceName; got:\n  " + string.Join("\n  ", findings));
        }
    }

    [Fact]
    public void ValidatorReportsAMissingServiceInsteadOfThrowing()
    {
        var reader = new SoaConfigReader(Path.Combine(RepoRoot, "examples", "soa-configs"));
        var findings = new ConfigValidator(reader).ValidateService("no-such-service");
        Assert.Equal("ServiceNotFound", Assert.Single(findings).RuleId);
    }

    [Fact]
    public void TheBaselineEveryCaseStartsFromIsValid()
    {
        using var dir = new TempSoaDir();
        dir.Service("svc");
        dir.Write("svc/kubernetes-prod.yaml", "main:\n  deploy_group: prod.main\n  cpus: 0.5\n  mem: 256\n  instances: 2\n");
        dir.Write("svc/tron-prod.yaml", """
            nightly:
              schedule: "cron 0 3 * * *"
              deploy_group: prod.main
              actions:
                collect:
                  command: echo collecting
                publish:
                  requires: [collect]
                  command: echo publishing
            """);
        var findings = new ConfigValidator(new SoaConfigReader(dir.Root)).ValidateService("svc");
        Assert.True(findings.Count == 0, string.Join("\n", findings));
    }

    [Fact]
    public void OverridingAMergedKeyOnceIsNotADuplicate()
    {
        using var dir = new TempSoaDir();
        dir.Service("svc");
        dir.Write("svc/kubernetes-prod.yaml", """
            _defaults: &defaults
              cpus: 0.5
              mem: 256
            main:
              <<: *defaults
              deploy_group: prod.main
              cpus: 1
            """);
        var reader = new SoaConfigReader(dir.Root);
        var findings = new ConfigValidator(reader).ValidateService("svc");
        Assert.True(findings.Count == 0, string.Join("\n", findings));
        var main = Assert.Single(reader.LoadInstances(reader.LoadService("svc"))).Value!;
        Assert.Equal(1.0, main.Cpus);
        Assert.Equal(256.0, main.Mem);
    }

    [Fact]
    public void ExamplesAreValid()
    {
        var reader = new SoaConfigReader(Path.Combine(RepoRoot, "examples", "soa-configs"));
        var validator = new ConfigValidator(reader);
        var errors = reader.ListServices().SelectMany(validator.ValidateService).Where(f => f.Severity == FindingSeverity.Error).ToList();
        Assert.True(errors.Count == 0, string.Join("\n", errors));
    }

    private static (T Result, TimeSpan Elapsed) RunGuarded<T>(string name, Func<T> action)
    {
        var watch = Stopwatch.StartNew();
        var task = Task.Run(action);
        if (!task.Wait(HangGuard))
            Assert.Fail($"{name}: did not finish within {HangGuard.TotalSeconds:F0} s (a hang?).");
        return (task.GetAwaiter().GetResult(), watch.Elapsed);
    }

    private static bool EndsWithPath(string? path, string expected) =>
        path is not null && ("/" + path.Replace('\\', '/')).EndsWith("/" + expected.Replace('\\', '/'), StringComparison.Ordinal);

    private static string KnownIssueNote(CorpusCase c) => c.KnownIssue is null ? "" : $" [known issue: {c.KnownIssue}]";

    /// <summary>One case folder and its case.json.</summary>
    public sealed record CorpusCase(string Name, string Folder, string Description, string Service, string RuleId, string File, int Line,
        string? ErrorId, string? Generate, string Severity, string? KnownIssue)
    {
        public static CorpusCase Load(string name)
        {
            var folder = Path.Combine(CorpusDir, name);
            using var doc = JsonDocument.Parse(System.IO.File.ReadAllText(Path.Combine(folder, "case.json")));
            var root = doc.RootElement;
            string? S(string key) => root.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            return new CorpusCase(name, folder,
                S("description") ?? "",
                S("service") ?? "svc",
                S("ruleId") ?? "",
                S("file") ?? "",
                root.TryGetProperty("line", out var line) && line.ValueKind == JsonValueKind.Number ? line.GetInt32() : -1,
                S("errorId"),
                S("generate"),
                S("severity") ?? "Error",
                S("knownIssue"));
        }

        /// <summary>A throwaway copy of the case (plus any generated file) that a test may read and change.</summary>
        public TempSoaDir Materialise()
        {
            var dir = new TempSoaDir();
            foreach (var source in Directory.EnumerateFiles(Folder, "*", SearchOption.AllDirectories))
            {
                var relative = Path.GetRelativePath(Folder, source);
                if (relative == "case.json") continue;
                var target = Path.Combine(dir.Root, relative);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                System.IO.File.Copy(source, target);
            }
            if (Generate == "large") WriteLargeFile(Path.Combine(dir.Root, File));
            return dir;
        }

        private static void WriteLargeFile(string path)
        {
            // 50 MB of valid YAML (comments): only its size is wrong.
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var line = Encoding.UTF8.GetBytes("# padding padding padding padding padding padding padding padding padding padding\n");
            var block = new byte[line.Length * 1024];
            for (var i = 0; i < 1024; i++) line.CopyTo(block, i * line.Length);
            using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
            for (long written = 0; written < LargeFileBytes; written += block.Length) stream.Write(block);
        }

        public override string ToString() => Name;
    }
}
