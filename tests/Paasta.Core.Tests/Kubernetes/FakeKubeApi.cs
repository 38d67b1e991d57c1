using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Paasta.Tests.Kubernetes;

/// <summary>
/// A Kubernetes API server in memory, over plain HTTP on 127.0.0.1, for operation tests: it serves discovery
/// (policy/v1beta1 and autoscaling/v2beta2, as v1.20 does), LIST (all namespaces or one, with label selectors
/// k=v, k!=v, k, k in (a,b)), GET, POST, PUT, merge PATCH and DELETE of any resource, and records every request.
/// It does nothing a controller would: no pods appear, nothing is garbage-collected.
/// </summary>
public sealed class FakeKubeApi : IDisposable
{
    private readonly HttpListener _listener;
    private readonly ConcurrentDictionary<string, JsonObject> _objects = new(StringComparer.Ordinal);
    private int _version = 100;

    public FakeKubeApi()
    {
        _listener = LoopbackHttpListener.Start(out var port);
        Port = port;
        _ = Task.Run(Loop);
    }

    public int Port { get; }
    public string Url => $"http://127.0.0.1:{Port}";

    /// <summary>Every request: "METHOD path?query".</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    public IEnumerable<string> Writes => Requests.Where(r => !r.StartsWith("GET ", StringComparison.Ordinal));

    /// <summary>Puts an object (with apiVersion, kind, metadata.name and, when namespaced, metadata.namespace) in the store.</summary>
    public JsonObject Add(string plural, JsonObject obj)
    {
        var meta = obj["metadata"]!.AsObject();
        meta["uid"] ??= Guid.NewGuid().ToString();
        meta["resourceVersion"] = (Interlocked.Increment(ref _version)).ToString();
        meta["creationTimestamp"] ??= DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ");
        _objects[Key(plural, meta["namespace"]?.GetValue<string>(), meta["name"]!.GetValue<string>())] = obj;
        return obj;
    }

    public JsonObject? Get(string plural, string? ns, string name) => _objects.GetValueOrDefault(Key(plural, ns, name));

    public IEnumerable<JsonObject> All(string plural) =>
        _objects.Where(kv => kv.Key.StartsWith(plural + "/", StringComparison.Ordinal)).Select(kv => kv.Value);

    private static string Key(string plural, string? ns, string name) => $"{plural}/{ns ?? ""}/{name}";

