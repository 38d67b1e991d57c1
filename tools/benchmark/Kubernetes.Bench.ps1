#Requires -Version 7.4
# Kubernetes sync at scale (issue 5): 200 long-running instances of one service, already in sync on the local
# cluster. A no-op Sync-PaastaInstance, in this warm session and as a whole new pwsh process, against
# `kubectl apply --server-side --force-conflicts -f <dir>` of the same objects, in the same run.
# Target: >= 5x faster than kubectl, <= 3 API requests, 0 writes.
#
# The instances are stopped (desired_state stop in deployments.json), so the 200 Deployments exist at 0 replicas
# and the shared 2-core machine runs no pods for them. A no-op Sync still does all of its work: it reads the
# cluster (one LIST of Paasta-managed Deployments, one of PDBs, API discovery once per process), builds the
# desired objects of all 200 instances and diffs them with the live ones; only the writes are missing, and those
# are what is measured to be absent.
#
# The baseline applies the desired objects: the Deployment and the PodDisruptionBudget of each instance, exactly
# as Sync builds them (Paasta.Core's KubernetesObjectBuilder, the code Sync runs), written out as JSON files.
# Both sides thus assert the same 400 objects; a second row applies the 200 Deployments alone, the strictest
# reading of "the same 200 objects". kubectl keeps its discovery cache on disk between processes, and so does
# Paasta (ten minutes per server, under the user's cache folder): the warm-up writes it, so the new-process figures,
# like a cron job's or a Sensu check's every minute, make no discovery request; the cold Sync with diagnostics
# below runs with an empty cache folder and pays for one.
# Warm-up once; then each figure runs alternately, 5 times, and the medians are compared. Request counts are
# read in separate runs (Sync's -Verbose line "Kubernetes API: N request(s), M write(s)", kubectl's -v=6 log),
# and the resourceVersions of all 400 objects are compared around them (on v1.20 a no-op server-side apply still
# rewrites each Deployment, for the time in its managedFields; the row says so). Needs the local platform (KUBECONFIG)
# and docker; skipped otherwise. Never fails on wall-clock: targets are reported met or NOT met.
#
# Cold start (issue 19): what runbooks, cron jobs and Sensu checks pay, each starting a new pwsh. In the same
# alternating runs: a bare `pwsh -c exit`, pwsh + Import-Module, the cold no-op Sync (above), the Sensu check command
# (Test-PaastaReplication -Summary) and New-PaastaDeployments -WhatIf as new processes. Targets: the cold Sync within
# 1 s of pwsh + Import-Module, the Sensu check within 0.5 s of it. One more run of the cold Sync, with a fresh pwsh
# cache, shows where its time goes (pwsh start, Import-Module, then the phases Sync reports with -Debug, with the
# methods JIT-compiled in each) and checks that the runtime uses the module's ReadyToRun code (DOTNET_ReadyToRunLogFile
# and the JIT's own list of what it compiled). With PaaSTA's code (PAASTA_ORACLE_ROOT, /usr/bin/python3), its
# setup_kubernetes_job runs as a new process on $OracleInstances stopped instances of its own service and namespace
# (on v1.20 it handles the Deployments, then fails on policy/v1 PodDisruptionBudgets, each run); goal: the cold Sync,
# with 4x its instances, at least 3x faster. Without the oracle that figure is reported as not measured.
param(
    [Parameter(Mandatory)] [string] $ModuleManifest,
    [int] $Instances = 200,
    [int] $Runs = 5,
    [int] $OracleInstances = 50
)
$ErrorActionPreference = 'Stop'
$ModuleManifest = (Resolve-Path $ModuleManifest).Path   # the child pwsh gets it too
Import-Module $ModuleManifest -Force
Import-Module (Join-Path $PSScriptRoot 'BenchSupport.psm1') -Force

$Service = 'benchsync'
$Cluster = 'bench'
$Namespace = "paastasvc-$Service"
$Registry = '127.0.0.1:5000'
$BaseImage = 'paasta-local/busybox:latest'

$kubectl = Find-BenchCluster 'Sync-PaastaInstance figures' -Tools docker
if (-not $kubectl) { return }
$null = & docker image inspect $BaseImage 2>&1
if ($LASTEXITCODE -ne 0) { throw "The image $BaseImage is not in the Docker engine (the local platform builds it: ./build.ps1 -Task Platform -Action Up)." }

$process = [Environment]::ProcessPath
$pwshPrefix = @(if ((Split-Path -Leaf $process) -match '^dotnet(\.exe)?$') { Join-Path $PSHOME 'pwsh.dll' })

