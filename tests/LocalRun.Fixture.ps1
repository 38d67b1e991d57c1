#Requires -Version 7.4
# Shared set-up of LocalRun.Tests.ps1 (no engine needed) and LocalRun.Integration.Tests.ps1 (the real Docker engine
# and registry), dot-sourced in their BeforeAll. Everything made here belongs to the service lr-hello (a copy of
# examples/soa-configs/hello) under $TestDrive; containers and images of lr-hello are removed by the integration
# file's AfterAll; other engineers' containers and images are never touched.
Import-Module $env:PAASTA_TEST_MODULE -Force
Import-Module (Join-Path $PSScriptRoot 'Paasta.TestUtils.psm1') -Force
$script:Repo = $env:PAASTA_REPO_ROOT
$script:Service = 'lr-hello'
$script:Registry = '127.0.0.1:5000'

$script:DockerUp = $false
if ($IsLinux -and (Get-Command docker -ErrorAction Ignore)) {
    $null = & docker version --format '{{.Server.Version}}' 2>&1
    $script:DockerUp = $LASTEXITCODE -eq 0
}
$script:RegistryUp = $false
try { $script:RegistryUp = (Invoke-WebRequest "http://$Registry/v2/" -TimeoutSec 5 -SkipHttpErrorCheck).StatusCode -eq 200 } catch { }

# soa-configs: hello as lr-hello, plus an instance whose healthcheck can never pass.
$script:Soa = Join-Path $TestDrive 'soa'
$null = New-Item -ItemType Directory $Soa
Copy-Item -Recurse (Join-Path $Repo 'examples/soa-configs/hello') (Join-Path $Soa $Service)
Add-Content (Join-Path $Soa "$Service/kubernetes-local.yaml") @'

broken:
  <<: *defaults
  healthcheck_uri: /no-such-page
  healthcheck_grace_period_seconds: 1
  healthcheck_interval_seconds: 0.5
  healthcheck_max_consecutive_failures: 2
'@

# Instances for the engine's own view (docker inspect) of what soa-configs ask for, and for each healthcheck mode.
$script:VolumeDir = Join-Path $TestDrive 'volume'
$null = New-Item -ItemType Directory $VolumeDir
Set-Content (Join-Path $VolumeDir 'marker') 'mounted'
function Get-FreePort {
    $l = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Any, 0)
    $l.Start(); $port = $l.LocalEndpoint.Port; $l.Stop()
    $port
}
$script:HostNetPort = Get-FreePort
Add-Content (Join-Path $Soa "$Service/kubernetes-local.yaml") @"

tuned:
  <<: *defaults
  cpu_burst_add: 0.5
  cfs_period_us: 50000
  healthcheck_mode: cmd
  healthcheck_cmd: test -s /data/marker
  healthcheck_grace_period_seconds: 0
  healthcheck_interval_seconds: 0.5
  # The same mount twice (trailing slashes differ): PaaSTA keeps the later entry only.
  extra_volumes: [{hostPath: $VolumeDir/, containerPath: /data/, mode: RW}, {hostPath: $VolumeDir, containerPath: /data, mode: RO}]
  extra_docker_args:
    shm-size: 96m
    ulimit: nofile=1024:2048
    cap-add: SYS_PTRACE
    add-host: db.local:10.1.2.3
    dns: 10.0.0.53
    memory-swap: 256m

isolated:
  <<: *defaults
  net: none
  healthcheck_mode: cmd
  healthcheck_cmd: 'true'

tcphost:
  <<: *defaults
  net: host
  container_port: $HostNetPort
  healthcheck_mode: tcp
  healthcheck_grace_period_seconds: 0
  healthcheck_interval_seconds: 0.5
  healthcheck_max_consecutive_failures: 6

slow:
  <<: *defaults
  healthcheck_uri: /cgi-bin/status
  healthcheck_grace_period_seconds: 0
  healthcheck_interval_seconds: 0.5
  healthcheck_timeout_seconds: 1
  healthcheck_max_consecutive_failures: 2

patient:
  <<: *defaults
  healthcheck_uri: /cgi-bin/status
  healthcheck_grace_period_seconds: 0
  healthcheck_interval_seconds: 0.5
  healthcheck_timeout_seconds: 8
  healthcheck_max_consecutive_failures: 2

unsupported:
  <<: *defaults
  extra_docker_args: {cgroup-parent: /paasta}
"@

Add-Content (Join-Path $Soa "$Service/adhoc-local.yaml") @'

hog:
  deploy_group: local.everything
  mem: 33
  cmd: x=$(head -c 150000000 /dev/zero | tr '\0' a); echo survived
'@

# A Tron action whose command uses Tron's date variables.
Add-Content (Join-Path $Soa "$Service/tron-local.yaml") @'

dated:
  schedule: "cron 0 4 * * *"
  deploy_group: local.everything
  actions:
    show:
      command: "echo day={shortdate-1} month={ym} $PAASTA_INSTANCE"
      cpus: 0.1
      mem: 64
'@

# The soa-configs commit, as the tool that checks soa-configs out records it.
$script:SoaSha = 'c0ffee0123456789c0ffee0123456789c0ffee01'
Set-Content (Join-Path $Soa '.metadata.json') "{`"git_sha`": `"$SoaSha`"}"

# The service's checkout: the hello example in a git repository of its own.
$script:Checkout = Join-Path $TestDrive 'checkout'
$null = New-Item -ItemType Directory $Checkout
Copy-Item -Recurse (Join-Path $Repo 'examples/services/hello/*') $Checkout
& git -C $Checkout init -q
& git -C $Checkout add -A
& git -C $Checkout -c user.name=test -c user.email=test@example.com commit -q -m "lr-hello $(New-Guid)"
$script:Sha = (& git -C $Checkout rev-parse HEAD).Trim()

function Get-Containers { @(& docker ps -aq --filter "label=paasta_service=$Service") | Where-Object { $_ } }
function Get-Env([string] $Id) {
    $envs = & docker inspect $Id --format '{{json .Config.Env}}' | ConvertFrom-Json
    $table = @{}
    foreach ($e in $envs) { $k, $v = $e -split '=', 2; $table[$k] = $v }
    $table
}
$script:BuiltImage = $null