    private async Task Loop()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync().ConfigureAwait(false); }
            catch (Exception) { return; }
            _ = Task.Run(() =>
            {
                try { Handle(context); }
                catch (Exception e) { Reply(context, 500, Status(500, e.Message)); }
            });
        }
    }

    private void Handle(HttpListenerContext c)
    {
        var path = c.Request.Url!.AbsolutePath.TrimEnd('/');
        var query = System.Web.HttpUtility.ParseQueryString(c.Request.Url.Query);
        var method = c.Request.HttpMethod;
        Requests.Enqueue($"{method} {path}{c.Request.Url.Query}");
        string body;
        using (var reader = new StreamReader(c.Request.InputStream, Encoding.UTF8)) body = reader.ReadToEnd();

        if (path == "/apis")
        {
            Reply(c, 200, new JsonObject
            {
                ["kind"] = "APIGroupList",
                ["apiVersion"] = "v1",
                ["groups"] = new JsonArray(
                    Group("apps", "v1"), Group("policy", "v1beta1"), Group("autoscaling", "v2beta2", "v1"), Group("batch", "v1", "v1beta1")),
            });
            return;
        }
        // As a real server: a group version it does not serve is 404 (policy/v1 on v1.20).
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length >= 3 && segments[0] == "apis" && !Served.Contains($"{segments[1]}/{segments[2]}"))
        {
            Reply(c, 404, Status(404, "the server could not find the requested resource"));
            return;
        }

        // /api/v1/... or /apis/{group}/{version}/..., then [namespaces/{ns}/]{plural}[/{name}]
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries).ToList();
        var rest = parts[0] == "api" ? parts.Skip(2).ToList() : parts.Skip(3).ToList();
        var apiVersion = parts[0] == "api" ? "v1" : $"{parts[1]}/{parts[2]}";
        string? ns = null;
        if (rest.Count >= 3 && rest[0] == "namespaces") { ns = rest[1]; rest = rest.Skip(2).ToList(); }
        else if (rest.Count == 2 && rest[0] == "namespaces") { rest = new List<string> { "namespaces", rest[1] }; }
        var plural = rest[0];
        var name = rest.Count > 1 ? rest[1] : null;

        switch (method)
        {
            case "GET" when name is null:
                var selector = query["labelSelector"];
                var items = new JsonArray(All(plural)
                    .Where(o => ns is null || o["metadata"]?["namespace"]?.GetValue<string>() == ns)
                    .Where(o => Matches(o, selector))
                    .Select(o => (JsonNode)o.DeepClone()).ToArray());
                Reply(c, 200, new JsonObject { ["kind"] = "List", ["apiVersion"] = apiVersion, ["metadata"] = new JsonObject { ["resourceVersion"] = _version.ToString() }, ["items"] = items });
                return;
            case "GET":
                if (Get(plural, ns, name!) is { } found) Reply(c, 200, found);
                else Reply(c, 404, Status(404, $"{plural} \"{name}\" not found"));
                return;
            case "POST":
            {
                var obj = JsonNode.Parse(body)!.AsObject();
                var meta = obj["metadata"]!.AsObject();
                meta["namespace"] ??= ns;
                var n = meta["name"]!.GetValue<string>();
                if (Get(plural, ns, n) is not null) { Reply(c, 409, Status(409, $"{plural} \"{n}\" already exists")); return; }
                Reply(c, 201, Add(plural, obj));
                return;
            }
            case "PUT":
            {
                if (Get(plural, ns, name!) is null) { Reply(c, 404, Status(404, "not found")); return; }
                var obj = JsonNode.Parse(body)!.AsObject();
                Reply(c, 200, Add(plural, obj));
                return;
            }
            case "PATCH":
            {
                if (Get(plural, ns, name!) is not { } current) { Reply(c, 404, Status(404, "not found")); return; }
                var merged = Merge(current.DeepClone().AsObject(), JsonNode.Parse(body)!.AsObject());
                Reply(c, 200, Add(plural, merged));
                return;
            }
            case "DELETE":
                if (_objects.TryRemove(Key(plural, ns, name!), out var removed)) Reply(c, 200, removed);
                else Reply(c, 404, Status(404, "not found"));
                return;
            default:
                Reply(c, 405, Status(405, method));
                return;
        }
    }

    private static readonly HashSet<string> Served = new(StringComparer.Ordinal)
        { "apps/v1", "policy/v1beta1", "autoscaling/v2beta2", "autoscaling/v1", "batch/v1", "batch/v1beta1" };

    private static JsonObject Group(string name, params string[] versions) => new()
    {
        ["name"] = name,
        ["versions"] = new JsonArray(versions.Select(v => (JsonNode)new JsonObject { ["groupVersion"] = $"{name}/{v}", ["version"] = v }).ToArray()),
        ["preferredVersion"] = new JsonObject { ["groupVersion"] = $"{name}/{versions[0]}", ["version"] = versions[0] },
    };

    /// <summary>RFC 7386 merge patch.</summary>
    private static JsonObject Merge(JsonObject target, JsonObject patch)
    {
        foreach (var (key, value) in patch.ToList())
        {
            if (value is null) target.Remove(key);
            else if (value is JsonObject p && target[key] is JsonObject t) Merge(t, p);
            else target[key] = value.DeepClone();
        }
        return target;
    }

    private static bool Matches(JsonObject o, string? selector)
    {
        if (string.IsNullOrEmpty(selector)) return true;
        var labels = o["metadata"]?["labels"] as JsonObject;
        string? Label(string k) => labels?[k]?.GetValue<string>();
        foreach (var term in SplitTerms(selector))
        {
            var t = term.Trim();
            var inMatch = System.Text.RegularExpressions.Regex.Match(t, @"^(\S+)\s+in\s+\((.*)\)$");
            if (inMatch.Success)
            {
                var values = inMatch.Groups[2].Value.Split(',').Select(v => v.Trim());
                if (!values.Contains(Label(inMatch.Groups[1].Value))) return false;
            }
            else if (t.Contains("!="))
            {
                var kv = t.Split("!=");
                if (Label(kv[0]) == kv[1]) return false;
            }
            else if (t.Contains('='))
            {
                var kv = t.Split('=', 2);
                if (Label(kv[0].TrimEnd('=')) != kv[1].TrimStart('=')) return false;
            }
            else if (Label(t) is null) return false;
        }
        return true;
    }

    private static IEnumerable<string> SplitTerms(string selector)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i < selector.Length; i++)
        {
            if (selector[i] == '(') depth++;
            else if (selector[i] == ')') depth--;
            else if (selector[i] == ',' && depth == 0) { yield return selector[start..i]; start = i + 1; }
        }
        yield return selector[start..];
    }

    private static JsonObject Status(int code, string message) => new()
    {
        ["kind"] = "Status",
        ["apiVersion"] = "v1",
        ["status"] = "Failure",
        ["message"] = message,
        ["code"] = code,
    };

    private static void Reply(HttpListenerContext c, int status, JsonNode body)
    {
        var bytes = Encoding.UTF8.GetBytes(body.ToJsonString());
        c.Response.StatusCode = status;
        c.Response.ContentType = "application/json";
        c.Response.ContentLength64 = bytes.Length;
        c.Response.OutputStream.Write(bytes, 0, bytes.Length);
        c.Response.Close();
    }

    /// <summary>A kubeconfig with one context per fake server given (names ctx-0, ctx-1…), current ctx-0.</summary>
    public static string KubeConfig(string path, params FakeKubeApi[] servers)
    {
        var text = new StringBuilder("apiVersion: v1\nkind: Config\nclusters:\n");
        for (var i = 0; i < servers.Length; i++) text.Append($"- name: c{i}\n  cluster: {{server: \"{servers[i].Url}\"}}\n");
        text.Append("users:\n- name: u\n  user: {token: t}\ncontexts:\n");
        for (var i = 0; i < servers.Length; i++) text.Append($"- name: ctx-{i}\n  context: {{cluster: c{i}, user: u}}\n");
        text.Append("current-context: ctx-0\n");
        File.WriteAllText(path, text.ToString());
        return path;
    }

    private int _disposed;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        LoopbackHttpListener.Close(_listener);
    }
}
