using System.Management.Automation;
using Paasta.Config;
using Paasta.Errors;
using Paasta.Settings;

namespace Paasta.Commands;

/// <summary>
/// Base of every Paasta cmdlet: cancellation on Ctrl+C, the soa-dir convention, wildcard filters, and
/// the one place engine exceptions become ErrorRecords with stable ErrorIds.
/// </summary>
public abstract class PaastaCmdlet : PSCmdlet
{
    private readonly CancellationTokenSource _cancellation = new();

    protected CancellationToken CancellationToken => _cancellation.Token;

    protected override void StopProcessing() => _cancellation.Cancel();

    protected override void EndProcessing() => _cancellation.Dispose();

    /// <summary>-SoaDir (provider path), else $env:PAASTA_SOA_DIR, else the user's configuration, else /nail/etc/services.</summary>
    protected string ResolveSoaDir(string? soaDir)
    {
        var given = string.IsNullOrEmpty(soaDir) ? null : GetUnresolvedProviderPathFromPSPath(soaDir);
        var resolved = SoaConfigReader.ResolveSoaDir(given, PaastaSettingsStore.Current.SoaDir);
        WriteDebug($"soa dir: {resolved}");
        return resolved;
    }

    /// <summary>A predicate for -Name-style wildcard parameters (case-insensitive, as PowerShell's own).</summary>
    protected static Func<string, bool>? Matcher(IEnumerable<string>? patterns)
    {
        if (patterns is null) return null;
        var compiled = patterns.Select(p => WildcardPattern.Get(p, WildcardOptions.IgnoreCase | WildcardOptions.CultureInvariant)).ToArray();
        if (compiled.Length == 0) return null;
        return value => compiled.Any(p => p.IsMatch(value));
    }

    protected static bool HasWildcards(string value) => WildcardPattern.ContainsWildcardCharacters(value);

    public static ErrorRecord ToErrorRecord(PaastaException e)
    {
        var record = new ErrorRecord(e, e.ErrorId, Category(e.Kind), e.Target ?? e.File);
        if (e.Location is { } location)
            record.ErrorDetails = new ErrorDetails(e.Message) { RecommendedAction = $"Fix {location}{(e.Key is null ? "" : $" (key '{e.Key}')")}." };
        return record;
    }

    protected void WriteError(PaastaException e) => WriteError(ToErrorRecord(e));

    protected void ThrowTerminatingError(PaastaException e) => ThrowTerminatingError(ToErrorRecord(e));

    internal static ErrorCategory Category(PaastaErrorKind kind) => kind switch
    {
        PaastaErrorKind.InvalidArgument => ErrorCategory.InvalidArgument,
        PaastaErrorKind.InvalidData => ErrorCategory.InvalidData,
        PaastaErrorKind.ObjectNotFound => ErrorCategory.ObjectNotFound,
        PaastaErrorKind.ParserError => ErrorCategory.ParserError,
        PaastaErrorKind.ReadError => ErrorCategory.ReadError,
        PaastaErrorKind.WriteError => ErrorCategory.WriteError,
        PaastaErrorKind.OpenError => ErrorCategory.OpenError,
        PaastaErrorKind.InvalidOperation => ErrorCategory.InvalidOperation,
        PaastaErrorKind.ConnectionError => ErrorCategory.ConnectionError,
        PaastaErrorKind.OperationTimeout => ErrorCategory.OperationTimeout,
        PaastaErrorKind.ResourceUnavailable => ErrorCategory.ResourceUnavailable,
        PaastaErrorKind.LimitsExceeded => ErrorCategory.LimitsExceeded,
        PaastaErrorKind.SecurityError => ErrorCategory.SecurityError,
        PaastaErrorKind.InvalidResult => ErrorCategory.InvalidResult,
        _ => ErrorCategory.NotSpecified,
    };
}
