using System.Text.RegularExpressions;
using Paasta.Config;
using Paasta.Validation;
using Paasta.Errors;

namespace Paasta.Docker;

// long: ConvertTo-Json writes 64-bit enums by name, which runbooks parsing JSON need (docs/OUTPUT.md).
public enum ServiceCheckStatus : long
{
    Passed,
    Warning,
    Failed,
}

/// <summary>One check of the PaaSTA service contract (paasta check).</summary>
public sealed record ServiceCheckResult(string Service, string Check, ServiceCheckStatus Status, string Message)
{
    public bool Passed => Status != ServiceCheckStatus.Failed;
    public override string ToString() => $"{Status} {Check}: {Message}";
}

/// <summary>
/// paasta check: whether a service keeps PaaSTA's contract (docs/BEHAVIOUR.md §4) — a Dockerfile, a Makefile answering
/// test, itest and cook-image, valid soa-configs with a deploy.yaml whose pipeline holds every instance's deploy
/// group, mesh registration for instances that serve HTTP or TCP — plus advice (DOCKER_TAG in the Makefile,
/// no time zone baked into the image).
/// </summary>
public static partial class ServiceContract
{
    public static readonly IReadOnlyList<string> MakeTargets = new[] { "test", "itest", "cook-image" };

    [GeneratedRegex(@"/etc/localtime")]
    private static partial Regex LocalTime();

