#Requires -Version 7.4
# The README's main job: a short tour of Paasta over examples/soa-configs and, where the local platform
# runs (Linux, root), the whole loop of the hello service on it: build and push its image, deploy it through its
# pipeline, watch a config change bounce it, stop an instance, check replication, run its scheduled job and run it
# locally. It removes what it created on the cluster (namespace paastasvc-hello unless it was there before, and
# hello's CronJobs, Jobs and pods in namespace tron); its scratch files stay under -WorkDir.
param(
    [Parameter(Mandatory)] [string] $ModuleManifest,
    # Where the platform demo keeps its scratch repo and soa-configs copy.
    [string] $WorkDir,
    [switch] $Platform,
    # The local platform's state folder (kubeconfig, kubectl); the demo talks to that cluster only.
    [string] $PlatformState
)
$ErrorActionPreference = 'Stop'
Import-Module $ModuleManifest -Force
$repo = Split-Path $PSScriptRoot
$soa = Join-Path $PSScriptRoot 'soa-configs'

function Show([string] $Title, [scriptblock] $Block) {
    Write-Host "`nPS> $($Block.ToString().Trim())" -ForegroundColor Cyan
    Write-Host "    # $Title" -ForegroundColor DarkGray
    & $Block | Out-String -Width 150 | Out-Host
}

