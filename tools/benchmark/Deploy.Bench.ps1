#Requires -Version 7.4
# Deploying through the pipeline (issue 17): Deploy-PaastaService -Sync against the same steps done by hand with the
# existing cmdlets in one script, on the local cluster in the same run. Target: Deploy-PaastaService's median <= 1.10x
# the median of the hand-made deploy.
#
# The service (benchdeploy) is hello's image in two deploy groups, bench.canary (instance canary, 1 copy) then
# bench.main (instance main, 3 copies), crossover bounce, noop drain, an http readiness probe on /status. Two commits,
# A and B, each with its image in the local registry; every timed deploy moves both groups from one to the other,
# so each one marks, regenerates deployments.json and bounces 4 copies, group by group.
#
# By hand, for each group in pipeline order: Publish-PaastaDeployment, New-PaastaDeployments,
# Sync-PaastaInstance -Wait on the group's instance, Wait-PaastaDeployment -Commit. Deploy-PaastaService -Sync -Force
# does the same walk itself. Both clocks stop when the command returns, and both are then checked with kubectl to have
# left every group on the new commit, all copies ready and no other pod, not even one being deleted: both end with
# Sync passes until the old pods are gone from the API. Deploy-PaastaService moves on to the next group as soon as
# the group is healthy (wait-for-deployment's criterion: a copy being deleted no longer serves) and lets the old
# copies of every group go at the end, while the script's Sync-PaastaInstance -Wait waits for them group by group;
# that overlap is most of the difference.
#
# One warm-up deploy each, then $Runs of each, alternating (the order flips every round), medians compared. Needs the
# local platform (KUBECONFIG), docker, make and git; skipped otherwise. Never fails on wall-clock time: the target is
# reported met or NOT met.
param(
    [Parameter(Mandatory)] [string] $ModuleManifest,
    [int] $Runs = 3
)
$ErrorActionPreference = 'Stop'
Import-Module $ModuleManifest -Force
Import-Module (Join-Path $PSScriptRoot 'BenchSupport.psm1') -Force

$Service = 'benchdeploy'
$Cluster = 'bench'
$Namespace = "paastasvc-$Service"
$Registry = '127.0.0.1:5000'
$Groups = [ordered]@{ 'bench.canary' = 'canary'; 'bench.main' = 'main' }
$Copies = @{ canary = 1; main = 3 }
$Repo = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path

$kubectl = Find-BenchCluster 'deploy figures' -Tools docker, make, git
if (-not $kubectl) { return }

$root = New-BenchRoot 'deploy'
$soa = Join-Path $root 'soa'
$svc = New-Item -ItemType Directory -Force (Join-Path $soa $Service)
$images = [Collections.Generic.List[string]]::new()

# Every instance runs exactly its copies of the commit, all ready, and no other pod is left, not even one being deleted.
function Assert-Settled([string] $Sha, [string] $Side) {
    foreach ($instance in $Groups.Values) {
        $pods = @((Invoke-Kubectl get pods -n $Namespace -l "paasta.yelp.com/instance=$instance" -o json | Out-String | ConvertFrom-Json).items)
        $good = @($pods | Where-Object { -not $_.metadata.deletionTimestamp -and $_.metadata.labels.'paasta.yelp.com/git_sha' -eq $Sha -and
                ($_.status.conditions | Where-Object { $_.type -eq 'Ready' -and $_.status -eq 'True' }) })
        if ($pods.Count -ne $Copies[$instance] -or $good.Count -ne $Copies[$instance]) {
            throw "$Side did not settle ${instance} on $($Sha.Substring(0, 8)): $($pods.Count) pod(s), $($good.Count) ready at that commit"
        }
    }
}

