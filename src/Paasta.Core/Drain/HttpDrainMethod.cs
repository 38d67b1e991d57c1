using System.Globalization;
using System.Text;
using Paasta.Errors;

namespace Paasta.Drain;

/// <summary>
/// Acceptable HTTP status codes of a URL spec: comma-separated codes and inclusive ranges, e.g.
/// <c>200-399,407-409,500</c> (docs/BEHAVIOUR.md §7.5).
/// </summary>
public sealed class SuccessCodes
{
    private readonly (int Low, int High)[] _ranges;

    private SuccessCodes(string text, (int, int)[] ranges) { Text = text; _ranges = ranges; }

    public string Text { get; }

    public bool Accepts(int code) => _ranges.Any(r => code >= r.Low && code <= r.High);

    /// <summary>Parses a success_codes value (a string or one integer); null when it is not one.</summary>
    public static SuccessCodes? TryParse(object? value)
    {
        var text = value switch
        {
            string s => s,
            long or int or short => Convert.ToString(value, CultureInfo.InvariantCulture),
            _ => null,
        };
        if (string.IsNullOrWhiteSpace(text)) return null;
        var ranges = new List<(int, int)>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            var bounds = part.Split('-', StringSplitOptions.TrimEntries);
            if (bounds.Length is < 1 or > 2) return null;
            if (!int.TryParse(bounds[0], NumberStyles.None, CultureInfo.InvariantCulture, out var low)) return null;
            var high = low;
            if (bounds.Length == 2 && !int.TryParse(bounds[1], NumberStyles.None, CultureInfo.InvariantCulture, out high)) return null;
            if (low < 100 || high > 599 || high < low) return null;
            ranges.Add((low, high));
        }
        return new SuccessCodes(text, ranges.ToArray());
    }

    public override string ToString() => Text;
}

/// <summary>
/// A url_format with PaaSTA's placeholders {host}, {port}, {service}, {instance} and {nerve_ns}; {{ and }} are
/// literal braces (Python's str.format, which PaaSTA uses). Checked when the method is built, so a typo in a
/// placeholder is a config error, not a failed drain.
/// </summary>
public sealed class UrlTemplate
{
    public static readonly IReadOnlySet<string> Placeholders = new HashSet<string>(StringComparer.Ordinal) { "host", "port", "service", "instance", "nerve_ns" };
    private readonly List<(bool IsPlaceholder, string Text)> _parts;

    private UrlTemplate(string format, List<(bool, string)> parts) { Format = format; _parts = parts; }

    public string Format { get; }

    public static UrlTemplate Parse(string format, Func<string, PaastaException> invalid)
    {
        var parts = new List<(bool, string)>();
        var literal = new StringBuilder();
        for (var i = 0; i < format.Length; i++)
        {
            var c = format[i];
            if (c == '{' && i + 1 < format.Length && format[i + 1] == '{') { literal.Append('{'); i++; continue; }
            if (c == '}' && i + 1 < format.Length && format[i + 1] == '}') { literal.Append('}'); i++; continue; }
            if (c == '}') throw invalid($"url_format '{format}' has a single '}}' at {i}; write '}}}}' for a literal brace.");
            if (c != '{') { literal.Append(c); continue; }
            var end = format.IndexOf('}', i + 1);
            if (end < 0) throw invalid($"url_format '{format}' has an unclosed '{{' at {i}.");
            var name = format[(i + 1)..end];
            if (!Placeholders.Contains(name))
                throw invalid($"url_format '{format}' uses {{{name}}}; the placeholders are {{host}}, {{port}}, {{service}}, {{instance}} and {{nerve_ns}}.");
            if (literal.Length > 0) { parts.Add((false, literal.ToString())); literal.Clear(); }
            parts.Add((true, name));
            i = end;
        }
        if (literal.Length > 0) parts.Add((false, literal.ToString()));
        return new UrlTemplate(format, parts);
    }

    public bool Uses(string placeholder) => _parts.Any(p => p.IsPlaceholder && p.Text == placeholder);

    public string Expand(IReadOnlyDictionary<string, string> values) =>
        string.Concat(_parts.Select(p => p.IsPlaceholder ? values[p.Text] : p.Text));

    public override string ToString() => Format;
}

/// <summary>One of the four URL specs of the http method: url_format, method (default GET), success_codes (default 200-299).</summary>
public sealed record HttpDrainRequest(UrlTemplate Url, HttpMethod Method, SuccessCodes SuccessCodes);

/// <summary>
/// <c>http</c> (docs/BEHAVIOUR.md §7.5): calls the configured URL for each operation once per registration, concurrently.
/// Drain and StopDraining fail when any answer is not a success code; IsDraining and IsSafeToKill are true
/// exactly when every answer is one.
/// </summary>
public sealed class HttpDrainMethod : IDrainMethod, IDisposable
{
    public const string Name = "http";
    /// <summary>Paasta's choice when a URL spec has no success_codes (PaaSTA leaves it open, docs/BEHAVIOUR.md §7.5): any 2xx.</summary>
    public const string DefaultSuccessCodes = "200-299";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private readonly DrainContext _context;
    private readonly HttpClient _http;

    public HttpDrainMethod(DrainContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        _context = context;
        Drain = Spec(context.Params, "drain");
        StopDraining = Spec(context.Params, "stop_draining");
        IsDraining = Spec(context.Params, "is_draining");
        IsSafeToKill = Spec(context.Params, "is_safe_to_kill");
        _http = DrainHttp.Client(context.HttpHandler, Timeout, Timeout);
    }

