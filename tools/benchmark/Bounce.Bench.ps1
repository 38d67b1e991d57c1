#Requires -Version 7.4
# Bounce wall time (issue 6): a crossover bounce of 10 replicas by `Sync-PaastaInstance -Wait` with the noop drain,
# against Kubernetes' own RollingUpdate of the same template change, both on the local cluster in the same run.
# Target: Paasta's median <= 1.2x the median of the baseline.
#
# Paasta side: one service (benchbounce), one instance of 10 copies, bounce_method crossover, drain_method noop,
# default bounce_margin_factor (0.95: ceil(10 x 0.95) = 10 copies must stay ready), an http readiness probe on
# /status. Each run changes one env value in soa-configs (GREETING), which changes the config_sha, and times
# Sync-PaastaInstance -Wait (default -PollInterval 1) in this warm session: it orphans the old Deployment and its
# ReplicaSets, creates the new Deployment, drains and deletes old pods as new ones become ready, and returns when
# no old pod is left and all 10 new copies are ready.
#
# Baseline: a plain Deployment in a namespace of its own, made from Paasta's own Deployment as the cluster holds it
# (`kubectl get -o json`): the same pod template (image, env, resources, readiness and liveness probes, preStop,
# nodeSelector) and the RollingUpdate strategy Paasta sets for crossover (maxSurge 100%, maxUnavailable 5%, which
# is 0 of 10 pods), with its own name, labels and selector and no paasta.yelp.com label, so Paasta never sees it.
# Each run patches the same env value (one strategic-merge `kubectl patch`) and the clock stops when
# `kubectl rollout status` has returned AND `kubectl wait --for=delete` reports every pod of the old ReplicaSet gone.
# On both sides an old pod that is terminating still counts as remaining: Paasta's Sync -Wait waits for old pods to
# be deleted from the API, and so does the baseline. The baseline's clock includes three kubectl process starts
# (their floor is printed); Paasta's includes reading soa-configs and deployments.json.
#
# On the shared 2-core platform about half of each bounce, on both sides alike, is the kubelet taking the old pods
# away after the last new copy is ready; a diagnostic row compares the time up to all new copies ready.
#
# Both Deployments stay up for the whole run, so each bounce sees the same 20 idle pods around it; bounces never
# overlap. One warm-up bounce each, then $Runs bounces each, alternating (the order flips every round), medians
# compared. Needs the local platform (KUBECONFIG), docker, make and git; skipped otherwise. Never fails on
# wall-clock time: the target is reported met or NOT met.
param(
    [Parameter(Mandatory)] [string] $ModuleManifest,
    [int] $Runs = 3,
    [int] $Replicas = 10
)
$ErrorActionPreference = 'Stop'
Import-Module $ModuleManifest -Force
Import-Module (Join-Path $PSScriptRoot 'BenchSupport.psm1') -Force

$Service = 'benchbounce'
$Cluster = 'bench'
$Instance = 'main'
$Namespace = "paastasvc-$Service"
$BaselineNamespace = 'benchbounce-baseline'
$BaselineName = 'benchbounce-baseline'
$BaselineLabel = 'bench.paasta/rollout=baseline'
$Registry = '127.0.0.1:5000'
$BaseImage = 'paasta-local/busybox:latest'
$Repo = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path

$kubectl = Find-BenchCluster 'bounce figures' -Tools docker, make, git
if (-not $kubectl) { return }
$null = & docker image inspect $BaseImage 2>&1
if ($LASTEXITCODE -ne 0) { throw "The image $BaseImage is not in the Docker engine (the local platform builds it: ./build.ps1 -Task Platform -Action Up)." }

$root = New-BenchRoot 'bounce'
$soa = Join-Path $root 'soa'
$svc = New-Item -ItemType Directory -Force (Join-Path $soa $Service)
$instanceFile = Join-Path $svc "kubernetes-$Cluster.yaml"
$image = $null

function Set-Instance([string] $Greeting) {
    @"
${Instance}:
  deploy_group: bench.everything
  cpus: 0.02
  mem: 48
  disk: 128
  instances: $Replicas
  bounce_method: crossover
  drain_method: noop
  healthcheck_mode: http
  healthcheck_uri: /status
  healthcheck_grace_period_seconds: 1
  healthcheck_interval_seconds: 1
  env:
    GREETING: $Greeting
"@ | Set-Content $instanceFile
}
function Get-PodList([string] $Ns, [string] $Selector) { @((Invoke-Kubectl get pods -n $Ns -l $Selector -o json | Out-String | ConvertFrom-Json).items) }
function Test-Ready($Pod) { [bool]($Pod.status.conditions | Where-Object { $_.type -eq 'Ready' -and $_.status -eq 'True' }) }
# Steady state after a bounce: exactly $Replicas pods, all ready, none terminating, all of one template.
function Assert-Settled([string] $Ns, [string] $Selector, [string] $HashLabel, [string] $Side) {
    $pods = Get-PodList $Ns $Selector
    $versions = @($pods | ForEach-Object { $_.metadata.labels.$HashLabel } | Sort-Object -Unique)
    $ready = @($pods | Where-Object { -not $_.metadata.deletionTimestamp -and (Test-Ready $_) }).Count
    if ($pods.Count -ne $Replicas -or $ready -ne $Replicas -or $versions.Count -ne 1) {
        throw "$Side did not settle: $($pods.Count) pod(s), $ready ready, versions $($versions -join ', ')"
    }
    $versions[0]
}