$root = New-BenchRoot 'kubernetes'
$soa = Join-Path $root 'soa'
$svc = New-Item -ItemType Directory -Force (Join-Path $soa $Service)
$objects = Join-Path $root 'objects'
$deploymentDir = New-Item -ItemType Directory -Force (Join-Path $objects 'deployments')
$pdbDir = New-Item -ItemType Directory -Force (Join-Path $objects 'pdbs')

# name -> resourceVersion of every Deployment and PDB in the namespace (one LIST each).
function Get-ResourceVersions {
    $map = @{}
    foreach ($kind in 'deployments.apps', 'poddisruptionbudgets.policy') {
        foreach ($item in (Invoke-Kubectl get $kind -n $Namespace -o json | Out-String | ConvertFrom-Json).items) {
            $map["$kind/$($item.metadata.name)"] = $item.metadata.resourceVersion
        }
    }
    $map
}
# After kubectl rewrites the Deployments, the deployment controller updates their status for a while; writes
# counted before that settles would be the controller's, not the Sync's. Waits for two equal snapshots in a row.
function Wait-ResourceVersionsSettled([int] $Seconds = 60) {
    $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
    $last = Get-ResourceVersions
    while ([DateTime]::UtcNow -lt $deadline) {
        Start-Sleep -Seconds 2
        $now = Get-ResourceVersions
        if ((Compare-ResourceVersions $last $now) -eq '0') { return $now }
        $last = $now
    }
    throw "the Deployments of $Namespace kept changing for $Seconds s after kubectl apply"
}
# How many objects got a new resourceVersion (that is, were written), by kind: '0', or '200 (200 poddisruptionbudgets)'.
function Compare-ResourceVersions([hashtable] $Before, [hashtable] $After) {
    $changed = @($Before.Keys | Where-Object { $After[$_] -ne $Before[$_] })
    if ($changed.Count -eq 0) { return '0' }
    '{0} ({1})' -f $changed.Count, (($changed | Group-Object { ($_ -split '[./]')[0] } | ForEach-Object { "$($_.Count) $($_.Name)" }) -join ', ')
}

