using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Paasta.Errors;

namespace Paasta.Monitoring;

/// <summary>One row of HAProxy's stats: a frontend, a backend, or a server of a backend.</summary>
public sealed record HaproxyStatRow(string Proxy, string Server, string Status)
{
    /// <summary>A real server (not the FRONTEND/BACKEND aggregate rows).</summary>
    public bool IsServer => Server is not ("FRONTEND" or "BACKEND");
    /// <summary>SmartStack counts a server as available when its status starts with UP (UP, "UP 1/3" while going down).</summary>
    public bool IsUp => Status.StartsWith("UP", StringComparison.Ordinal);
}

/// <summary>
/// HAProxy's stats CSV (what <c>show stat</c> prints on the stats socket and <c>;csv</c> serves over HTTP):
/// a header line <c># pxname,svname,...</c>, then one row per frontend, server and backend.
/// </summary>
public static class HaproxyStatsCsv
{
    public static IReadOnlyList<HaproxyStatRow> Parse(string text, string source)
    {
        var rows = new List<HaproxyStatRow>();
        int proxy = -1, server = -1, status = -1;
        var lineNo = 0;
        foreach (var raw in text.Split('\n'))
        {
            lineNo++;
            var line = raw.TrimEnd('\r');
            if (line.Length == 0) continue;
            if (line.StartsWith('#'))
            {
                var header = SplitLine(line.TrimStart('#').TrimStart());
                proxy = header.IndexOf("pxname");
                server = header.IndexOf("svname");
                status = header.IndexOf("status");
                continue;
            }
            if (proxy < 0 || server < 0 || status < 0)
                throw Invalid(source, $"line {lineNo} comes before a '# pxname,svname,...,status,...' header");
            var fields = SplitLine(line);
            if (fields.Count <= Math.Max(proxy, Math.Max(server, status)))
                throw Invalid(source, $"line {lineNo} has {fields.Count} fields, fewer than the header names");
            rows.Add(new HaproxyStatRow(fields[proxy], fields[server], fields[status]));
        }
        if (proxy < 0 || server < 0 || status < 0)
            throw Invalid(source, "no '# pxname,svname,...,status,...' header (is it HAProxy's stats CSV?)");
        return rows;
    }

    /// <summary>Servers whose status starts with UP, per proxy (backend) name.</summary>
    public static Dictionary<string, int> CountUp(IEnumerable<HaproxyStatRow> rows)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            if (!row.IsServer) continue;
            counts.TryGetValue(row.Proxy, out var n);
            counts[row.Proxy] = row.IsUp ? n + 1 : n;
        }
        return counts;
    }

    // HAProxy quotes a field that holds a comma or a quote ("a,b" / "say ""hi""").
    private static List<string> SplitLine(string line)
    {
        var fields = new List<string>();
        var sb = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < line.Length && line[i + 1] == '"') { sb.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else sb.Append(c);
            }
            else if (c == '"' && sb.Length == 0) quoted = true;
            else if (c == ',') { fields.Add(sb.ToString()); sb.Clear(); }
            else sb.Append(c);
        }
        fields.Add(sb.ToString());
        return fields;
    }

    private static PaastaException Invalid(string source, string why) =>
        new("HaproxyStatsInvalid", PaastaErrorKind.InvalidData, $"{source} did not return HAProxy stats CSV: {why}.") { Target = source };
}

