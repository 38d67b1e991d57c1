#Requires -Version 7.4
# The module as the Gallery delivers it (issue 10): the .nupkg that `build.ps1 -Task Package` makes, installed
# from a file repository with Install-PSResource and with Install-Module into a clean user profile, then
# imported by a fresh pwsh that runs a command.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'Paasta.TestUtils.psm1') -Force
    $script:Examples = Join-Path $env:PAASTA_REPO_ROOT 'examples/soa-configs'
    $script:ManifestVersion = (Import-PowerShellDataFile $env:PAASTA_TEST_MODULE).ModuleVersion

    # build.ps1's own Package function, run over the module under test. Only its first step, Invoke-Build,
    # is replaced (by nothing): the module is built already, and rebuilding it would replace the files
    # this test run has loaded. Everything the Package task does after building runs as written.
    $buildScript = Join-Path $env:PAASTA_REPO_ROOT 'build.ps1'
    $ast = [System.Management.Automation.Language.Parser]::ParseFile($buildScript, [ref]$null, [ref]$null)
    $functions = @{}
    foreach ($f in $ast.FindAll({ param($n) $n -is [System.Management.Automation.Language.FunctionDefinitionAst] }, $false)) { $functions[$f.Name] = $f.Extent.Text }
    foreach ($needed in 'Invoke-Package', 'Write-Step') {
        if (-not $functions.ContainsKey($needed)) { throw "build.ps1 has no function $needed any more; this test runs the Package task through it." }
    }
    # The variables build.ps1 sets before its functions run: the version it reads, the built module, and out/.
    $script:Version = ([xml](Get-Content -Raw (Join-Path $env:PAASTA_REPO_ROOT 'Directory.Build.props'))).Project.PropertyGroup.Version
    $ModuleDir = Split-Path $env:PAASTA_TEST_MODULE
    $OutDir = Join-Path $TestDrive 'out'
    function Invoke-Build { }
    . ([scriptblock]::Create($functions['Write-Step'] + "`n" + $functions['Invoke-Package']))
    Invoke-Package | Out-Null
    $script:Repo = Join-Path $OutDir 'packages'
    $script:Nupkg = Join-Path $Repo "Paasta.$Version.nupkg"

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
    It 'is the Package task''s nupkg, named for the manifest''s version, with the manifest and help inside' {
        $nupkg = $Nupkg
        Test-Path $nupkg | Should -BeTrue
        $Version | Should -Be $ManifestVersion
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        $zip = [IO.Compression.ZipFile]::OpenRead($nupkg)
        try { $entries = $zip.Entries.FullName } finally { $zip.Dispose() }
        $entries | Should -Contain 'Paasta.psd1'
        $entries | Should -Contain 'Paasta.nuspec'
        $entries | Should -Contain 'en-US/Paasta.dll-Help.xml'
        $entries | Should -Contain 'dependencies/YamlDotNet.dll'
        $entries | Should -Contain 'en-US/about_Paasta.help.txt'
        $entries | Where-Object { $_ -like '*.dll' -and $_ -notlike 'dependencies/*' } | Should -Be @('Paasta.dll')
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
& `$fresh @prefix -NoProfile -NonInteractive -Command "Import-Module Paasta; (Get-Module Paasta).ModuleBase; (Get-Module Paasta).Version.ToString(); (Get-PaastaService -SoaDir '$Examples').Name -join ','"
"@
        $LASTEXITCODE | Should -Be 0
        $out[-3] | Should -BeLike (Join-Path $TestDrive 'home-powershellget/*/Paasta/*')
        $out[-2] | Should -Be $Version
        $out[-1] | Should -Be 'example_service,hello'
    }
}
