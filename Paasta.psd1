@{
    RootModule             = 'Paasta.dll'
    # Stamped by build.ps1 from Directory.Build.props; keep in step.
    ModuleVersion          = '0.1.0'
    GUID                   = '5d0f5a3e-6f5c-4f0e-9d53-2f3c9d7a41b2'
    Author                 = 'Paasta contributors'
    CompanyName            = 'Paasta contributors'
    Copyright              = '(c) Paasta contributors. Apache-2.0.'
    Description            = 'PaaSTA for PowerShell: soa-configs, git deploy tags, deployments.json, Kubernetes services with safe bounces and drain methods, Tron jobs and CronJobs, local runs in Docker, and replication monitoring — as typed objects.'
    CompatiblePSEditions   = @('Core')
    PowerShellVersion      = '7.4'
    FormatsToProcess       = @('Paasta.format.ps1xml')
    CmdletsToExport        = @(
        'Get-PaastaService'
        'Get-PaastaInstance'
        'Test-PaastaConfig'
        'Get-PaastaConfiguration'
        'Set-PaastaConfiguration'
        'Sync-PaastaInstance'
        'Get-PaastaInstanceStatus'
        'Wait-PaastaDeployment'
        'ConvertTo-PaastaKubernetesObject'
        'Publish-PaastaDeployment'
        'Start-PaastaInstance'
        'Stop-PaastaInstance'
        'Restart-PaastaInstance'
        'New-PaastaDeployments'
        'Get-PaastaDeployment'
        'Undo-PaastaDeployment'
        'Deploy-PaastaService'
        'Invoke-PaastaLocalRun'
        'Build-PaastaImage'
        'Publish-PaastaImage'
        'Test-PaastaService'
        'Test-PaastaReplication'
        'Send-PaastaSensuEvent'
        'ConvertTo-PaastaTronConfig'
        'Sync-PaastaTronNamespace'
        'Sync-PaastaJob'
        'Get-PaastaJob'
        'Start-PaastaJob'
        'Register-PaastaDrainMethod'
        'Get-PaastaDrainMethod'
        'Unregister-PaastaDrainMethod'
        'Invoke-PaastaDrainMethod'
    )
    FunctionsToExport      = @()
    AliasesToExport        = @()
    VariablesToExport      = @()
    # No HelpInfoURI: no updatable help is published anywhere, and an address that answers nothing makes
    # Update-Help fail. The full MAML help and the about_ topics ship inside the package instead.
    PrivateData            = @{
        PSData = @{
            Tags         = @('PaaSTA', 'Kubernetes', 'Docker', 'Deployment', 'GitOps', 'soa-configs', 'Tron', 'Sensu', 'PSEdition_Core', 'Linux')
            # No ProjectUri: Paasta has no public project page yet, and the Gallery must not link to one that does not exist.
            LicenseUri   = 'https://www.apache.org/licenses/LICENSE-2.0'
            # Release notes live in CHANGELOG.md only: build.ps1 puts the section of ModuleVersion here.
            ReleaseNotes = 'See CHANGELOG.md.'
        }
    }
}
