using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Paasta.Config;
using Paasta.Validation;
using Paasta.Errors;
using Xunit.Abstractions;

namespace Paasta.Tests.Corpus;

/// <summary>
/// The malformed soa-configs corpus (tests/corpus/malformed/NN-name/): each case is a soa-configs root with one
/// service and exactly one defect, described by its case.json. Bad input must never crash or hang: the
/// validator reports each case with its rule, file and line, and the loader refuses load-level defects with a
/// <see cref="PaastaException"/> carrying a stable ErrorId, the file and the line. Cases marked <c>isolate</c>
/// (those that could end or hang a process) run in a child process; every case runs under a timeout.
/// </summary>
public class MalformedCorpusTests
{
    public const int MinimumCases = 60;
    /// <summary>Guards against a hang; a case that does not finish in this time fails instead of stalling the run.</summary>
    private static readonly TimeSpan HangGuard = TimeSpan.FromMinutes(2);
    private const long LargeFileBytes = 50L * 1024 * 1024;

    /// <summary>The classes of issue 16, and "malformed" for the cases before it.</summary>
    public static readonly string[] Classes = { "malformed", "dies-or-hangs", "wrong-results", "raw-exceptions" };

    private static readonly HashSet<string> KnownCaseProperties = new(StringComparer.Ordinal)
    {
        "description", "class", "isolate", "service", "ruleId", "file", "line", "errorId", "severity", "secret",
        "generate", "special", "timeoutSeconds", "knownIssue",
    };

    private readonly ITestOutputHelper _output;

    public MalformedCorpusTests(ITestOutputHelper output) => _output = output;

    // Each case runs once per test run; the per-case theories and the per-class summary share the outcome.
    private static readonly ConcurrentDictionary<string, Lazy<CaseOutcome>> Outcomes = new(StringComparer.Ordinal);

