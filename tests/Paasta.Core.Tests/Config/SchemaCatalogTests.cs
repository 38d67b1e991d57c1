using Paasta.Validation;

namespace Paasta.Tests.Config;

public sealed class SchemaCatalogTests
{
    [Theory]
    [InlineData("kubernetes")]
    [InlineData("service")]
    [InlineData("tron")]
    public void EachSchemasOptionsAlreadyHoldTheSchemaSoEvaluationDoesNotScanItAgain(string name)
    {
        var entry = SchemaCatalog.Get(name);
        Assert.Same(entry.Schema, entry.PassFail.SchemaRegistry.Get(entry.Schema.BaseUri));
        Assert.Same(entry.Schema, entry.EveryFailure.SchemaRegistry.Get(entry.Schema.BaseUri));
        Assert.Equal(Json.Schema.OutputFormat.Flag, entry.PassFail.OutputFormat);
        Assert.Equal(Json.Schema.OutputFormat.List, entry.EveryFailure.OutputFormat);
    }
}
