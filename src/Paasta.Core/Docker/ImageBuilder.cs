using System.Diagnostics;
using System.Formats.Tar;
using System.Text.RegularExpressions;
using Docker.DotNet.Models;
using Paasta.Errors;

using Paasta.IO;

namespace Paasta.Docker;

/// <summary>An image built from a service's repository (paasta cook-image).</summary>
public sealed class ImageBuildResult
{
    public required string Service { get; init; }
    /// <summary>The tag the image was built as (DOCKER_TAG).</summary>
    public required string Image { get; init; }
    public required string ImageId { get; init; }
    /// <summary>"make cook-image" or "Dockerfile".</summary>
    public required string Method { get; init; }
    public required string Path { get; init; }
    /// <summary>The commit the tag names, when built for one (-Commit).</summary>
    public string? Commit { get; init; }
    public string? ImageVersion { get; init; }
    public TimeSpan Duration { get; init; }
    /// <summary>The image id without "sha256:", 12 characters (as docker images shows it).</summary>
    public string ShortImageId => ImageId.Replace("sha256:", "") is var id && id.Length > 12 ? id[..12] : ImageId;

    public override string ToString() => Image;
}

/// <summary>
/// Builds a service's image the way PaaSTA's contract says (docs/BEHAVIOUR.md §4.3, §9.12): <c>make cook-image</c> with
/// DOCKER_TAG when the Makefile has that target, else the repository's Dockerfile through the engine's API.
/// </summary>
public sealed class ImageBuilder
{
    public const string CookImageTarget = "cook-image";
    private readonly DockerEngine _engine;
    private readonly IRunReporter _reporter;

    public ImageBuilder(DockerEngine engine, IRunReporter reporter)
    {
        _engine = engine;
        _reporter = reporter;
    }

    /// <summary>How the directory would be built: "make cook-image", "Dockerfile", or null when it cannot be.</summary>
    public static async Task<string?> DetectMethodAsync(string directory, CancellationToken cancellationToken)
    {
        if (File.Exists(Path.Combine(directory, "Makefile")) && await MakeTarget.ExistsAsync(directory, CookImageTarget, cancellationToken).ConfigureAwait(false))
            return "make cook-image";
        return File.Exists(Path.Combine(directory, "Dockerfile")) ? "Dockerfile" : null;
    }

    public async Task<ImageBuildResult> BuildAsync(string service, string directory, string tag, string? commit, CancellationToken cancellationToken, string? imageVersion = null)
    {
        var clock = Stopwatch.StartNew();
        if (!Directory.Exists(directory))
            throw new PaastaException("ServiceRepositoryNotFound", PaastaErrorKind.ObjectNotFound,
                $"{directory} does not exist; -Path must be the service's repository (the folder with its Makefile or Dockerfile).")
            { Target = directory };
        var method = await DetectMethodAsync(directory, cancellationToken).ConfigureAwait(false)
            ?? throw new PaastaException("BuildContractMissing", PaastaErrorKind.ObjectNotFound,
                $"{directory} has neither a Makefile with a '{CookImageTarget}' target nor a Dockerfile. PaaSTA's contract: 'make {CookImageTarget}' builds the image tagged $DOCKER_TAG. " +
                "Add the target, or use -Pull or -Image.")
            { Target = directory };
        _reporter.Verbose($"Building {tag} from {directory} with {method}.");
        if (method == "Dockerfile") await BuildDockerfileAsync(directory, tag, cancellationToken).ConfigureAwait(false);
        else await RunMakeAsync(directory, tag, cancellationToken).ConfigureAwait(false);

        ImageInspectResponse image;
        try
        {
            image = await _engine.Call($"find the image {tag}", c => c.Images.InspectImageAsync(tag, cancellationToken), tag).ConfigureAwait(false);
        }
        catch (PaastaException e) when (e.ErrorId == "DockerImageNotFound")
        {
            throw new PaastaException("ImageTagMissing", PaastaErrorKind.ObjectNotFound,
                $"{method} succeeded but no image is tagged {tag}: the Makefile's {CookImageTarget} target must tag its image with $DOCKER_TAG.", e)
            { Target = tag };
        }
        return new ImageBuildResult
        {
            Service = service,
            Image = tag,
            ImageId = image.ID,
            Method = method,
            Path = directory,
            Commit = commit,
            ImageVersion = imageVersion,
            Duration = clock.Elapsed,
        };
    }