$syncArgs = @{ SoaDir = $soa; Service = $Service; Cluster = $Cluster; Instance = $Instance; Confirm = $false }
$round = 0
try {
    foreach ($ns in $Namespace, $BaselineNamespace) { $null = & $kubectl delete namespace $ns --ignore-not-found --wait=true --timeout=180s 2>&1 }

    # --- the service: examples/services/hello committed to a bare repo, its image cooked and pushed under the sha
    $bare = Join-Path $root "$Service.git"
    $work = Join-Path $root 'work'
    $null = Invoke-Git init -q --bare -b main $bare
    $null = Invoke-Git clone -q $bare $work
    Copy-Item -Recurse (Join-Path $Repo 'examples/services/hello/*') $work
    $null = Invoke-Git -C $work add -A
    $null = Invoke-Git -C $work -c user.name=bench -c user.email=bench@example.com commit -q -m 'bounce bench'
    $null = Invoke-Git -C $work push -q origin HEAD:refs/heads/main
    $sha = "$(Invoke-Git -C $work rev-parse HEAD)".Trim()
    $image = "$Registry/services-${Service}:paasta-$sha"
    $out = & make -C $work cook-image "DOCKER_TAG=$image" 2>&1
    if ($LASTEXITCODE -ne 0) { throw "make cook-image failed: $out" }
    $out = & docker push $image 2>&1
    if ($LASTEXITCODE -ne 0) { throw "docker push failed: $out" }

    # --- soa-configs and deployments.json
    Set-Content (Join-Path $svc 'service.yaml') "description: Bounce benchmark`nexternal_link: http://example`ngit_url: null`ndocker_registry: $Registry`n"
    Set-Content (Join-Path $svc 'monitoring.yaml') "team: bench`n"
    Set-Content (Join-Path $svc 'deploy.yaml') "pipeline:`n- step: bench.everything`n"
    Set-Instance 'start'
    $null = Publish-PaastaDeployment -SoaDir $soa -Service $Service -DeployGroup bench.everything -Commit $sha -Repository $bare -Confirm:$false
    $null = New-PaastaDeployments -SoaDir $soa -Service $Service -Repository $bare -Confirm:$false

    # --- Paasta's instance, created and fully ready
    $sw = [Diagnostics.Stopwatch]::StartNew()
    $created = @(Sync-PaastaInstance @syncArgs -Wait -TimeoutSec 300)
    $createSeconds = $sw.Elapsed.TotalSeconds
    if ($created.Count -ne 1 -or $created[0].Converging) { throw "the first Sync did not bring up $Instance`: $($created | Out-String)" }
    $paastaSelector = "paasta.yelp.com/service=$Service,paasta.yelp.com/instance=$Instance"
    $null = Assert-Settled $Namespace $paastaSelector 'paasta.yelp.com/config_sha' 'Paasta'

    # --- the baseline: Paasta's Deployment as the cluster holds it, renamed, relabelled, in its own namespace
    $live = Invoke-Kubectl get deployment "$Service-$Instance" -n $Namespace -o json | Out-String | ConvertFrom-Json -AsHashtable
    $strategy = $live.spec.strategy
    if ($strategy.type -ne 'RollingUpdate') { throw "Paasta's crossover Deployment has strategy $($strategy.type), expected RollingUpdate" }
    $labels = @{ 'bench.paasta/rollout' = 'baseline' }
    $template = $live.spec.template
    $template.metadata = @{ labels = $labels; annotations = $template.metadata.annotations }
    if (-not $template.metadata.annotations) { $template.metadata.Remove('annotations') }
    $main = $template.spec.containers | Where-Object { $_.name -eq $Instance }
    if (-not $main -or -not ($main.env | Where-Object { $_.name -eq 'GREETING' })) { throw "Paasta's Deployment has no container $Instance with GREETING in its env" }
    if (-not $main.readinessProbe) { throw "Paasta's Deployment has no readiness probe on $Instance" }
    $baseline = [ordered]@{
        apiVersion = 'apps/v1'
        kind       = 'Deployment'
        metadata   = @{ name = $BaselineName; namespace = $BaselineNamespace; labels = $labels }
        spec       = [ordered]@{
            replicas             = $live.spec.replicas
            revisionHistoryLimit = $live.spec.revisionHistoryLimit
            progressDeadlineSeconds = $live.spec.progressDeadlineSeconds
            minReadySeconds      = $live.spec.minReadySeconds
            selector             = @{ matchLabels = $labels }
            strategy             = $strategy
            template             = $template
        }
    }
    foreach ($k in @($baseline.spec.Keys)) { if ($null -eq $baseline.spec[$k]) { $baseline.spec.Remove($k) } }
    $baselineFile = Join-Path $root 'baseline.json'
    Set-Content $baselineFile ($baseline | ConvertTo-Json -Depth 64)
    $null = Invoke-Kubectl create namespace $BaselineNamespace
    $null = Invoke-Kubectl apply -f $baselineFile
    $null = Invoke-Kubectl rollout status "deployment/$BaselineName" -n $BaselineNamespace --timeout=300s
    $deadline = [DateTime]::UtcNow.AddSeconds(120)
    while ($true) {
        try { $null = Assert-Settled $BaselineNamespace $BaselineLabel 'pod-template-hash' 'the baseline'; break }
        catch { if ([DateTime]::UtcNow -gt $deadline) { throw }; Start-Sleep -Milliseconds 500 }
    }

    # --- one bounce of each side; both leave the cluster settled and are checked to have done so
    function Measure-Paasta {
        $script:round++
        Set-Instance "round $script:round"
        $passes = [Collections.Generic.List[double]]::new()
        $allNew = $null
        $sw = [Diagnostics.Stopwatch]::StartNew()
        # The verbose stream is timestamped as it arrives: 'Pass N:' marks the start of each pass's writes.
        $results = @(Sync-PaastaInstance @syncArgs -Wait -TimeoutSec 600 -Verbose 4>&1 | ForEach-Object {
                if ($_ -is [Management.Automation.VerboseRecord]) {
                    if ($_.Message -match '^Pass \d+:') { $passes.Add($sw.Elapsed.TotalSeconds) }
                    elseif ($null -eq $allNew -and $_.Message -match 'crossover: (\d+) new ready' -and [int]$Matches[1] -ge $Replicas) { $allNew = $sw.Elapsed.TotalSeconds }
                }
                else { $_ }
            })
        $seconds = $sw.Elapsed.TotalSeconds
        $result = $results | Where-Object { $_.PSObject.TypeNames[0] -eq 'Paasta.Sync.SyncResult' } | Select-Object -Last 1
        if (-not $result -or $result.Converging) { throw "Sync-PaastaInstance -Wait did not converge: $($results | Out-String)" }
        $hash = Assert-Settled $Namespace $paastaSelector 'paasta.yelp.com/config_sha' 'Paasta'
        if ($hash -ne $result.NewConfigSha) { throw "Paasta's pods run config_sha $hash, Sync made $($result.NewConfigSha)" }
        # Pass 2's plan starts after pass 1's writes (orphan the old Deployment and ReplicaSets, create the new one) and a poll interval.
        [pscustomobject]@{ Seconds = $seconds; Passes = $passes.Count; SecondPass = if ($passes.Count -ge 2) { $passes[1] } else { [double]::NaN }
            AllNewReady = if ($null -ne $allNew) { $allNew } else { [double]::NaN } }
    }
    function Measure-Baseline {
        $script:round++
        $oldHash = Assert-Settled $BaselineNamespace $BaselineLabel 'pod-template-hash' 'the baseline'
        $patch = '{"spec":{"template":{"spec":{"containers":[{"name":"' + $Instance + '","env":[{"name":"GREETING","value":"round ' + $script:round + '"}]}]}}}}'
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $null = Invoke-Kubectl patch deployment $BaselineName -n $BaselineNamespace --type=strategic -p $patch
        $null = Invoke-Kubectl rollout status "deployment/$BaselineName" -n $BaselineNamespace --timeout=600s
        $rolled = $sw.Elapsed.TotalSeconds
        $out = & $kubectl wait --for=delete pod -n $BaselineNamespace -l "$BaselineLabel,pod-template-hash=$oldHash" --timeout=600s 2>&1
        if ($LASTEXITCODE -ne 0 -and "$out" -notmatch 'no matching resources found') { throw "kubectl wait --for=delete failed: $out" }
        $seconds = $sw.Elapsed.TotalSeconds
        $newHash = Assert-Settled $BaselineNamespace $BaselineLabel 'pod-template-hash' 'the baseline'
        if ($newHash -eq $oldHash) { throw 'the baseline patch did not roll the pods' }
        [pscustomobject]@{ Seconds = $seconds; RolloutStatus = $rolled }
    }
    function Wait-Quiet { Start-Sleep -Seconds 3 }   # let the kubelet finish tearing down the last bounce's containers

    # Warm-up: the first bounce of each (JIT, informer caches, kubelet's first template changes).
    $null = Measure-Paasta; Wait-Quiet
    $null = Measure-Baseline; Wait-Quiet

    # The kubectl floor the baseline pays three times: one process making one request.
    $floor = Get-Median @(foreach ($i in 1..5) {
            $sw = [Diagnostics.Stopwatch]::StartNew(); $null = Invoke-Kubectl get deployment $BaselineName -n $BaselineNamespace -o name; $sw.Elapsed.TotalSeconds
        })

    $paasta = [Collections.Generic.List[object]]::new()
    $kube = [Collections.Generic.List[object]]::new()
    $loads = [Collections.Generic.List[string]]::new()
    foreach ($i in 1..$Runs) {
        $loads.Add(((Get-Content /proc/loadavg -ErrorAction SilentlyContinue) -split ' ')[0])
        $order = if ($i % 2) { 'Paasta', 'Baseline' } else { 'Baseline', 'Paasta' }
        foreach ($side in $order) {
            if ($side -eq 'Paasta') { $paasta.Add((Measure-Paasta)) } else { $kube.Add((Measure-Baseline)) }
            Wait-Quiet
        }
    }

    $medPaasta = Get-Median $paasta.Seconds
    $medKube = Get-Median $kube.Seconds
    $ratio = $medPaasta / $medKube
    $all = { param($list, $prop) ($list | ForEach-Object { $_.$prop.ToString('0.00') }) -join ' ' }
    $rolling = $strategy.rollingUpdate
    $probe = $main.readinessProbe

    'bounce: {0} replicas of {1}.{2}, crossover (bounce_margin_factor default 0.95), noop drain, -PollInterval 1 (default); baseline RollingUpdate maxSurge {3}, maxUnavailable {4}; readiness httpGet {5} initialDelay {6} s, period {7} s; medians of {8} alternating runs, {9} cores, 1-minute load average at each round: {10}' -f `
        $Replicas, $Service, $Instance, $rolling.maxSurge, $rolling.maxUnavailable, $probe.httpGet.path, $probe.initialDelaySeconds, $probe.periodSeconds,
        $Runs, [Environment]::ProcessorCount, ($loads -join ', ')
    'bounce: first Sync-PaastaInstance -Wait (creates the instance, {0} copies ready) took {1:N2} s' -f $Replicas, $createSeconds
    'bounce: Sync-PaastaInstance -Wait, crossover + noop drain    {0,7:N2} s  (all: {1}; passes: {2}; pass 2 began at: {3} s; a pass first saw all {4} new ready at: {5} s)' -f `
        $medPaasta, (& $all $paasta Seconds), (($paasta | ForEach-Object Passes) -join ' '), (& $all $paasta SecondPass), $Replicas, (& $all $paasta AllNewReady)
    'bounce: kubectl patch + rollout status + wait old pods gone {0,7:N2} s  (all: {1}; rollout status returned at: {2} s)' -f `
        $medKube, (& $all $kube Seconds), (& $all $kube RolloutStatus)
    'bounce:   of which kubectl process floor, 3 x {0:N3} s      {1,7:N2} s' -f $floor, (3 * $floor)
    'bounce: terminating old pods count as remaining on both sides (both clocks stop when the last old pod is deleted from the API)'
    # Not the target: up to all new copies ready, before the kubelet has finished removing the old ones.
    $toNew = (Get-Median $paasta.AllNewReady) / (Get-Median $kube.RolloutStatus)
    'bounce: up to all new copies ready (a pass saw them / rollout status returned), medians: {0:N2} s / {1:N2} s = {2:N2}x (diagnostic only)' -f `
        (Get-Median $paasta.AllNewReady), (Get-Median $kube.RolloutStatus), $toNew
    'bounce: Paasta / RollingUpdate = {0:N2}x (target <= 1.2x: {1})' -f $ratio, $(if ($ratio -le 1.2) { 'met' } else { 'NOT met' })
    if ($ratio -gt 1.2) { Write-Warning ('A crossover bounce by Sync-PaastaInstance -Wait took {0:N2}x the RollingUpdate, over the 1.2x target.' -f $ratio) }
}
finally {
    foreach ($ns in $Namespace, $BaselineNamespace) { $null = & $kubectl delete namespace $ns --ignore-not-found --wait=false 2>&1 }
    if ($image) { $null = & docker image rm $image 2>&1 }
    if (Test-Path $root) { Remove-Item -Recurse -Force $root -ErrorAction SilentlyContinue }
}
