using System.Text;
using Paasta.Errors;

namespace Paasta.Config;

/// <summary>
/// Which environment variable names a container can be given exactly as written. A name with '=' would be cut
/// at the '=' (the rest becomes part of the value); a NUL ends it; a line break or other control character makes
/// a variable no shell can name and splits env files and logs. Such names are refused before anything runs
/// (docs/RELIABILITY.md, "Names").
/// </summary>
public static class EnvironmentNames
{
    /// <summary>Non-empty, without '=', NUL, line breaks or other control characters.</summary>
    public static bool IsValid(string name) => Problem(name) is null;

    /// <summary>What is wrong with a name, or null when nothing is.</summary>
    public static string? Problem(string name)
    {
        if (name.Length == 0) return "it is empty";
        if (name.Contains('=')) return "it contains '='";
        if (name.Contains('\n') || name.Contains('\r')) return "it contains a line break";
        if (name.Any(char.IsControl)) return "it contains a control character";
        return null;
    }

    /// <summary>
    /// Refuses an instance whose env (from soa-configs) has a name a container cannot carry: EnvNameInvalid,
    /// naming the file and line that set it and the key.
    /// </summary>
    public static void Check(InstanceConfig instance)
    {
        foreach (var name in instance.Env.Keys)
        {
            if (Problem(name) is not { } problem) continue;
            var source = instance.SourceOf($"env.{name}");
            var file = source?.File ?? instance.File;
            var line = source?.File is null ? instance.Line : source.Line;
            throw new PaastaException("EnvNameInvalid", PaastaErrorKind.InvalidData,
                $"{file}:{line}: env key '{Printable(name)}' of {instance.Service}.{instance.Instance} cannot be an environment variable name: {problem}. Rename it.")
            { File = file, Line = line, Key = $"env.{Printable(name)}", Target = instance.ToString() };
        }
    }

    /// <summary>The name with control characters escaped (\n, \r, \t, \xNN), for messages.</summary>
    public static string Printable(string name)
    {
        var sb = new StringBuilder(name.Length);
        foreach (var c in name)
        {
            sb.Append(c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when char.IsControl(c) => $"\\x{(int)c:x2}",
                _ => c.ToString(),
            });
        }
        return sb.ToString();
    }
}
