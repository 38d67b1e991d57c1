using Paasta.Settings;

namespace Paasta.Tests;

/// <summary>Settings for engine tests: given values and a settings file's values, with no environment variable in play.</summary>
public static class TestSettings
{
    public static ResolvedSettings Saved(PaastaSettings saved) => new(null, () => saved, _ => null);

    public static ResolvedSettings Given(PaastaSettings given, PaastaSettings? saved = null) => new(given, () => saved ?? new PaastaSettings(), _ => null);
}
