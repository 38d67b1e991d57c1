using System.Management.Automation;
using Paasta.Config;
using Paasta.Settings;
using Paasta.Errors;

namespace Paasta.Commands;

/// <summary>Shared by the cmdlets that read soa-configs: -SoaDir and -Service selection.</summary>
public abstract class SoaConfigCmdlet : PaastaCmdlet
{
    /// <summary>The soa-configs root. Defaults to $env:PAASTA_SOA_DIR, then Set-PaastaConfiguration -SoaDir, then /nail/etc/services.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? SoaDir { get; set; }

    protected override PaastaSettings GivenSettings() => base.GivenSettings() with { SoaDir = ProviderPath(SoaDir) };

    /// <summary>The soa dir this call reads (parameter, environment, settings file, default).</summary>
    protected string ResolveSoaDir(string? _) => Operation.Reader.SoaDir;

    private SoaConfigReader? _reader;

    protected SoaConfigReader Reader(string soaDir)
    {
        if (_reader is null || _reader.SoaDir != Path.GetFullPath(soaDir)) _reader = new SoaConfigReader(soaDir);
        return _reader;
    }

    /// <summary>
    /// The services named by <paramref name="patterns"/>: wildcard patterns filter the folder listing;
    /// a plain name must exist (otherwise ServiceNotFound), like Get-Service -Name.
    /// </summary>
    protected IEnumerable<string> SelectServices(SoaConfigReader reader, string[]? patterns)
    {
        if (patterns is null || patterns.Length == 0) return reader.ListServices();
        var exact = new List<string>();
        var wild = new List<string>();
        foreach (var p in patterns)
        {
            if (HasWildcards(p)) wild.Add(p);
            else
            {
                SoaConfigReader.ValidateServiceName(p);
                if (!Directory.Exists(Path.Combine(reader.SoaDir, p)))
                    throw new PaastaException("ServiceNotFound", PaastaErrorKind.ObjectNotFound,
                        $"There is no service '{p}' in {reader.SoaDir}.") { Target = p };
                exact.Add(p);
            }
        }
        var fromWildcards = wild.Count > 0 ? reader.ListServices(Matcher(wild)) : Array.Empty<string>();
        return exact.Concat(fromWildcards).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
    }
}
