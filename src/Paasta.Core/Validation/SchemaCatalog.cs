using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json.Nodes;
using Json.Schema;

namespace Paasta.Validation;

/// <summary>
/// A schema ready to evaluate: with the keys it names (for "did you mean") and evaluation options whose registry
/// already holds it. JsonSchema.Net copies the options' registry on every evaluation and scans the schema into the
/// copy unless it is there already; for the kubernetes schema that scan cost 30 times the evaluation of a small file.
/// </summary>
internal sealed record CatalogSchema(JsonSchema Schema, HashSet<string> KnownKeys, EvaluationOptions PassFail, EvaluationOptions EveryFailure);

/// <summary>The JSON Schemas shipped with the module (also in the module's schemas/ folder, for editors).</summary>
internal static class SchemaCatalog
{
    private static readonly ConcurrentDictionary<string, CatalogSchema> Cache = new();

    /// <summary>The schema for a soa-configs file name, or null for files without one.</summary>
    public static string? SchemaNameFor(string fileName, string? instanceType)
    {
        if (instanceType is not null)
            return instanceType switch
            {
                "kubernetes" or "eks" => "kubernetes",
                "adhoc" => "adhoc",
                "tron" => "tron",
                _ => null,
            };
        if (fileName.StartsWith("rollback-", StringComparison.Ordinal)) return "rollback";
        return fileName switch
        {
            "service.yaml" => "service",
            "monitoring.yaml" => "monitoring",
            "deploy.yaml" => "deploy",
            "smartstack.yaml" => "smartstack",
            _ => null,
        };
    }

    public static CatalogSchema Get(string name) => Cache.GetOrAdd(name, n =>
    {
        var resource = $"Paasta.Schemas.{n}.schema.json";
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"The schema {resource} is not embedded in Paasta.Core.");
        using var reader = new StreamReader(stream);
        var text = reader.ReadToEnd();
        var known = new HashSet<string>(StringComparer.Ordinal);
        CollectPropertyNames(JsonNode.Parse(text), known);
        var schema = JsonSchema.FromText(text);
        // Options of its own per schema, registered before the entry is shared: registering later would change a
        // registry other threads are copying.
        EvaluationOptions Options(OutputFormat format)
        {
            var options = new EvaluationOptions { OutputFormat = format };
            options.SchemaRegistry.Register(schema);
            return options;
        }
        return new CatalogSchema(schema, known, Options(OutputFormat.Flag), Options(OutputFormat.List));
    });

    // Every key named under any "properties" in the schema: the vocabulary "did you mean" suggestions use.
    private static void CollectPropertyNames(JsonNode? node, HashSet<string> known)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj)
                {
                    if (key == "properties" && value is JsonObject props)
                        foreach (var (name, _) in props) known.Add(name);
                    CollectPropertyNames(value, known);
                }
                break;
            case JsonArray arr:
                foreach (var item in arr) CollectPropertyNames(item, known);
                break;
        }
    }
}
