using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Paasta.Errors;

namespace Paasta.Drain;

/// <summary>What hacheck says about one spool (docs/BEHAVIOUR.md §7.4): state up/down, since and until as epoch seconds (0 when absent).</summary>
public sealed record HacheckSpool(string Service, string State, double Since, double Until, string? Reason)
{
    public bool IsUp => State == "up";
}

/// <summary>
/// <c>hacheck</c> (docs/BEHAVIOUR.md §7.4): marks the task down in hacheck's spool for each registration, with an expiration,
/// and calls it safe to kill once every down spool has been down for <c>delay</c> seconds. hacheck keeps the
/// state, so a later Sync pass (or another process) sees the same answers.
/// </summary>
public sealed partial class HacheckDrainMethod : IDrainMethod, IDisposable
{
    public const string Name = "hacheck";
    public const double DefaultDelaySeconds = 240;
    public const int DefaultPort = 6666;
    public const string DrainReason = "Drained by Paasta";

    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan TotalTimeout = TimeSpan.FromSeconds(45);
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(10);

    private readonly DrainContext _context;
    private readonly HttpClient _http;

    public HacheckDrainMethod(DrainContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _context = context;
        DelaySeconds = DrainParams.Seconds(context.Params, Name, "delay", DefaultDelaySeconds);
        HacheckPort = DrainParams.Port(context.Params, Name, "hacheck_port", DefaultPort);
        var expiration = DrainParams.Seconds(context.Params, Name, "expiration", 0);
        ExpirationSeconds = expiration == 0 ? 10 * DelaySeconds : expiration;
        _http = DrainHttp.Client(context.HttpHandler, ConnectTimeout, TotalTimeout);
    }

    /// <summary>Seconds a task must have been down before it is safe to kill (delay, default 240).</summary>
    public double DelaySeconds { get; }
    public int HacheckPort { get; }
    /// <summary>Seconds after which hacheck drops the down state by itself (expiration; 0 or absent: 10 × delay).</summary>
    public double ExpirationSeconds { get; }

    /// <summary>One spool URL per registration: http://host:hacheck_port/spool/registration/port/status.</summary>
    public IReadOnlyList<Uri> SpoolUrls(DrainTask task)
    {
        var host = RequireHost(task);
        if (task.Port is not { } port) return Array.Empty<Uri>();
        return _context.Registrations
            .Select(r => new Uri($"http://{DrainHttp.UrlHost(host)}:{HacheckPort.ToString(CultureInfo.InvariantCulture)}/spool/{Uri.EscapeDataString(r)}/{port.ToString(CultureInfo.InvariantCulture)}/status"))
            .ToList();
    }

    public Task DrainAsync(DrainTask task, CancellationToken cancellationToken)
    {
        var expiration = _context.Clock.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0 + ExpirationSeconds;
        return PostAllAsync(task, new[]
        {
            new KeyValuePair<string, string>("status", "down"),
            new KeyValuePair<string, string>("expiration", expiration.ToString("0.###", CultureInfo.InvariantCulture)),
            new KeyValuePair<string, string>("reason", DrainReason),
        }, cancellationToken);
    }

    public Task StopDrainingAsync(DrainTask task, CancellationToken cancellationToken) =>
        PostAllAsync(task, new[] { new KeyValuePair<string, string>("status", "up") }, cancellationToken);

    public async Task<bool> IsDrainingAsync(DrainTask task, CancellationToken cancellationToken)
    {
        var spools = await GetSpoolsAsync(task, cancellationToken).ConfigureAwait(false);
        return !spools.All(s => s is null || s.IsUp);
    }

    public async Task<bool> IsSafeToKillAsync(DrainTask task, CancellationToken cancellationToken)
    {
        var spools = await GetSpoolsAsync(task, cancellationToken).ConfigureAwait(false);
        if (spools.All(s => s is null || s.IsUp)) return false;
        var threshold = _context.Clock.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0 - DelaySeconds;
        return spools.All(s => (s?.Since ?? 0) < threshold);
    }

    /// <summary>What hacheck says for each registration (GET on each spool URL); null where the answer does not parse.</summary>
    public async Task<IReadOnlyList<HacheckSpool?>> GetSpoolsAsync(DrainTask task, CancellationToken cancellationToken)
    {
        var urls = SpoolUrls(task);
        if (urls.Count == 0)
            throw new PaastaException("DrainTaskInvalid", PaastaErrorKind.InvalidArgument,
                $"hacheck cannot ask about {task.Id}: the task has no port.") { Target = task };
        return await DrainHttp.WhenAll(urls.Select(async url =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            var (code, body) = await DrainHttp.SendAsync(_http, Name, request, ReadTimeout, cancellationToken).ConfigureAwait(false);
            return code == HttpStatusCode.OK ? new HacheckSpool("", "up", 0, 0, null) : ParseSpool(body);
        })).ConfigureAwait(false);
    }

    /// <summary>Parses hacheck's "Service S in STATE state[ since F][ until F][: reason]"; null when it does not match.</summary>
    public static HacheckSpool? ParseSpool(string body)
    {
        var m = SpoolPattern().Match(body.Trim());
        if (!m.Success) return null;
        static double Number(Group g) => g.Success && double.TryParse(g.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) ? n : 0;
        return new HacheckSpool(m.Groups["service"].Value, m.Groups["state"].Value, Number(m.Groups["since"]), Number(m.Groups["until"]),
            m.Groups["reason"].Success ? m.Groups["reason"].Value : null);
    }

    [GeneratedRegex(@"^Service (?<service>\S+) in (?<state>\S+) state(?: since (?<since>[0-9.eE+-]+))?(?: until (?<until>[0-9.eE+-]+))?(?:: (?<reason>.*))?$", RegexOptions.Singleline)]
    private static partial Regex SpoolPattern();

    private async Task PostAllAsync(DrainTask task, KeyValuePair<string, string>[] form, CancellationToken cancellationToken)
    {
        // A task without a port has no spool to write; PaaSTA does nothing then, and so does Paasta.
        var urls = SpoolUrls(task);
        await DrainHttp.WhenAll(urls.Select(async url =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new FormUrlEncodedContent(form) };
            var (code, _) = await DrainHttp.SendAsync(_http, Name, request, ReadTimeout, cancellationToken).ConfigureAwait(false);
            if ((int)code is < 200 or > 299) throw DrainHttp.Rejected(Name, $"POST status={form[0].Value} to", url, code);
            return true;
        })).ConfigureAwait(false);
    }

    private static string RequireHost(DrainTask task)
    {
        ArgumentNullException.ThrowIfNull(task);
        if (string.IsNullOrEmpty(task.Host))
            throw new PaastaException("DrainTaskInvalid", PaastaErrorKind.InvalidArgument,
                $"hacheck cannot reach {task.Id}: the task has no Host (pod IP).") { Target = task };
        return task.Host;
    }

    public void Dispose() => _http.Dispose();
}