    /// <param name="make">The make program (tests name one that does not exist).</param>
    public static async Task<IReadOnlyList<ServiceCheckResult>> CheckAsync(SoaConfigReader reader, string serviceName, string repository, CancellationToken cancellationToken, string make = "make")
    {
        var results = new List<ServiceCheckResult>();
        void Add(string check, ServiceCheckStatus status, string message) => results.Add(new(serviceName, check, status, message));

        // The repository: Dockerfile and Makefile.
        var dockerfile = Path.Combine(repository, "Dockerfile");
        if (File.Exists(dockerfile))
        {
            Add("Dockerfile", ServiceCheckStatus.Passed, $"{dockerfile} exists.");
            var lines = File.ReadAllLines(dockerfile)
                .Select((text, i) => (Text: text, Line: i + 1))
                .Where(l => !l.Text.TrimStart().StartsWith('#') && LocalTime().IsMatch(l.Text))
                .ToList();
            if (lines.Count > 0)
                Add("DockerfileTimeZone", ServiceCheckStatus.Warning,
                    $"{dockerfile}:{lines[0].Line} sets /etc/localtime. Containers should run in UTC and let the host's clock be the truth; convert times when showing them instead.");
            else
                Add("DockerfileTimeZone", ServiceCheckStatus.Passed, "The Dockerfile does not force a time zone.");
        }
        else
            Add("Dockerfile", ServiceCheckStatus.Failed, $"No Dockerfile in {repository}: the service's repository must build one image from its Dockerfile.");

        var makefile = Path.Combine(repository, "Makefile");
        if (File.Exists(makefile))
        {
            Add("Makefile", ServiceCheckStatus.Passed, $"{makefile} exists.");
            foreach (var target in MakeTargets)
            {
                bool exists;
                try { exists = await MakeTarget.ExistsAsync(repository, target, cancellationToken, make).ConfigureAwait(false); }
                catch (PaastaException e) when (e.ErrorId == "MakeNotFound")
                {
                    // Without make no target can be asked about; one failed check, and the other checks still run.
                    Add("Make", ServiceCheckStatus.Failed, $"{e.Message} The Makefile's targets ({string.Join(", ", MakeTargets)}) were not checked.");
                    break;
                }
                var why = target switch
                {
                    "test" => "runs the unit tests",
                    "itest" => "builds the image as $DOCKER_TAG and runs the integration tests (paasta itest, the pipeline's itest step)",
                    _ => "builds the image as $DOCKER_TAG (Build-PaastaImage, Invoke-PaastaLocalRun -Build)",
                };
                Add($"MakeTarget:{target}", exists ? ServiceCheckStatus.Passed : ServiceCheckStatus.Failed,
                    exists ? $"'make {target}' exists." : $"The Makefile has no '{target}' target (make --question {target} exits 2); '{target}' {why}.");
            }
            var text = File.ReadAllText(makefile);
            Add("MakefileDockerTag", text.Contains("DOCKER_TAG", StringComparison.Ordinal) ? ServiceCheckStatus.Passed : ServiceCheckStatus.Warning,
                text.Contains("DOCKER_TAG", StringComparison.Ordinal)
                    ? "The Makefile uses DOCKER_TAG."
                    : "The Makefile never mentions DOCKER_TAG; itest and cook-image must tag the image they build with it (default it with DOCKER_TAG ?= <service>-dev-$(USER)).");
        }
        else
            Add("Makefile", ServiceCheckStatus.Failed, $"No Makefile in {repository}: PaaSTA runs 'make test', 'make itest' and 'make cook-image'.");

        // soa-configs.
        ServiceConfig service;
        try { service = reader.LoadService(serviceName); }
        catch (PaastaException e)
        {
            Add("SoaConfigs", ServiceCheckStatus.Failed, e.Message);
            return results;
        }
        var findings = new ConfigValidator(reader).ValidateService(serviceName);
        var errors = findings.Where(f => f.Severity == FindingSeverity.Error).ToList();
        Add("SoaConfigs", errors.Count == 0 ? ServiceCheckStatus.Passed : ServiceCheckStatus.Failed,
            errors.Count == 0
                ? $"{service.Directory} is valid ({findings.Count} warning(s)); Test-PaastaConfig -Service {serviceName} lists details."
                : $"{errors.Count} error(s) in {service.Directory}, first: {errors[0].Location} {errors[0].Message} (Test-PaastaConfig -Service {serviceName} lists them all).");

        Add("DeployYaml", service.HasDeployYaml ? ServiceCheckStatus.Passed : ServiceCheckStatus.Failed,
            service.HasDeployYaml
                ? $"deploy.yaml has {service.PipelineSteps.Count} pipeline step(s): {string.Join(", ", service.PipelineSteps)}."
                : $"{service.Directory}/deploy.yaml is missing: the deploy pipeline (its steps are the deploy groups) comes from it.");

        var instances = reader.LoadInstances(service).Where(r => r.Value is not null).Select(r => r.Value!).ToList();
        if (instances.Count == 0)
            Add("Instances", ServiceCheckStatus.Failed, $"{serviceName} has no instances: add one to a kubernetes-, eks-, adhoc- or tron-CLUSTER.yaml.");

        var missing = instances.Where(i => i.DeployGroup is not null && !service.DeployGroups.Contains(i.DeployGroup))
            .Select(i => $"{i.Branch} ({i.DeployGroup})").ToList();
        Add("DeployGroups", missing.Count == 0 ? ServiceCheckStatus.Passed : ServiceCheckStatus.Failed,
            missing.Count == 0
                ? $"Every instance's deploy group is a step of the pipeline ({string.Join(", ", instances.Select(i => i.DeployGroup).Where(g => g is not null).Distinct())})."
                : $"Not in deploy.yaml's pipeline, so never deployed: {string.Join(", ", missing)}.");

        var serving = instances.Where(i => InstanceTypes.IsLongRunning(i.InstanceType) && i.HealthcheckMode is "http" or "https" or "tcp").ToList();
        var unregistered = serving.Where(i => !i.IsInSmartstack).Select(i => $"{i.Branch} ({i.HealthcheckMode}; registration {string.Join(",", i.Registrations)})").ToList();
        if (serving.Count == 0)
            Add("MeshRegistration", ServiceCheckStatus.Passed, "No long-running instance serves HTTP or TCP; nothing to register in the mesh.");
        else
            Add("MeshRegistration", unregistered.Count == 0 ? ServiceCheckStatus.Passed : ServiceCheckStatus.Warning,
                unregistered.Count == 0
                    ? $"Every HTTP/TCP instance is registered in smartstack.yaml ({string.Join(", ", serving.SelectMany(i => i.Registrations).Distinct())})."
                    : $"Serve {serving[0].HealthcheckMode} but have no smartstack.yaml entry with a proxy_port for their registration, so nothing can discover them: {string.Join(", ", unregistered)}.");
        return results;
    }
}
