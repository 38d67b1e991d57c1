namespace Paasta.Errors;

/// <summary>What kind of failure a <see cref="PaastaException"/> is; the cmdlets map it onto PowerShell's ErrorCategory.</summary>
// long: ConvertTo-Json writes 64-bit enums by name, which runbooks parsing JSON need (docs/OUTPUT.md).
public enum PaastaErrorKind : long
{
    NotSpecified,
    InvalidArgument,
    InvalidData,
    ObjectNotFound,
    ParserError,
    ReadError,
    WriteError,
    OpenError,
    InvalidOperation,
    ConnectionError,
    OperationTimeout,
    ResourceUnavailable,
    LimitsExceeded,
    SecurityError,
    /// <summary>Something ran and its result is a failure (a job run whose action failed).</summary>
    InvalidResult,
}

/// <summary>
/// A refusal the engine explains to its caller: a stable <see cref="ErrorId"/>, a kind, and where in the
/// soa-configs (file, line, key) the problem is when it comes from a file.
/// </summary>
public class PaastaException : Exception
{
    public PaastaException(string errorId, PaastaErrorKind kind, string message, Exception? inner = null)
        : base(message, inner)
    {
        ErrorId = errorId;
        Kind = kind;
    }

    public string ErrorId { get; }
    public PaastaErrorKind Kind { get; }
    public string? File { get; init; }
    public int Line { get; init; }
    public int Column { get; init; }
    /// <summary>Dotted key path inside the file, e.g. <c>main.cpus</c>.</summary>
    public string? Key { get; init; }
    /// <summary>The thing being operated on (service, instance, path...).</summary>
    public object? Target { get; init; }

    /// <summary>"file:line:column" when known, for messages.</summary>
    public string? Location => File is null ? null : Line > 0 ? $"{File}:{Line}:{Column}" : File;
}
