using Paasta.Drain;
using Paasta.Errors;

namespace Paasta.Tests.Drain;

public class HttpDrainMethodTests
{
    /// <summary>
    /// A stand-in for a service's own drain endpoints: /drain and /undrain answer with settable codes;
    /// /draining and /safe answer 200 or 503 from what it was told. Records every request.
    /// </summary>
    private sealed class DrainEndpointStandIn : IDisposable
    {
        private readonly HttpStandIn _server;
        public DrainEndpointStandIn() => _server = new HttpStandIn(Handle);
        public int Port => _server.Port;
        public IReadOnlyList<ReceivedRequest> Received => _server.Received;
        public int DrainCode { get; set; } = 202;
        public volatile bool Draining;
        public volatile bool Safe;
        /// <summary>Registrations (the path segment after the action) that answer 500 to queries.</summary>
        public HashSet<string> Broken { get; } = new();

        private (int, string) Handle(ReceivedRequest r)
        {
            var parts = r.Path.Trim('/').Split('/');
            var registration = parts.Length > 1 ? Uri.UnescapeDataString(parts[^1]) : "";
            lock (Broken) if (Broken.Contains(registration) && parts[0] is "draining" or "safe") return (500, "broken");
            switch (parts[0])
            {
                case "drain": Draining = true; return (DrainCode, "draining");
                case "undrain": Draining = false; Safe = false; return (200, "serving");
                case "draining": return (Draining ? 200 : 503, "");
                case "safe": return (Safe ? 200 : 503, "");
                default: return (404, "");
            }
        }

        public void Dispose() => _server.Dispose();
    }

    private static Dictionary<string, object?> Spec(string url, string? method = null, object? codes = null)
    {
        var spec = new Dictionary<string, object?> { ["url_format"] = url };
        if (method is not null) spec["method"] = method;
        if (codes is not null) spec["success_codes"] = codes;
        return spec;
    }

    private static Dictionary<string, object?> Params(int port) => new()
    {
        ["drain"] = Spec($"http://{{host}}:{port}/drain/{{service}}/{{instance}}/{{port}}/{{nerve_ns}}", "POST", "200-299"),
        ["stop_draining"] = Spec($"http://{{host}}:{port}/undrain/{{nerve_ns}}", "DELETE", 200L),
        ["is_draining"] = Spec($"http://{{host}}:{port}/draining/{{nerve_ns}}", codes: "200"),
        ["is_safe_to_kill"] = Spec($"http://{{host}}:{port}/safe/{{nerve_ns}}", codes: "200-399,407-409"),
    };

    private static HttpDrainMethod Method(IReadOnlyDictionary<string, object?> parameters, params string[] registrations) => new(new DrainContext
    {
        Service = "hello",
        Instance = "main",
        Registrations = registrations.Length == 0 ? new[] { "hello.main" } : registrations,
        Params = parameters,
    });

    private static readonly DrainTask Pod = new() { Id = "hello-main-1", Host = "127.0.0.1", Ports = new[] { 8888 } };

    [Fact]
    public async Task DrainEndpointStandInReceivesTheExpandedUrlWithItsMethodOncePerRegistration()
    {
        using var endpoint = new DrainEndpointStandIn();
        using var method = Method(Params(endpoint.Port), "hello.main", "hello.canary");
        await method.DrainAsync(Pod, CancellationToken.None);
        var requests = endpoint.Received.OrderBy(r => r.Path, StringComparer.Ordinal).ToList();
        Assert.Equal(new[] { "/drain/hello/main/8888/hello.canary", "/drain/hello/main/8888/hello.main" }, requests.Select(r => r.Path));
        Assert.All(requests, r => Assert.Equal("POST", r.Method));
        Assert.All(requests, r => Assert.StartsWith("Paasta/", r.UserAgent));
    }

    [Fact]
    public async Task DrainEndpointStandInAnswersQueriesThroughSuccessCodes()
    {
        using var endpoint = new DrainEndpointStandIn();
        using var method = Method(Params(endpoint.Port));
        Assert.False(await method.IsDrainingAsync(Pod, CancellationToken.None));
        Assert.False(await method.IsSafeToKillAsync(Pod, CancellationToken.None));

        await method.DrainAsync(Pod, CancellationToken.None);
        Assert.True(await method.IsDrainingAsync(Pod, CancellationToken.None));
        Assert.False(await method.IsSafeToKillAsync(Pod, CancellationToken.None));
        endpoint.Safe = true;
        Assert.True(await method.IsSafeToKillAsync(Pod, CancellationToken.None));

        await method.StopDrainingAsync(Pod, CancellationToken.None);
        Assert.Equal("DELETE", endpoint.Received.Single(r => r.Path.StartsWith("/undrain/", StringComparison.Ordinal)).Method);
        Assert.False(await method.IsDrainingAsync(Pod, CancellationToken.None));
        Assert.All(endpoint.Received.Where(r => r.Path.StartsWith("/draining/", StringComparison.Ordinal) || r.Path.StartsWith("/safe/", StringComparison.Ordinal)),
            r => Assert.Equal("GET", r.Method));
    }

