using System.Text.RegularExpressions;
using Paasta.Errors;
using Xunit;

namespace Paasta.Core.Tests.Errors;

/// <summary>Every ErrorId users can meet comes with what to do about it (ErrorRecord.ErrorDetails.RecommendedAction).</summary>
public sealed class ErrorCatalogTests
{
    private static readonly Lazy<IReadOnlyList<string>> DocumentedIds = new(ReadDocumentedIds);

    // The ErrorIds of about_Paasta_Errors' ERRORS section (the findings of Test-PaastaConfig are not errors).
    private static IReadOnlyList<string> ReadDocumentedIds()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Paasta.sln"))) dir = dir.Parent;
        if (dir is null) throw new InvalidOperationException($"No Paasta.sln above {AppContext.BaseDirectory}.");
        var ids = new List<string>();
        var inErrors = false;
        foreach (var line in File.ReadLines(Path.Combine(dir.FullName, "docs", "en-US", "about_Paasta_Errors.help.txt")))
        {
            if (Regex.IsMatch(line, @"^[A-Z]")) { inErrors = line.Trim() == "ERRORS"; continue; }
            var m = Regex.Match(line, @"^\s{4}([A-Z][A-Za-z0-9]+)\s+[A-Z][A-Za-z]+\s{2,}\S");
            if (inErrors && m.Success && m.Groups[1].Value != "ErrorId") ids.Add(m.Groups[1].Value);
        }
        return ids;
    }

    [Fact]
    public void The_catalogue_of_about_Paasta_Errors_is_read()
    {
        Assert.Contains("ServiceNotFound", DocumentedIds.Value);
        Assert.Contains("UnexpectedError", DocumentedIds.Value);
        Assert.DoesNotContain("UnknownKey", DocumentedIds.Value); // a finding, not an error
        Assert.True(DocumentedIds.Value.Count > 100);
    }

    [Fact]
    public void Every_documented_ErrorId_has_a_recommended_action()
    {
        var missing = DocumentedIds.Value.Where(id => !ErrorCatalog.ErrorIds.Contains(id)).ToList();
        Assert.True(missing.Count == 0, $"ErrorCatalog has no recommended action for: {string.Join(", ", missing)}");
    }

    [Fact]
    public void The_catalogue_names_no_ErrorId_that_is_not_documented()
    {
        var extra = ErrorCatalog.ErrorIds.Where(id => !DocumentedIds.Value.Contains(id)).ToList();
        Assert.True(extra.Count == 0, $"ErrorCatalog has actions for ErrorIds about_Paasta_Errors does not list: {string.Join(", ", extra)}");
    }

    [Fact]
    public void Every_action_is_a_sentence_with_nothing_left_to_fill_in()
    {
        foreach (var id in ErrorCatalog.ErrorIds)
        {
            var action = ErrorCatalog.RecommendedAction(new PaastaException(id, PaastaErrorKind.NotSpecified, "m"))!;
            Assert.Matches(@"^[A-Z$].*[.)]$", action);
            Assert.DoesNotContain("{", action.Replace("{type, value}", ""));
            var located = ErrorCatalog.RecommendedAction(new PaastaException(id, PaastaErrorKind.NotSpecified, "m") { File = "/soa/svc/x.yaml", Line = 3, Column = 5, Key = "main.cpus" })!;
            Assert.DoesNotContain("{location}", located);
        }
    }

    [Fact]
    public void A_missing_deployments_json_says_to_generate_it_not_to_fix_the_file()
    {
        var e = new PaastaException("DeploymentsFileNotFound", PaastaErrorKind.ObjectNotFound, "No deployments.json for hello; run New-PaastaDeployments.")
        { File = "/soa/hello/deployments.json" };
        var action = ErrorCatalog.RecommendedAction(e)!;
        Assert.Contains("New-PaastaDeployments", action);
        Assert.DoesNotContain("Fix", action);
    }

    [Fact]
    public void An_action_about_a_file_names_its_file_line_and_key()
    {
        var e = new PaastaException("YamlDuplicateKey", PaastaErrorKind.ParserError, "duplicate") { File = "/soa/svc/kubernetes-prod.yaml", Line = 7, Column = 3, Key = "main.env" };
        Assert.Equal("Keep one of the two entries of the key at /soa/svc/kubernetes-prod.yaml:7:3 (key 'main.env').", ErrorCatalog.RecommendedAction(e));
        var unplaced = new PaastaException("YamlDuplicateKey", PaastaErrorKind.ParserError, "duplicate");
        Assert.Equal("Keep one of the two entries of the key at the file the message names.", ErrorCatalog.RecommendedAction(unplaced));
    }
}