    private async Task RunMakeAsync(string directory, string tag, CancellationToken cancellationToken)
    {
        var env = new Dictionary<string, string> { ["DOCKER_TAG"] = tag };
        // The docker CLI inside the Makefile talks to the same engine as Paasta.
        if (_engine.Endpoint != DockerEngine.DefaultHost) env["DOCKER_HOST"] = _engine.Endpoint;
        var activity = $"make {CookImageTarget} ({tag})";
        _reporter.Progress(new RunProgress(3, activity, "running"));
        try
        {
            var exit = await ProcessRunner.RunAsync("make", new[] { CookImageTarget }, directory, env,
                (line, isError) =>
                {
                    _reporter.Output(line, isError);
                    _reporter.Progress(new RunProgress(3, activity, line.Length > 100 ? line[..100] : line.Length == 0 ? "running" : line));
                }, cancellationToken).ConfigureAwait(false);
            if (exit != 0)
                throw new PaastaException("ImageBuildFailed", PaastaErrorKind.InvalidOperation,
                    $"'make {CookImageTarget}' in {directory} failed with exit code {exit} (DOCKER_TAG={tag}); its output is above.")
                { Target = directory };
        }
        finally
        {
            _reporter.Progress(new RunProgress(3, activity, "done", 100, Completed: true));
        }
    }

    private async Task BuildDockerfileAsync(string directory, string tag, CancellationToken cancellationToken)
    {
        var activity = $"docker build ({tag})";
        _reporter.Progress(new RunProgress(3, activity, "sending the build context"));
        string? error = null;
        try
        {
            await using var context = new MemoryStream();
            var files = BuildContext.Write(directory, context);
            context.Position = 0;
            _reporter.Verbose($"Build context: {files} file(s), {context.Length / 1024.0:0.#} KiB.");
            var splitter = new LineSplitter(l => _reporter.Output(l, false));
            var progress = new SyncProgress<JSONMessage>(m =>
            {
                if (m.Error is { } err && !string.IsNullOrEmpty(err.Message)) error = err.Message;
                else if (!string.IsNullOrEmpty(m.ErrorMessage)) error = m.ErrorMessage;
                if (m.Stream is { Length: > 0 } text)
                {
                    var bytes = System.Text.Encoding.UTF8.GetBytes(text);
                    splitter.Append(bytes, bytes.Length);
                    var status = text.Trim();
                    if (status.Length > 0) _reporter.Progress(new RunProgress(3, activity, status.Length > 100 ? status[..100] : status));
                }
            });
            await _engine.Call("build the image", c => c.Images.BuildImageFromDockerfileAsync(
                new ImageBuildParameters { Tags = new List<string> { tag }, Dockerfile = "Dockerfile", Remove = true, ForceRemove = true },
                context, null, null, progress, cancellationToken), tag).ConfigureAwait(false);
            splitter.Flush();
        }
        finally
        {
            _reporter.Progress(new RunProgress(3, activity, "done", 100, Completed: true));
        }
        if (error is not null)
            throw new PaastaException("ImageBuildFailed", PaastaErrorKind.InvalidOperation,
                $"Building {directory}/Dockerfile as {tag} failed: {error.Trim()}")
            { Target = directory };
    }
}

/// <summary>Makefile targets, detected as PaaSTA does: <c>make --question TARGET</c> exits 2 when there is no such target.</summary>
public static class MakeTarget
{
    public static async Task<bool> ExistsAsync(string directory, string target, CancellationToken cancellationToken, string make = "make")
    {
        try
        {
            var exit = await ProcessRunner.RunAsync(make, new[] { "--question", target }, directory, null, null, cancellationToken).ConfigureAwait(false);
            return exit != 2;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new PaastaException("MakeNotFound", PaastaErrorKind.ObjectNotFound,
                $"'{make}' could not be started ({e.Message}); PaaSTA's build contract needs GNU make on PATH.", e)
            { Target = make };
        }
    }
}

