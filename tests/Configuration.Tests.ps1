#Requires -Version 7.4
# Per-user configuration (issue 10): every Set-PaastaConfiguration setting round-trips through the settings
# file, its environment variable overrides the file, a cmdlet parameter overrides both, and the cmdlets that
# need the setting really use it. Nothing here talks to a real Sensu, Tron or API server: the settings point
# at closed ports, missing files or unknown contexts, and the refusal names what was used.
BeforeDiscovery {
    # One row per setting; the completeness test fails when a setting is added without a row.
    $script:Settings = @(
        @{ Name = 'SoaDir'; Env = 'PAASTA_SOA_DIR'; Value = '/srv/paasta-test/soa-file'; EnvValue = '/srv/paasta-test/soa-env' }
        @{ Name = 'Cluster'; Env = 'PAASTA_CLUSTER'; Value = 'file-cluster'; EnvValue = 'env-cluster' }
        @{ Name = 'KubeConfig'; Env = 'KUBECONFIG'; Value = '/srv/paasta-test/kube-file'; EnvValue = '/srv/paasta-test/kube-env' }
        @{ Name = 'KubeContext'; Env = 'PAASTA_KUBE_CONTEXT'; Value = 'file-context'; EnvValue = 'env-context' }
        @{ Name = 'DockerRegistry'; Env = 'PAASTA_DOCKER_REGISTRY'; Value = 'file.example:5000'; EnvValue = 'env.example:5000' }
        @{ Name = 'SensuSocket'; Env = 'PAASTA_SENSU_SOCKET'; Value = '10.0.0.1:3030'; EnvValue = '10.0.0.2:3030' }
        @{ Name = 'TronUrl'; Env = 'PAASTA_TRON_URL'; Value = 'http://tron-file.example:8089'; EnvValue = 'http://tron-env.example:8089' }
        @{ Name = 'HacheckSidecarImage'; Env = 'PAASTA_HACHECK_SIDECAR_IMAGE'; Value = 'file.example/hacheck:1'; EnvValue = 'env.example/hacheck:2' }
        # A map, not a string: its own tests below.
        @{ Name = 'ClusterContext'; Env = 'PAASTA_CLUSTER_CONTEXT'; Map = $true }
    )
    $script:StringSettings = @($Settings | Where-Object { -not $_.Map })
}

BeforeAll {
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
}

AfterAll {
    foreach ($v in $Variables) { [Environment]::SetEnvironmentVariable($v, $Saved[$v]) }
}

