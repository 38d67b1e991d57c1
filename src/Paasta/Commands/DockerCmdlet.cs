using System.Management.Automation;
using System.Text;
using Paasta.Docker;

namespace Paasta.Commands;

/// <summary>
/// Base of the cmdlets that use the local Docker engine: -DockerHost. The operations do the work and report
/// through the sink (progress, container output, confirmations); see Operations/LocalRun and Operations/Images.
/// </summary>
public abstract class DockerCmdlet : SoaConfigCmdlet
{
    /// <summary>The Docker engine endpoint (unix:///path/docker.sock, tcp://host:port). Defaults to $env:DOCKER_HOST, then unix:///var/run/docker.sock.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? DockerHost { get; set; }

    /// <summary>The engine -DockerHost names (nothing is contacted until an operation uses it).</summary>
    protected IContainerEngine Engine() => DockerContainerEngine.Connect(DockerHost, Operation.Settings.EnvironmentVariable);
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