# -LastLine: show only the last line of what it wrote (all of it when it fails).
function Invoke-Tool([string] $File, [string[]] $Arguments, [switch] $LastLine) {
    Write-Host "`n$ $File $($Arguments -join ' ')" -ForegroundColor Cyan
    if (-not $LastLine) { & $File @Arguments | Out-Host }
    else {
        $out = @(& $File @Arguments 2>&1 | ForEach-Object { "$_" })
        if ($LASTEXITCODE -eq 0) { $out = $out | Select-Object -Last 1 }
        $out | Out-Host
    }
    if ($LASTEXITCODE -ne 0) { throw "$File $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

Show 'Every service, with team, clusters and deploy groups' { Get-PaastaService -SoaDir $soa }
Show 'Every instance, merged and defaulted exactly as PaaSTA does' { Get-PaastaInstance -SoaDir $soa }
Show 'Where each value of hello.main came from' {
    (Get-PaastaInstance -SoaDir $soa -Service hello -Instance main).Sources.Values | Where-Object Origin -ne Default
}
Show 'Validation: schemas plus the rules that span files' { Test-PaastaConfig -SoaDir $soa -Verbose 4>&1 }

if (-not $Platform) {
    Write-Host "`n(The deploy part of the demo needs the local platform: Linux, root and apt. Skipped.)" -ForegroundColor Yellow
    return
}

# --- The whole loop on the local platform ------------------------------------------------------------------
if (-not $WorkDir) { $WorkDir = Join-Path $repo '.platform/demo' }
if (Test-Path $WorkDir) { Remove-Item -Recurse -Force $WorkDir }
$null = New-Item -ItemType Directory -Force $WorkDir
$demoSoa = Join-Path $WorkDir 'soa-configs'
Copy-Item -Recurse $soa $demoSoa
$bare = Join-Path $WorkDir 'hello.git'
$work = Join-Path $WorkDir 'hello'
# The local platform's cluster only, whatever $env:KUBECONFIG or the user's Paasta settings say (this process only).
if (-not $PlatformState) { $PlatformState = Join-Path $repo '.platform' }
$env:KUBECONFIG = Join-Path $PlatformState 'kubeconfig'
$env:PAASTA_CONFIG = Join-Path $WorkDir 'settings.json'
Remove-Item Env:PAASTA_KUBE_CONTEXT, Env:PAASTA_CLUSTER_CONTEXT, Env:PAASTA_CLUSTER, Env:PAASTA_DOCKER_REGISTRY, Env:PAASTA_SOA_DIR -ErrorAction Ignore
$kubectlBin = Join-Path $PlatformState 'bin/kubectl'
function kubectl { & $kubectlBin --kubeconfig $env:KUBECONFIG @args }
$namespace = 'paastasvc-hello'
# Only what the demo creates is removed at the end: the namespace, unless it was there before it started (one that
# an earlier demo is still deleting is waited for).
$phase = kubectl get namespace $namespace -o 'jsonpath={.status.phase}' 2>$null
if ($phase -eq 'Terminating') {
    Write-Host "Waiting for namespace $namespace, which an earlier run is deleting" -ForegroundColor DarkGray
    kubectl wait --for=delete "namespace/$namespace" --timeout=180s *> $null
    $phase = kubectl get namespace $namespace -o 'jsonpath={.status.phase}' 2>$null
}
$ownNamespace = -not $phase
$common = @{ SoaDir = $demoSoa; Service = 'hello' }

try {
    Write-Host "`n--- hello's own repository: a bare 'remote' holding the deploy tags, and a clone with the code" -ForegroundColor Green
    Invoke-Tool git @('init', '-q', '--bare', $bare)
    Invoke-Tool git @('clone', '-q', $bare, $work)
    Copy-Item -Recurse (Join-Path $repo 'examples/services/hello/*') $work
    Invoke-Tool git @('-C', $work, 'add', '-A')
    Invoke-Tool git @('-C', $work, '-c', 'user.name=demo', '-c', 'user.email=demo@example.com', 'commit', '-q', '-m', 'hello: first version')
    Invoke-Tool git @('-C', $work, 'push', '-q', 'origin', 'HEAD:refs/heads/main')
    $sha = (& git -C $work rev-parse HEAD).Trim()

    Write-Host "`n--- itest and push-to-registry, the pipeline's build steps: the image is named after the commit (services-hello:paasta-<sha>)" -ForegroundColor Green
    $image = "127.0.0.1:5000/services-hello:paasta-$sha"
    Invoke-Tool make @('-s', '-C', $work, 'test')
    Invoke-Tool make @('-s', '-C', $work, 'cook-image', "DOCKER_TAG=$image") -LastLine
    Invoke-Tool docker @('push', '-q', $image)

    Show 'Deploy through deploy.yaml''s pipeline: the build steps are Jenkins''; local.everything is marked (a git tag), deployments.json regenerated, the cluster synced and waited for' {
        Deploy-PaastaService @common -Commit $sha -Repository $bare -Sync -TimeoutSec 300 -Confirm:$false
    }
    Show 'The tag, as git itself sees it' { git ls-remote --tags $bare }
    Show 'Every copy is Ready' { Get-PaastaInstanceStatus @common -Cluster local }

    $instanceFile = Join-Path $demoSoa 'hello/kubernetes-local.yaml'
    (Get-Content -Raw $instanceFile) -replace 'GREETING: hello from main', 'GREETING: hello again from main' | Set-Content -NoNewline $instanceFile
    Show 'A config change (main''s GREETING) bounces main: new copies start, then each old one is drained (noop) and deleted' {
        Sync-PaastaInstance @common -Cluster local -Instance main -Wait -Timeout 300 -Confirm:$false -Verbose 4>&1 |
            Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] -or $_.Message -match 'drained with|: Bounced|Created' } |
            ForEach-Object { if ($_ -is [System.Management.Automation.VerboseRecord]) { "VERBOSE: $($_.Message)" } else { $_ } }
    }
    Show 'main runs the new config; no old copy is left' { Get-PaastaInstanceStatus @common -Cluster local -Instance main | Format-List Instance, State, Ready, ConfigSha, Versions }

    Show 'Stop hello.canary: a stop tag at the deployed commit, and deployments.json regenerated' {
        Get-PaastaInstance @common -Cluster local -Instance canary | Stop-PaastaInstance -Repository $bare -Confirm:$false -PassThru
        $null = New-PaastaDeployments @common -Repository $bare -Confirm:$false
    }
    Show 'Sync drains the canary''s copy (noop) and removes it' {
        Sync-PaastaInstance @common -Cluster local -Instance canary -Wait -Timeout 300 -Confirm:$false -Verbose 4>&1 |
            Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] -or $_.Message -match 'drained with' } |
            ForEach-Object { if ($_ -is [System.Management.Automation.VerboseRecord]) { "VERBOSE: $($_.Message)" } else { $_ } }
    }
    Show 'kubectl: no canary pod left' { kubectl get pods -n $namespace -l paasta.yelp.com/instance=canary 2>&1 }

    Show 'Replication check (as the Sensu check runs it): main has its 3 copies; a stopped canary expects 0' {
        Test-PaastaReplication @common -Cluster local
    }

    Show 'A scheduled job of tron-local.yaml, as a Kubernetes CronJob, run once now and waited for' {
        $null = Sync-PaastaJob @common -Cluster local -Confirm:$false
        $run = Start-PaastaJob @common -Cluster local -Job nightly_report -Wait -TimeoutSec 180 -Confirm:$false
        $run | Format-List Job, Outcome
        $run.Output.GetEnumerator() | ForEach-Object { "$($_.Key) said: $($_.Value.Trim())" }
    }

    Show 'A local run: the adhoc instance greet in the local Docker engine, with the deployed image and its environment' {
        Invoke-PaastaLocalRun @common -Cluster local -Instance greet -Pull -Confirm:$false | Format-List Instance, Image, ExitCode
    }
}
finally {
    Write-Host "`n--- Cleaning up what the demo created on the cluster" -ForegroundColor Green
    kubectl -n tron delete 'cronjobs,jobs,pods' -l paasta.yelp.com/service=hello --ignore-not-found --wait=false 2>&1 | Out-Host
    if ($ownNamespace) { kubectl delete namespace $namespace --ignore-not-found --wait=false 2>&1 | Out-Host }
    else { Write-Host "Namespace $namespace was there before the demo; it is left as it is." }
}
Write-Host "`nThe platform stays up (./build.ps1 -Task Platform -Action Down stops it). Scratch files: $WorkDir" -ForegroundColor Green