/// <summary>Runs a program, passing each output line on as it comes; Ctrl+C kills the whole process tree.</summary>
public static class ProcessRunner
{
    public static async Task<int> RunAsync(string file, IEnumerable<string> arguments, string directory,
        IReadOnlyDictionary<string, string>? environment, Action<string, bool>? line, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(file)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        if (environment is not null)
            foreach (var (k, v) in environment) start.Environment[k] = v;
        using var process = new Process { StartInfo = start };
        var lock_ = new object();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null && line is not null) lock (lock_) line(e.Data, false); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null && line is not null) lock (lock_) line(e.Data, true); };
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            throw;
        }
        return process.ExitCode;
    }
}

/// <summary>An IProgress that reports on the calling thread, in order (Progress&lt;T&gt; posts asynchronously).</summary>
internal sealed class SyncProgress<T> : IProgress<T>
{
    private readonly Action<T> _report;
    public SyncProgress(Action<T> report) => _report = report;
    public void Report(T value) => _report(value);
}

/// <summary>A build context as the docker CLI sends it: a tar of the folder, minus what .dockerignore excludes.</summary>
public static class BuildContext
{
    /// <summary>Writes the tar; returns the number of files in it.</summary>
    public static int Write(string directory, Stream output)
    {
        var ignore = DockerIgnore.Load(Path.Combine(directory, ".dockerignore"));
        var count = 0;
        using var writer = new TarWriter(output, TarEntryFormat.Pax, leaveOpen: true);
        foreach (var path in Directory.EnumerateFileSystemEntries(directory, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }).Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(directory, path).Replace('\\', '/');
            // The Dockerfile and .dockerignore always go, as with the docker CLI.
            if (relative is not ("Dockerfile" or ".dockerignore") && ignore.IsExcluded(relative)) continue;
            if (Directory.Exists(path) && !File.GetAttributes(path).HasFlag(FileAttributes.ReparsePoint))
            {
                writer.WriteEntry(path, relative);
                continue;
            }
            writer.WriteEntry(path, relative);
            count++;
        }
        return count;
    }
}

/// <summary>.dockerignore patterns: globs with *, ? and **, '!' exceptions, last match wins; a match on a folder covers its contents.</summary>
public sealed class DockerIgnore
{
    private readonly List<(Regex Pattern, bool Exclude)> _rules = new();

    public static DockerIgnore Load(string path)
    {
        var ignore = new DockerIgnore();
        if (BoundedFile.KindOf(path) == FileKind.Missing) return ignore;
        foreach (var raw in BoundedFile.ReadAllLines(path)) ignore.Add(raw);
        return ignore;
    }

    public void Add(string line)
    {
        var text = line.Trim();
        if (text.Length == 0 || text.StartsWith('#')) return;
        var exclude = true;
        if (text.StartsWith('!'))
        {
            exclude = false;
            text = text[1..].Trim();
        }
        text = text.Replace('\\', '/').Trim('/');
        while (text.StartsWith("./", StringComparison.Ordinal)) text = text[2..];
        if (text.Length == 0) return;
        var regex = new System.Text.StringBuilder("^");
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '*' && i + 1 < text.Length && text[i + 1] == '*')
            {
                regex.Append(".*");
                i++;
                if (i + 1 < text.Length && text[i + 1] == '/') i++;
            }
            else if (c == '*') regex.Append("[^/]*");
            else if (c == '?') regex.Append("[^/]");
            else regex.Append(Regex.Escape(c.ToString()));
        }
        regex.Append("(/.*)?$");
        _rules.Add((new Regex(regex.ToString(), RegexOptions.CultureInvariant), exclude));
    }

    public bool IsExcluded(string relativePath)
    {
        var excluded = false;
        foreach (var (pattern, exclude) in _rules)
            if (pattern.IsMatch(relativePath)) excluded = exclude;
        return excluded;
    }
}
