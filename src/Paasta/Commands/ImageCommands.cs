using System.Management.Automation;
using Paasta.Config;
using Paasta.Docker;
using Paasta.Git;
using Paasta.Errors;
using Paasta.Settings;

namespace Paasta.Commands;

/// <summary>Shared by the image cmdlets: the service (a leading "services-" and trailing '/' dropped, as PaaSTA does) and its checkout.</summary>
public abstract class ImageCmdlet : DockerCmdlet
{
    /// <summary>The service whose image this is.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ServiceCompleter))]
    [Alias("Name")]
    public string Service { get; set; } = "";

    /// <summary>The service's checkout (its Makefile and Dockerfile; short commits are resolved in it). Defaults to the current directory.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>Extra version of the image built from the commit: the tag becomes paasta-SHA-VERSION.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public string? ImageVersion { get; set; }

    /// <summary>The registry. Defaults to service.yaml docker_registry, then Set-PaastaConfiguration -DockerRegistry ($env:PAASTA_DOCKER_REGISTRY).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Registry { get; set; }

    protected string CheckoutPath => GetUnresolvedProviderPathFromPSPath(Path ?? SessionState.Path.CurrentFileSystemLocation.ProviderPath);

    protected ServiceConfig LoadService(out SoaConfigReader reader)
    {
        if (string.IsNullOrEmpty(ImageVersion)) ImageVersion = null;
        else if (!System.Text.RegularExpressions.Regex.IsMatch(ImageVersion, "^[A-Za-z0-9_.-]+$"))
            throw new PaastaException("InvalidImageVersion", PaastaErrorKind.InvalidArgument,
                $"'{ImageVersion}' cannot be part of a docker tag: use letters, digits, '_', '.' and '-'.") { Target = ImageVersion };
        reader = Reader(ResolveSoaDir(SoaDir));
        var name = Service.TrimEnd('/');
        if (name.StartsWith("services-", StringComparison.Ordinal) && !Directory.Exists(System.IO.Path.Combine(reader.SoaDir, name)))
            name = name["services-".Length..];
        return reader.LoadService(name);
    }
}

