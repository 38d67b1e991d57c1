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

    /// <summary>
    /// JsonSchema.Net 7 builds a schema's evaluation state on first use, unsafely from several threads at once (an
    /// invalid file was found valid when eight threads evaluated a fresh schema together): validation runs services
    /// in parallel, so no schema object may be shared between threads. The race itself shows only in a new process,
    /// now and then, so this checks the rule that prevents it.
    /// </summary>
    [Fact]
    public void EachThreadEvaluatesWithASchemaOfItsOwn()
    {
        var here = SchemaCatalog.Get("tron");
        Assert.Same(here, SchemaCatalog.Get("tron"));
        CatalogSchema? there = null;
        var thread = new Thread(() => there = SchemaCatalog.Get("tron"));
        thread.Start();
        thread.Join();
        Assert.NotSame(here.Schema, there!.Schema);
        Assert.NotSame(here.PassFail, there.PassFail);
        Assert.Same(here.KnownKeys, there.KnownKeys);
    }
}
