using Paasta.Config;
using Xunit;

namespace Paasta.Tests.Operations;

public sealed class NamePatternTests
{
    [Theory]
    [InlineData("main", "main", true)]
    [InlineData("main", "MAIN", true)]
    [InlineData("main", "main2", false)]
    [InlineData("ma*", "main", true)]
    [InlineData("*", "", true)]
    [InlineData("m?in", "main", true)]
    [InlineData("[ab]eta", "beta", true)]
    [InlineData("[a-c]eta", "ceta", true)]
    [InlineData("[a-c]eta", "deta", false)]
    [InlineData("a.b", "axb", false)]
    [InlineData("job.*", "job.action", true)]
    [InlineData("x`*", "x*", true)]
    [InlineData("x`*", "xy", false)]
    [InlineData("(a)", "(a)", true)]
    public void Matches_as_PowerShell_like_does(string pattern, string name, bool expected) =>
        Assert.Equal(expected, NamePattern.Parse(pattern).IsMatch(name));

    [Fact]
    public void An_escaped_wildcard_is_a_literal_name()
    {
        var p = NamePattern.Parse("x`*");
        Assert.False(p.IsWildcard);
        Assert.Equal("x*", p.Literal);
        Assert.True(NamePattern.Parse("x*").IsWildcard);
        Assert.True(NamePattern.Parse("[ab]").IsWildcard);
    }
}