/// <summary>
/// <para type="synopsis">Builds a service's Docker image (paasta cook-image).</para>
/// <para type="description">Runs `make cook-image` in the service's checkout (-Path, default the current directory) with DOCKER_TAG set, as PaaSTA's build contract says; a checkout whose Makefile has no cook-image target (make --question cook-image exits 2) but has a Dockerfile is built from the Dockerfile through the engine's API, honouring .dockerignore. The tag is -Tag; else, with -Commit, the name PaaSTA deploys: REGISTRY/services-SERVICE:paasta-SHA[-IMAGEVERSION] (a short sha, branch or HEAD is resolved in the checkout); else $env:DOCKER_TAG; else paasta-cook-image-SERVICE-USER. Build output is streamed to the console (and to the information stream, tagged Stdout or Stderr). A failed build is a non-terminating ImageBuildFailed error; a build that leaves no image with the tag is ImageTagMissing. Emits a Paasta.Docker.ImageBuildResult, which Publish-PaastaImage takes from the pipeline.</para>
/// </summary>
/// <example>
///   <code>Build-PaastaImage -Service hello -Path ./hello -Commit HEAD</code>
///   <para>Builds hello's checkout as 127.0.0.1:5000/services-hello:paasta-FULLSHA (the registry from hello's service.yaml).</para>
/// </example>
/// <example>
///   <code>Build-PaastaImage -Service hello -Path ./hello -Commit HEAD | Publish-PaastaImage</code>
///   <para>Builds the image for the checkout's commit and pushes it to the registry (push-to-registry).</para>
/// </example>
/// <example>
///   <code>Build-PaastaImage -Service hello -Tag hello-dev</code>
///   <para>Builds the checkout in the current directory as hello-dev.</para>
/// </example>
[Cmdlet("Build", "PaastaImage", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
[OutputType(typeof(ImageBuildResult))]
public sealed class BuildPaastaImage : ImageCmdlet
{
    /// <summary>Tag the image for this commit (a full sha; a short sha, branch or HEAD is resolved in the checkout).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Commit { get; set; }

    /// <summary>The image name to build (DOCKER_TAG), overriding the name derived from -Commit.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Tag { get; set; }

    protected override void Process()
    {
        try
        {
            var service = LoadService(out _);
            var path = CheckoutPath;
            string? sha = null;
            string tag;
            if (Commit is not null) sha = LocalCheckout.ResolveCommit(Commit, path);
            if (Tag is not null) tag = Tag;
            else if (sha is not null) tag = ImageNames.Full(ImageNames.ResolveRegistry(Registry, service, Operation.Settings), service.Name, sha, ImageVersion);
            else tag = Environment.GetEnvironmentVariable("DOCKER_TAG") is { Length: > 0 } env ? env
                : $"paasta-cook-image-{ImageNames.SafeTagPart(service.Name)}-{ImageNames.SafeTagPart(UserName)}";
            if (!ShouldProcess(tag, $"Build the image from {path}")) return;
            var result = RunEngine((reporter, ct) => new ImageBuilder(Docker, reporter).BuildAsync(service.Name, path, tag, sha, ct, Commit is null ? null : ImageVersion));
            WriteVerbose($"Built {result.Image} ({result.ImageId}) with {result.Method} in {result.Duration.TotalSeconds:0.0} s.");
            WriteObject(result);
        }
        catch (PaastaException e) { WriteError(e); }
    }
}

/// <summary>
/// <para type="synopsis">Pushes a service's image for a commit to its registry (paasta push-to-registry).</para>
/// <para type="description">Pushes REGISTRY/services-SERVICE:paasta-SHA (and, with -ImageVersion, also paasta-SHA-IMAGEVERSION) from the local engine to the registry, with progress. Each name whose tag the registry already has (HEAD /v2/services-SERVICE/manifests/TAG answers 200) is skipped unless -Force. The registry is asked over plain HTTP when it is on loopback (127.0.0.1:5000) or the engine lists it as insecure, over HTTPS otherwise. When only one of the two names exists locally, the other is tagged onto the same image first. Takes Service, Commit and ImageVersion from the pipeline (e.g. from Build-PaastaImage -Commit). Emits one Paasta.Docker.ImagePushResult per name.</para>
/// </summary>
/// <example>
///   <code>Publish-PaastaImage -Service hello -Commit 0123456789abcdef0123456789abcdef01234567</code>
///   <para>Pushes 127.0.0.1:5000/services-hello:paasta-0123...4567 unless the registry already has it.</para>
/// </example>
/// <example>
///   <code>Build-PaastaImage -Service hello -Path ./hello -Commit HEAD | Publish-PaastaImage -Force</code>
///   <para>Builds the checkout's commit and pushes it even if the registry already has that tag.</para>
/// </example>
[Cmdlet(VerbsData.Publish, "PaastaImage", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(ImagePushResult))]
public sealed class PublishPaastaImage : ImageCmdlet
{
    /// <summary>The commit whose image to push (a full sha; a short sha, branch or HEAD is resolved in -Path's checkout).</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Commit { get; set; } = "";

    /// <summary>Push even when the registry already has the tag.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void Process()
    {
        try
        {
            var service = LoadService(out _);
            var sha = LocalCheckout.ResolveCommit(Commit, CheckoutPath);
            var registry = ImageNames.ResolveRegistry(Registry, service, Operation.Settings);
            var names = new List<string> { ImageNames.Full(registry, service.Name, sha, null) };
            if (ImageVersion is not null) names.Add(ImageNames.Full(registry, service.Name, sha, ImageVersion));

            foreach (var image in names)
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                // Reading first: does the registry have the tag already?
                var existed = RunEngine((reporter, ct) => new ImageRegistry(Docker, reporter).ManifestExistsAsync(image, ct));
                if (existed == true && !Force)
                {
                    WriteVerbose($"{image} is already in the registry; skipped (-Force pushes it again).");
                    WriteObject(new ImagePushResult { Service = service.Name, Image = image, Registry = registry, Pushed = false, ExistedBefore = true, Duration = clock.Elapsed });
                    continue;
                }
                if (existed is null) WriteVerbose($"The registry would not say whether it has {image}; pushing.");
                if (!ShouldProcess(image, $"Push to {registry}")) continue;
                var digest = RunEngine(async (reporter, ct) =>
                {
                    var images = new ImageRegistry(Docker, reporter);
                    if (!await images.EnsureLocalAsync(image, names, ct).ConfigureAwait(false))
                        throw new PaastaException("ImageNotBuilt", PaastaErrorKind.ObjectNotFound,
                            $"The local engine has no image {image}. Build it first: Build-PaastaImage -Service {service.Name} -Commit {sha}{(ImageVersion is null ? "" : $" -ImageVersion {ImageVersion}")}.")
                        { Target = image };
                    return await images.PushAsync(image, ct).ConfigureAwait(false);
                });
                WriteVerbose($"Pushed {image}{(digest is null ? "" : $" ({digest})")}.");
                WriteObject(new ImagePushResult
                {
                    Service = service.Name, Image = image, Registry = registry, Pushed = true, ExistedBefore = existed, Digest = digest, Duration = clock.Elapsed,
                });
            }
        }
        catch (PaastaException e) { WriteError(e); }
    }
}
