using System.Text.Json;
using System.Text.Json.Nodes;
using Paasta.Kubernetes;
using Xunit;

namespace Paasta.Tests.Kubernetes;

public sealed class ConfigShaTests
{
    // Keys that JSON escaping treats specially: quotes and backslashes, control characters, HTML-sensitive characters,
    // non-ASCII letters and a character outside the BMP.
    private static readonly string[] Keys = { "plain", "quote\"and\\slash", "line\nbreak\ttab", "<tag>&'+", "é-ü", "emoji😀", "" };

    [Fact]
    public void Object_keys_are_written_exactly_as_JsonSerializer_writes_a_string_so_config_shas_do_not_change()
    {
        var node = new JsonObject();
        foreach (var k in Keys) node[k] = 1;
        var expected = "{" + string.Join(", ", Keys.Order(StringComparer.Ordinal).Select(k => JsonSerializer.Serialize(k) + ": 1")) + "}";
        Assert.Equal(expected, ConfigSha.Canonical(node));
    }

    [Fact]
    public void The_hash_of_a_controller_with_such_keys_is_stable()
    {
        var labels = new JsonObject();
        foreach (var k in Keys) labels[k] = "v";
        var controller = new JsonObject { ["metadata"] = new JsonObject { ["labels"] = labels }, ["spec"] = new JsonObject { ["replicas"] = 3 } };
        // What the hash was when keys were written with JsonSerializer.Serialize: a change would bounce every instance.
        Assert.Equal(Expected(controller), ConfigSha.Compute(controller, null));
    }

    private static string Expected(JsonObject controller)
    {
        var node = controller.DeepClone().AsObject();
        (node["spec"] as JsonObject)!.Remove("replicas");
        static string Canonical(JsonNode? n) => n switch
        {
            null => "null",
            JsonObject o => "{" + string.Join(", ", o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => JsonSerializer.Serialize(p.Key) + ": " + Canonical(p.Value))) + "}",
            JsonArray a => "[" + string.Join(", ", a.Select(Canonical)) + "]",
            _ => n.ToJsonString(),
        };
        var text = Canonical(node);
        return ConfigSha.Prefix + Convert.ToHexString(System.Security.Cryptography.MD5.HashData(System.Text.Encoding.UTF8.GetBytes(text))).ToLowerInvariant()[..8];
    }
}
