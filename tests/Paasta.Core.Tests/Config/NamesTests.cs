using Paasta.Config;

namespace Paasta.Tests.Config;

public class NamesTests
{
    [Theory]
    [InlineData("example_service", "example--service")]
    [InlineData("_private", "underscore-private")]
    [InlineData("Main", "main")]
    [InlineData("a_b_c", "a--b--c")]
    public void SanitiseFollowsPaasta(string input, string expected) => Assert.Equal(expected, Names.Sanitise(input));

    [Fact]
    public void LongNamesKeepPrefixAndGainAHashSuffix()
    {
        var name = new string('a', 70);
        var limited = Names.LimitSizeWithHash(name);
        Assert.Equal(63, limited.Length);
        Assert.StartsWith(new string('a', 58) + "-", limited);
        Assert.Equal(limited, Names.LimitSizeWithHash(name));
        Assert.NotEqual(limited, Names.LimitSizeWithHash(new string('a', 69) + "b"));
        Assert.Equal("short", Names.LimitSizeWithHash("short"));
    }

    [Fact]
    public void Base32MatchesRfc4648() => Assert.Equal("MZXW6YTB", Names.Base32("fooba"u8.ToArray()));
}