    [Fact]
    public async Task DrainEndpointStandInRefusingADrainIsDrainRequestRejected()
    {
        using var endpoint = new DrainEndpointStandIn { DrainCode = 409 };
        using var method = Method(Params(endpoint.Port));
        var e = await Assert.ThrowsAsync<PaastaException>(() => method.DrainAsync(Pod, CancellationToken.None));
        Assert.Equal("DrainRequestRejected", e.ErrorId);
        Assert.Contains("409", e.Message);
    }

    [Fact]
    public async Task DrainEndpointStandInWithOneBadRegistrationIsNotSafe()
    {
        using var endpoint = new DrainEndpointStandIn { Safe = true };
        using var method = Method(Params(endpoint.Port), "hello.main", "hello.canary");
        Assert.True(await method.IsSafeToKillAsync(Pod, CancellationToken.None));
        lock (endpoint.Broken) endpoint.Broken.Add("hello.canary");
        Assert.False(await method.IsSafeToKillAsync(Pod, CancellationToken.None));
    }

    [Fact]
    public async Task NoEndpointListeningIsDrainEndpointUnreachable()
    {
        using var method = Method(Params(HttpStandIn.FreePort()));
        var e = await Assert.ThrowsAsync<PaastaException>(() => method.IsSafeToKillAsync(Pod, CancellationToken.None));
        Assert.Equal("DrainEndpointUnreachable", e.ErrorId);
    }

    [Fact]
    public void UrlsExpandEveryPlaceholderAndLiteralBraces()
    {
        var p = Params(80);
        p["is_draining"] = Spec("https://{host}:{port}/q?svc={service}&inst={instance}&ns={nerve_ns}&json={{x}}");
        using var method = Method(p);
        Assert.Equal("https://10.0.0.7:8888/q?svc=hello&inst=main&ns=hello.main&json={x}",
            Assert.Single(method.Urls(DrainAction.IsDraining, new DrainTask { Id = "p", Host = "10.0.0.7", Ports = new[] { 8888, 1 } })).OriginalString);
    }

    [Theory]
    [InlineData("200-399,407-409,500", new[] { 200, 302, 399, 407, 409, 500 }, new[] { 199, 400, 406, 410, 501 })]
    [InlineData("204", new[] { 204 }, new[] { 200, 205 })]
    [InlineData(" 200 - 201 , 503 ", new[] { 200, 201, 503 }, new[] { 202 })]
    public void SuccessCodesAcceptCodesAndInclusiveRanges(string text, int[] accepted, int[] refused)
    {
        var codes = SuccessCodes.TryParse(text)!;
        Assert.All(accepted, c => Assert.True(codes.Accepts(c), $"{c}"));
        Assert.All(refused, c => Assert.False(codes.Accepts(c), $"{c}"));
        Assert.True(SuccessCodes.TryParse(200L)!.Accepts(200));
    }

    [Theory]
    [InlineData("2xx")]
    [InlineData("300-200")]
    [InlineData("200,")]
    [InlineData("")]
    public void BadSuccessCodesDoNotParse(string text) => Assert.Null(SuccessCodes.TryParse(text));

    [Theory]
    [InlineData("drain", "url_format", "http://{hostname}/drain", "{hostname}")]
    [InlineData("drain", "url_format", "http://{host/drain", "unclosed")]
    [InlineData("is_draining", "url_format", "http://{host}}/x", "single")]
    [InlineData("is_safe_to_kill", "success_codes", "2xx", "success_codes")]
    [InlineData("stop_draining", "method", "FETCH", "method")]
    public void BadUrlSpecsAreDrainMethodParamsInvalid(string spec, string key, string value, string mentioned)
    {
        var p = Params(80);
        ((Dictionary<string, object?>)p[spec]!)[key] = value;
        var e = Assert.Throws<PaastaException>(() => Method(p));
        Assert.Equal("DrainMethodParamsInvalid", e.ErrorId);
        Assert.Contains(mentioned, e.Message);
        Assert.Contains(spec, e.Message);
    }

    [Fact]
    public void EveryUrlSpecIsRequired()
    {
        foreach (var key in new[] { "drain", "stop_draining", "is_draining", "is_safe_to_kill" })
        {
            var p = Params(80);
            p.Remove(key);
            var e = Assert.Throws<PaastaException>(() => Method(p));
            Assert.Equal("DrainMethodParamsInvalid", e.ErrorId);
            Assert.Contains($"'{key}' is required", e.Message);
        }
    }

    [Fact]
    public void MethodDefaultsToGetAndSuccessCodesTo2xx()
    {
        var p = Params(80);
        p["is_draining"] = Spec("http://{host}/d");
        using var method = Method(p);
        Assert.Equal(HttpMethod.Get, method.IsDraining.Method);
        Assert.True(method.IsDraining.SuccessCodes.Accepts(299));
        Assert.False(method.IsDraining.SuccessCodes.Accepts(300));
    }

    [Fact]
    public async Task ATaskWithoutHostIsRefusedBeforeAnyRequest()
    {
        using var endpoint = new DrainEndpointStandIn();
        using var method = Method(Params(endpoint.Port));
        var e = await Assert.ThrowsAsync<PaastaException>(() => method.DrainAsync(new DrainTask { Id = "p", Ports = new[] { 1 } }, CancellationToken.None));
        Assert.Equal("DrainTaskInvalid", e.ErrorId);
        Assert.Empty(endpoint.Received);
    }
}
