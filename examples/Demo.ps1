#Requires -Version 7.4
# The README's main job: a short tour of Paasta over examples/soa-configs.
param([Parameter(Mandatory)] [string] $ModuleManifest)
$ErrorActionPreference = 'Stop'
Import-Module $ModuleManifest -Force
$soa = Join-Path $PSScriptRoot 'soa-configs'

function Show([string] $Title, [scriptblock] $Block) {
    Write-Host "`nPS> $($Block.ToString().Trim())" -ForegroundColor Cyan
    Write-Host "    # $Title" -ForegroundColor DarkGray
    & $Block | Out-Host
}

Show 'Every service, with team, clusters and deploy groups' { Get-PaastaService -SoaDir $soa }
Show 'Every instance, merged and defaulted exactly as PaaSTA does' { Get-PaastaInstance -SoaDir $soa }
Show 'Where each value of hello.main came from' {
    (Get-PaastaInstance -SoaDir $soa -Service hello -Instance main).Sources.Values | Where-Object Origin -ne Default
}
Show 'Validation: schemas plus the rules that span files' { Test-PaastaConfig -SoaDir $soa -Verbose 4>&1 }
Show 'The same, as a check a script can branch on' { Test-PaastaConfig -SoaDir $soa -Quiet }
