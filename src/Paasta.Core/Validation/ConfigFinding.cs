using Paasta.Errors;

namespace Paasta.Validation;

// long: ConvertTo-Json writes 64-bit enums by name, which runbooks parsing JSON need (docs/OUTPUT.md).
public enum FindingSeverity : long
{
    Error,
    Warning,
}

/// <summary>One problem Test-PaastaConfig found: which rule, where (file, line, column, key path), and what to do.</summary>
public sealed record ConfigFinding(
    string Service,
    string RuleId,
    FindingSeverity Severity,
    string? File,
    int Line,
    int Column,
    string? Path,
    string Message)
{
    /// <summary>"service/file.yaml:line:column", for reading and for editors that jump to locations.</summary>
    public string Location => File is null ? Service
        : Line > 0 ? $"{Service}/{System.IO.Path.GetFileName(File)}:{Line}:{Column}"
        : $"{Service}/{System.IO.Path.GetFileName(File)}";

    public override string ToString() => $"{Severity} {Location} {Path} {Message} [{RuleId}]";

    internal static ConfigFinding FromException(string service, PaastaException e) =>
        new(service, e.ErrorId, FindingSeverity.Error, e.File, e.Line, e.Column, e.Key, e.Message);
}
