using System.Collections.Concurrent;
using System.Management.Automation;
using System.Text;
using Paasta.Docker;

namespace Paasta.Commands;

/// <summary>
/// Base of the cmdlets that use the local Docker engine: -DockerHost, and a pump that runs engine work on a
/// worker while its output, progress, verbose and warning messages are written here, on the pipeline thread.
/// </summary>
public abstract class DockerCmdlet : SoaConfigCmdlet
{
    private DockerEngine? _engine;

    /// <summary>The Docker engine endpoint (unix:///path/docker.sock, tcp://host:port). Defaults to $env:DOCKER_HOST, then unix:///var/run/docker.sock.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? DockerHost { get; set; }

    /// <summary>The engine, connected on first use.</summary>
    protected DockerEngine Docker
    {
        get
        {
            if (_engine is null)
            {
                _engine = DockerEngine.Connect(DockerHost);
                WriteVerbose($"Docker engine: {_engine.Endpoint}");
            }
            return _engine;
        }
    }

    /// <summary>The user, as PaaSTA names it in tags and PAASTA_LAUNCHED_BY: $SUDO_USER, else the current user.</summary>
    protected static string UserName => LocalIdentity.Current.User;

    /// <summary>
    /// Runs engine work to completion. Its messages are queued and written here in order; Ctrl+C cancels the
    /// work, which then cleans up (containers are removed) before this returns by throwing PipelineStoppedException.
    /// </summary>
    protected T RunEngine<T>(Func<IRunReporter, CancellationToken, Task<T>> work)
    {
        _ = Docker; // connect (and say where) here, on the pipeline thread
        using var queue = new BlockingCollection<Action>();
        var reporter = new QueueReporter(queue, this);
        var task = Task.Run(() => work(reporter, CancellationToken));
        _ = task.ContinueWith(_ => queue.CompleteAdding(), TaskScheduler.Default);
        PipelineStoppedException? stopped = null;
        try
        {
            foreach (var action in queue.GetConsumingEnumerable())
            {
                if (stopped is not null) continue;
                try { action(); }
                catch (PipelineStoppedException e) { stopped = e; }
            }
        }
        finally
        {
            if (stopped is null) reporter.CompleteProgress();
        }
        if (stopped is not null) throw stopped;
        try { return task.GetAwaiter().GetResult(); }
        catch (OperationCanceledException) when (CancellationToken.IsCancellationRequested) { throw new PipelineStoppedException(); }
    }

    /// <summary>Container and build output: shown on the host like Write-Host, and in the information stream tagged Stdout or Stderr.</summary>
    internal void WriteOutputLine(string line, bool isError) =>
        WriteInformation(new HostInformationMessage { Message = line, NoNewLine = false }, new[] { "PSHOST", isError ? "Stderr" : "Stdout", "Paasta" });

    internal void WriteStatusLine(string message) =>
        WriteInformation(new HostInformationMessage { Message = message, NoNewLine = false, ForegroundColor = ConsoleColor.Green }, new[] { "PSHOST", "Status", "Paasta" });

    private sealed class QueueReporter : IRunReporter
    {
        private readonly BlockingCollection<Action> _queue;
        private readonly DockerCmdlet _cmdlet;
        private readonly Dictionary<int, ProgressRecord> _open = new();

        public QueueReporter(BlockingCollection<Action> queue, DockerCmdlet cmdlet)
        {
            _queue = queue;
            _cmdlet = cmdlet;
        }

        private void Post(Action action)
        {
            // Late messages (a pump finishing after the work returned) are dropped, never thrown on a worker.
            try { _queue.TryAdd(action); }
            catch (InvalidOperationException) { }
        }

        public void Output(string line, bool isError) => Post(() => _cmdlet.WriteOutputLine(line, isError));
        public void Status(string message) => Post(() => _cmdlet.WriteStatusLine(message));
        public void Verbose(string message) => Post(() => _cmdlet.WriteVerbose(message));
        public void Warning(string message) => Post(() => _cmdlet.WriteWarning(message));

        public void Progress(RunProgress p) => Post(() =>
        {
            var record = new ProgressRecord(p.ActivityId, p.Activity, string.IsNullOrEmpty(p.Status) ? "..." : p.Status)
            {
                PercentComplete = p.PercentComplete,
                CurrentOperation = p.CurrentOperation,
                RecordType = p.Completed ? ProgressRecordType.Completed : ProgressRecordType.Processing,
            };
            if (p.Completed) _open.Remove(p.ActivityId);
            else _open[p.ActivityId] = record;
            _cmdlet.WriteProgress(record);
        });

