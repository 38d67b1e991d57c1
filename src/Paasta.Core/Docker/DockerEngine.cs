using System.Collections.Concurrent;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using Docker.DotNet;
using Paasta.Errors;

namespace Paasta.Docker;

/// <summary>
/// The local Docker engine, reached through Docker.DotNet: -DockerHost, else $DOCKER_HOST, else
/// unix:///var/run/docker.sock. Clients are kept per endpoint for the life of the process, so a warm
/// session pays for the connection set-up once. Every call goes through <see cref="Call{T}"/>, the one
/// place engine and transport errors become <see cref="PaastaException"/>s with stable ErrorIds.
/// </summary>
public sealed class DockerEngine
{
    public const string DefaultHost = "unix:///var/run/docker.sock";
    public const string HostVariable = "DOCKER_HOST";

    private static readonly ConcurrentDictionary<string, DockerClient> Clients = new(StringComparer.Ordinal);

    private DockerEngine(string endpoint, DockerClient client)
    {
        Endpoint = endpoint;
        Client = client;
    }

    /// <summary>The endpoint as given (unix://, tcp://, http://, npipe://).</summary>
    public string Endpoint { get; }

    public DockerClient Client { get; }

    /// <summary>The endpoint to use: the given one, else $DOCKER_HOST, else the default socket.</summary>
    /// <param name="environment">Reads an environment variable (an operation passes its settings' seam); default the process environment.</param>
    public static string ResolveEndpoint(string? given, Func<string, string?>? environment = null) =>
        !string.IsNullOrWhiteSpace(given) ? given.Trim()
        : (environment ?? Environment.GetEnvironmentVariable)(HostVariable) is { Length: > 0 } env ? env.Trim()
        : DefaultHost;

    public static DockerEngine Connect(string? endpoint = null, Func<string, string?>? environment = null)
    {
        var resolved = ResolveEndpoint(endpoint, environment);
        if (!Uri.TryCreate(resolved, UriKind.Absolute, out var uri) || uri.Scheme is not ("unix" or "tcp" or "http" or "https" or "npipe"))
            throw new PaastaException("DockerHostInvalid", PaastaErrorKind.InvalidArgument,
                $"'{resolved}' is not a Docker endpoint: use unix:///path/to/docker.sock, tcp://host:port or npipe://./pipe/docker_engine.")
            { Target = resolved };
        var client = Clients.GetOrAdd(resolved, _ =>
        {
            // Docker.DotNet speaks plain HTTP for tcp://; TLS (DOCKER_TLS_VERIFY) is not supported here.
            var target = uri.Scheme == "tcp" ? new UriBuilder(uri) { Scheme = "http" }.Uri : uri;
            using var configuration = new DockerClientConfiguration(target, defaultTimeout: TimeSpan.FromSeconds(100));
            return configuration.CreateClient();
        });
        return new DockerEngine(resolved, client);
    }

    /// <summary>Runs one engine call, translating failures. <paramref name="what"/> completes "Docker could not ...".</summary>
    public async Task<T> Call<T>(string what, Func<DockerClient, Task<T>> call, object? target = null)
    {
        try { return await call(Client).ConfigureAwait(false); }
        catch (Exception e) when (Translate(e, what, target) is { } translated) { throw translated; }
    }

    public async Task Call(string what, Func<DockerClient, Task> call, object? target = null)
    {
        try { await call(Client).ConfigureAwait(false); }
        catch (Exception e) when (Translate(e, what, target) is { } translated) { throw translated; }
    }

    /// <summary>Null for cancellation and for exceptions that already are PaastaExceptions.</summary>
    internal PaastaException? Translate(Exception e, string what, object? target)
    {
        switch (e)
        {
            case OperationCanceledException:
            case PaastaException:
                return null;
            case DockerImageNotFoundException nf:
                return new PaastaException("DockerImageNotFound", PaastaErrorKind.ObjectNotFound,
                    $"Docker could not {what}: no such image. {Detail(nf)}", e) { Target = target };
            case DockerContainerNotFoundException cnf:
                return new PaastaException("DockerContainerNotFound", PaastaErrorKind.ObjectNotFound,
                    $"Docker could not {what}: the container is gone. {Detail(cnf)}", e) { Target = target };
            case DockerApiException api when api.StatusCode == HttpStatusCode.Conflict:
                return new PaastaException("DockerConflict", PaastaErrorKind.InvalidOperation,
                    $"Docker could not {what}: {Detail(api)}", e) { Target = target };
            case DockerApiException api:
                return new PaastaException("DockerApiError", PaastaErrorKind.NotSpecified,
                    $"Docker could not {what} (HTTP {(int)api.StatusCode}): {Detail(api)}", e) { Target = target };
        }
        if (IsUnreachable(e))
            return new PaastaException("DockerUnavailable", PaastaErrorKind.ConnectionError,
                $"Cannot reach the Docker engine at {Endpoint} to {what}: {Reason(e)}. Is dockerd running? " +
                $"Point -DockerHost or $env:{HostVariable} at a running engine (the local platform: ./build.ps1 -Task Platform -Action Up).", e)
            { Target = Endpoint };
        return null;
    }

    private static bool IsUnreachable(Exception e)
    {
        for (var x = e; x is not null; x = x.InnerException)
            if (x is SocketException or HttpRequestException or IOException or TimeoutException) return true;
        return e is AggregateException a && a.InnerExceptions.Any(IsUnreachable);
    }

    /// <summary>"there is no socket at PATH" says more than the socket error a missing unix socket gives.</summary>
    private string Reason(Exception e) =>
        Uri.TryCreate(Endpoint, UriKind.Absolute, out var uri) && uri.Scheme == "unix" && !File.Exists(uri.LocalPath)
            ? $"there is no socket at {uri.LocalPath}"
            : Innermost(e).Message;

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e;
    }

    /// <summary>The engine's own message out of its JSON body ({"message":"..."}), else the body, else the exception's.</summary>
    private static string Detail(DockerApiException e)
    {
        var body = e.ResponseBody?.Trim();
        if (string.IsNullOrEmpty(body)) return e.Message;
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object && doc.RootElement.TryGetProperty("message", out var m))
                return m.GetString() ?? body;
        }
        catch (System.Text.Json.JsonException) { }
        return body;
    }
}
