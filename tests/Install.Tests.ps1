#Requires -Version 7.4
# The module as the Gallery delivers it (issue 10): packed to a .nupkg, installed from a file repository
# with Install-PSResource and with Install-Module into a clean user profile, imported by a fresh pwsh.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'Paasta.TestUtils.psm1') -Force
    $script:ModuleDir = Split-Path $env:PAASTA_TEST_MODULE
    $script:Version = (Import-PowerShellDataFile $env:PAASTA_TEST_MODULE).ModuleVersion
    $script:Examples = Join-Path $env:PAASTA_REPO_ROOT 'examples/soa-configs'
    $script:Repo = New-Item -ItemType Directory (Join-Path $TestDrive 'repo')
    Compress-PSResource -Path $ModuleDir -DestinationPath $Repo

    # Runs a script in a fresh pwsh whose HOME is a new, empty profile: installs land there, nothing else is touched.
    function Invoke-InCleanProfile([string] $ProfileName, [string] $Script) {
        $profileDir = New-Item -ItemType Directory -Force (Join-Path $TestDrive $ProfileName)
        $saved = $env:HOME, $env:PSModulePath
        try {
            $env:HOME = $profileDir.FullName
            $env:PSModulePath = $null
            Invoke-ChildPwsh -Command "`$ErrorActionPreference = 'Stop'; $Script"
        }
        finally { $env:HOME, $env:PSModulePath = $saved }
    }
}

Describe 'Gallery package' {
    It 'is a nupkg the Gallery tooling accepts, with the manifest and help inside' {
        $nupkg = Join-Path $Repo "Paasta.$Version.nupkg"
        Test-Path $nupkg | Should -BeTrue
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        $zip = [IO.Compression.ZipFile]::OpenRead($nupkg)
        try { $entries = $zip.Entries.FullName } finally { $zip.Dispose() }
        $entries | Should -Contain 'Paasta.psd1'
        $entries | Should -Contain 'Paasta.nuspec'
        $entries | Should -Contain 'en-US/Paasta.dll-Help.xml'
        $entries | Should -Contain 'dependencies/YamlDotNet.dll'
    }

    It 'installs with Install-PSResource and imports in a fresh pwsh' {
        $out = Invoke-InCleanProfile 'home-psresourceget' @"
Register-PSResourceRepository -Name PaastaLocal -Uri '$Repo' -Trusted
Install-PSResource -Name Paasta -Repository PaastaLocal -Scope CurrentUser -TrustRepository -Quiet
`$fresh = [Environment]::ProcessPath
`$prefix = @(if ((Split-Path -Leaf `$fresh) -match '^dotnet') { Join-Path `$PSHOME 'pwsh.dll' })
& `$fresh @prefix -NoProfile -NonInteractive -Command "Import-Module Paasta; (Get-Module Paasta).ModuleBase; (Get-PaastaInstance -SoaDir '$Examples' -Service hello -Instance main).Instances"
"@
        $LASTEXITCODE | Should -Be 0
        $out[-2] | Should -BeLike (Join-Path $TestDrive 'home-psresourceget/*/Paasta/*')
        $out[-1] | Should -Be '3'
    }

    It 'installs with Install-Module and imports in a fresh pwsh' {
        $out = Invoke-InCleanProfile 'home-powershellget' @"
Register-PSRepository -Name PaastaLocal -SourceLocation '$Repo' -InstallationPolicy Trusted
Install-Module -Name Paasta -Repository PaastaLocal -Scope CurrentUser
`$fresh = [Environment]::ProcessPath
`$prefix = @(if ((Split-Path -Leaf `$fresh) -match '^dotnet') { Join-Path `$PSHOME 'pwsh.dll' })
& `$fresh @prefix -NoProfile -NonInteractive -Command "Import-Module Paasta; (Get-Module Paasta).ModuleBase; (Get-Command -Module Paasta).Count"
"@
        $LASTEXITCODE | Should -Be 0
        $out[-2] | Should -BeLike (Join-Path $TestDrive 'home-powershellget/*/Paasta/*')
        [int]$out[-1] | Should -BeGreaterThan 5
    }
}
