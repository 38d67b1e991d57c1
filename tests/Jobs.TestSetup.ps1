# The soa-configs both Jobs test files use (dot-sourced in their BeforeAll, so $script: is the test file's):
# service jobhello with three Tron jobs on cluster local, MASTER.yaml, and the helpers that edit and sync them.
Import-Module $env:PAASTA_TEST_MODULE -Force
Import-Module (Join-Path $PSScriptRoot 'Paasta.TestUtils.psm1') -Force
$script:Repo = if ($env:PAASTA_REPO_ROOT) { $env:PAASTA_REPO_ROOT } else { (Resolve-Path (Join-Path $PSScriptRoot '..')).Path }
$script:Kubectl = Get-TestKubectl
$script:Up = Test-KubernetesUp
function Wait-Until([scriptblock] $Condition, [int] $Seconds, [string] $What) {
    $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
    while (-not (& $Condition)) {
        if ([DateTime]::UtcNow -gt $deadline) { throw "Timed out after $Seconds s waiting for $What" }
        Start-Sleep -Seconds 1
    }
}

$script:Service = 'jobhello'
$script:Namespace = 'tron'
$script:Selector = "paasta.yelp.com/service=$Service"

# soa-configs for jobhello: three jobs. two_steps lists 'second' before 'first' so that only
# requires can put them in the order they run.
$script:Soa = Join-Path $TestDrive 'soa'
$script:Dir = New-Item -ItemType Directory (Join-Path $Soa $Service)
@'
description: Tron jobs of Paasta's integration tests.
docker_registry: 127.0.0.1:5000
'@ | Set-Content (Join-Path $Dir 'service.yaml')
@'
pipeline:
- step: local.everything
'@ | Set-Content (Join-Path $Dir 'deploy.yaml')
"team: jobs`n" | Set-Content (Join-Path $Dir 'monitoring.yaml')
$script:TronFile = Join-Path $Dir 'tron-local.yaml'
$script:TronText = @'
every_minute:
  schedule: "cron * * * * *"
  deploy_group: local.everything
  actions:
    tick:
      command: "echo tick {shortdate} $PAASTA_SERVICE"
      cpus: 0.05
      mem: 64
      disk: 64
two_steps:
  schedule: "daily 03:00:00"
  deploy_group: local.everything
  actions:
    second:
      requires: [first]
      command: "echo second-start $(date +%s)"
      cpus: 0.05
      mem: 64
      disk: 64
    first:
      command: "echo first-start $(date +%s); sleep 2; echo first-end $(date +%s)"
      cpus: 0.05
      mem: 64
      disk: 64
failing:
  schedule: "interval 1d"
  deploy_group: local.everything
  actions:
    prepare:
      command: "echo preparing"
      cpus: 0.05
      mem: 64
      disk: 64
    explode:
      requires: [prepare]
      command: "echo about to fail; exit 3"
      cpus: 0.05
      mem: 64
      disk: 64
'@
$TronText | Set-Content $TronFile
New-Item -ItemType Directory (Join-Path $Soa 'tron/local') | Out-Null
@'
k8s_options:
  enabled: true
  default_volumes: []
time_zone: UTC
'@ | Set-Content (Join-Path $Soa 'tron/local/MASTER.yaml')

# The jobs with every_minute suspended: later tests change CronJobs without it starting runs each minute.
$script:Quiet = ($TronText -replace '(?m)^(every_minute:\r?\n)', "`$1  enabled: false`n") + "`n"
function Set-Tron([string] $Text) { $Text | Set-Content $TronFile }
# A second service whose CronJob name meets one of jobhello's (jobhello-x + y = jobhello + x-y).
$script:OtherService = "$Service-x"
$script:OtherSoa = Join-Path $TestDrive 'other-soa'

function Sync { Sync-PaastaJob -SoaDir $Soa -Service $Service -Cluster local -Confirm:$false @args }
function Get-LiveCronJob([string] $Job) {
    $items = (Invoke-Kubectl -n $Namespace get cronjobs -l "$Selector,paasta.yelp.com/job=$Job" -o json | ConvertFrom-Json).items
    @($items)
}
# The CronJob API the server serves, asked independently of Paasta: batch/v1 only when it lists cronjobs.
function Get-ServedCronJobApi {
    $v1 = Invoke-Kubectl get --raw /apis/batch/v1 | ConvertFrom-Json
    if ($v1.resources.name -contains 'cronjobs') { 'batch/v1' } else { 'batch/v1beta1' }
}
