using System.Collections.Concurrent;
using Paasta.Yaml;
using Paasta.Errors;

namespace Paasta.Config;

/// <summary>Which instances to load; null members match everything.</summary>
public sealed record InstanceFilter(
    Func<string, bool>? Cluster = null,
    Func<string, bool>? Instance = null,
    Func<string, bool>? InstanceType = null);

/// <summary>A loaded item or the reason it could not be loaded; one bad file never hides the others.</summary>
public sealed record LoadResult<T>(T? Value, PaastaException? Error) where T : class
{
    public static LoadResult<T> Ok(T value) => new(value, null);
    public static LoadResult<T> Fail(PaastaException error) => new(null, error);
}

/// <summary>Reads services and instances from a soa-configs root (docs/BEHAVIOUR.md §1).</summary>
public sealed class SoaConfigReader
{

    private readonly ConcurrentDictionary<string, YMapping> _generalConfigs = new(StringComparer.Ordinal);

    public SoaConfigReader(string soaDir)
    {
        SoaDir = Path.GetFullPath(soaDir);
        if (!Directory.Exists(SoaDir))
            throw new PaastaException("SoaDirNotFound", PaastaErrorKind.ObjectNotFound,
                $"The soa-configs folder '{SoaDir}' does not exist. Pass -SoaDir, set $env:PAASTA_SOA_DIR, or Set-PaastaConfiguration -SoaDir.")
            { Target = SoaDir };
    }

    public string SoaDir { get; }

    /// <summary>Refuses names that would escape the soa dir or that no service folder can have.</summary>
    public static void ValidateServiceName(string service)
    {
        if (string.IsNullOrWhiteSpace(service) || service is "." or ".." || service.Contains('/') || service.Contains('\\')
            || Path.IsPathRooted(service) || !Names.ServiceNamePattern().IsMatch(service))
            throw new PaastaException("InvalidServiceName", PaastaErrorKind.InvalidArgument,
                $"'{service}' is not a service name: a service is a folder directly inside the soa dir (letters, digits, '_', '-', '.'; no paths).")
            { Target = service };
    }

    /// <summary>Service folders, sorted: every sub-folder holding a YAML file, except hidden and '_' ones.</summary>
    public IReadOnlyList<string> ListServices(Func<string, bool>? filter = null)
    {
        var names = new List<string>();
        foreach (var dir in Directory.EnumerateDirectories(SoaDir))
        {
            var name = Path.GetFileName(dir);
            if (name.StartsWith('.') || name.StartsWith('_')) continue;
            if (filter is not null && !filter(name)) continue;
            if (!Directory.EnumerateFiles(dir, "*.yaml").Any()) continue;
            names.Add(name);
        }
        names.Sort(StringComparer.Ordinal);
        return names;
    }

    public ServiceConfig LoadService(string service)
    {
        ValidateServiceName(service);
        var dir = Path.Combine(SoaDir, service);
        if (!Directory.Exists(dir))
            throw new PaastaException("ServiceNotFound", PaastaErrorKind.ObjectNotFound,
                $"There is no service '{service}' in {SoaDir}.") { Target = service };

        var serviceYamlPath = Path.Combine(dir, "service.yaml");
        var serviceYaml = YamlLoader.LoadMappingFile(serviceYamlPath);
        var monitoring = YamlLoader.LoadMappingFile(Path.Combine(dir, "monitoring.yaml"));
        var deploy = YamlLoader.LoadMappingFile(Path.Combine(dir, "deploy.yaml"));
        var smartstack = YamlLoader.LoadMappingFile(Path.Combine(dir, "smartstack.yaml"));

        var files = new List<InstanceFile>();
        foreach (var path in Directory.EnumerateFiles(dir, "*.yaml"))
            if (InstanceTypes.TryParseFileName(Path.GetFileName(path), out var type, out var cluster))
                files.Add(new InstanceFile(type, cluster, path));
        files.Sort((a, b) => string.CompareOrdinal(a.FileName, b.FileName));

        var (steps, groups) = ReadPipeline(deploy);
        var svc = serviceYaml ?? new YMapping(serviceYamlPath, 0, 0, null);
        var gitNode = svc["git_url"];
        return new ServiceConfig
        {
            Name = service,
            SoaDir = SoaDir,
            Directory = dir,
            ServiceYaml = svc,
            MonitoringYaml = monitoring,
            DeployYaml = deploy,
            SmartstackYaml = smartstack,
            HasServiceYaml = serviceYaml is not null,
            HasMonitoringYaml = monitoring is not null,
            HasDeployYaml = deploy is not null,
            Description = ScalarText(svc["description"]),
            ExternalLink = ScalarText(svc["external_link"]),
            GitUrl = ScalarText(gitNode),
            GitUrlExplicitlyNull = gitNode is YScalar { Value: null },
            DockerRegistry = ScalarText(svc["docker_registry"]),
            CostOwner = ScalarText(svc["cost_owner"]),
            Team = ScalarText(monitoring?["team"]) ?? ScalarText((svc["monitoring"] as YMapping)?["team"]),
            InstanceFiles = files,
            Clusters = files.Where(f => InstanceTypes.Supported.Contains(f.InstanceType)).Select(f => f.Cluster).Distinct().Order(StringComparer.Ordinal).ToList(),
            PipelineSteps = steps,
            DeployGroups = groups,
            Pipeline = DeployPipeline.Read(deploy),
            SmartstackNamespaces = smartstack?.Keys.Where(k => !k.StartsWith('_')).ToList() ?? new List<string>(),
        };
    }