$common = @{ SoaDir = $soa; Service = $Service }
try {
    $null = & $kubectl delete namespace $Namespace --ignore-not-found --wait=true --timeout=180s 2>&1

    # --- hello committed twice to a bare repo, each commit's image cooked and pushed
    $bare = Join-Path $root "$Service.git"
    $work = Join-Path $root 'work'
    $null = Invoke-Git init -q --bare -b main $bare
    $null = Invoke-Git clone -q $bare $work
    Copy-Item -Recurse (Join-Path $Repo 'examples/services/hello/*') $work
    $shas = foreach ($n in 1, 2) {
        Set-Content (Join-Path $work 'www/index.html') "<p>deploy bench $n</p>"
        $null = Invoke-Git -C $work add -A
        $null = Invoke-Git -C $work -c user.name=bench -c user.email=bench@example.com commit -q -m "deploy bench $n"
        $null = Invoke-Git -C $work push -q origin HEAD:refs/heads/main
        $sha = "$(Invoke-Git -C $work rev-parse HEAD)".Trim()
        $image = "$Registry/services-${Service}:paasta-$sha"
        $out = & make -C $work cook-image "DOCKER_TAG=$image" 2>&1
        if ($LASTEXITCODE -ne 0) { throw "make cook-image failed: $out" }
        $out = & docker push $image 2>&1
        if ($LASTEXITCODE -ne 0) { throw "docker push failed: $out" }
        $images.Add($image)
        $sha
    }

    # --- soa-configs: two groups in pipeline order
    Set-Content (Join-Path $svc 'service.yaml') "description: Deploy benchmark`nexternal_link: http://example`ngit_url: null`ndocker_registry: $Registry`n"
    Set-Content (Join-Path $svc 'monitoring.yaml') "team: bench`n"
    Set-Content (Join-Path $svc 'deploy.yaml') "pipeline:`n- step: bench.canary`n- step: bench.main`n"
    $common2 = "  cpus: 0.02`n  mem: 48`n  disk: 128`n  bounce_method: crossover`n  drain_method: noop`n  healthcheck_mode: http`n  healthcheck_uri: /status`n  healthcheck_grace_period_seconds: 1`n  healthcheck_interval_seconds: 1`n"
    Set-Content (Join-Path $svc "kubernetes-$Cluster.yaml") ("canary:`n  deploy_group: bench.canary`n  instances: $($Copies.canary)`n$common2" + "main:`n  deploy_group: bench.main`n  instances: $($Copies.main)`n$common2")

    $next = 0
    function Get-NextSha { $sha = $shas[$script:next % 2]; $script:next++; $sha }
    function Measure-ByHand {
        $sha = Get-NextSha
        $sw = [Diagnostics.Stopwatch]::StartNew()
        foreach ($group in $Groups.Keys) {
            $null = Publish-PaastaDeployment @common -DeployGroup $group -Commit $sha -Repository $bare -Confirm:$false -WarningAction SilentlyContinue
            $null = New-PaastaDeployments @common -Repository $bare -Confirm:$false
            $null = Sync-PaastaInstance @common -Cluster $Cluster -Instance $Groups[$group] -Wait -Timeout 600 -Confirm:$false
            $waited = @(Wait-PaastaDeployment @common -DeployGroup $group -Commit $sha -Timeout 600)
            if ($waited.Converged -contains $false) { throw "by hand: $group did not converge on $sha" }
        }
        $seconds = $sw.Elapsed.TotalSeconds
        Assert-Settled $sha 'by hand'
        $seconds
    }
    function Measure-Deploy {
        $sha = Get-NextSha
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $steps = @(Deploy-PaastaService @common -Commit $sha -Repository $bare -Sync -Force -TimeoutSec 600 -Confirm:$false -WarningAction SilentlyContinue)
        $seconds = $sw.Elapsed.TotalSeconds
        if ($steps.Count -ne 2 -or @($steps | Where-Object { "$($_.State)" -ne 'Deployed' }).Count) { throw "Deploy-PaastaService did not deploy both groups: $($steps | Out-String)" }
        Assert-Settled $sha 'Deploy-PaastaService'
        $seconds
    }
    function Wait-Quiet { Start-Sleep -Seconds 3 }   # let the kubelet finish tearing down the last deploy's containers

    # Warm-up: the first deploy creates the namespace and instances; then one of each (JIT, kubelet's first bounces).
    $null = Measure-ByHand; Wait-Quiet
    $null = Measure-Deploy; Wait-Quiet
    $null = Measure-ByHand; Wait-Quiet

    $hand = [Collections.Generic.List[double]]::new()
    $deploy = [Collections.Generic.List[double]]::new()
    $loads = [Collections.Generic.List[string]]::new()
    foreach ($i in 1..$Runs) {
        $loads.Add(((Get-Content /proc/loadavg -ErrorAction SilentlyContinue) -split ' ')[0])
        $order = if ($i % 2) { 'Deploy', 'Hand' } else { 'Hand', 'Deploy' }
        foreach ($side in $order) {
            if ($side -eq 'Deploy') { $deploy.Add((Measure-Deploy)) } else { $hand.Add((Measure-ByHand)) }
            Wait-Quiet
        }
    }

    $medDeploy = Get-Median $deploy
    $medHand = Get-Median $hand
    $ratio = $medDeploy / $medHand
    'deploy: {0}, two groups (canary 1 copy, then main 3 copies), crossover, noop drain; medians of {1} alternating runs, {2} cores, 1-minute load average at each round: {3}' -f `
        $Service, $Runs, [Environment]::ProcessorCount, ($loads -join ', ')
    'deploy: Deploy-PaastaService -Sync                                   {0,7:N2} s  (all: {1})' -f $medDeploy, (($deploy | ForEach-Object { $_.ToString('0.00') }) -join ' ')
    'deploy: by hand (Publish, New-PaastaDeployments, Sync -Wait, Wait) x2 {0,7:N2} s  (all: {1})' -f $medHand, (($hand | ForEach-Object { $_.ToString('0.00') }) -join ' ')
    'deploy: Deploy-PaastaService / by hand = {0:N2}x (target <= 1.10x: {1})' -f $ratio, $(if ($ratio -le 1.10) { 'met' } else { 'NOT met' })
    if ($ratio -gt 1.10) { Write-Warning ('Deploy-PaastaService took {0:N2}x the same steps by hand, over the 1.10x target.' -f $ratio) }
}
finally {
    $null = & $kubectl delete namespace $Namespace --ignore-not-found --wait=false 2>&1
    foreach ($image in $images) { $null = & docker image rm $image 2>&1 }
    if (Test-Path $root) { Remove-Item -Recurse -Force $root -ErrorAction SilentlyContinue }
}
