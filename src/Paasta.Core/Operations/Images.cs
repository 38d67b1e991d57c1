using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Paasta.Config;
using Paasta.Docker;
using Paasta.Errors;
using Paasta.Git;

namespace Paasta.Operations;

/// <summary>What Build-PaastaImage was asked.</summary>
public sealed record ImageBuildRequest
{
    public required string Service { get; init; }
    /// <summary>The service's checkout; relative to the caller's location; null: that location.</summary>
    public string? Path { get; init; }
    /// <summary>Tag the image for this commit (a full sha, or anything the checkout resolves).</summary>
    public string? Commit { get; init; }
    /// <summary>The image name to build, overriding every other choice.</summary>
    public string? Tag { get; init; }
    public string? ImageVersion { get; init; }
}

/// <summary>What Publish-PaastaImage was asked.</summary>
public sealed record ImagePublishRequest
{
    public required string Service { get; init; }
    public string? Path { get; init; }
    public required string Commit { get; init; }
    public string? ImageVersion { get; init; }
    /// <summary>Push even when the registry already has the tag.</summary>
    public bool Force { get; init; }
}

/// <summary>
/// paasta cook-image and push-to-registry (docs/BEHAVIOUR.md §3.5, §9.12): the image name a build gets, and which
/// names a push sends where. The registry comes from the one rule, OperationContext.RegistryFor.
/// </summary>
public static partial class Images
{
    [GeneratedRegex("^[A-Za-z0-9_.-]+$")]
    private static partial Regex ImageVersionPattern();

    /// <summary>
    /// Builds the service's checkout. The tag is the request's Tag; else, with a commit, the name PaaSTA deploys
    /// (REGISTRY/services-SERVICE:paasta-SHA[-IMAGEVERSION]); else DOCKER_TAG; else paasta-cook-image-SERVICE-USER.
    /// Null when the user declined.
    /// </summary>
    public static ImageBuildResult? Build(OperationContext context, ImageBuildRequest request, IContainerEngine engine, LocalIdentity? identity = null)
    {
        var imageVersion = CheckImageVersion(request.ImageVersion);
        var service = LoadService(context, request.Service);
        var path = FullPath(context, request.Path);
        var sha = request.Commit is null ? null : LocalCheckout.ResolveCommit(request.Commit, path);
        var tag = request.Tag
            ?? (sha is not null ? ImageNames.Full(context.RequireRegistryFor(service), service.Name, sha, imageVersion) : null)
            ?? (context.Settings.EnvironmentVariable(LocalRun.DockerTagVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : null)
            ?? $"paasta-cook-image-{ImageNames.SafeTagPart(service.Name)}-{ImageNames.SafeTagPart((identity ?? LocalIdentity.Current).User)}";
        if (!context.Sink.ShouldProcess(tag, $"Build the image from {path}")) return null;
        context.Sink.Verbose($"Docker engine: {engine.Endpoint}");
        var result = engine.BuildAsync(service.Name, path, tag, sha, request.Commit is null ? null : imageVersion, new SinkReporter(context.Sink), context.Cancellation)
            .GetAwaiter().GetResult();
        context.Sink.Verbose($"Built {result.Image} ({result.ImageId}) with {result.Method} in {result.Duration.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s.");
        return result;
    }

    /// <summary>
    /// Pushes REGISTRY/services-SERVICE:paasta-SHA (and the -IMAGEVERSION name with an image version); a name the
    /// registry already has is skipped unless Force. One result per name the user did not decline.
    /// </summary>
    public static IReadOnlyList<ImagePushResult> Publish(OperationContext context, ImagePublishRequest request, IContainerEngine engine)
    {
        var imageVersion = CheckImageVersion(request.ImageVersion);
        var service = LoadService(context, request.Service);
        var sha = LocalCheckout.ResolveCommit(request.Commit, FullPath(context, request.Path));
        var registry = context.RequireRegistryFor(service);
        var names = new List<string> { ImageNames.Full(registry, service.Name, sha, null) };
        if (imageVersion is not null) names.Add(ImageNames.Full(registry, service.Name, sha, imageVersion));
        var reporter = new SinkReporter(context.Sink);
        var cancellation = context.Cancellation;
        context.Sink.Verbose($"Docker engine: {engine.Endpoint}");

        var results = new List<ImagePushResult>();
        foreach (var image in names)
        {
            var clock = Stopwatch.StartNew();
            // Reading first: does the registry have the tag already?
            var existed = engine.ManifestExistsAsync(image, reporter, cancellation).GetAwaiter().GetResult();
            if (existed == true && !request.Force)
            {
                context.Sink.Verbose($"{image} is already in the registry; skipped (-Force pushes it again).");
                results.Add(new ImagePushResult { Service = service.Name, Image = image, Registry = registry, Pushed = false, ExistedBefore = true, Duration = clock.Elapsed });
                continue;
            }
            if (existed is null) context.Sink.Verbose($"The registry would not say whether it has {image}; pushing.");
            if (!context.Sink.ShouldProcess(image, $"Push to {registry}")) continue;
            if (!engine.EnsureLocalAsync(image, names, reporter, cancellation).GetAwaiter().GetResult())
                throw new PaastaException("ImageNotBuilt", PaastaErrorKind.ObjectNotFound,
                    $"The local engine has no image {image}. Build it first: Build-PaastaImage -Service {service.Name} -Commit {sha}{(imageVersion is null ? "" : $" -ImageVersion {imageVersion}")}.")
                { Target = image };
            var digest = engine.PushAsync(image, reporter, cancellation).GetAwaiter().GetResult();
            context.Sink.Verbose($"Pushed {image}{(digest is null ? "" : $" ({digest})")}.");
            results.Add(new ImagePushResult
            {
                Service = service.Name, Image = image, Registry = registry, Pushed = true, ExistedBefore = existed, Digest = digest, Duration = clock.Elapsed,
            });
        }
        return results;
    }

    /// <summary>The service, as PaaSTA takes its name: a trailing '/' and a leading "services-" (when no folder has that name) dropped.</summary>
    public static ServiceConfig LoadService(OperationContext context, string name)
    {
        var trimmed = name.TrimEnd('/');
        if (trimmed.StartsWith("services-", StringComparison.Ordinal) && !Directory.Exists(Path.Combine(context.Reader.SoaDir, trimmed)))
            trimmed = trimmed["services-".Length..];
        return InstanceQuery.Service(context, trimmed);
    }

    /// <summary>Null for none; InvalidImageVersion for what cannot be part of a docker tag.</summary>
    private static string? CheckImageVersion(string? imageVersion)
    {
        if (string.IsNullOrEmpty(imageVersion)) return null;
        if (!ImageVersionPattern().IsMatch(imageVersion))
            throw new PaastaException("InvalidImageVersion", PaastaErrorKind.InvalidArgument,
                $"'{imageVersion}' cannot be part of a docker tag: use letters, digits, '_', '.' and '-'.") { Target = imageVersion };
        return imageVersion;
    }

    private static string FullPath(OperationContext context, string? path) => Path.GetFullPath(path ?? context.CurrentDirectory, context.CurrentDirectory);
}