# PaaSTA's own setup_kubernetes_job on a service of its own (benchoracle, $OracleInstances stopped instances), as a
# scriptblock for the timing loop; $null (and $script:OracleSkipped says why) without PaaSTA's code.
$OracleService = 'benchoracle'
$OracleNamespace = "paastasvc-$OracleService"
$script:OracleSkipped = $null
function New-OracleRun {
    $oracleRoot = $env:PAASTA_ORACLE_ROOT
    $python = '/usr/bin/python3'
    if (-not $oracleRoot -or -not (Test-Path (Join-Path $oracleRoot 'pylib/paasta_tools'))) { $script:OracleSkipped = 'PAASTA_ORACLE_ROOT does not name PaaSTA''s code'; return $null }
    if (-not (Test-Path $python)) { $script:OracleSkipped = "no $python"; return $null }
    $dir = New-Item -ItemType Directory -Force (Join-Path $root "oracle-soa/$OracleService")
    Set-Content (Join-Path $dir 'service.yaml') "description: setup_kubernetes_job benchmark`nexternal_link: http://example`ngit_url: null`ndocker_registry: $Registry`n"
    Set-Content (Join-Path $dir 'monitoring.yaml') "team: bench`n"
    Set-Content (Join-Path $dir 'deploy.yaml') "pipeline:`n- step: bench.everything`n"
    Set-Content (Join-Path $dir "kubernetes-$Cluster.yaml") ($defaults + ((0..($OracleInstances - 1) | ForEach-Object { "inst$($_):`n  <<: *defaults`n" }) -join ''))
    $oracleControls = (0..($OracleInstances - 1) | ForEach-Object { "`"${OracleService}:$Cluster.inst$_`": {`"desired_state`": `"stop`", `"force_bounce`": null}" }) -join ', '
    Set-Content (Join-Path $dir 'deployments.json') -NoNewline ('{"v1": {}, "v2": {"deployments": {"bench.everything": {"docker_image": "services-' + $Service +
        ':paasta-' + $sha + '", "git_sha": "' + $sha + '", "image_version": null}}, "controls": {' + $oracleControls + '}}}')
    $oracleArgs = @('-m', 'paasta_tools.setup_kubernetes_job', '-d', (Split-Path $dir), '-c', $Cluster) + (0..($OracleInstances - 1) | ForEach-Object { "$OracleService.inst$_" })
    $oracleEnv = @{
        PYTHONPATH                = "$(Join-Path $oracleRoot 'stubs'):$(Join-Path $oracleRoot 'pylib')"
        PAASTA_SYSTEM_CONFIG_DIR  = Join-Path $oracleRoot 'etc_paasta'
    }
    {
        $saved = @{}
        foreach ($k in $oracleEnv.Keys) { $saved[$k] = [Environment]::GetEnvironmentVariable($k); [Environment]::SetEnvironmentVariable($k, $oracleEnv[$k]) }
        try { $out = & $python @oracleArgs 2>&1 }
        finally { foreach ($k in $saved.Keys) { [Environment]::SetEnvironmentVariable($k, $saved[$k]) } }
        if ($LASTEXITCODE -ne 0) { throw "setup_kubernetes_job exited $LASTEXITCODE`: $(($out | Select-Object -Last 5) -join ' ')" }
    }.GetNewClosure()
}

try {
    # --- the image: FROM the platform's busybox, in the local registry under the deployed sha
    $sha = [Convert]::ToHexString([Security.Cryptography.SHA1]::HashData([Text.Encoding]::UTF8.GetBytes("$Service bench image"))).ToLowerInvariant()
    $image = "$Registry/services-${Service}:paasta-$sha"
    $context = New-Item -ItemType Directory -Force (Join-Path $root 'image')
    Set-Content (Join-Path $context 'Dockerfile') "FROM $BaseImage`nLABEL paasta.bench=$Service`n"
    $env:DOCKER_BUILDKIT = '0'
    $out = & docker build -q -t $image $context 2>&1
    if ($LASTEXITCODE -ne 0) { throw "docker build failed: $out" }
    $out = & docker push $image 2>&1
    if ($LASTEXITCODE -ne 0) { throw "docker push failed: $out" }

    # --- soa-configs: one service, $Instances instances, all stopped
    Set-Content (Join-Path $svc 'service.yaml') "description: Sync benchmark`nexternal_link: http://example`ngit_url: null`ndocker_registry: $Registry`n"
    Set-Content (Join-Path $svc 'monitoring.yaml') "team: bench`n"
    Set-Content (Join-Path $svc 'deploy.yaml') "pipeline:`n- step: bench.everything`n"
    $defaults = "_defaults: &defaults`n  deploy_group: bench.everything`n  cpus: 0.1`n  mem: 64`n  disk: 128`n  instances: 2`n" +
        "  healthcheck_mode: http`n  healthcheck_uri: /status`n  healthcheck_grace_period_seconds: 5`n"
    Set-Content (Join-Path $svc "kubernetes-$Cluster.yaml") ($defaults + ((0..($Instances - 1) | ForEach-Object {
                    "inst$($_):`n  <<: *defaults`n  env:`n    GREETING: hello from $_`n" }) -join ''))
    $controls = (0..($Instances - 1) | ForEach-Object { "`"${Service}:$Cluster.inst$_`": {`"desired_state`": `"stop`", `"force_bounce`": null}" }) -join ', '
    Set-Content (Join-Path $svc 'deployments.json') -NoNewline ('{"v1": {}, "v2": {"deployments": {"bench.everything": {"docker_image": "services-' + $Service +
        ':paasta-' + $sha + '", "git_sha": "' + $sha + '", "image_version": null}}, "controls": {' + $controls + '}}}')

    $syncArgs = @{ SoaDir = $soa; Service = $Service; Cluster = $Cluster; Confirm = $false }
    $null = & $kubectl delete namespace $Namespace --ignore-not-found --wait=true --timeout=180s 2>&1
    $null = & $kubectl delete namespace $OracleNamespace --ignore-not-found --wait=true --timeout=180s 2>&1

    # --- the 200 instances, created by Sync itself
    $sw = [Diagnostics.Stopwatch]::StartNew()
    $created = @(Sync-PaastaInstance @syncArgs)
    $createSeconds = $sw.Elapsed.TotalSeconds
    if (@($created | Where-Object Action -eq 'Created').Count -ne $Instances) {
        throw "expected $Instances instances Created, got: $(($created | Group-Object Action | ForEach-Object { "$($_.Count) $($_.Name)" }) -join ', ')"
    }

    # --- the desired objects, built by the code Sync runs, as kubectl's input
    $instanceConfigs = @(Get-PaastaInstance -SoaDir $soa -Service $Service -Cluster $Cluster)
    $core = $instanceConfigs[0].GetType().Assembly   # Paasta.Core, in the module's own load context
    $store = $core.GetType('Paasta.Deployments.DeploymentsFileStore', $true)
    $branches = $core.GetType('Paasta.Deployments.DeploymentBranches', $true)
    $builder = $core.GetType('Paasta.Kubernetes.KubernetesObjectBuilder', $true)
    $contextType = $core.GetType('Paasta.Kubernetes.KubernetesBuildContext', $true)
    $objectDiff = $core.GetType('Paasta.Kubernetes.ObjectDiff', $true)
    $deployments = $store::Load($store::PathFor($svc.FullName), $Service)
    $buildContext = $contextType::new($Registry, '', $null)
    $pdbVersion = if (@(Invoke-Kubectl api-versions) -contains 'policy/v1') { 'policy/v1' } else { 'policy/v1beta1' }
    $configShas = @{}; foreach ($r in $created) { $configShas[$r.Name] = $r.NewConfigSha }
    foreach ($i in $instanceConfigs) {
        $app = $builder::Build($i, $branches::For($i, $deployments), $buildContext, $null)
        if ($configShas[$app.Name] -ne $app.ConfigSha) { throw "the dumped $($app.Name) has config_sha $($app.ConfigSha), Sync made $($configShas[$app.Name])" }
        Set-Content (Join-Path $deploymentDir "$($app.Name).json") $objectDiff::ToJson($app.Deployment).ToJsonString()
        # Sync picks the PDB's apiVersion from what the server serves; so does this.
        Set-Content (Join-Path $pdbDir "$($app.Name).json") ("{`"apiVersion`":`"$pdbVersion`"," + $app.PodDisruptionBudget.ToJsonString().Substring(1))
    }
    $allObjects = @('-f', $deploymentDir.FullName, '-f', $pdbDir.FullName)
    $onlyDeployments = @('-f', $deploymentDir.FullName)

    # --- what each side runs
    $childScript = Join-Path $root 'sync.ps1'
    Set-Content $childScript @'
param([string] $Manifest, [string] $SoaDir, [string] $Service, [string] $Cluster, [switch] $Count)
$ErrorActionPreference = 'Stop'
Import-Module $Manifest
if ($Count) {
    $stream = Sync-PaastaInstance -SoaDir $SoaDir -Service $Service -Cluster $Cluster -Confirm:$false -Verbose 4>&1
    ($stream | Where-Object { $_ -is [Management.Automation.VerboseRecord] -and $_.Message -like 'Kubernetes API*: *request(s)*' } | Select-Object -Last 1).Message
    "unchanged: $(@($stream | Where-Object { $_.PSObject.TypeNames[0] -eq 'Paasta.Sync.SyncResult' -and $_.Action -eq 'Unchanged' }).Count)"
}
else {
    "unchanged: $(@(Sync-PaastaInstance -SoaDir $SoaDir -Service $Service -Cluster $Cluster -Confirm:$false | Where-Object Action -eq 'Unchanged').Count)"
}
'@
    $childArgs = @('-NoProfile', '-NonInteractive', '-File', $childScript, '-Manifest', $ModuleManifest, '-SoaDir', $soa, '-Service', $Service, '-Cluster', $Cluster)
    $expect = "unchanged: $Instances"

    # --- the other one-shot commands runbooks run (cold start, issue 19)
    # The Sensu check command, as the cmdlet's help gives it; every instance is stopped, so it is OK (exit 0).
    $sensuCommand = "Import-Module '$ModuleManifest'; `$s = Test-PaastaReplication -SoaDir '$soa' -Cluster $Cluster -Summary; `$s.Output; exit `$s.ExitCode"
    # New-PaastaDeployments from a local repository with one deploy tag, without writing (-WhatIf).
    $repo = Join-Path $root 'repo'
    $null = & git init -q $repo 2>&1
    $null = & git -C $repo -c user.name=bench -c user.email=bench@example.invalid commit -q --allow-empty -m bench 2>&1
    $null = & git -C $repo tag paasta-bench.everything-20260101T000000-deploy 2>&1
    if ($LASTEXITCODE -ne 0) { throw 'could not make the deploy-tag repository' }
    $deployCommand = "Import-Module '$ModuleManifest'; `$d = New-PaastaDeployments -SoaDir '$soa' -Service $Service -Repository '$repo' -WhatIf; 'deploy groups: ' + `$d.Deployments.Count"
    $oracle = New-OracleRun

    $measure = [ordered]@{
        Warm     = {
            $r = @(Sync-PaastaInstance @syncArgs)
            $n = @($r | Where-Object Action -eq 'Unchanged').Count
            if ($n -ne $Instances) { throw "a no-op Sync left $n of $Instances instances Unchanged" }
        }
        Process  = {
            $out = & $process @pwshPrefix @childArgs
            if ($LASTEXITCODE -ne 0 -or ($out | Select-Object -Last 1) -ne $expect) { throw "the child pwsh Sync said: $out" }
        }
        Startup  = {
            & $process @pwshPrefix -NoProfile -NonInteractive -Command "Import-Module '$ModuleManifest'" | Out-Null
            if ($LASTEXITCODE -ne 0) { throw 'pwsh -c Import-Module failed' }
        }
        Kubectl  = { $null = Invoke-Kubectl apply --server-side --force-conflicts @allObjects }
        KubectlD = { $null = Invoke-Kubectl apply --server-side --force-conflicts @onlyDeployments }
        Bare     = {
            & $process @pwshPrefix -NoProfile -NonInteractive -Command 'exit' | Out-Null
            if ($LASTEXITCODE -ne 0) { throw 'pwsh -c exit failed' }
        }
        Sensu    = {
            $out = & $process @pwshPrefix -NoProfile -NonInteractive -Command $sensuCommand
            if ($LASTEXITCODE -ne 0) { throw "the Sensu check command exited $LASTEXITCODE`: $out" }
        }
        Deploy   = {
            $out = & $process @pwshPrefix -NoProfile -NonInteractive -Command $deployCommand
            if ($LASTEXITCODE -ne 0 -or "$out" -notmatch 'deploy groups: 1') { throw "New-PaastaDeployments as a new process said: $out" }
        }
    }
    if ($oracle) { $measure.Oracle = $oracle }

    # Warm-up: the first apply makes kubectl a co-owner of the fields (a real write); the JIT, the disk cache.
    foreach ($m in $measure.Values) { & $m }

    # --- requests and writes, each in a run of its own, on a cluster that has settled after kubectl's warm-up
    $before = Wait-ResourceVersionsSettled
    $warmStream = Sync-PaastaInstance @syncArgs -Verbose 4>&1
    $afterWarm = Get-ResourceVersions
    $childOut = & $process @pwshPrefix @childArgs -Count
    $afterChild = Get-ResourceVersions
    $kubectlLog = & $kubectl apply --server-side --force-conflicts @allObjects -v=6 2>&1
    if ($LASTEXITCODE -ne 0) { throw "kubectl apply -v=6 failed: $kubectlLog" }
    $afterKubectl = Get-ResourceVersions

    function Read-ApiLine([string] $Line) {
        if ($Line -notmatch '^Kubernetes API(?: \([^)]*\))?: (\d+) request\(s\), (\d+) write\(s\)') { throw "no API count in '$Line'" }
        [pscustomobject]@{ Requests = [int]$Matches[1]; Writes = [int]$Matches[2] }
    }
    $warmApi = Read-ApiLine ($warmStream | Where-Object { $_ -is [Management.Automation.VerboseRecord] -and $_.Message -like 'Kubernetes API*: *request(s)*' } | Select-Object -Last 1).Message
    $warmUnchanged = @($warmStream | Where-Object { $_.PSObject.TypeNames[0] -eq 'Paasta.Sync.SyncResult' -and $_.Action -eq 'Unchanged' }).Count
    $childApi = Read-ApiLine ($childOut | Where-Object { $_ -like 'Kubernetes API*: *request(s)*' } | Select-Object -Last 1)
    if (($childOut | Select-Object -Last 1) -ne $expect -or $warmUnchanged -ne $Instances) { throw "a no-op Sync changed something: $childOut; warm: $warmUnchanged Unchanged" }
    $kubectlRequests = @($kubectlLog | Where-Object { "$_" -match '\] (GET|HEAD|POST|PUT|PATCH|DELETE) https?://\S+ \d{3}' })
    $kubectlWrites = @($kubectlRequests | Where-Object { "$_" -notmatch '\] (GET|HEAD) ' }).Count
    # '1 GET /openapi/v2, 400 PATCH': what kubectl asked for, by method and (for a read) path.
    $kubectlKinds = ($kubectlRequests | ForEach-Object {
            $null = "$_" -match '\] (\w+) https?://[^/\s]+(/[^?\s]*)'
            if ($Matches[1] -in 'GET', 'HEAD') { "$($Matches[1]) $($Matches[2])" } else { $Matches[1] }
        } | Group-Object -NoElement | ForEach-Object { "$($_.Count) $($_.Name)" }) -join ', '
    $objectCount = $before.Count
    $changedByWarm = Compare-ResourceVersions $before $afterWarm
    $changedByChild = Compare-ResourceVersions $afterWarm $afterChild
    $changedByKubectl = Compare-ResourceVersions $afterChild $afterKubectl

    # --- where a cold Sync's time goes: one more new process, with a fresh pwsh cache (pwsh's startup profile would
    # otherwise pre-compile in the background what earlier runs JIT-compiled), the runtime's ReadyToRun log and the
    # JIT's list of the methods it compiled
    $phaseScript = Join-Path $root 'phases.ps1'
    Set-Content $phaseScript @'
param([string] $Manifest, [string] $SoaDir, [string] $Service, [string] $Cluster)
$ErrorActionPreference = 'Stop'
function Point { @{ At = [DateTime]::UtcNow; Jit = [System.Runtime.JitInfo]::GetCompiledMethodCount($false); JitMs = [System.Runtime.JitInfo]::GetCompilationTime($false).TotalMilliseconds } }
$started = Point
$started.At = [Diagnostics.Process]::GetCurrentProcess().StartTime.ToUniversalTime()
$started.Jit = 0; $started.JitMs = 0
$ready = Point
Import-Module $Manifest
$imported = Point
$DebugPreference = 'Continue'
$stream = Sync-PaastaInstance -SoaDir $SoaDir -Service $Service -Cluster $Cluster -Confirm:$false 5>&1
$synced = Point
$timings = ($stream | Where-Object { $_ -is [Management.Automation.DebugRecord] -and $_.Message -like 'Timings: *' } | Select-Object -Last 1).Message
function Step($name, $from, $to) { '{0} {1:0} ms (JIT {2} methods, {3:0} ms)' -f $name, ($to.At - $from.At).TotalMilliseconds, ($to.Jit - $from.Jit), ($to.JitMs - $from.JitMs) }
'steps: ' + ((Step 'pwsh start' $started $ready), (Step 'Import-Module' $ready $imported), (Step 'Sync-PaastaInstance' $imported $synced) -join ' | ')
'sync: ' + $timings
'runtime: ' + [Runtime.InteropServices.RuntimeInformation]::FrameworkDescription + '; PowerShell ' + $PSVersionTable.PSVersion
'@
    $diag = New-Item -ItemType Directory -Force (Join-Path $root 'diag')
    $diagEnv = @{
        XDG_CACHE_HOME          = (New-Item -ItemType Directory -Force (Join-Path $diag 'cache')).FullName
        DOTNET_ReadyToRunLogFile = Join-Path $diag 'r2r'
        DOTNET_JitStdOutFile    = Join-Path $diag 'jit.txt'
        DOTNET_JitDisasmSummary = '1'
    }
    $savedEnv = @{}
    foreach ($k in $diagEnv.Keys) { $savedEnv[$k] = [Environment]::GetEnvironmentVariable($k); [Environment]::SetEnvironmentVariable($k, $diagEnv[$k]) }
    try { $phaseOut = & $process @pwshPrefix -NoProfile -NonInteractive -File $phaseScript -Manifest $ModuleManifest -SoaDir $soa -Service $Service -Cluster $Cluster }
    finally { foreach ($k in $savedEnv.Keys) { [Environment]::SetEnvironmentVariable($k, $savedEnv[$k]) } }
    # The JIT's own log (DOTNET_JitStdOutFile) can crash a process at exit while a background compilation still
    # writes to it; what the run printed before that still counts.
    if (-not ($phaseOut -like 'runtime: *')) { throw "the cold Sync with diagnostics failed ($LASTEXITCODE): $phaseOut" }
    if ($LASTEXITCODE -ne 0) { $phaseOut = @($phaseOut) + "exit code $LASTEXITCODE after its work (the JIT log's writer at exit)" }
    $moduleDir = Split-Path $ModuleManifest
    $r2rLines = @(Get-ChildItem $diag -Filter 'r2r.*' | Get-Content | Where-Object { $_.Contains($moduleDir) })
    $r2rUsed = @($r2rLines | Where-Object { $_ -like 'Ready to Run initialized successfully*' } | ForEach-Object { [IO.Path]::GetFileNameWithoutExtension(($_ -split '"')[1]) })
    $r2rRefused = @($r2rLines | Where-Object { $_ -notlike 'Ready to Run initialized successfully*' })
    $jitted = @(Get-Content (Join-Path $diag 'jit.txt') -ErrorAction SilentlyContinue | Where-Object { $_ -match 'JIT compiled (Paasta|k8s|YamlDotNet)\.' })
    $jittedTier0 = @($jitted | Where-Object { $_ -match '\[(Instrumented )?Tier0' })

    # --- timing: alternating, medians
    $times = [ordered]@{}
    foreach ($k in $measure.Keys) { $times[$k] = [Collections.Generic.List[double]]::new() }
    foreach ($i in 1..$Runs) {
        foreach ($k in $measure.Keys) {
            $sw = [Diagnostics.Stopwatch]::StartNew()
            & $measure[$k]
            $times[$k].Add($sw.Elapsed.TotalSeconds)
        }
    }
    $med = @{}; foreach ($k in $times.Keys) { $med[$k] = Get-Median $times[$k].ToArray() }
    $all = { param($k) ($times[$k] | ForEach-Object { $_.ToString('0.00') }) -join ' ' }

    $managed = @(Invoke-Kubectl get deployments --all-namespaces -l paasta.yelp.com/managed=true -o name).Count
    $load = ((Get-Content /proc/loadavg -ErrorAction SilentlyContinue) -split ' ')[0]
    $ratioWarm = $med.Kubectl / $med.Warm
    $ratioProcess = $med.Kubectl / $med.Process
    $ratioWarmD = $med.KubectlD / $med.Warm
    $ratioProcessD = $med.KubectlD / $med.Process
    $met = { param($ok) if ($ok) { 'met' } else { 'NOT met' } }

    'kubernetes: {0} instances of {1} in sync ({2} Deployments at 0 replicas + {2} PDBs = {3} objects; {4} Paasta-managed Deployments on the cluster); medians of {5} alternating runs, warm, {6} cores, load average {7}' -f `
        $Instances, $Service, $Instances, $objectCount, $managed, $Runs, [Environment]::ProcessorCount, $load
    'kubernetes: first Sync-PaastaInstance (creates the namespace and {0} objects) took {1:N2} s' -f $objectCount, $createSeconds
    'kubernetes: no-op Sync-PaastaInstance, warm session        {0,7:N3} s  {1} request(s), {2} write(s); objects changed: {3}  (all: {4})' -f `
        $med.Warm, $warmApi.Requests, $warmApi.Writes, $changedByWarm, (& $all Warm)
    'kubernetes: no-op Sync-PaastaInstance, new pwsh process    {0,7:N3} s  {1} request(s), {2} write(s); objects changed: {3}  (all: {4})' -f `
        $med.Process, $childApi.Requests, $childApi.Writes, $changedByChild, (& $all Process)
    'kubernetes:   of which pwsh start + Import-Module           {0,7:N3} s  (all: {1})' -f $med.Startup, (& $all Startup)
    'kubernetes: kubectl apply --server-side, {0} objects       {1,7:N3} s  {2} request(s), {3} write(s) ({4}); objects changed: {5}  (all: {6})' -f `
        $objectCount, $med.Kubectl, $kubectlRequests.Count, $kubectlWrites, $kubectlKinds, $changedByKubectl, (& $all Kubectl)
    'kubernetes: kubectl apply --server-side, {0} Deployments   {1,7:N3} s  (all: {2})' -f $Instances, $med.KubectlD, (& $all KubectlD)
    'kubernetes: kubectl / Sync, same {0} objects: warm session {1:N1}x (target >= 5x: {2}), new pwsh process {3:N1}x (target >= 5x: {4})' -f `
        $objectCount, $ratioWarm, (& $met ($ratioWarm -ge 5)), $ratioProcess, (& $met ($ratioProcess -ge 5))
    'kubernetes: kubectl / Sync, the {0} Deployments alone: warm session {1:N1}x, new pwsh process {2:N1}x' -f $Instances, $ratioWarmD, $ratioProcessD
    # The floor of any cmdlet run as a new process: a pwsh that only imports the module.
    'kubernetes: new process floor: pwsh start + Import-Module alone is {0:N0}% of the kubectl time ({1:N1}x faster; 5x allows it {2:N3} s in all)' -f `
        (100 * $med.Startup / $med.Kubectl), ($med.Kubectl / $med.Startup), ($med.Kubectl / 5)
    'kubernetes: Sync requests <= 3: {0} ({1} warm, {2} new process); 0 writes: {3}' -f `
        (& $met ([math]::Max($warmApi.Requests, $childApi.Requests) -le 3)), $warmApi.Requests, $childApi.Requests,
        (& $met ($warmApi.Writes + $childApi.Writes -eq 0 -and $changedByWarm -eq '0' -and $changedByChild -eq '0'))

    # --- cold start (issue 19)
    $syncOver = $med.Process - $med.Startup
    $sensuOver = $med.Sensu - $med.Startup
    'coldstart: pwsh -c exit                                     {0,7:N3} s  (all: {1})' -f $med.Bare, (& $all Bare)
    'coldstart: pwsh -c Import-Module Paasta                     {0,7:N3} s  = exit + {1:N3} s  (all: {2})' -f $med.Startup, ($med.Startup - $med.Bare), (& $all Startup)
    'coldstart: cold no-op Sync, {0} instances (new pwsh)       {1,7:N3} s  = exit + Import-Module + {2:N3} s (target <= 1 s: {3})' -f `
        $Instances, $med.Process, $syncOver, (& $met ($syncOver -le 1))
    'coldstart: warm no-op Sync, same session                    {0,7:N3} s  (the cold run''s own start-up cost: {1:N3} s)' -f $med.Warm, ($syncOver - $med.Warm)
    'coldstart: Sensu check, Test-PaastaReplication -Summary     {0,7:N3} s  = exit + Import-Module + {1:N3} s (target <= 0.5 s: {2})  (all: {3})' -f `
        $med.Sensu, $sensuOver, (& $met ($sensuOver -le 0.5)), (& $all Sensu)
    'coldstart: New-PaastaDeployments -WhatIf (new pwsh)         {0,7:N3} s  = exit + Import-Module + {1:N3} s  (all: {2})' -f $med.Deploy, ($med.Deploy - $med.Startup), (& $all Deploy)
    if ($oracle) {
        $ratioOracle = $med.Oracle / $med.Process
        'coldstart: PaaSTA setup_kubernetes_job, {0} instances of its own (new python3) {1,7:N3} s; the cold Sync of {2} is {3:N1}x faster (goal >= 3x: {4})  (all: {5})' -f `
            $OracleInstances, $med.Oracle, $Instances, $ratioOracle, (& $met ($ratioOracle -ge 3)), (& $all Oracle)
    }
    else { 'coldstart: PaaSTA setup_kubernetes_job: not measured ({0})' -f $script:OracleSkipped }
    foreach ($line in $phaseOut) { 'coldstart: where a cold Sync''s time goes (one run, fresh pwsh cache), {0}' -f $line }
    'coldstart: ReadyToRun images the runtime used: {0} of {1} module assemblies loaded ({2}){3}; module methods JIT-compiled from IL (Tier0): {4} of {5} JIT-compiled' -f `
        $r2rUsed.Count, $r2rLines.Count, ($r2rUsed -join ', '), $(if ($r2rRefused) { '; refused: ' + ($r2rRefused -join '; ') } else { '' }), $jittedTier0.Count, $jitted.Count
    'coldstart: kept: ReadyToRun images of every module assembly for .NET 10 (cross-module code in the dependency images); one named service read on the calling thread; config_sha without the reflection-based JSON resolver, its canonical text written straight into one buffer; the Sensu check''s pod and controller lists read as JSON; Sync''s Deployment LIST read as JSON into summaries (the object as sent kept for an update''s diff), its PDB LIST sent beside it; API discovery read as JSON and kept on disk for ten minutes per server'
    'coldstart: did not help, not kept (docs/ARCHITECTURE.md "Performance"): HTTP/1.1 instead of HTTP/2 (5% fewer methods JIT-compiled, one TLS connection per concurrent request); KubernetesClient.Aot (7% fewer, and its KubernetesYaml, which ConvertTo-PaastaKubernetesObject writes YAML with, is internal); a composite image or a version bubble with the framework (the runtime stops the process once the framework is serviced); the Deployment LIST as JSON did not cut the methods JIT-compiled (the typed path is ReadyToRun code already) and saved little processor time (median 0.13 s per cold Sync process, within the noise), kept for that and for reading only what Sync uses'
    if ($syncOver -gt 1) { Write-Warning ('A cold no-op Sync takes {0:N3} s more than pwsh + Import-Module, over the 1 s target.' -f $syncOver) }
    if ($sensuOver -gt 0.5) { Write-Warning ('The Sensu check command takes {0:N3} s more than pwsh + Import-Module, over the 0.5 s target.' -f $sensuOver) }

    if ($ratioWarm -lt 5) { Write-Warning ('Sync-PaastaInstance in a warm session is {0:N1}x faster than kubectl apply, under the 5x target.' -f $ratioWarm) }
    if ($ratioProcess -lt 5) { Write-Warning ('Sync-PaastaInstance as a new pwsh process is {0:N1}x faster than kubectl apply, under the 5x target.' -f $ratioProcess) }
}
finally {
    Remove-Item Env:DOCKER_BUILDKIT -ErrorAction SilentlyContinue
    $null = & $kubectl delete namespace $Namespace --ignore-not-found --wait=false 2>&1
    $null = & $kubectl delete namespace $OracleNamespace --ignore-not-found --wait=false 2>&1
    if (Test-Path $root) { Remove-Item -Recurse -Force $root -ErrorAction SilentlyContinue }
}
