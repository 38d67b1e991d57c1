using System.Net.Http.Headers;
using System.Text.Json;
using Paasta.Yaml;
using Paasta.Settings;
using Paasta.Errors;

namespace Paasta.Tron;

/// <summary>What a Tron master holds for a namespace: the config text and its hash.</summary>
public sealed record TronStoredConfig(string Config, string Hash);

/// <summary>
/// The part of a Tron master's HTTP API that setup_tron_namespace uses (docs/BEHAVIOUR.md §10.3):
/// <c>GET /api/config?name=NS&amp;no_header=1</c> → <c>{config, hash}</c>, and
/// <c>POST /api/config</c> with form fields name, config, hash (the one read) and check=0, whose JSON answer
/// carries <c>error</c> when the master refused it (a stale hash among others).
/// </summary>
public sealed class TronClient : IDisposable
{
    private readonly HttpClient _http;
    private int _requests;
    private int _posts;

    public TronClient(Uri masterUrl, string? bearerToken = null, HttpMessageHandler? handler = null, TimeSpan? timeout = null)
    {
        MasterUrl = masterUrl.AbsoluteUri.EndsWith('/') ? masterUrl : new Uri(masterUrl.AbsoluteUri + "/");
        _http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        _http.Timeout = timeout ?? TimeSpan.FromSeconds(30);
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("Paasta", typeof(TronClient).Assembly.GetName().Version?.ToString(3) ?? "0"));
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("(setup_tron_namespace)"));
        if (!string.IsNullOrEmpty(bearerToken)) _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", bearerToken);
    }

    public Uri MasterUrl { get; }
    public int Requests => _requests;
    public int Posts => _posts;

    /// <summary>Resolves the master's URL: -TronUrl, else $PAASTA_TRON_URL, else the saved setting.</summary>
    public static Uri ResolveUrl(ResolvedSettings settings)
    {
        var text = settings.TronUrl;
        if (string.IsNullOrEmpty(text))
            throw new PaastaException("TronUrlNotConfigured", PaastaErrorKind.InvalidOperation,
                "No Tron master URL: pass -TronUrl, set $env:PAASTA_TRON_URL, or Set-PaastaConfiguration -TronUrl.") { Target = "TronUrl" };
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new PaastaException("TronUrlNotConfigured", PaastaErrorKind.InvalidOperation,
                $"'{text}' is not an http(s) URL of a Tron master.") { Target = text };
        return uri;
    }

    /// <summary>The environment variable that holds Paasta's bearer token for the Tron API.</summary>
    public const string TokenVariable = "PAASTA_TRON_TOKEN";
    /// <summary>PaaSTA's switch (docs/BEHAVIOUR.md §10.3): when set, requests to the Tron API carry a bearer token.</summary>
    public const string AuthSwitchVariable = "TRONCTL_API_AUTH";

    /// <summary>
    /// The bearer token: <paramref name="given"/> (-TronToken), else $PAASTA_TRON_TOKEN; null when neither is
    /// set. PaaSTA fetches the token from Yelp's SSO when TRONCTL_API_AUTH is set; Paasta cannot, so with that
    /// switch set and no token it refuses rather than send unauthenticated requests.
    /// </summary>
    public static string? ResolveToken(string? given, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        if (!string.IsNullOrEmpty(given)) return given;
        if (environment(TokenVariable) is { Length: > 0 } token) return token;
        if (environment(AuthSwitchVariable) is { Length: > 0 })
            throw new PaastaException("TronTokenNotConfigured", PaastaErrorKind.InvalidOperation,
                $"${AuthSwitchVariable} is set, so the Tron master expects a bearer token, but none is given: pass -TronToken or set ${TokenVariable}.") { Target = "TronToken" };
        return null;
    }

    public async Task<TronStoredConfig> GetConfigAsync(string ns, CancellationToken cancellation)
    {
        var url = new Uri(MasterUrl, $"api/config?name={Uri.EscapeDataString(ns)}&no_header=1");
        using var doc = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, url), $"read namespace {ns}", cancellation).ConfigureAwait(false);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("config", out var config) || !root.TryGetProperty("hash", out var hash))
            throw new PaastaException("TronApiError", PaastaErrorKind.NotSpecified,
                $"The Tron master at {MasterUrl} answered GET /api/config for {ns} without config and hash: {Short(root.GetRawText())}") { Target = ns };
        return new TronStoredConfig(config.ValueKind == JsonValueKind.String ? config.GetString()! : "", hash.GetString() ?? "");
    }

    /// <summary>Stores <paramref name="config"/> as namespace <paramref name="ns"/>, if the master still holds the config with <paramref name="hash"/>.</summary>
    public async Task PostConfigAsync(string ns, string config, string hash, CancellationToken cancellation)
    {
        var url = new Uri(MasterUrl, "api/config");
        using var doc = await SendAsync(() => new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new FormUrlEncodedContent(new[]
            {
                KeyValuePair.Create("name", ns),
                KeyValuePair.Create("config", config),
                KeyValuePair.Create("hash", hash),
                KeyValuePair.Create("check", "0"),
            }),
        }, $"update namespace {ns}", cancellation).ConfigureAwait(false);
        Interlocked.Increment(ref _posts);
        if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("error", out var error))
            throw new PaastaException("TronUpdateRefused", PaastaErrorKind.InvalidOperation,
                $"The Tron master at {MasterUrl} refused the config of namespace {ns}: {(error.ValueKind == JsonValueKind.String ? error.GetString() : error.GetRawText())}") { Target = ns };
    }

    private async Task<JsonDocument> SendAsync(Func<HttpRequestMessage> request, string what, CancellationToken cancellation)
    {
        Interlocked.Increment(ref _requests);
        HttpResponseMessage response;
        try
        {
            using var message = request();
            response = await _http.SendAsync(message, cancellation).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new PaastaException("TronUnreachable", PaastaErrorKind.ConnectionError, $"Cannot reach the Tron master at {MasterUrl} to {what}: {e.Message}", e) { Target = MasterUrl.ToString() };
        }
        catch (TaskCanceledException e) when (!cancellation.IsCancellationRequested)
        {
            throw new PaastaException("TronUnreachable", PaastaErrorKind.ConnectionError, $"The Tron master at {MasterUrl} did not answer in time to {what}.", e) { Target = MasterUrl.ToString() };
        }
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(cancellation).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                // Tron answers some refusals (a missing name) with an error status and an {error} body.
                string? error = null;
                try
                {
                    using var e = JsonDocument.Parse(body);
                    if (e.RootElement.ValueKind == JsonValueKind.Object && e.RootElement.TryGetProperty("error", out var err)) error = err.ToString();
                }
                catch (JsonException) { }
                throw new PaastaException(error is null ? "TronApiError" : "TronUpdateRefused", error is null ? PaastaErrorKind.NotSpecified : PaastaErrorKind.InvalidOperation,
                    $"The Tron master at {MasterUrl} answered {(int)response.StatusCode} {response.ReasonPhrase} to {what}: {error ?? Short(body)}") { Target = MasterUrl.ToString() };
            }
            try { return JsonDocument.Parse(body); }
            catch (JsonException e)
            {
                throw new PaastaException("TronApiError", PaastaErrorKind.NotSpecified, $"The Tron master at {MasterUrl} answered {what} with something that is not JSON: {Short(body)}", e) { Target = MasterUrl.ToString() };
            }
        }
    }

    private static string Short(string s) => s.Length > 300 ? s[..300] + "…" : s;

    public void Dispose() => _http.Dispose();

    /// <summary>
    /// PaaSTA's skip test: the two configs are equal once parsed as YAML (so formatting, key order and
    /// comments do not count, and 1 equals 1.0 as in Python).
    /// </summary>
    public static bool SameConfig(string current, string proposed)
    {
        object? Parse(string text)
        {
            try { return YamlLoader.Parse(text, "<tron>")?.ToPlain(); }
            catch (PaastaException) { return new object(); } // unparsable: never equal to anything
        }
        return PlainEquals(Parse(current), Parse(proposed));
    }

    internal static bool PlainEquals(object? a, object? b)
    {
        switch (a, b)
        {
            case (null, null): return true;
            case (Dictionary<string, object?> x, Dictionary<string, object?> y):
                return x.Count == y.Count && x.All(kv => y.TryGetValue(kv.Key, out var v) && PlainEquals(kv.Value, v));
            case (List<object?> x, List<object?> y):
                return x.Count == y.Count && x.Zip(y).All(p => PlainEquals(p.First, p.Second));
            case (string x, string y): return x == y;
            case (bool or long or double, bool or long or double):
                return Number(a) == Number(b);
            default: return Equals(a, b);
        }
        static double Number(object? v) => v switch { bool t => t ? 1 : 0, long l => l, double d => d, _ => double.NaN };
    }
}