    public HttpDrainRequest Drain { get; }
    public HttpDrainRequest StopDraining { get; }
    public HttpDrainRequest IsDraining { get; }
    public HttpDrainRequest IsSafeToKill { get; }

    private static HttpDrainRequest Spec(IReadOnlyDictionary<string, object?> parameters, string key)
    {
        static PaastaException Invalid(string message) => DrainParams.Invalid(Name, message);
        var spec = DrainParams.Map(parameters, Name, key) ?? throw Invalid($"'{key}' is required: a mapping with url_format, method and success_codes.");
        var format = DrainParams.String(spec, "url_format");
        if (string.IsNullOrWhiteSpace(format)) throw Invalid($"'{key}.url_format' is required.");
        var url = UrlTemplate.Parse(format, m => Invalid($"'{key}': {m}"));
        var method = (DrainParams.String(spec, "method") ?? "GET").Trim().ToUpperInvariant();
        if (method is not ("GET" or "POST" or "PUT" or "DELETE" or "HEAD" or "PATCH"))
            throw Invalid($"'{key}.method' must be GET, POST, PUT, DELETE, HEAD or PATCH (got '{method}').");
        var codesValue = DrainParams.Get(spec, "success_codes") ?? DefaultSuccessCodes;
        var codes = SuccessCodes.TryParse(codesValue)
            ?? throw Invalid($"'{key}.success_codes' must list codes and ranges like '200-399,407-409,500' (got '{codesValue}').");
        return new HttpDrainRequest(url, new HttpMethod(method), codes);
    }

    /// <summary>The URLs an operation calls for this task, one per registration.</summary>
    public IReadOnlyList<Uri> Urls(DrainAction action, DrainTask task) =>
        _context.Registrations.Select(r => Expand(Request(action).Url, task, r)).ToList();

    public async Task DrainAsync(DrainTask task, CancellationToken cancellationToken)
    {
        foreach (var (url, code) in await CallAsync(DrainAction.Drain, task, cancellationToken).ConfigureAwait(false))
            if (!Drain.SuccessCodes.Accepts(code)) throw DrainHttp.Rejected(Name, $"drain ({Drain.Method})", url, (System.Net.HttpStatusCode)code);
    }

    public async Task StopDrainingAsync(DrainTask task, CancellationToken cancellationToken)
    {
        foreach (var (url, code) in await CallAsync(DrainAction.StopDraining, task, cancellationToken).ConfigureAwait(false))
            if (!StopDraining.SuccessCodes.Accepts(code)) throw DrainHttp.Rejected(Name, $"stop_draining ({StopDraining.Method})", url, (System.Net.HttpStatusCode)code);
    }

    public async Task<bool> IsDrainingAsync(DrainTask task, CancellationToken cancellationToken) =>
        (await CallAsync(DrainAction.IsDraining, task, cancellationToken).ConfigureAwait(false)).All(r => IsDraining.SuccessCodes.Accepts(r.Code));

    public async Task<bool> IsSafeToKillAsync(DrainTask task, CancellationToken cancellationToken) =>
        (await CallAsync(DrainAction.IsSafeToKill, task, cancellationToken).ConfigureAwait(false)).All(r => IsSafeToKill.SuccessCodes.Accepts(r.Code));

    private HttpDrainRequest Request(DrainAction action) => action switch
    {
        DrainAction.Drain => Drain,
        DrainAction.StopDraining => StopDraining,
        DrainAction.IsDraining => IsDraining,
        _ => IsSafeToKill,
    };

    private async Task<(Uri Url, int Code)[]> CallAsync(DrainAction action, DrainTask task, CancellationToken cancellationToken)
    {
        var spec = Request(action);
        var urls = Urls(action, task);
        return await DrainHttp.WhenAll(urls.Select(async url =>
        {
            using var request = new HttpRequestMessage(spec.Method, url);
            var (code, _) = await DrainHttp.SendAsync(_http, Name, request, Timeout, cancellationToken).ConfigureAwait(false);
            return (url, (int)code);
        })).ConfigureAwait(false);
    }

    private Uri Expand(UrlTemplate template, DrainTask task, string registration)
    {
        ArgumentNullException.ThrowIfNull(task);
        var values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["host"] = string.IsNullOrEmpty(task.Host) ? "" : DrainHttp.UrlHost(task.Host),
            ["port"] = task.Port?.ToString(CultureInfo.InvariantCulture) ?? "",
            ["service"] = _context.Service,
            ["instance"] = _context.Instance,
            ["nerve_ns"] = registration,
        };
        var text = template.Expand(values);
        if ((template.Uses("host") && values["host"].Length == 0) || (template.Uses("port") && values["port"].Length == 0))
            throw new PaastaException("DrainTaskInvalid", PaastaErrorKind.InvalidArgument,
                $"http cannot call '{template.Format}' for {task.Id}: the task has no {(values["host"].Length == 0 ? "Host (pod IP)" : "port")}.") { Target = task };
        if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
            throw DrainParams.Invalid(Name, $"url_format '{template.Format}' expands to '{text}', which is not an http or https URL.");
        return url;
    }

    public void Dispose() => _http.Dispose();
}
