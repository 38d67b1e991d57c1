using System.Management.Automation;
using Paasta.Docker;
using Paasta.Operations;
using Paasta.Settings;

namespace Paasta.Commands;

/// <summary>Shared by the image cmdlets: the service (a leading "services-" and trailing '/' dropped, as PaaSTA does), its checkout and the registry.</summary>
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

    /// <summary>The registry. Defaults to service.yaml docker_registry, then $env:PAASTA_DOCKER_REGISTRY, then Set-PaastaConfiguration -DockerRegistry.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Registry { get; set; }

    protected override PaastaSettings GivenSettings() => base.GivenSettings() with { DockerRegistry = Registry };
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
        var request = new ImageBuildRequest { Service = Service, Path = ProviderPath(Path), Commit = Commit, Tag = Tag, ImageVersion = ImageVersion };
        if (RunOrWriteError(op => Images.Build(op, request, Engine())) is { } result) WriteObject(result);
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
        var request = new ImagePublishRequest { Service = Service, Path = ProviderPath(Path), Commit = Commit, ImageVersion = ImageVersion, Force = Force };
        foreach (var result in RunOrWriteError(op => Images.Publish(op, request, Engine())) ?? Array.Empty<ImagePushResult>()) WriteObject(result);
    }
}