        /// <summary>Closes any progress bar the work left open (it failed or was cancelled mid-way).</summary>
        public void CompleteProgress()
        {
            foreach (var record in _open.Values.ToList())
            {
                record.RecordType = ProgressRecordType.Completed;
                try { _cmdlet.WriteProgress(record); }
                catch (PipelineStoppedException) { break; }
            }
            _open.Clear();
        }
    }
}

/// <summary>
/// The console as an interactive container's terminal: key presses become the bytes a terminal sends (Ctrl+C
/// included, which then reaches the container rather than stopping the cmdlet), output goes straight to the
/// console. With redirected input, stdin is passed through as it is.
/// </summary>
internal sealed class ConsoleTerminal : IInteractiveTerminal
{
    private Stream? _stdin;
    private Stream? _stdout;

    public bool IsTerminal => !Console.IsInputRedirected && !Console.IsOutputRedirected;

    public (int Width, int Height)? Size
    {
        get
        {
            try { return Console.WindowWidth > 0 ? (Console.WindowWidth, Console.WindowHeight) : null; }
            catch (IOException) { return null; }
        }
    }

    public async Task<int> ReadAsync(byte[] buffer, CancellationToken cancellationToken)
    {
        if (Console.IsInputRedirected)
        {
            _stdin ??= Console.OpenStandardInput();
            return await _stdin.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!Console.KeyAvailable)
            {
                await Task.Delay(10, cancellationToken).ConfigureAwait(false);
                continue;
            }
            var count = 0;
            while (Console.KeyAvailable && count < buffer.Length - 16)
            {
                var bytes = KeyBytes(Console.ReadKey(intercept: true));
                bytes.CopyTo(buffer, count);
                count += bytes.Length;
            }
            if (count > 0) return count;
        }
    }

    /// <summary>What a VT100-style terminal sends for a key.</summary>
    internal static byte[] KeyBytes(ConsoleKeyInfo key)
    {
        var sequence = key.Key switch
        {
            ConsoleKey.UpArrow => "\u001b[A",
            ConsoleKey.DownArrow => "\u001b[B",
            ConsoleKey.RightArrow => "\u001b[C",
            ConsoleKey.LeftArrow => "\u001b[D",
            ConsoleKey.Home => "\u001b[H",
            ConsoleKey.End => "\u001b[F",
            ConsoleKey.Insert => "\u001b[2~",
            ConsoleKey.Delete => "\u001b[3~",
            ConsoleKey.PageUp => "\u001b[5~",
            ConsoleKey.PageDown => "\u001b[6~",
            ConsoleKey.F1 => "\u001bOP",
            ConsoleKey.F2 => "\u001bOQ",
            ConsoleKey.F3 => "\u001bOR",
            ConsoleKey.F4 => "\u001bOS",
            ConsoleKey.Backspace => "\u007f",
            ConsoleKey.Enter => "\r",
            _ => null,
        };
        if (sequence is null)
        {
            if (key.KeyChar == '\0')
            {
                // Ctrl+letter without a character: the control code itself.
                if ((key.Modifiers & ConsoleModifiers.Control) != 0 && key.Key is >= ConsoleKey.A and <= ConsoleKey.Z)
                    sequence = ((char)(key.Key - ConsoleKey.A + 1)).ToString();
                else return Array.Empty<byte>();
            }
            else sequence = key.KeyChar.ToString();
        }
        if ((key.Modifiers & ConsoleModifiers.Alt) != 0) sequence = "\u001b" + sequence;
        return Encoding.UTF8.GetBytes(sequence);
    }

    public void Write(ReadOnlySpan<byte> data)
    {
        _stdout ??= Console.OpenStandardOutput();
        _stdout.Write(data);
        _stdout.Flush();
    }

    public IDisposable Enter()
    {
        if (!IsTerminal) return new Restore(null);
        var previous = Console.TreatControlCAsInput;
        Console.TreatControlCAsInput = true;
        return new Restore(() => Console.TreatControlCAsInput = previous);
    }

    private sealed class Restore : IDisposable
    {
        private Action? _undo;
        public Restore(Action? undo) => _undo = undo;
        public void Dispose()
        {
            _undo?.Invoke();
            _undo = null;
        }
    }
}
