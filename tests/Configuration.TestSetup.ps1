# Shared by the Configuration test files (dot-sourced in their BeforeAll, so $script: is the test file's): the
# module, the environment variables the tests change (saved here, restored by the files' AfterAll), helpers, a
# soa-configs copy of hello without its own registry, and a kubeconfig whose only context points at a closed port.
Import-Module $env:PAASTA_TEST_MODULE -Force
Import-Module (Join-Path $PSScriptRoot 'Paasta.TestUtils.psm1') -Force
$script:Variables = 'PAASTA_CONFIG', 'PAASTA_SOA_DIR', 'PAASTA_CLUSTER', 'KUBECONFIG', 'PAASTA_KUBE_CONTEXT', 'PAASTA_DOCKER_REGISTRY',
    'PAASTA_SENSU_SOCKET', 'PAASTA_TRON_URL', 'PAASTA_HACHECK_SIDECAR_IMAGE', 'PAASTA_CLUSTER_CONTEXT'
$script:Saved = @{}
foreach ($v in $Variables) { $Saved[$v] = [Environment]::GetEnvironmentVariable($v) }
$script:PlatformKubeConfig = $Saved['KUBECONFIG']

function Reset-Environment {
    foreach ($v in $Variables) { [Environment]::SetEnvironmentVariable($v, $null) }
    $env:PAASTA_CONFIG = Join-Path $TestDrive "settings-$([guid]::NewGuid().ToString('N')).json"
}
function Save([hashtable] $Values) { Set-PaastaConfiguration @Values -Confirm:$false }
function Read-SettingsFile { Get-Content -Raw $env:PAASTA_CONFIG | ConvertFrom-Json -AsHashtable }
# The error a command stops with (the command runs with -ErrorAction Stop inside the block).
function Get-Refusal([scriptblock] $Script) {
    try { $null = & $Script } catch { return $_ }
    throw 'The command did not fail.'
}
function Get-ClosedPort {
    $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
    $listener.Start()
    try { $listener.LocalEndpoint.Port } finally { $listener.Stop() }
}

# soa-configs: the hello example without its own docker_registry, with a deployments.json, so the
# registry and cluster settings decide what ConvertTo-PaastaTronConfig writes.
$script:Soa = Join-Path $TestDrive 'soa'
$null = New-Item -ItemType Directory $Soa
Copy-Item -Recurse (Join-Path $env:PAASTA_REPO_ROOT 'examples/soa-configs/hello') (Join-Path $Soa 'hello')
$serviceYaml = Join-Path $Soa 'hello/service.yaml'
(Get-Content $serviceYaml) | Where-Object { $_ -notmatch '^docker_registry:' } | Set-Content $serviceYaml
$script:Sha = '0123456789abcdef0123456789abcdef01234567'
Set-Content (Join-Path $Soa 'hello/deployments.json') ('{"v1": {}, "v2": {"deployments": {"local.everything": {"docker_image": "services-hello:paasta-' + $Sha + '", "git_sha": "' + $Sha + '", "image_version": null}}, "controls": {}}}')

# A kubeconfig that parses, with one context "real" pointing at a closed port.
$script:KubeFile = Join-Path $TestDrive 'kubeconfig'
Set-Content $KubeFile @"
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: 'https://127.0.0.1:$(Get-ClosedPort)'}}]
users: [{name: u, user: {token: x}}]
contexts: [{name: real, context: {cluster: c, user: u}}]
current-context: real
"@
