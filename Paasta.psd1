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
    AliasesToExport        = @('New-PaastaDeployment')
    VariablesToExport      = @()
    # No HelpInfoURI: no updatable help is published anywhere, and an address that answers nothing makes
    # Update-Help fail. The full MAML help and the about_ topics ship inside the package instead.
    PrivateData            = @{
        PSData = @{
            Tags         = @('PaaSTA', 'Kubernetes', 'Docker', 'Deployment', 'GitOps', 'soa-configs', 'Tron', 'Sensu', 'PSEdition_Core', 'Linux')
            ProjectUri   = 'https://github.com/paasta-powershell/paasta'
            LicenseUri   = 'https://github.com/paasta-powershell/paasta/blob/main/LICENSE'
            ReleaseNotes = @'
## 0.1.0
First release: PaaSTA's workflow as PowerShell cmdlets that return typed objects.
- soa-configs: Get-PaastaService, Get-PaastaInstance (merged values, each with its source), Test-PaastaConfig, Test-PaastaService.
- The git deploy contract: Publish-PaastaDeployment, Undo-PaastaDeployment, Start-/Stop-/Restart-PaastaInstance and Get-PaastaDeployment; New-PaastaDeployments writes deployments.json byte for byte as PaaSTA does, and -Verbose says which tag won for each deploy group and instance.
- Kubernetes: Sync-PaastaInstance (bounce methods crossover, brutal, downthenup, upthendown; drained through drain methods), Get-PaastaInstanceStatus, Wait-PaastaDeployment.
- Drain methods: Register-, Get-, Unregister- and Invoke-PaastaDrainMethod (scriptblocks or compiled classes).
- Jobs: ConvertTo-PaastaTronConfig, Sync-PaastaTronNamespace, Sync-PaastaJob, Get-PaastaJob, Start-PaastaJob.
- Local runs and images: Invoke-PaastaLocalRun, Build-PaastaImage, Publish-PaastaImage.
- Monitoring: Test-PaastaReplication, Send-PaastaSensuEvent.
- Per-user defaults: Get-/Set-PaastaConfiguration, each overridable by an environment variable (Get-Help about_Paasta, section CONFIGURATION).
- Operator experience: tab completion of services, instances, clusters, deploy groups and instance types; progress on git pushes, bounces and drain calls; action cmdlets return their results with -PassThru; stable ErrorIds (Get-Help about_Paasta_Errors); dependencies load in their own context, and only when needed.
'@
        }
    }
}
