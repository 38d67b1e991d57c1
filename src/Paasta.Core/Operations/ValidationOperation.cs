using Paasta.Errors;
using Paasta.Validation;

namespace Paasta.Operations;

/// <summary>The findings of one service.</summary>
public sealed record ServiceValidation(string Service, IReadOnlyList<ConfigFinding> Findings)
{
    public int Errors => Findings.Count(f => f.Severity == FindingSeverity.Error);
}

/// <summary>What Test-PaastaConfig found: per service, and whether anything, the selection included, was an error.</summary>
public sealed record ValidationReport(IReadOnlyList<ServiceValidation> Services, IReadOnlyList<PaastaException> SelectionErrors)
{
    /// <summary>True when no service had an error and every service asked for was found.</summary>
    public bool Valid => SelectionErrors.Count == 0 && Services.All(s => s.Errors == 0);
}

/// <summary>Test-PaastaConfig (paasta validate): schemas and cross-file rules for the services selected, several at once.</summary>
public static class ValidationOperation
{
    /// <summary>
    /// Validates the services named (wildcards allowed; all when null). A literal name that is no service is a
    /// ServiceNotFound selection error, returned (and, unless <paramref name="reportSelectionErrors"/> is false,
    /// reported): -Quiet answers $false for it without writing it.
    /// </summary>
    public static ValidationReport Validate(OperationContext context, IReadOnlyList<string>? services, bool reportSelectionErrors = true)
    {
        IReadOnlyList<string> names;
        IReadOnlyList<PaastaException> errors;
        try { (names, errors) = ErrorCollectingSink.Collect(context, c => InstanceQuery.ServiceNames(c, services), reportSelectionErrors); }
        catch (PaastaException e)
        {
            // No soa dir: nothing could be validated.
            if (reportSelectionErrors) context.Sink.Error(e);
            return new ValidationReport(Array.Empty<ServiceValidation>(), new[] { e });
        }
        var validator = new ConfigValidator(context.Reader);
        var results = names.AsParallel().AsOrdered().WithCancellation(context.Cancellation)
            .Select(s => new ServiceValidation(s, validator.ValidateService(s)))
            .ToList();
        foreach (var r in results) context.Sink.Verbose($"{r.Service}: {r.Errors} error(s), {r.Findings.Count - r.Errors} warning(s)");
        return new ValidationReport(results, errors);
    }
}
