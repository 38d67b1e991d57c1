namespace Paasta.Config;

/// <summary>
/// The one rule for the environment Paasta gives a container, wherever the variables come from (soa-configs
/// <c>env</c>, a local run's -Env): a name is not empty and holds no '=' and no control character (newline, NUL…),
/// since either would split or truncate the <c>NAME=value</c> the container receives; a value holds no NUL.
/// Reasons never repeat a value, nor a name past its first '=' (what follows may be a secret pasted by mistake).
/// See docs/RELIABILITY.md, "What is refused".
/// </summary>
public static class EnvironmentNames
{
    /// <summary>Why <paramref name="name"/> cannot name an environment variable, or null when it can.</summary>
    public static string? NameProblem(string? name)
    {
        if (string.IsNullOrEmpty(name)) return "an environment variable name cannot be empty";
        foreach (var c in name)
        {
            if (c == '=') return $"the environment variable name '{Shown(name)}' contains '=' (a name cannot hold one: NAME=value would split there)";
            if (char.IsControl(c)) return $"the environment variable name '{Shown(name)}' contains a control character (a newline, tab or NUL)";
        }
        return null;
    }

    /// <summary>Why <paramref name="value"/> cannot be an environment variable's value, or null when it can (the value is not repeated).</summary>
    public static string? ValueProblem(string? value) =>
        value is not null && value.Contains('\0') ? "the value contains a NUL character, which no process environment can hold" : null;

    /// <summary>The name as it may be shown: up to its first '=' or control character, then "…".</summary>
    public static string Shown(string name)
    {
        for (var i = 0; i < name.Length; i++)
            if (name[i] == '=' || char.IsControl(name[i])) return name[..i] + "…";
        return name;
    }
}
