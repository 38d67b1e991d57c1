namespace Paasta.Docker;

/// <summary>A progress record for one activity (an image pull, a build, a healthcheck).</summary>
public sealed record RunProgress(int ActivityId, string Activity, string Status, int PercentComplete = -1, bool Completed = false, string? CurrentOperation = null);

/// <summary>
/// How engine work talks to its caller while it runs. Calls come from any thread; the cmdlets queue them
/// and write them on the pipeline thread (Paasta.Core never calls PowerShell).
/// </summary>
public interface IRunReporter
{
    /// <summary>A line the container, make or docker build wrote; <paramref name="isError"/> for stderr.</summary>
    void Output(string line, bool isError);
    /// <summary>A status line worth showing on the console (the container is healthy, where it listens).</summary>
    void Status(string message);
    void Progress(RunProgress progress);
    void Verbose(string message);
    void Warning(string message);
}

/// <summary>Discards everything (tests, benchmarks).</summary>
public sealed class NullReporter : IRunReporter
{
    public static readonly NullReporter Instance = new();
    public void Output(string line, bool isError) { }
    public void Status(string message) { }
    public void Progress(RunProgress progress) { }
    public void Verbose(string message) { }
    public void Warning(string message) { }
}

/// <summary>
/// The console of an interactive run: raw bytes both ways. The cmdlet implements it over the real console
/// (keys forwarded as a terminal sends them, Ctrl+C included) or over redirected stdin.
/// </summary>
public interface IInteractiveTerminal
{
    /// <summary>Whether the console is a terminal (then the container gets a TTY).</summary>
    bool IsTerminal { get; }
    /// <summary>Columns and rows, when known.</summary>
    (int Width, int Height)? Size { get; }
    /// <summary>Input bytes; 0 at end of input.</summary>
    Task<int> ReadAsync(byte[] buffer, CancellationToken cancellationToken);
    /// <summary>Raw output of a TTY container.</summary>
    void Write(ReadOnlySpan<byte> data);
    /// <summary>Puts the console into pass-through mode (Ctrl+C goes to the container); disposing restores it.</summary>
    IDisposable Enter();
}

/// <summary>Splits a byte stream into lines (UTF-8), keeping a partial last line until more arrives or Flush.</summary>
internal sealed class LineSplitter
{
    private readonly System.Text.Decoder _decoder = System.Text.Encoding.UTF8.GetDecoder();
    private readonly System.Text.StringBuilder _pending = new();
    private readonly Action<string> _line;
    private char[] _chars = new char[4096];

    public LineSplitter(Action<string> line) => _line = line;

    public void Append(byte[] buffer, int count)
    {
        var needed = _decoder.GetCharCount(buffer, 0, count);
        if (_chars.Length < needed) _chars = new char[needed];
        var n = _decoder.GetChars(buffer, 0, count, _chars, 0);
        for (var i = 0; i < n; i++)
        {
            var c = _chars[i];
            if (c == '\n')
            {
                if (_pending.Length > 0 && _pending[^1] == '\r') _pending.Length--;
                _line(_pending.ToString());
                _pending.Clear();
            }
            else _pending.Append(c);
        }
    }

    public void Flush()
    {
        if (_pending.Length > 0) _line(_pending.ToString());
        _pending.Clear();
    }
}