/// <summary>Where HAProxy's stats come from: a stats socket (<c>show stat</c>) or an HTTP stats page (<c>;csv</c>).</summary>
public sealed record HaproxyStatsSource(string Text, Uri? Url, string? SocketPath)
{
    /// <summary>
    /// <c>/run/haproxy.sock</c> or <c>unix:/run/haproxy.sock</c> → the stats socket;
    /// <c>http://host:port/path</c> → the stats page, with <c>;csv;norefresh</c> added when the URL does not ask for CSV.
    /// </summary>
    public static HaproxyStatsSource Parse(string text)
    {
        var t = text.Trim();
        if (t.StartsWith("unix:", StringComparison.OrdinalIgnoreCase))
        {
            var path = t["unix:".Length..];
            if (path.StartsWith("//", StringComparison.Ordinal)) path = path[2..];
            if (path.Length > 0) return new HaproxyStatsSource(t, null, path);
        }
        else if (t.StartsWith('/')) return new HaproxyStatsSource(t, null, t);
        else if (Uri.TryCreate(t, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
        {
            var csv = t.Contains(";csv", StringComparison.OrdinalIgnoreCase) ? uri : new Uri(t + ";csv;norefresh");
            return new HaproxyStatsSource(t, csv, null);
        }
        throw new PaastaException("HaproxyStatsSourceInvalid", PaastaErrorKind.InvalidArgument,
            $"'{text}' is not an HAProxy stats source: give the stats socket's path (/run/haproxy/admin.sock, unix:/path) or the stats page's URL (http://host:port/;csv).")
        { Target = text };
    }

    public override string ToString() => Text;
}

/// <summary>
/// The HAProxy stats of one mesh location, read from the first of its sources that answers (SmartStack
/// queries one host per location and tries the next on error; the last error is the one reported).
/// </summary>
public sealed class HaproxyLocation
{
    public HaproxyLocation(string name, IReadOnlyList<HaproxyStatsSource> sources)
    {
        Name = name;
        Sources = sources;
    }

    public string Name { get; }
    public IReadOnlyList<HaproxyStatsSource> Sources { get; }

    private static readonly Regex Named = new(@"^([A-Za-z0-9_.-]+)=(.+)$", RegexOptions.CultureInvariant);

    /// <summary>
    /// -HaproxyStats entries: <c>location=source</c>, or just <c>source</c> for the default location. Several
    /// sources of one location are alternatives, tried in order.
    /// </summary>
    public static IReadOnlyList<HaproxyLocation> FromArguments(IEnumerable<string> entries, string defaultLocation)
    {
        var byName = new List<(string Name, List<HaproxyStatsSource> Sources)>();
        foreach (var entry in entries)
        {
            var m = Named.Match(entry.Trim());
            var (name, text) = m.Success ? (m.Groups[1].Value, m.Groups[2].Value) : (defaultLocation, entry);
            var source = HaproxyStatsSource.Parse(text);
            var slot = byName.FindIndex(x => x.Name == name);
            if (slot < 0) byName.Add((name, new List<HaproxyStatsSource> { source }));
            else byName[slot].Sources.Add(source);
        }
        return byName.OrderBy(x => x.Name, StringComparer.Ordinal).Select(x => new HaproxyLocation(x.Name, x.Sources)).ToList();
    }

    public override string ToString() => $"{Name}: {string.Join(", ", Sources)}";
}

/// <summary>Reads HAProxy stats over the stats socket or HTTP, within a time limit, and counts UP servers per backend.</summary>
public sealed class HaproxyStatsReader : IDisposable
{
    private readonly HttpClient _http;
    private readonly TimeSpan _timeout;

    public HaproxyStatsReader(TimeSpan timeout)
    {
        _timeout = timeout;
        _http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = timeout, UseProxy = false }) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>UP servers per backend at <paramref name="location"/>: its first source that answers.</summary>
    public async Task<HaproxyCounts> CountAsync(HaproxyLocation location, CancellationToken cancellation)
    {
        PaastaException? last = null;
        foreach (var source in location.Sources)
        {
            try
            {
                var text = await ReadAsync(source, cancellation).ConfigureAwait(false);
                var rows = HaproxyStatsCsv.Parse(text, source.Text);
                return new HaproxyCounts(location.Name, source, HaproxyStatsCsv.CountUp(rows), rows.Count);
            }
            catch (PaastaException e) { last = e; }
        }
        throw last ?? new PaastaException("HaproxyStatsUnavailable", PaastaErrorKind.ConnectionError,
            $"No HAProxy stats source for location {location.Name}.") { Target = location.Name };
    }

    /// <summary>The raw stats CSV of one source.</summary>
    public async Task<string> ReadAsync(HaproxyStatsSource source, CancellationToken cancellation)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        limit.CancelAfter(_timeout);
        try
        {
            return source.SocketPath is { } path ? await ReadSocketAsync(path, limit.Token).ConfigureAwait(false)
                : await ReadUrlAsync(source.Url!, limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
        {
            throw new PaastaException("HaproxyStatsTimeout", PaastaErrorKind.OperationTimeout,
                $"HAProxy stats from {source} took longer than {_timeout.TotalSeconds:0.###} s.") { Target = source.Text };
        }
        catch (Exception e) when (e is SocketException or IOException or HttpRequestException)
        {
            throw new PaastaException("HaproxyStatsUnavailable", PaastaErrorKind.ConnectionError,
                $"Cannot read HAProxy stats from {source}: {e.Message}", e) { Target = source.Text };
        }
    }

    private static async Task<string> ReadSocketAsync(string path, CancellationToken cancellation)
    {
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), cancellation).ConfigureAwait(false);
        await socket.SendAsync(Encoding.ASCII.GetBytes("show stat\n"), SocketFlags.None, cancellation).ConfigureAwait(false);
        // Outside interactive mode HAProxy answers one command and closes the connection.
        using var buffer = new MemoryStream();
        var chunk = new byte[16384];
        while (true)
        {
            var n = await socket.ReceiveAsync(chunk, SocketFlags.None, cancellation).ConfigureAwait(false);
            if (n == 0) break;
            buffer.Write(chunk, 0, n);
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private async Task<string> ReadUrlAsync(Uri url, CancellationToken cancellation)
    {
        using var response = await _http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellation).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
        return await response.Content.ReadAsStringAsync(cancellation).ConfigureAwait(false);
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>UP servers per backend name at one location, and which source answered.</summary>
public sealed record HaproxyCounts(string Location, HaproxyStatsSource Source, IReadOnlyDictionary<string, int> UpByBackend, int Rows)
{
    public int Up(string backend) => UpByBackend.TryGetValue(backend, out var n) ? n : 0;
}