    /// <summary>Loads the instances of one service that pass the filter, in file then file order.</summary>
    public IEnumerable<LoadResult<InstanceConfig>> LoadInstances(ServiceConfig service, InstanceFilter? filter = null)
    {
        filter ??= new InstanceFilter();
        foreach (var file in service.InstanceFiles)
        {
            if (!InstanceTypes.Supported.Contains(file.InstanceType)) continue;
            if (filter.InstanceType is not null && !filter.InstanceType(file.InstanceType)) continue;
            if (filter.Cluster is not null && !filter.Cluster(file.Cluster)) continue;

            YMapping? root;
            PaastaException? fileError = null;
            try
            {
                root = YamlLoader.LoadMappingFile(file.Path);
                if (root is not null) ConfigLimits.CheckInstanceFile(file.Path, file.InstanceType, root);
            }
            catch (PaastaException e) { root = null; fileError = e; }
            if (fileError is not null) { yield return LoadResult<InstanceConfig>.Fail(fileError); continue; }
            if (root is null) continue;

            foreach (var result in InstancesOfFile(service, file, root, filter.Instance))
                yield return result;
        }
    }

    /// <summary>
    /// A long-running instance no file defines, with only the service's defaults (service.yaml, the service-wide
    /// files and the code defaults): how Sync -Prune finds the drain method of an instance removed from soa-configs.
    /// </summary>
    public InstanceConfig DefaultInstance(ServiceConfig service, string instanceType, string cluster, string instance)
    {
        var file = service.InstanceFiles.FirstOrDefault(f => f.InstanceType == instanceType && f.Cluster == cluster)
            ?? new InstanceFile(instanceType, cluster, Path.Combine(service.Directory, $"{instanceType}-{cluster}.yaml"));
        return InstanceBuilder.LongRunning(service, file, instance, 0, new YMapping(file.Path, 0, 0, null), GeneralConfig(service));
    }

    private IEnumerable<LoadResult<InstanceConfig>> InstancesOfFile(ServiceConfig service, InstanceFile file, YMapping root, Func<string, bool>? instanceFilter)
    {
        foreach (var (name, node) in root.Entries)
        {
            if (name.StartsWith('_')) continue;
            if (file.InstanceType == InstanceTypes.Tron)
            {
                foreach (var r in TronActions(service, file, root, name, node, instanceFilter)) yield return r;
                continue;
            }
            if (instanceFilter is not null && !instanceFilter(name)) continue;
            var keyLine = root.KeyNode(name)?.Line ?? node.Line;
            LoadResult<InstanceConfig> result;
            try
            {
                if (node is not YMapping mapping)
                    throw NotAMapping(file.Path, name, node, "instance");
                result = LoadResult<InstanceConfig>.Ok(InstanceBuilder.LongRunning(service, file, name, keyLine, mapping, GeneralConfig(service)));
            }
            catch (PaastaException e) { result = LoadResult<InstanceConfig>.Fail(e); }
            yield return result;
        }
    }

