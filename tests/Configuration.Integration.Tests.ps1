#Requires -Version 7.4
# Per-user configuration on the real local cluster: the settings a cluster-facing cmdlet takes effect in what it plans.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Configuration.TestSetup.ps1')
}
AfterAll {
    foreach ($v in $Variables) { [Environment]::SetEnvironmentVariable($v, $Saved[$v]) }
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
