using Paasta.Config;
using Paasta.Docker;
using Paasta.Errors;
using Paasta.Validation;

namespace Paasta.Operations;

/// <summary>
/// paasta check (Test-PaastaService): whether a service keeps PaaSTA's contract (docs/BEHAVIOUR.md §4) — its
/// repository (Dockerfile, Makefile targets) and its soa-configs (valid, a deploy.yaml whose pipeline holds
/// every instance's deploy group, mesh registration for instances that serve HTTP or TCP).
/// </summary>
public static class ServiceCheck
{
    /// <param name="repository">The service's checkout; null: the caller's current directory.</param>
    /// <param name="make">The make program (tests name one that does not exist).</param>
    public static async Task<IReadOnlyList<ServiceCheckResult>> RunAsync(OperationContext context, string serviceName, string? repository, string make = "make")
    {
        var reader = context.Reader;
        SoaConfigReader.ValidateServiceName(serviceName);
        var path = Path.GetFullPath(repository ?? context.CurrentDirectory, context.CurrentDirectory);
        context.Sink.Verbose($"Checking {serviceName} in {reader.SoaDir} against its checkout {path}.");
        var results = await ServiceContract.CheckRepositoryAsync(serviceName, path, context.Cancellation, make).ConfigureAwait(false);
        void Add(string check, ServiceCheckStatus status, string message) => results.Add(new(serviceName, check, status, message));

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