    private IEnumerable<LoadResult<InstanceConfig>> TronActions(ServiceConfig service, InstanceFile file, YMapping root, string job, YNode jobNode, Func<string, bool>? instanceFilter)
    {
        if (jobNode is not YMapping jobMap)
        {
            yield return LoadResult<InstanceConfig>.Fail(NotAMapping(file.Path, job, jobNode, "job"));
            yield break;
        }
        var actions = new List<(string Name, YNode Node, int Line)>();
        switch (jobMap["actions"])
        {
            case YMapping m:
                foreach (var (n, a) in m.Entries) actions.Add((n, a, m.KeyNode(n)?.Line ?? a.Line));
                break;
            case YSequence s:
                foreach (var a in s.Items)
                    actions.Add((ScalarText((a as YMapping)?["name"]) ?? "", a, a.Line));
                break;
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (action, node, line) in actions)
        {
            // Actions written as a list can repeat a name, which Tron refuses; every later step keys actions by name.
            if (!seen.Add(action))
            {
                yield return LoadResult<InstanceConfig>.Fail(new PaastaException("TronDuplicateActionName", PaastaErrorKind.InvalidData,
                    $"{file.Path}:{line}: job '{job}' has more than one action named '{action}'.")
                { File = file.Path, Line = line, Column = node.Column, Key = $"{job}.actions", Target = $"{job}.{action}" });
                continue;
            }
            var instance = $"{job}.{action}";
            if (instanceFilter is not null && !instanceFilter(instance)) continue;
            LoadResult<InstanceConfig> result;
            try
            {
                if (node is not YMapping actionMap) throw NotAMapping(file.Path, instance, node, "action");
                result = LoadResult<InstanceConfig>.Ok(InstanceBuilder.TronAction(service, file, job, jobMap, action, actionMap, line));
            }
            catch (PaastaException e) { result = LoadResult<InstanceConfig>.Fail(e); }
            yield return result;
        }
    }

    /// <summary>
    /// service.yaml plus the keys <c>monitoring</c>, <c>deploy</c>, <c>smartstack</c> holding those files
    /// (service.yaml's own key of that name wins): the defaults every long-running instance is merged over.
    /// </summary>
    internal YMapping GeneralConfig(ServiceConfig service) => _generalConfigs.GetOrAdd(service.Name, _ =>
    {
        var general = new YMapping(service.ServiceYaml.File, 0, 0, null);
        foreach (var (k, v) in service.ServiceYaml.Entries) general.Add(k, v, service.ServiceYaml.KeyNode(k));
        void AddFile(string key, YMapping? file)
        {
            if (file is not null && !general.ContainsKey(key)) general.Add(key, file, null);
        }
        AddFile("monitoring", service.MonitoringYaml);
        AddFile("deploy", service.DeployYaml);
        AddFile("smartstack", service.SmartstackYaml);
        return general;
    });

    private static (List<string> Steps, List<string> Groups) ReadPipeline(YMapping? deploy)
    {
        var steps = new List<string>();
        void Walk(YNode? list)
        {
            if (list is not YSequence seq) return;
            foreach (var item in seq.Items)
            {
                if (item is not YMapping step) continue;
                if (ScalarText(step["step"]) is { } name) steps.Add(name);
                Walk(step["parallel"]);
            }
        }
        Walk(deploy?["pipeline"]);
        var groups = steps.Where(DeployPipeline.IsDeployStep).Distinct().ToList();
        return (steps, groups);
    }

    internal static string? ScalarText(YNode? node) => node switch
    {
        YScalar { Value: string s } => s,
        YScalar { Value: not null } s => PythonText.Str(s.Value),
        _ => null,
    };

    private static PaastaException NotAMapping(string file, string name, YNode node, string what) =>
        new("InstanceConfigNotMapping", PaastaErrorKind.InvalidData,
            $"{file}:{node.Line}: {what} '{name}' must be a mapping of settings, not a {YamlLoader.Describe(node)}.")
        { File = file, Line = node.Line, Column = node.Column, Key = name, Target = name };
}
