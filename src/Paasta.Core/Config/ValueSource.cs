namespace Paasta.Config;

/// <summary>Where an effective value came from, in PaaSTA's order of precedence (highest first).</summary>
// long: ConvertTo-Json writes 64-bit enums by name, which runbooks parsing JSON need (docs/OUTPUT.md).
public enum ValueOrigin : long
{
    InstanceFile,
    Template,
    ServiceYaml,
    MonitoringYaml,
    SmartstackYaml,
    DeployYaml,
    Default,
}

/// <summary>The origin of one effective value: which file and line set it, or that a code default applies.</summary>
public sealed record ValueSource(string Path, ValueOrigin Origin, string? File, int Line, int Column)
{
    public override string ToString() => Origin == ValueOrigin.Default
        ? "default"
        : $"{Origin} {System.IO.Path.GetFileName(File)}:{Line}";
}
