using Paasta.Errors;
using Xunit;

namespace Paasta.Tests.Operations;

public sealed class RedactionTests
{
    [Theory]
    [InlineData("clone http://user:TOKEN@host/x.git failed", "clone http://user:***@host/x.git failed")]
    [InlineData("https://TOKEN@github.example/x.git", "https://***@github.example/x.git")]
    [InlineData("ssh://git@host/x.git", "ssh://***@host/x.git")]
    [InlineData("no url here", "no url here")]
    [InlineData("mail me@example.com", "mail me@example.com")]
    [InlineData("'http://a:b@h/' and 'https://c:d@i/'", "'http://a:***@h/' and 'https://c:***@i/'")]
    public void Credentials_in_urls_are_masked(string text, string expected) => Assert.Equal(expected, Redaction.Apply(text));

    [Fact]
    public void Any_exception_becomes_a_PaastaException_with_a_stable_id_and_no_secret()
    {
        var e = ErrorClassifier.Classify(new IOException("cannot read http://u:SECRET@h/x"));
        Assert.Equal("FileSystemError", e.ErrorId);
        Assert.DoesNotContain("SECRET", e.Message);
        Assert.Equal("AccessDenied", ErrorClassifier.Classify(new UnauthorizedAccessException("no")).ErrorId);
        Assert.Equal("UnexpectedError", ErrorClassifier.Classify(new InvalidOperationException("x")).ErrorId);
        Assert.Equal("InvalidArgument", ErrorClassifier.Classify(new AggregateException(new ArgumentException("nul"))).ErrorId);
    }
}