    public static CaseOutcome OutcomeOf(CorpusCase c) => Outcomes.GetOrAdd(c.Name, _ => new Lazy<CaseOutcome>(() =>
    {
        using var copy = c.Materialise();
        var timeout = TimeSpan.FromSeconds(c.TimeoutSeconds);
        return c.Isolate
            ? CorpusCaseRunner.RunIsolated(copy.Root, c.Service, timeout)
            : CorpusCaseRunner.RunGuarded(copy.Root, c.Service, timeout);
    })).Value;

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
        Assert.True(c.Generate is null or "large" or "parts", $"{name}: generate must be 'large' or a list of generated files.");
        Assert.True(c.Severity is "Error" or "Warning", $"{name}: severity must be Error or Warning.");
        Assert.Contains(c.Class, Classes);
        foreach (var special in c.Specials)
            Assert.True(special.Kind is "fifo" or "symlink" or "link-outside", $"{name}: unknown special kind '{special.Kind}'.");
        // Generated and special files exist only at test time: nothing huge or special is committed.
        foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
            Assert.True(new FileInfo(file).Length < 64 * 1024, $"{name}: {file} is large; generate it at test time.");
        Assert.True(Directory.Exists(Path.Combine(folder, c.Service)), $"{name}: the service folder '{c.Service}' is missing.");
        // The only folder in a case is its service, so the case is exactly one service with one defect.
        Assert.Equal(new[] { c.Service }, Directory.EnumerateDirectories(folder).Select(Path.GetFileName).ToArray());
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void ValidatorReportsTheCaseWithFileAndLine(string name)
    {
        var c = CorpusCase.Load(name);
        var outcome = OutcomeOf(c);
        AssertFinished(c, outcome);
        var findings = outcome.Findings;

        var match = findings.FirstOrDefault(f => f.RuleId == c.RuleId && EndsWithPath(f.File, c.File) && f.Line == c.Line);
        Assert.True(match is not null,
            $"{name}: expected {c.RuleId} at {c.File}:{c.Line}{KnownIssueNote(c)} (took {outcome.Elapsed.TotalMilliseconds:F0} ms); got:\n  "
            + string.Join("\n  ", findings.Select(f => $"{f.RuleId} {f.File}:{f.Line}:{f.Column} {f.Message}")));
        Assert.Equal(c.Severity, match!.Severity);
        Assert.False(string.IsNullOrWhiteSpace(match.Message));
        if (c.Severity == "Error")
            Assert.Contains(findings, f => f.Severity == "Error");
        if (c.Secret is { } secret)
            Assert.DoesNotContain(findings, f => f.Message.Contains(secret, StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(LoadLevelCaseNames))]
    public void LoaderRefusesTheCaseWithItsErrorIdFileAndLine(string name)
    {
        var c = CorpusCase.Load(name);
        var outcome = OutcomeOf(c);
        AssertFinished(c, outcome);
        var errors = outcome.Errors;

        var match = errors.FirstOrDefault(e => e.ErrorId == c.ErrorId);
        Assert.True(match is not null,
            $"{name}: expected a PaastaException {c.ErrorId}{KnownIssueNote(c)} (took {outcome.Elapsed.TotalMilliseconds:F0} ms); got:\n  "
            + string.Join("\n  ", errors.Select(e => $"{e.ErrorId} {e.File}:{e.Line} {e.Message}")));
        Assert.True(match!.File is not null && EndsWithPath(match.File, c.File), $"{name}: the error names file '{match.File}', expected …/{c.File}.");
        if (c.Line > 0)
            Assert.True(match.Line > 0, $"{name}: the error names no line{KnownIssueNote(c)}.");
        Assert.False(string.IsNullOrWhiteSpace(match.Message));
        if (c.Secret is { } secret)
            Assert.DoesNotContain(errors, e => e.Message.Contains(secret, StringComparison.Ordinal) || (e.Key?.Contains(secret, StringComparison.Ordinal) ?? false));
    }

    /// <summary>
    /// Per class of hostile input: how many cases were tried and how many were handled (finished without a crash,
    /// a hang or a raw .NET exception, and reported as case.json expects). Printed, then every case must pass.
    /// </summary>
    [Fact]
    public void EveryClassOfTheCorpusIsHandled()
    {
        var rows = new List<(string Class, string Name, string? Problem)>();
        foreach (var row in CaseNames())
        {
            var c = CorpusCase.Load((string)row[0]);
            var outcome = OutcomeOf(c);
            rows.Add((c.Class, c.Name, Problem(c, outcome)));
        }
        foreach (var cls in Classes)
        {
            var cases = rows.Where(r => r.Class == cls).ToList();
            _output.WriteLine($"corpus class {cls,-15} {cases.Count,3} tried, {cases.Count(r => r.Problem is null),3} handled");
        }
        var unhandled = rows.Where(r => r.Problem is not null).ToList();
        foreach (var (cls, name, problem) in unhandled) _output.WriteLine($"  not handled: [{cls}] {name}: {problem}");
        Assert.True(unhandled.Count == 0, string.Join("\n", unhandled.Select(r => $"[{r.Class}] {r.Name}: {r.Problem}")));
    }

    private static string? Problem(CorpusCase c, CaseOutcome outcome)
    {
        if (outcome.Failure is { } failure) return failure;
        if (outcome.RawException is { } raw) return $"raw .NET exception {raw}";
        if (!outcome.Findings.Any(f => f.RuleId == c.RuleId && EndsWithPath(f.File, c.File) && f.Line == c.Line))
            return $"no {c.RuleId} finding at {c.File}:{c.Line}";
        if (c.ErrorId is not null && !outcome.Errors.Any(e => e.ErrorId == c.ErrorId && EndsWithPath(e.File, c.File)))
            return $"no {c.ErrorId} error naming {c.File}";
        if (c.Secret is { } secret && (outcome.Findings.Any(f => f.Message.Contains(secret)) || outcome.Errors.Any(e => e.Message.Contains(secret))))
            return "a message shows the secret";
        return null;
    }

    private static void AssertFinished(CorpusCase c, CaseOutcome outcome)
    {
        Assert.True(outcome.Failure is null, $"{c.Name}: {outcome.Failure}");
        Assert.True(outcome.RawException is null, $"{c.Name}: a raw .NET exception instead of a PaastaException: {outcome.RawException}");
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

        // The validator reports the same refusal as a finding: no name a caller gives reaches outside the soa dir.
        // (Symbolic links inside the soa dir are followed, as PaaSTA does: see docs/RELIABILITY.md, "Links".)
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

    private static bool EndsWithPath(string? path, string expected) =>
        path is not null && ("/" + path.Replace('\\', '/')).EndsWith("/" + expected.Replace('\\', '/'), StringComparison.Ordinal);

    private static string KnownIssueNote(CorpusCase c) => c.KnownIssue is null ? "" : $" [known issue: {c.KnownIssue}]";

    /// <summary>A file written at test time: the concatenation of its parts (text, or a template repeated with {i} and {next}).</summary>
    public sealed record GeneratedFile(string File, IReadOnlyList<(string? Text, string? Repeat, int Count)> Parts);

    /// <summary>What cannot be committed: a FIFO, a symbolic link (to a device, a loop), a service folder linked from outside.</summary>
    public sealed record SpecialFile(string Path, string Kind, string? Target);

    /// <summary>One case folder and its case.json.</summary>
    public sealed record CorpusCase(string Name, string Folder, string Description, string Service, string RuleId, string File, int Line,
        string? ErrorId, string? Generate, string Severity, string? KnownIssue)
    {
        public string Class { get; init; } = "malformed";
        public bool Isolate { get; init; }
        public string? Secret { get; init; }
        public int TimeoutSeconds { get; init; } = 120;
        public IReadOnlyList<GeneratedFile> Generated { get; init; } = Array.Empty<GeneratedFile>();
        public IReadOnlyList<SpecialFile> Specials { get; init; } = Array.Empty<SpecialFile>();

        public static CorpusCase Load(string name)
        {
            var folder = Path.Combine(CorpusDir, name);
            using var doc = JsonDocument.Parse(System.IO.File.ReadAllText(Path.Combine(folder, "case.json")));
            var root = doc.RootElement;
            string? S(JsonElement e, string key) => e.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            IEnumerable<JsonElement> List(string key) => root.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Array ? v.EnumerateArray().ToList() : Enumerable.Empty<JsonElement>();
            var generated = List("generate").Select(g => new GeneratedFile(S(g, "file") ?? "",
                g.GetProperty("parts").EnumerateArray().Select(p => (S(p, "text"), S(p, "repeat"), p.TryGetProperty("count", out var n) ? n.GetInt32() : 0)).ToList())).ToList();
            return new CorpusCase(name, folder,
                S(root, "description") ?? "",
                S(root, "service") ?? "svc",
                S(root, "ruleId") ?? "",
                S(root, "file") ?? "",
                root.TryGetProperty("line", out var line) && line.ValueKind == JsonValueKind.Number ? line.GetInt32() : -1,
                S(root, "errorId"),
                generated.Count > 0 ? "parts" : S(root, "generate"),
                S(root, "severity") ?? "Error",
                S(root, "knownIssue"))
            {
                Class = S(root, "class") ?? "malformed",
                Isolate = root.TryGetProperty("isolate", out var iso) && iso.ValueKind == JsonValueKind.True,
                Secret = S(root, "secret"),
                TimeoutSeconds = root.TryGetProperty("timeoutSeconds", out var t) && t.ValueKind == JsonValueKind.Number ? t.GetInt32() : 120,
                Generated = generated,
                Specials = List("special").Select(x => new SpecialFile(S(x, "path") ?? "", S(x, "kind") ?? "", S(x, "target"))).ToList(),
            };
        }

        /// <summary>A throwaway copy of the case (plus any generated or special file) that a test may read and change.</summary>
        public CaseCopy Materialise()
        {
            var copy = new CaseCopy();
            foreach (var source in Directory.EnumerateFiles(Folder, "*", SearchOption.AllDirectories))
            {
                var relative = Path.GetRelativePath(Folder, source);
                if (relative == "case.json") continue;
                var target = Path.Combine(copy.Root, relative);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                System.IO.File.Copy(source, target);
            }
            if (Generate == "large") WriteLargeFile(Path.Combine(copy.Root, File));
            foreach (var g in Generated) WriteGenerated(Path.Combine(copy.Root, g.File), g);
            foreach (var special in Specials) copy.MakeSpecial(special);
            return copy;
        }

        private static void WriteGenerated(string path, GeneratedFile g)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 16);
            foreach (var (text, repeat, count) in g.Parts)
            {
                if (text is not null) writer.Write(text);
                if (repeat is null) continue;
                for (var i = 0; i < count; i++)
                    writer.Write(repeat.Replace("{i}", i.ToString(System.Globalization.CultureInfo.InvariantCulture))
                        .Replace("{next}", (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)));
            }
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

    /// <summary>A materialised case: the soa dir, and a folder beside it for what a case links to from outside.</summary>
    public sealed class CaseCopy : IDisposable
    {
        private readonly TempSoaDir _soa = new();
        private readonly string _outside = Path.Combine(Path.GetTempPath(), "paasta-outside-" + Guid.NewGuid().ToString("N")[..10]);

        public string Root => _soa.Root;

        public void MakeSpecial(SpecialFile special)
        {
            var path = Path.Combine(Root, special.Path);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            switch (special.Kind)
            {
                case "fifo":
                    if (System.IO.File.Exists(path)) System.IO.File.Delete(path);
                    using (var mkfifo = Process.Start("mkfifo", path)) mkfifo.WaitForExit();
                    break;
                case "symlink":
                    if (System.IO.File.Exists(path)) System.IO.File.Delete(path);
                    System.IO.File.CreateSymbolicLink(path, special.Target!);
                    break;
                case "link-outside":
                    // The folder moves outside the soa dir and a link takes its place.
                    var outside = Path.Combine(_outside, special.Path);
                    Directory.CreateDirectory(Path.GetDirectoryName(outside)!);
                    Directory.Move(path, outside);
                    Directory.CreateSymbolicLink(path, outside);
                    break;
            }
        }

        public void Dispose()
        {
            _soa.Dispose();
            try { if (Directory.Exists(_outside)) Directory.Delete(_outside, recursive: true); } catch (IOException) { }
        }
    }
}
