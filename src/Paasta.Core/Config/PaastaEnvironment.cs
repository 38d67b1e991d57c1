using Paasta.Yaml;

namespace Paasta.Config;

/// <summary>
/// The environment PaaSTA injects into every container (docs/BEHAVIOUR.md §4.4), in PaaSTA's order. Kubernetes and
/// local-run add their own variables on top (the cluster as a field reference, PAASTA_HOST...).
/// </summary>
public static class PaastaEnvironment
{
    /// <summary>The base variables, then the instance's env (which overrides them), then PAASTA_PORT for long-running and adhoc instances.</summary>
    public static List<KeyValuePair<string, string>> Build(InstanceConfig instance, DeploymentBranch? branch)
    {
        var env = new List<KeyValuePair<string, string>>();
        void Set(string name, string value)
        {
            var i = env.FindIndex(e => e.Key == name);
            if (i >= 0) env[i] = new(name, value);
            else env.Add(new(name, value));
        }
        string Resource(string key, double value) => instance.Config.TryGetValue(key, out var raw) && raw is long or double ? PythonText.Str(raw) : PythonText.Str(value % 1 == 0 ? (object)(long)value : value);

        Set("PAASTA_SERVICE", instance.Service);
        Set("PAASTA_INSTANCE", instance.Instance);
        Set("PAASTA_CLUSTER", instance.Cluster);
        Set("PAASTA_DEPLOY_GROUP", instance.DeployGroup ?? "None");
        Set("PAASTA_DOCKER_IMAGE", branch?.DockerImage ?? "");
        Set("PAASTA_RESOURCE_CPUS", Resource("cpus", instance.Cpus));
        Set("PAASTA_RESOURCE_MEM", Resource("mem", instance.Mem));
        Set("PAASTA_RESOURCE_DISK", Resource("disk", instance.Disk));
        if (instance.Gpus is { } gpus) Set("PAASTA_RESOURCE_GPUS", Resource("gpus", gpus));
        if (branch is not null) Set("PAASTA_GIT_SHA", branch.GitSha.Length > 8 ? branch.GitSha[..8] : branch.GitSha);
        else if (instance.InstanceType == InstanceTypes.Tron) Set("PAASTA_GIT_SHA", "");
        if (branch?.ImageVersion is { } iv) Set("PAASTA_IMAGE_VERSION", iv);
        if (instance.Monitoring.Team is { } team) Set("PAASTA_MONITORING_TEAM", team);
        Set("PAASTA_INSTANCE_TYPE", instance.InstanceType);
        var appId = $"{instance.Service}.{instance.Instance}";
        Set("AWS_SDK_UA_APP_ID", appId.Length > 50 ? appId[..50] : appId);
        foreach (var (k, v) in instance.Env) Set(k, v);
        if (instance.InstanceType != InstanceTypes.Tron) Set("PAASTA_PORT", instance.ContainerPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return env;
    }

    /// <summary>True for values PaaSTA resolves from a secret store: SECRET(name) or SHARED_SECRET(name).</summary>
    public static bool IsSecretReference(string value, out bool shared, out string name)
    {
        var m = System.Text.RegularExpressions.Regex.Match(value, @"^(SHARED_)?SECRET\(([A-Za-z0-9_-]*)\)$");
        shared = m.Success && m.Groups[1].Success;
        name = m.Success ? m.Groups[2].Value : "";
        return m.Success;
    }
}