Describe 'Set-PaastaConfiguration and Get-PaastaConfiguration' {
    BeforeEach { Reset-Environment }

    It 'has a test row for every setting, with the variable the engine reads, and a Set-PaastaConfiguration parameter for each' -ForEach @(@{ Rows = $Settings }) {
        $names = $Rows | ForEach-Object { $_.Name }
        $null = Get-PaastaConfiguration   # loads Paasta.Core, in the module's own context
        $core = [System.Runtime.Loader.AssemblyLoadContext]::All.Assemblies | Where-Object { $_.GetName().Name -eq 'Paasta.Core' } | Select-Object -First 1
        $variables = $core.GetType('Paasta.Settings.SettingNames').GetProperty('EnvironmentVariables').GetValue($null)
        foreach ($row in $Rows) { $variables[$row.Name] | Should -Be $row.Env }
        (Get-PaastaConfiguration).PSObject.Properties.Name | Sort-Object | Should -Be ($names | Sort-Object)
        $common = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters
        (Get-Command Set-PaastaConfiguration).Parameters.Keys | Where-Object { $_ -notin $common -and $_ -ne 'PassThru' } | Sort-Object |
            Should -Be ($names | Sort-Object)
    }

    It 'round-trips -<Name> through the settings file, keeps it when others change, and clears it with an empty string' -ForEach $StringSettings {
        Save @{ $Name = $Value }
        (Get-PaastaConfiguration).$Name | Should -Be $Value
        $key = $Name.Substring(0, 1).ToLowerInvariant() + $Name.Substring(1)
        (Read-SettingsFile)[$key] | Should -Be $Value

        $other = if ($Name -eq 'TronUrl') { @{ Cluster = 'another' } } else { @{ TronUrl = 'http://another.example' } }
        Save $other
        (Get-PaastaConfiguration).$Name | Should -Be $Value

        Save @{ $Name = '' }
        (Get-PaastaConfiguration).$Name | Should -BeNullOrEmpty
        (Read-SettingsFile).Keys | Should -Not -Contain $key
        (Get-PaastaConfiguration).($other.Keys | Select-Object -First 1) | Should -Not -BeNullOrEmpty
    }

    It 'lets $env:<Env> override the saved -<Name>' -ForEach $StringSettings {
        Save @{ $Name = $Value }
        Set-Item "env:$Env" $EnvValue
        (Get-PaastaConfiguration -Effective).$Name | Should -Be $EnvValue
        (Get-PaastaConfiguration).$Name | Should -Be $Value -Because 'the saved value is untouched'
        Remove-Item "env:$Env"
        (Get-PaastaConfiguration -Effective).$Name | Should -Be $Value
    }

    It 'saves -ClusterContext as a map, lets $env:PAASTA_CLUSTER_CONTEXT override it, and clears it with an empty map' {
        Save @{ ClusterContext = @{ prod = 'ctx-prod'; canary = 'ctx-canary' } }
        (Read-SettingsFile).clusterContext.prod | Should -Be 'ctx-prod'
        (Get-PaastaConfiguration).ClusterContext['canary'] | Should -Be 'ctx-canary'
        $env:PAASTA_CLUSTER_CONTEXT = 'prod=env-prod'
        (Get-PaastaConfiguration -Effective).ClusterContext['prod'] | Should -Be 'env-prod'
        (Get-PaastaConfiguration -Effective).ClusterContext.Keys | Should -Not -Contain 'canary'
        Remove-Item env:PAASTA_CLUSTER_CONTEXT
        Save @{ ClusterContext = @{} }
        (Read-SettingsFile).Keys | Should -Not -Contain 'clusterContext'
    }

    It 'takes the first file of a KUBECONFIG list, as the Kubernetes cmdlets do' {
        $env:KUBECONFIG = "/srv/a/config$([IO.Path]::PathSeparator)/srv/b/config"
        (Get-PaastaConfiguration -Effective).KubeConfig | Should -Be '/srv/a/config'
    }

    It 'falls back to the built-in defaults when nothing is set' {
        $effective = Get-PaastaConfiguration -Effective
        $effective.SoaDir | Should -Be '/nail/etc/services'
        $effective.KubeConfig | Should -Be (Join-Path $HOME '.kube/config')
        $effective.SensuSocket | Should -Be '127.0.0.1:3030'
        foreach ($unset in 'Cluster', 'KubeContext', 'DockerRegistry', 'TronUrl', 'HacheckSidecarImage') { $effective.$unset | Should -BeNullOrEmpty }
    }

    It 'saves -SoaDir and -KubeConfig as full paths, resolved against the current location' {
        Push-Location $TestDrive
        try { Save @{ SoaDir = 'soa'; KubeConfig = 'kubeconfig' } } finally { Pop-Location }
        (Get-PaastaConfiguration).SoaDir | Should -Be (Join-Path $TestDrive 'soa')
        (Get-PaastaConfiguration).KubeConfig | Should -Be (Join-Path $TestDrive 'kubeconfig')
    }

    It 'refuses an unreadable settings file with SettingsFileInvalid' {
        Set-Content $env:PAASTA_CONFIG '{ "soaDir": '
        { Get-PaastaConfiguration } | Should -Throw -ErrorId 'SettingsFileInvalid,Paasta.Commands.GetPaastaConfiguration'
    }

    It 'writes nothing under -WhatIf, and returns the settings only with -PassThru' {
        Set-PaastaConfiguration -Cluster c -WhatIf
        Test-Path $env:PAASTA_CONFIG | Should -BeFalse
        Set-PaastaConfiguration -Cluster c -Confirm:$false | Should -BeNullOrEmpty
        (Set-PaastaConfiguration -TronUrl http://t.example -PassThru -Confirm:$false).Cluster | Should -Be 'c'
    }
}

Describe 'Cmdlets use the configuration: parameter, then environment, then file' {
    BeforeEach { Reset-Environment }

    It 'SoaDir: Get-PaastaService reads the configured soa-configs' {
        Save @{ SoaDir = $Soa }
        (Get-PaastaService).Name | Should -Be @('hello')
        $env:PAASTA_SOA_DIR = Join-Path $env:PAASTA_REPO_ROOT 'examples/soa-configs'
        (Get-PaastaService).Name | Should -Contain 'example_service'
        (Get-PaastaService -SoaDir $Soa).Name | Should -Be @('hello')
    }

    It 'Cluster: ConvertTo-PaastaTronConfig uses the configured cluster' {
        Save @{ SoaDir = $Soa; Cluster = 'local'; DockerRegistry = 'r.example:5000' }
        (ConvertTo-PaastaTronConfig -Service hello).Cluster | Should -Be 'local'
        Save @{ Cluster = 'nowhere' }
        $env:PAASTA_CLUSTER = 'local'
        (ConvertTo-PaastaTronConfig -Service hello).Cluster | Should -Be 'local'
        $env:PAASTA_CLUSTER = 'nowhere'
        (ConvertTo-PaastaTronConfig -Service hello -Cluster local).Cluster | Should -Be 'local'
        Save @{ Cluster = '' }
        $env:PAASTA_CLUSTER = $null
        (Get-Refusal { ConvertTo-PaastaTronConfig -Service hello -ErrorAction Stop }).FullyQualifiedErrorId |
            Should -Be 'ClusterNotSpecified,Paasta.Commands.ConvertToPaastaTronConfig'
    }

    It 'DockerRegistry: the images ConvertTo-PaastaTronConfig writes come from the configured registry' {
        Save @{ SoaDir = $Soa; DockerRegistry = 'file.example:5000' }
        (ConvertTo-PaastaTronConfig -Service hello -Cluster local).Yaml | Should -Match "docker_image: file\.example:5000/services-hello:paasta-$Sha"
        $env:PAASTA_DOCKER_REGISTRY = 'env.example:5000'
        (ConvertTo-PaastaTronConfig -Service hello -Cluster local).Yaml | Should -Match "docker_image: env\.example:5000/services-hello:paasta-$Sha"
        (ConvertTo-PaastaTronConfig -Service hello -Cluster local -Registry param.example:5000).Yaml | Should -Match "docker_image: param\.example:5000/services-hello:paasta-$Sha"
    }

    It 'KubeConfig: Get-PaastaInstanceStatus opens the configured kubeconfig' {
        Save @{ SoaDir = $Soa; KubeConfig = (Join-Path $TestDrive 'missing-file') }
        $e = Get-Refusal { Get-PaastaInstanceStatus -Service hello -Cluster local -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -Be 'KubeConfigNotFound,Paasta.Commands.GetPaastaInstanceStatus'
        $e.TargetObject | Should -Be (Join-Path $TestDrive 'missing-file')
        $env:KUBECONFIG = Join-Path $TestDrive 'missing-env'
        (Get-Refusal { Get-PaastaInstanceStatus -Service hello -Cluster local -ErrorAction Stop }).TargetObject | Should -Be (Join-Path $TestDrive 'missing-env')
        (Get-Refusal { Get-PaastaInstanceStatus -Service hello -Cluster local -KubeConfig (Join-Path $TestDrive 'missing-param') -ErrorAction Stop }).TargetObject |
            Should -Be (Join-Path $TestDrive 'missing-param')
    }

    It 'KubeContext: Get-PaastaInstanceStatus selects the configured context' {
        Save @{ SoaDir = $Soa; KubeConfig = $KubeFile; KubeContext = 'file-context' }
        $e = Get-Refusal { Get-PaastaInstanceStatus -Service hello -Cluster local -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -Be 'KubeConfigInvalid,Paasta.Commands.GetPaastaInstanceStatus'
        $e.Exception.Message | Should -Match '\(context file-context\)'
        $env:PAASTA_KUBE_CONTEXT = 'env-context'
        (Get-Refusal { Get-PaastaInstanceStatus -Service hello -Cluster local -ErrorAction Stop }).Exception.Message | Should -Match '\(context env-context\)'
        (Get-Refusal { Get-PaastaInstanceStatus -Service hello -Cluster local -Context param-context -ErrorAction Stop }).Exception.Message |
            Should -Match '\(context param-context\)'
    }

    It 'SensuSocket: Send-PaastaSensuEvent connects to the configured socket' {
        $event = [pscustomobject]@{ Name = 'check'; Status = 0; Output = 'fine'; Team = 'team' }
        $filePort = Get-ClosedPort
        Save @{ SensuSocket = "127.0.0.1:$filePort" }
        $e = Get-Refusal { $event | Send-PaastaSensuEvent -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -Be 'SensuConnectionRefused,Paasta.Commands.SendPaastaSensuEvent'
        $e.Exception.Message | Should -Match "127\.0\.0\.1:$filePort\b"
        $envPort = Get-ClosedPort
        $env:PAASTA_SENSU_SOCKET = "127.0.0.1:$envPort"
        (Get-Refusal { $event | Send-PaastaSensuEvent -ErrorAction Stop }).Exception.Message | Should -Match "127\.0\.0\.1:$envPort\b"
        $paramPort = Get-ClosedPort
        (Get-Refusal { $event | Send-PaastaSensuEvent -SensuSocket "127.0.0.1:$paramPort" -ErrorAction Stop }).Exception.Message | Should -Match "127\.0\.0\.1:$paramPort\b"
    }

    It 'TronUrl: Sync-PaastaTronNamespace talks to the configured master' {
        $filePort = Get-ClosedPort
        Save @{ SoaDir = $Soa; DockerRegistry = 'r.example:5000'; TronUrl = "http://127.0.0.1:$filePort" }
        $e = Get-Refusal { Sync-PaastaTronNamespace -Service hello -Cluster local -Confirm:$false -ErrorAction Stop }
        $e.FullyQualifiedErrorId | Should -Be 'TronUnreachable,Paasta.Commands.SyncPaastaTronNamespace'
        $e.TargetObject | Should -Be "http://127.0.0.1:$filePort/"
        $envPort = Get-ClosedPort
        $env:PAASTA_TRON_URL = "http://127.0.0.1:$envPort"
        (Get-Refusal { Sync-PaastaTronNamespace -Service hello -Cluster local -Confirm:$false -ErrorAction Stop }).TargetObject | Should -Be "http://127.0.0.1:$envPort/"
        $paramPort = Get-ClosedPort
        (Get-Refusal { Sync-PaastaTronNamespace -Service hello -Cluster local -TronUrl "http://127.0.0.1:$paramPort" -Confirm:$false -ErrorAction Stop }).TargetObject |
            Should -Be "http://127.0.0.1:$paramPort/"
    }
}

Describe 'HacheckSidecarImage: Sync-PaastaInstance builds mesh instances with the configured sidecar' -Tag Integration {
    BeforeAll {
        $env:KUBECONFIG = $PlatformKubeConfig
        $script:Up = [bool]$PlatformKubeConfig -and (Test-KubernetesUp)
        # A mesh-registered service (smartstack.yaml) that was never synced: -WhatIf plans its creation and writes nothing.
        $script:MeshSoa = Join-Path $TestDrive 'mesh'
        $null = New-Item -ItemType Directory (Join-Path $MeshSoa 'cfgmesh')
        Set-Content (Join-Path $MeshSoa 'cfgmesh/service.yaml') "description: t`nexternal_link: http://example`ngit_url: null`ndocker_registry: 127.0.0.1:5000`n"
        Set-Content (Join-Path $MeshSoa 'cfgmesh/smartstack.yaml') "main: {proxy_port: 20999}`n"
        Set-Content (Join-Path $MeshSoa 'cfgmesh/kubernetes-local.yaml') "main:`n  deploy_group: local.everything`n  instances: 1`n  cpus: 0.1`n  mem: 64`n"
        Set-Content (Join-Path $MeshSoa 'cfgmesh/deployments.json') ('{"v1": {}, "v2": {"deployments": {"local.everything": {"docker_image": "services-cfgmesh:paasta-' + $Sha + '", "git_sha": "' + $Sha + '", "image_version": null}}, "controls": {"cfgmesh:local.main": {"desired_state": "start", "force_bounce": null}}}}')
        function Plan { Sync-PaastaInstance -SoaDir $MeshSoa -Service cfgmesh -Cluster local -KubeConfig $PlatformKubeConfig -WhatIf }
    }
    BeforeEach { Reset-Environment }

    It 'adds the sidecar only when an image is configured, the environment winning over the file' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        $none = Plan
        $none.Message | Should -Match 'no hacheck sidecar image is configured'

        Save @{ HacheckSidecarImage = 'file.example/hacheck:1' }
        $file = Plan
        $file.Message | Should -Not -Match 'no hacheck sidecar image'
        $file.NewConfigSha | Should -Not -Be $none.NewConfigSha

        $env:PAASTA_HACHECK_SIDECAR_IMAGE = 'env.example/hacheck:2'
        $both = Plan
        $both.NewConfigSha | Should -Not -Be $file.NewConfigSha
        Save @{ HacheckSidecarImage = '' }
        (Plan).NewConfigSha | Should -Be $both.NewConfigSha -Because 'with the environment set, the saved image does not matter'
    }
}
