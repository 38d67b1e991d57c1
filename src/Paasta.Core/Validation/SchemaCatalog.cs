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
    // The schema's text and the keys it names, read once per process.
    private static readonly ConcurrentDictionary<string, (string Text, HashSet<string> KnownKeys)> Sources = new();

    // JsonSchema.Net 7 builds a schema's evaluation state lazily, on first use, and that is not safe from two threads
    // at once: a schema evaluated for the first time on eight threads together found an invalid document valid in
    // 1 to 3 of 30–40 new processes (validation checks services in parallel). So each thread evaluates with a schema
    // of its own; it is built once per thread.
    [ThreadStatic] private static Dictionary<string, CatalogSchema>? _thisThread;

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

    /// <summary>The schema <paramref name="name"/>, for use on the calling thread only.</summary>
    public static CatalogSchema Get(string name)
    {
        var mine = _thisThread ??= new Dictionary<string, CatalogSchema>(StringComparer.Ordinal);
        if (mine.TryGetValue(name, out var ready)) return ready;
        var (text, known) = Sources.GetOrAdd(name, n =>
        {
            var resource = $"Paasta.Schemas.{n}.schema.json";
            using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(resource)
                ?? throw new InvalidOperationException($"The schema {resource} is not embedded in Paasta.Core.");
            using var reader = new StreamReader(stream);
            var source = reader.ReadToEnd();
            var keys = new HashSet<string>(StringComparer.Ordinal);
            CollectPropertyNames(JsonNode.Parse(source), keys);
            return (source, keys);
        });
        var schema = JsonSchema.FromText(text);
        EvaluationOptions Options(OutputFormat format)
        {
            var options = new EvaluationOptions { OutputFormat = format };
            options.SchemaRegistry.Register(schema);
            return options;
        }
        return mine[name] = new CatalogSchema(schema, known, Options(OutputFormat.Flag), Options(OutputFormat.List));
    }

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
