# The setup both Bounce test files dot-source in their BeforeAll (so $script: is the test file's): service
# bouncehello… in a namespace of the run's own (paastasvc-bouncehello…, the only one the file deletes), images of
# 4 commits in the local registry, and the helpers that set up, deploy and sync the instance under test.
Import-Module $env:PAASTA_TEST_MODULE -Force
Import-Module (Join-Path $PSScriptRoot 'Paasta.TestUtils.psm1') -Force
$script:Repo = if ($env:PAASTA_REPO_ROOT) { $env:PAASTA_REPO_ROOT } else { (Resolve-Path (Join-Path $PSScriptRoot '..')).Path }
$script:Kubectl = Get-TestKubectl
$script:Up = Test-KubernetesUp

$script:Service = New-TestName 'bouncehello'
$script:Namespace = "paastasvc-$Service"
if (-not $Up) { return }
Register-TestNamespace $Namespace

$script:Soa = Join-Path $TestDrive 'soa'
New-Item -ItemType Directory $Soa | Out-Null
$script:InstanceFile = Copy-HelloService $Soa $Service
# 3 copies: enough for crossover's margin to keep some old copies serving and let others go (3 x 0.5: ceil 2,
# where a floor would give 1), and fewer pods to wait for (the kubelet takes 10-40 s to remove a deleted pod).
$script:Copies = 3
$script:Instance = $null
$script:InstanceCount = 0
# Each test starts on an instance of its own, created from nothing (no bounce to set it up); the previous
# test's instance goes in the background. Its pods carry another instance label, so no timeline, drain or
# bounce of this test sees them. Bounce and drain settings come in $Extra.
function Set-Instance([string] $Extra = '') {
    if ($script:Instance) {
        $null = Invoke-Kubectl -n $Namespace delete 'deployments,replicasets,pods,poddisruptionbudgets' -l "paasta.yelp.com/instance=$($script:Instance)" --wait=false
    }
    $script:InstanceCount++
    $script:Instance = "main$($script:InstanceCount)"
    @"
$($script:Instance):
  deploy_group: local.everything
  cpus: 0.05
  mem: 48
  disk: 128
  instances: $Copies
  healthcheck_mode: http
  healthcheck_uri: /status
  healthcheck_grace_period_seconds: 1
  healthcheck_interval_seconds: 1
  env:
    GREETING: bounce
$Extra
"@ | Set-Content $InstanceFile
}

# Commits with images in the local registry: A, B and D answer /status; C does not (never ready).
$script:Bare = Join-Path $TestDrive "$Service.git"
$script:Work = Join-Path $TestDrive 'work'
Invoke-Git init -q --bare $Bare | Out-Null
Invoke-Git clone -q $Bare $Work | Out-Null
Copy-Item -Recurse (Join-Path $Repo 'examples/services/hello/*') $Work
function New-Commit([string] $Message) { New-TestImageCommit -Work $Work -Service $Service -Message $Message }
$script:Shas = [System.Collections.Generic.List[string]]::new()
foreach ($n in 1..3) { $Shas.Add((New-Commit "good $n")) }
Remove-Item (Join-Path $Work 'www/status')
$script:BrokenSha = New-Commit 'lose /status'
$script:NextGood = 0
# Good shas in rotation: two calls in a row never give the same one.
function Get-NextSha { $sha = $Shas[$script:NextGood % $Shas.Count]; $script:NextGood++; $sha }

function Deploy([string] $Sha) {
    $null = Publish-PaastaDeployment -SoaDir $Soa -Service $Service -DeployGroup local.everything -Commit $Sha -Repository $Bare -Confirm:$false
    $null = New-PaastaDeployments -SoaDir $Soa -Service $Service -Repository $Bare -Confirm:$false
}
function Sync { Sync-PaastaInstance -SoaDir $Soa -Service $Service -Cluster local -Instance $Instance -Confirm:$false @args }
function Get-Pods {
    @((Invoke-Kubectl -n $Namespace get pods -l "paasta.yelp.com/instance=$Instance" -o json | ConvertFrom-Json).items)
}
function Get-ServingPods([string] $Sha) {
    Get-Pods | Where-Object {
        -not $_.metadata.deletionTimestamp -and $_.metadata.labels.'paasta.yelp.com/git_sha' -eq $Sha -and
        ($_.status.conditions | Where-Object { $_.type -eq 'Ready' -and $_.status -eq 'True' })
    }
}
# The next good sha, deployed and fully running before a bounce starts.
function Initialize-Running {
    $sha = Get-NextSha
    Deploy $sha
    $null = Sync -Wait -TimeoutSec 180
    $deadline = [DateTime]::UtcNow.AddSeconds(180)
    while (@(Get-ServingPods $sha).Count -lt $Copies) {
        if ([DateTime]::UtcNow -gt $deadline) { throw "$Copies ready pods of $sha did not appear" }
        Start-Sleep -Milliseconds 500
    }
    $sha
}
