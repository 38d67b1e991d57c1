namespace Paasta.Errors;

/// <summary>
/// What to do about each ErrorId (ErrorRecord.ErrorDetails.RecommendedAction). The catalogue for users is
/// docs/en-US/about_Paasta_Errors.help.txt; a convention test fails when one of its ErrorIds has no action here.
/// "{location}" in an action becomes the file, line and key the error names.
/// </summary>
public static class ErrorCatalog
{
    private const string Location = "{location}";

    private static readonly Dictionary<string, string> Actions = new(StringComparer.Ordinal)
    {
        // Selecting services and instances
        ["SoaDirNotFound"] = "Pass -SoaDir, set $env:PAASTA_SOA_DIR or run Set-PaastaConfiguration -SoaDir with the folder that holds your soa-configs.",
        ["ServiceNotFound"] = "Check the name with Get-PaastaService, or pass the -SoaDir that holds the service.",
        ["InvalidServiceName"] = "Give the service's folder name as it is in the soa dir, without a path.",
        ["InstanceNotFound"] = "Check the instance name: Get-PaastaInstance lists the instances of a service and cluster.",
        ["ClusterNotFound"] = "Check the cluster name: Get-PaastaService lists each service's clusters.",
        ["DeployGroupNotFound"] = "Check the deploy group: Get-PaastaInstance shows each instance's DeployGroup.",
        ["InstanceNotLongRunning"] = "Give Sync-PaastaInstance kubernetes or eks instances; run Tron jobs with Sync-PaastaJob and adhoc ones with Invoke-PaastaLocalRun.",
        ["PruneWouldRemoveAllInstances"] = "Check that -SoaDir points at the right soa-configs; if every instance of the service on that cluster is really gone, run again with -Force.",
        ["LocalRunInstanceAmbiguous"] = "Name one instance: a local run runs exactly one (Get-PaastaInstance lists them).",
        ["LocalRunNeedsConsole"] = "Run it from an interactive terminal, or pass -Interactive:$false or -Detach.",
        ["TronCommandInvalid"] = "Fix the action's command at the file and line given: only Tron's own date and name variables can be filled in, and a literal brace is written twice.",
        ["RegistryNotConfigured"] = "Set docker_registry in service.yaml, pass -Registry, set $env:PAASTA_DOCKER_REGISTRY or run Set-PaastaConfiguration -DockerRegistry.",
        ["ClusterMismatch"] = "Check -Cluster and -Context: the kubeconfig context must be the cluster's own (Set-PaastaConfiguration -ClusterContext maps them).",
        ["MultipleClusters"] = "Pass -Cluster, or map each cluster to its context with Set-PaastaConfiguration -ClusterContext.",
        ["DeployGroupNotUsed"] = "Check the deploy group: Get-PaastaInstance shows the DeployGroup of each long-running instance.",
        ["DeployGroupNotDeployed"] = "Mark a commit for deployment (Publish-PaastaDeployment) and run New-PaastaDeployments, or pass -Commit.",
        ["DeploymentWaitTimedOut"] = "Look at the instances the message names with Get-PaastaInstanceStatus; wait again with a longer -TimeoutSec once they progress.",
        ["SyncWaitTimedOut"] = "Look at the instances the message names with Get-PaastaInstanceStatus, then run Sync-PaastaInstance again: it continues where this one stopped.",
        ["DeploymentFailing"] = "Look at the new copies with Get-PaastaInstanceStatus (Format-List shows each pod's reason) and their logs; fix the commit and deploy a new one.",
        ["DeployPipelineEmpty"] = "Add the deploy groups of the service's instances as steps of deploy.yaml's pipeline at " + Location + ", or mark one group with Publish-PaastaDeployment.",
        ["PipelineStepNotFound"] = "Pass one of the deploy groups the message lists, or use Publish-PaastaDeployment for a group outside the pipeline.",
        ["DeployStepFailed"] = "Read the step's Reason, look at its instances with Get-PaastaInstanceStatus, then run Deploy-PaastaService again (it continues from that step) or roll the group back with Undo-PaastaDeployment.",
        ["DeployRolledBack"] = "The group runs its previous version again: fix the commit (Get-PaastaInstanceStatus and the pods' logs say why it failed) and deploy a new one.",
        ["BounceMethodUnknown"] = "Set bounce_method to crossover, brutal, downthenup or upthendown at " + Location + ".",
        ["OrphanDeleteTimedOut"] = "Run Sync-PaastaInstance again; if it repeats, check the namespace's Deployments and ReplicaSets with kubectl (a finalizer or a stuck controller).",
        ["InstanceConfigInvalid"] = "Fix the instance at " + Location + " as the message says.",

        // Reading soa-configs and YAML
        ["ConfigFileTooLarge"] = "Make " + Location + " smaller than 10 MiB, or remove it from the soa dir.",
        ["ConfigFileNotUtf8"] = "Save " + Location + " as UTF-8 text.",
        ["ConfigFileUnreadable"] = "Check the permissions of " + Location + ".",
        ["ConfigRootNotMapping"] = "Make the top level of " + Location + " a mapping of keys to values.",
        ["InstanceConfigNotMapping"] = "Make the entry at " + Location + " a mapping of settings.",
        ["ConfigTooManyInstances"] = "Split the entries of " + Location + " (at most 5,000 per instance file), or check the file was not generated by mistake.",
        ["ConfigTooManyActions"] = "Split the job or the file at " + Location + " (at most 1,000 actions per Tron job and 5,000 per file).",
        ["TronDuplicateActionName"] = "Give each action of the job at " + Location + " a name of its own.",
        ["ConfigValueOutOfRange"] = "Write a finite number that fits in 32 bits at " + Location + ".",
        ["ConfigEnvNameInvalid"] = "Rename the variable at " + Location + ": a name cannot be empty or hold '=' or control characters.",
        ["ConfigEnvValueInvalid"] = "Remove the NUL character from the value at " + Location + ".",
        ["ConfigValueWrongType"] = "Give the value at " + Location + " the type the message names.",
        ["ConfigValueMissing"] = "Add the missing field at " + Location + ".",
        ["YamlSyntaxError"] = "Fix the YAML at " + Location + ".",
        ["YamlTabIndentation"] = "Indent with spaces instead of tabs at " + Location + ".",
        ["YamlDuplicateKey"] = "Keep one of the two entries of the key at " + Location + ".",
        ["YamlUnknownTag"] = "Remove the tag at " + Location + ": only standard YAML tags are read.",
        ["YamlUnknownAlias"] = "Define the anchor (&name) before the alias that uses it at " + Location + ".",
        ["YamlComplexKey"] = "Use a plain scalar as the key at " + Location + ".",
        ["YamlMultipleDocuments"] = "Keep one YAML document in " + Location + " (remove the extra ---).",
        ["YamlInvalidMerge"] = "Merge only mappings (<<: *anchor of a mapping) at " + Location + ".",
        ["YamlAliasExpansionLimit"] = "Use fewer nested aliases in " + Location + ".",
        ["YamlNestingTooDeep"] = "Nest values at most 100 levels deep in " + Location + ".",

        // Settings
        ["SettingsFileInvalid"] = "Fix or delete the settings file the message names ($env:PAASTA_CONFIG, else ~/.config/paasta/settings.json), then run Set-PaastaConfiguration again.",
        ["SettingsFileNotWritable"] = "Make the settings file and its folder writable, or point $env:PAASTA_CONFIG at a file you can write.",
        ["SettingsFileLocked"] = "Retry once the other process that is saving settings has finished (the lock goes with that process).",
        ["ClusterContextInvalid"] = "Set $env:PAASTA_CLUSTER_CONTEXT to CLUSTER=CONTEXT pairs separated by commas (prod=ctx-prod,canary=ctx-canary), or remove it.",

        // Git
        ["GitRepositoryNotConfigured"] = "Set git_url in the service's service.yaml, or pass -Repository.",
        ["GitRepositoryInvalid"] = "Pass a repository URL or path in -Repository (or service.yaml git_url).",
        ["GitRepositoryNotFound"] = "Check the repository URL or path (-Repository, service.yaml git_url).",
        ["GitRemoteUnreachable"] = "Check the network and the repository URL, then retry.",
        ["GitRemoteTimeout"] = "Retry; if it keeps happening, check the network path to the git server.",
        ["GitAuthenticationFailed"] = "Pass -Credential, set PAASTA_GIT_USERNAME and PAASTA_GIT_PASSWORD, or load a key the server accepts into your ssh agent.",
        ["GitOperationFailed"] = "Retry; the message says what git refused.",
        ["GitRefStorageUnsupported"] = "Use a repository that stores refs as files (git init without --ref-format=reftable), or a remote URL.",
        ["GitTagRejected"] = "Ask the repository's owners to let you push paasta-* tags (a hook or protected ref refused it).",
        ["GitTagWriteFailed"] = "Check that the local repository is writable and not locked by another git process, then retry.",
        ["TagNameUnavailable"] = "Retry in a few seconds: other writers took every tag name tried.",
        ["InvalidTagName"] = "Use a deploy group, cluster and instance made of letters, digits, '.', '_' and '-'.",
        ["InvalidCommit"] = "Give -Commit as a full sha or a prefix of at least 4 hex digits.",
        ["CommitNotFound"] = "Push the commit to the repository first, or check the sha (git log).",
        ["CommitAmbiguous"] = "Give more digits of the sha.",
        ["CommitNotInRepository"] = "Fetch or commit it into that repository first, or check the sha.",
        ["CommitNotOnRemote"] = "Push the commit (a branch or tag that contains it) to the remote, then retry.",
        ["InvalidDeployGroup"] = "Use a deploy group made of letters, digits, '.', '_' and '-', as deploy.yaml's pipeline names it.",
        ["InvalidImageVersion"] = "Use an image version that git and docker tags accept: letters, digits, '.', '_' and '-'.",
        ["ImageVersionNeedsCommit"] = "Pass -Commit together with -ImageVersion.",
        ["InstanceHasNoDeployGroup"] = "Set deploy_group for the instance at " + Location + ".",
        ["NoDeployTag"] = "Mark a commit for deployment to the deploy group first (Publish-PaastaDeployment).",
        ["ExplicitInstanceRequired"] = "Name the instances with -Cluster and -Instance, or pipe them from Get-PaastaInstance.",
        ["NoPreviousVersion"] = "There is no earlier version to go back to: deploy a fixed commit with Publish-PaastaDeployment.",
        ["NothingToRollBack"] = "Nothing to do: the deploy group already runs that version.",
        ["VersionNeverDeployed"] = "Pass -Commit with one of the versions the message lists, or -Force to go to this one anyway.",

        // deployments.json
        ["DeploymentsFileNotFound"] = "Run New-PaastaDeployments for the service to write deployments.json, or use -Live to read the tags.",
        ["DeploymentsFileInvalid"] = "Run New-PaastaDeployments for the service: it writes deployments.json again from the tags.",
        ["DeploymentsFileUnreadable"] = "Check the permissions of deployments.json in the service's folder.",
        ["DeploymentsFileWriteFailed"] = "Make the service's folder in the soa dir writable, then run New-PaastaDeployments again.",

        // Kubernetes
        ["KubeConfigNotFound"] = "Pass -KubeConfig, set $env:KUBECONFIG or run Set-PaastaConfiguration -KubeConfig with an existing kubeconfig file.",
        ["KubeConfigInvalid"] = "Check the kubeconfig and the context named (kubectl config get-contexts); pass -Context for another one.",
        ["KubeApiUnreachable"] = "Check that the cluster is up and that the kubeconfig's server address is reachable (kubectl cluster-info).",
        ["KubeApiNotServed"] = "Use a cluster that serves the API version the message names, or upgrade this one.",
        ["KubeObjectNotFound"] = "Check the namespace and name; run Sync-PaastaInstance or Sync-PaastaJob to create what is missing.",
        ["KubeConflict"] = "Retry: the object changed while Paasta wrote it.",
        ["KubeAccessDenied"] = "Use a kubeconfig user that may do this, or ask the cluster's administrators for the permission the message names.",
        ["KubeObjectInvalid"] = "Fix the soa-configs value the message points at (Kubernetes' reason is included), then sync again.",
        ["KubeApiError"] = "Retry; the message has the API server's status and reason.",

        // Docker, images and local runs
        ["DockerHostInvalid"] = "Pass -DockerHost (or set DOCKER_HOST) as unix:///path, tcp://host:port, http(s)://host:port or npipe://.",
        ["DockerUnavailable"] = "Start the Docker engine, or point -DockerHost / DOCKER_HOST at one that runs.",
        ["DockerImageNotFound"] = "Build the image (-Build), pull it (-Pull), or name an image that is in the local engine (docker images).",
        ["DockerContainerNotFound"] = "Run the command again; the container was removed while Paasta used it.",
        ["DockerConflict"] = "Retry once the container the message names has stopped, or remove it (docker rm).",
        ["DockerApiError"] = "Retry; the message has the Docker engine's own error.",
        ["RegistryUnavailable"] = "Check that the registry answers (docker login, network), then retry.",
        ["ClusterRequired"] = "Pass -Cluster, or save one with Set-PaastaConfiguration -Cluster.",
        ["LocalRunModeConflict"] = "Use at most one of -Detach, -Interactive and -HealthcheckOnly.",
        ["ImageSourceConflict"] = "Use one of -Build, -Pull and -Image.",
        ["NoDeploymentForInstance"] = "Mark a commit for deployment (Publish-PaastaDeployment, then New-PaastaDeployments), or use -Build or -Image.",
        ["VolumeSpecInvalid"] = "Give -Volume as /host/path:/container/path, optionally followed by :ro or :rw.",
        ["EnvInvalid"] = "Give -Env as a hashtable or as NAME=value strings.",
        ["PortInUse"] = "Pick a free port for -Port, or leave it out to get one.",
        ["HealthcheckFailed"] = "Read the container's output above, then check the healthcheck settings (healthcheck_mode, healthcheck_uri, grace period) at " + Location + ".",
        ["HealthcheckNotDefined"] = "Set healthcheck_mode for the instance (or its smartstack namespace), or run without -HealthcheckOnly.",
        ["ExtraDockerArgUnsupported"] = "Remove the option from extra_docker_args at " + Location + ", or run the container with docker run yourself.",
        ["ExtraDockerArgInvalid"] = "Give the extra_docker_args value at " + Location + " in the form docker run takes.",
        ["ServiceRepositoryNotFound"] = "Pass -Path with the service's checkout, or run from inside it.",
        ["BuildContractMissing"] = "Add a Makefile with a cook-image target (or a Dockerfile) to the service's checkout.",
        ["MakeNotFound"] = "Install GNU make, or build with a Dockerfile.",
        ["ImageBuildFailed"] = "Fix the build: its output is shown before this error.",
        ["ImageTagMissing"] = "Make the cook-image target tag its image with $DOCKER_TAG (docker build -t $(DOCKER_TAG) .).",
        ["ImagePullFailed"] = "Push the image first (Publish-PaastaImage), or check the registry's address and your docker login.",
        ["ImagePullTimeout"] = "Retry on a faster connection, or pull the image with docker pull first.",
        ["ImagePushFailed"] = "Check your docker login for the registry and that it accepts pushes, then retry.",
        ["ImageNotBuilt"] = "Run Build-PaastaImage -Commit for the same commit first.",

        // Monitoring
        ["ClusterNotSpecified"] = "Pass -Cluster, set $env:PAASTA_CLUSTER or run Set-PaastaConfiguration -Cluster.",
        ["ReplicationReadFailed"] = "Check access to the namespace (kubectl get pods -n NAMESPACE), then run the check again.",
        ["HaproxyStatsSourceInvalid"] = "Give -HaproxyStats as a socket path or an http(s) URL, optionally prefixed LOCATION=.",
        ["HaproxyStatsUnavailable"] = "Check that HAProxy's stats socket or page answers at the address given in -HaproxyStats.",
        ["HaproxyStatsTimeout"] = "Raise -TimeoutSec, or check the stats source's load.",
        ["HaproxyStatsInvalid"] = "Point -HaproxyStats at HAProxy's CSV stats (the stats page with ;csv, or the stats socket).",
        ["SensuSocketInvalid"] = "Give the Sensu socket as host:port (-SensuSocket, $env:PAASTA_SENSU_SOCKET or Set-PaastaConfiguration -SensuSocket).",
        ["SensuEventNameInvalid"] = "Use a check name of letters, digits, '_', '.' and '-'.",
        ["SensuDurationInvalid"] = "Give the duration in seconds or as 10m, 1h30m, 2d.",
        ["SensuConnectionRefused"] = "Start the Sensu client, or point -SensuSocket at the address it listens on.",
        ["SensuConnectionFailed"] = "Check the Sensu socket's host name and the network, then retry.",
        ["SensuSocketTimeout"] = "Retry; if it repeats, check the Sensu client (it did not answer in time) or raise -TimeoutSec.",
        ["SensuEventRejected"] = "Report it: the Sensu client could not parse an event Paasta wrote.",

        // Tron and jobs
        ["TronJobInvalid"] = "Fix the job at " + Location + " as the message says; the service's other jobs were generated without it.",
        ["TronConfigInvalid"] = "Run Test-PaastaConfig on the service and fix what it reports in tron-CLUSTER.yaml.",
        ["InvalidTronSchedule"] = "Write the schedule at " + Location + " as Tron takes it: daily HH:MM:SS, cron EXPR, interval Nm, or {type, value}.",
        ["TronScheduleNotTranslatable"] = "Write the schedule at " + Location + " as a cron expression (or daily / interval), or run the job on a Tron master instead.",
        ["JobNotRunnable"] = "Change the job at " + Location + " as the message says, or run it on a Tron master instead.",
        ["TronMasterConfigNotFound"] = "Create tron/CLUSTER/MASTER.yaml in the soa dir, or run without -IncludeMaster.",
        ["TronUrlNotConfigured"] = "Pass -TronUrl, set $env:PAASTA_TRON_URL or run Set-PaastaConfiguration -TronUrl with the master's http(s) address.",
        ["TronUnreachable"] = "Check that the Tron master runs and answers at the URL in use.",
        ["TronUpdateRefused"] = "Fix the configuration the master refused (its reason is in the message), or run again if another update came first.",
        ["TronApiError"] = "Check the Tron URL: the message has what the server answered.",
        ["JobNotFound"] = "Check the job name in tron-CLUSTER.yaml; run Sync-PaastaJob to create its CronJob.",
        ["JobRunFailed"] = "Read the failed action's output in the message; Get-PaastaJob shows the run.",
        ["JobRunTimedOut"] = "Follow the run with Get-PaastaJob (it keeps running), or wait with a longer -TimeoutSec.",
        ["JobTimeZoneNotSupported"] = "Use time_zone UTC for the job (with a schedule in UTC), or use a cluster of Kubernetes 1.25 or later.",
        ["CronJobNameConflict"] = "Rename one of the two jobs (or services) the message names, so their CronJob names differ.",
        ["TronTokenNotConfigured"] = "Pass -TronToken or set $env:PAASTA_TRON_TOKEN, or unset TRONCTL_API_AUTH.",
        ["DefaultVolumeNeedsMaster"] = "Add -IncludeMaster, or leave out -DefaultVolume.",

        // Drain methods
        ["DrainMethodNotFound"] = "Use one of the drain methods Get-PaastaDrainMethod lists, or register yours with Register-PaastaDrainMethod.",
        ["DrainMethodNameInvalid"] = "Name the drain method with a letter followed by letters, digits, '_' or '-'.",
        ["DrainMethodAlreadyRegistered"] = "Unregister-PaastaDrainMethod the existing method first, or pass -Force to replace it.",
        ["DrainMethodBuiltIn"] = "Register your method under another name.",
        ["DrainMethodTypeInvalid"] = "Give -Type a public class implementing Paasta.Drain.IDrainMethod, with a public constructor taking a Paasta.Drain.DrainContext or none.",
        ["DrainMethodParamsInvalid"] = "Fix drain_method_params at " + Location + " as the message says.",
        ["DrainMethodFailed"] = "Fix the drain method (the message has its error); the copy keeps serving until a drain succeeds.",
        ["DrainMethodTimedOut"] = "Check what the drain method waits for; the copy keeps serving until a drain succeeds.",
        ["DrainTaskInvalid"] = "Give the task an Id, a Host (the pod IP) and a port.",
        ["DrainEndpointUnreachable"] = "Check that hacheck (or the drain URL) answers on the pod's address and port.",
        ["DrainRequestRejected"] = "Check the drain endpoint's answer in the message, or widen success_codes in drain_method_params.",
        ["DrainScriptBlockFailed"] = "Fix the scriptblock of the registered drain method (its error is in the message).",
        ["DrainScriptResultInvalid"] = "End the IsSafeToKill or IsDraining scriptblock by returning $true or $false.",

        // Files and the system
        ["FileNotFound"] = "Check the path the message names.",
        ["NotARegularFile"] = "Point Paasta at a regular file, not a FIFO, device, socket or folder.",
        ["FileTooLarge"] = "Make the file smaller than the limit the message names.",
        ["AccessDenied"] = "Check the permissions of the file or folder the message names.",
        ["PathNotFound"] = "Check that the file or folder the message names exists.",
        ["PathTooLong"] = "Use a shorter path.",
        ["FileSystemError"] = "Check the disk and file system the message names, then retry.",
        ["OperationTimedOut"] = "Retry; if it repeats, check the network path to the peer the message names.",
        ["ConnectionFailed"] = "Check that the peer the message names runs and is reachable, then retry.",
        ["InvalidJson"] = "Check the JSON the message names (a peer's answer or a file).",
        ["InvalidFormat"] = "Give the value in the format the message names.",
        ["InvalidArgument"] = "Check the value the message names (an empty name, a NUL character).",
        ["LimitsExceeded"] = "Make the input smaller or less deeply nested.",
        ["KubernetesApiError"] = "Retry; the message has the API server's status and reason.",
        ["GitError"] = "Check the repository the message names (git fsck), then retry.",
        ["UnexpectedError"] = "Retry; if it happens again, report it with the command and the full error ($Error[0] | Format-List * -Force).",
        ["DeployGroupsWouldBeDropped"] = "Check git_url in service.yaml (or -Repository) and the repository's deploy tags (Get-PaastaDeployment -Live); -Force writes the file anyway.",
        ["InstanceNameNotTaggable"] = "Start, stop or restart the instance with PaaSTA's own tools: its cluster.instance name cannot be carried in a start/stop tag.",
        ["ConflictingDeployVersions"] = "Pipe one version per deploy group into Publish-PaastaDeployment.",
    };

    /// <summary>The recommended action for an error, with the file, line and key it names filled in.</summary>
    public static string? RecommendedAction(PaastaException e)
    {
        var where = e.Location is { } location
            ? $"{location}{(e.Key is null ? "" : $" (key '{e.Key}')")}"
            : e.Key is null ? "the file the message names" : $"the key '{e.Key}' the message names";
        if (Actions.TryGetValue(e.ErrorId, out var action)) return action.Replace(Location, where, StringComparison.Ordinal);
        return e.Location is null ? null : $"Fix {where}.";
    }

    /// <summary>Every ErrorId that has a recommended action.</summary>
    public static IReadOnlyCollection<string> ErrorIds => Actions.Keys;
}
