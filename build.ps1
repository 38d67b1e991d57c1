#Requires -Version 7.4
<#
.SYNOPSIS
    Builds, tests, packages and benchmarks the Paasta module; starts the local platform.
.DESCRIPTION
    -Task Build      assembles a ready module folder out/Paasta/<version>/ (default).
    -Task Test       builds, brings the local platform up where it can, runs xunit and Pester against the
                     built module, and ends with one line "N passed, N failed".
    -Task Package    makes out/packages/Paasta.<version>.nupkg, as the PowerShell Gallery accepts it.
    -Task Benchmark  prints performance figures next to a baseline measured in the same run
                     (-Bench Kubernetes,Config runs only those files of tools/benchmark).
    -Task Demo       the README's main job: builds the module and shows what Paasta does.
    -Task Platform   -Action Up|Down|Status: the local Docker engine, Kubernetes cluster and registry.
    -Task Clean      removes build output (never the platform's state).
    Every task is safe to run again.
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Package', 'Benchmark', 'Demo', 'Platform', 'Clean')]
    [string] $Task = 'Build',
    [ValidateSet('Up', 'Down', 'Status')]
    [string] $Action = 'Status',
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',
    # Pester tags to run (default: all). Example: -Tag Integration
    [string[]] $Tag,
    # Pester tags to leave out.
    [string[]] $ExcludeTag,
    # Test and Benchmark: do not start the local platform (integration tests then fail under CI=true, skip otherwise).
    [switch] $NoPlatform,
    # Benchmark: run only these benches of tools/benchmark (default: all). Example: -Bench Kubernetes
    [string[]] $Bench
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3.0
$Root = $PSScriptRoot
$Version = ([xml](Get-Content -Raw (Join-Path $Root 'Directory.Build.props'))).Project.PropertyGroup.Version
$OutDir = Join-Path $Root 'out'
$ModuleDir = Join-Path $OutDir "Paasta/$Version"
$Dotnet = (Get-Command dotnet -CommandType Application | Select-Object -First 1).Source
# The local platform's state (kubeconfig, logs, pids): .platform/, or $env:PAASTA_PLATFORM_STATE to share one.
$PlatformState = if ($env:PAASTA_PLATFORM_STATE) { $env:PAASTA_PLATFORM_STATE } else { Join-Path $Root '.platform' }

function Get-PwshCommand {
    # A fresh pwsh like this one: the apphost, or 'dotnet pwsh.dll' when PowerShell runs as a .NET tool.
    $process = [Environment]::ProcessPath
    if ((Split-Path -Leaf $process) -match '^dotnet(\.exe)?$') { return @($process, (Join-Path $PSHOME 'pwsh.dll')) }
    return @($process)
}

function Invoke-ChildPwsh([string[]] $Arguments) {
    $cmd = @(Get-PwshCommand)
    $prefix = @($cmd | Select-Object -Skip 1)
    & $cmd[0] @prefix @Arguments
}

function Write-Step([string] $Message) { Write-Host "==> $Message" -ForegroundColor Cyan }

function Invoke-Checked {
    # Runs a native command and stops the build when it fails, naming the command.
    param([string] $FilePath, [string[]] $Arguments)
    & $FilePath @Arguments
    if ($LASTEXITCODE -ne 0) { throw "'$FilePath $($Arguments -join ' ')' failed with exit code $LASTEXITCODE." }
}

function Get-NuGetPackageRoot {
    if ($env:NUGET_PACKAGES) { return $env:NUGET_PACKAGES }
    $line = & $Dotnet nuget locals global-packages --list | Select-Object -First 1
    return ($line -replace '^global-packages:\s*', '').Trim()
}

function Get-ReleaseNotes([string] $ForVersion) {
    # The '## VERSION' section of CHANGELOG.md, heading included, up to the next '## ' heading.
    $lines = Get-Content (Join-Path $Root 'CHANGELOG.md')
    $start = [array]::IndexOf($lines, ($lines | Where-Object { $_ -match "^## $([regex]::Escape($ForVersion))(\s|$)" } | Select-Object -First 1))
    if ($start -lt 0) { throw "CHANGELOG.md has no '## $ForVersion' section: write this version's release notes there." }
    $section = for ($i = $start; $i -lt $lines.Count; $i++) {
        if ($i -gt $start -and $lines[$i] -match '^## ') { break }
        $lines[$i]
    }
    if (($section -join "`n") -match "'@") { throw "CHANGELOG.md's '## $ForVersion' section may not contain the sequence '@ (it ends the manifest's string)." }
    return (($section -join "`n").Trim())
}

function Invoke-Build {
    Write-Step "Building Paasta $Version ($Configuration)"
    $stage = Join-Path $OutDir "stage"
    Invoke-Checked $Dotnet @('publish', (Join-Path $Root 'src/Paasta.Core/Paasta.Core.csproj'), '-c', $Configuration, '-o', (Join-Path $stage 'core'), '--nologo', '-v', 'quiet')
    Invoke-Checked $Dotnet @('build', (Join-Path $Root 'src/Paasta/Paasta.csproj'), '-c', $Configuration, '-o', (Join-Path $stage 'module'), '--nologo', '-v', 'quiet')

    # Lay out the module folder from an allow-list: only Paasta.dll sits next to the manifest; every
    # dependency goes to dependencies/, where the module's own load context finds it.
    if (Test-Path $ModuleDir) { Remove-Item -Recurse -Force $ModuleDir }
    $deps = New-Item -ItemType Directory -Force (Join-Path $ModuleDir 'dependencies')
    Copy-Item (Join-Path $stage 'module/Paasta.dll') $ModuleDir
    Copy-Item (Join-Path $Root 'Paasta.format.ps1xml') $ModuleDir
    Copy-Item (Join-Path $Root 'LICENSE') $ModuleDir
    Get-ChildItem (Join-Path $stage 'core') | Where-Object Name -notin @('Paasta.dll', 'Paasta.pdb') |
        Copy-Item -Destination $deps -Recurse -Force
    Invoke-ReadyToRun -Stage $stage
    New-Item -ItemType Directory -Force (Join-Path $ModuleDir 'schemas') | Out-Null
    Copy-Item (Join-Path $Root 'src/Paasta.Core/Schemas/*.json') (Join-Path $ModuleDir 'schemas')

    $manifest = Get-Content -Raw (Join-Path $Root 'Paasta.psd1')
    $manifest = $manifest -replace "ModuleVersion\s*=\s*'[^']*'", "ModuleVersion          = '$Version'"
    # Release notes are kept once, in CHANGELOG.md; the manifest gets this version's section.
    $notes = Get-ReleaseNotes $Version
    $manifest = [regex]::Replace($manifest, "ReleaseNotes\s*=\s*'[^']*'", { "ReleaseNotes = @'`n$notes`n'@" })
    Set-Content -Path (Join-Path $ModuleDir 'Paasta.psd1') -Value $manifest -NoNewline

    $helpScript = Join-Path $Root 'tools/help/New-PaastaHelp.ps1'
    if (Test-Path $helpScript) {
        Invoke-ChildPwsh @('-NoProfile', '-NonInteractive', '-File', $helpScript, '-ModuleDir', $ModuleDir, '-DocXml', (Join-Path $stage 'module/Paasta.xml'))
        if ($LASTEXITCODE -ne 0) { throw 'Help generation failed.' }
    }
    foreach ($required in 'Paasta.psd1', 'Paasta.dll', 'Paasta.format.ps1xml', 'en-US/Paasta.dll-Help.xml', 'en-US/about_Paasta.help.txt', 'dependencies/Paasta.Core.dll', 'dependencies/YamlDotNet.dll') {
        if (-not (Test-Path (Join-Path $ModuleDir $required))) { throw "Build output is missing $required." }
    }
    Write-Step "Module ready: $ModuleDir"
}

function Invoke-ReadyToRun([string] $Stage) {
    # Replaces the module's assemblies with ReadyToRun images of themselves (native code for PowerShell 7.6 on
    # linux-x64 next to the unchanged IL), so a one-shot pwsh does not JIT-compile Paasta's first call; see
    # tools/readytorun/ReadyToRun.csproj. Incremental: unchanged assemblies are not compiled again.
    $inputs = @(Join-Path $Stage 'module/Paasta.dll') + @(Get-ChildItem (Join-Path $Stage 'core') -Filter *.dll).FullName
    $references = @(Get-ChildItem (Join-Path $Stage 'core') -Filter *.dll).FullName + @(Join-Path $PSHOME 'System.Management.Automation.dll')
    $r2r = New-Item -ItemType Directory -Force (Join-Path $Stage 'r2r')
    Set-Content (Join-Path $Stage 'r2r-inputs.txt') $inputs
    Set-Content (Join-Path $Stage 'r2r-references.txt') $references
    Write-Step 'Compiling ReadyToRun images'
    Invoke-Checked $Dotnet @('msbuild', (Join-Path $Root 'tools/readytorun/ReadyToRun.csproj'), '-restore', '-t:CompileReadyToRun', '-nologo', '-v:q',
        "-p:InputList=$(Join-Path $Stage 'r2r-inputs.txt')", "-p:ReferenceList=$(Join-Path $Stage 'r2r-references.txt')", "-p:OutputDir=$($r2r.FullName)")
    Copy-Item (Join-Path $r2r 'Paasta.dll') $ModuleDir -Force
    Get-ChildItem $r2r -Filter *.dll | Where-Object Name -ne 'Paasta.dll' | Copy-Item -Destination (Join-Path $ModuleDir 'dependencies') -Force
}

function Test-PlatformUsable {
    return $IsLinux -and ((& id -u) -eq '0') -and (Get-Command apt-get -ErrorAction Ignore) -and
        (Test-Path (Join-Path $Root 'tools/platform/platform.sh'))
}

function Invoke-Platform([string] $PlatformAction) {
    $script = Join-Path $Root 'tools/platform/platform.sh'
    if (-not (Test-Path $script)) { throw "tools/platform/platform.sh is missing." }
    & bash $script $PlatformAction.ToLowerInvariant() | Out-Host
    return $LASTEXITCODE
}

function Invoke-Test {
    Invoke-Build
    $results = New-Item -ItemType Directory -Force (Join-Path $OutDir 'test-results')

    $wantsIntegration = -not $Tag -or ($Tag -contains 'Integration')
    $startedPlatform = $false
    if ($wantsIntegration -and -not $NoPlatform -and (Test-PlatformUsable)) {
        $null = & bash (Join-Path $Root 'tools/platform/platform.sh') status *>&1
        if ($LASTEXITCODE -ne 0) {
            Write-Step 'Bringing the local platform up for the integration tests'
            if ((Invoke-Platform 'Up') -ne 0) { Write-Warning 'The local platform did not come up; integration tests will report it.' }
            $startedPlatform = $true
        }
    }
    $kubeconfig = Join-Path $PlatformState 'kubeconfig'
    if (-not $env:KUBECONFIG -and (Test-Path $kubeconfig)) { $env:KUBECONFIG = $kubeconfig }

    # xunit: the engine (Paasta.Core.Tests), then the cmdlets hosted in-process against the built module (Paasta.Cmdlets.Tests).
    $xunit = @{ Passed = 0; Failed = 0; Skipped = 0 }
    $failures = [Collections.Generic.List[string]]::new()
    $env:PAASTA_TEST_MODULE = Join-Path $ModuleDir 'Paasta.psd1'
    foreach ($project in 'Paasta.Core.Tests', 'Paasta.Cmdlets.Tests') {
        Write-Step "Running xunit ($project)"
        $trx = Join-Path $results "$project.trx"
        if (Test-Path $trx) { Remove-Item $trx }
        & $Dotnet test (Join-Path $Root "tests/$project/$project.csproj") -c $Configuration --nologo `
            --logger "trx;LogFileName=$trx" --logger 'console;verbosity=minimal'
        if (Test-Path $trx) {
            $counters = ([xml](Get-Content -Raw $trx)).TestRun.ResultSummary.Counters
            $xunit.Passed += [int]$counters.passed
            $xunit.Failed += [int]$counters.failed + [int]$counters.error + [int]$counters.timeout
            $xunit.Skipped += [int]$counters.notExecuted
            foreach ($failure in (Select-Xml -Path $trx -XPath "//*[local-name()='UnitTestResult'][@outcome!='Passed' and @outcome!='NotExecuted']")) {
                $message = $failure.Node.SelectSingleNode(".//*[local-name()='Message']").InnerText
                $failures.Add("xunit $($failure.Node.testName) -- $(("$message" -split "`n")[0])")
            }
        } else {
            $xunit.Failed += 1
            Write-Warning "xunit ($project) produced no results file; counting it as one failure."
        }
    }

    # Pester's lanes (see $PesterLanes) run at once, after xunit: the cluster lanes mostly wait on the cluster, and xunit
    # (CPU-bound, with tests that watch the clock) runs alone before them. Exclusive tests (they stop the API server
    # every other test uses) run after the lanes, alone. PlatformDown stops the platform, so it runs last, on its own,
    # and only when this run started it.
    Write-Step 'Running Pester against the built module (child pwsh processes, one per lane)'
    Invoke-Checked $Dotnet @('restore', (Join-Path $Root 'tools/restore/Tools.csproj'), '--nologo', '-v', 'quiet')
    $exclude = @(@($ExcludeTag) + 'PlatformDown' | Where-Object { $_ })
    $lanes = Start-PesterLanes -Include $Tag -Exclude (@($exclude) + 'Exclusive')
    $pester = Complete-PesterLanes $lanes
    if ((-not $Tag -or $Tag -contains 'Integration' -or $Tag -contains 'Exclusive') -and $exclude -notcontains 'Integration' -and $exclude -notcontains 'Exclusive') {
        $alone = Invoke-PesterRun -Name 'pester-exclusive' -Include @('Exclusive') -Exclude $exclude
        foreach ($k in 'Passed', 'Failed', 'Skipped', 'Failures') { $pester[$k] += $alone[$k] }
    }
    if ($startedPlatform) {
        Write-Step 'Taking the platform down again, and checking it leaves nothing behind'
        $env:PAASTA_PLATFORM_DOWN_TEST = 'true'
        try { $down = Invoke-PesterRun -Name 'pester-down' -Include @('PlatformDown') -Exclude @() }
        finally { Remove-Item Env:PAASTA_PLATFORM_DOWN_TEST }
        foreach ($k in 'Passed', 'Failed', 'Skipped', 'Failures') { $pester[$k] += $down[$k] }
    }

    foreach ($failure in $pester.Failures) { $failures.Add("Pester $failure") }
    if ($failures.Count) {
        Write-Host 'Failed:'
        foreach ($failure in $failures) { Write-Host "  $($failure.Substring(0, [Math]::Min(400, $failure.Length)))" }
    }

    $passed = $xunit.Passed + $pester.Passed
    $failed = $xunit.Failed + $pester.Failed
    $skipped = $xunit.Skipped + $pester.Skipped
    Write-Host "xunit: $($xunit.Passed) passed, $($xunit.Failed) failed; Pester: $($pester.Passed) passed, $($pester.Failed) failed; $skipped skipped"
    Write-Host "$passed passed, $failed failed"
    if ($failed -gt 0) { exit 1 }
}

# Lanes of Pester files, each run in order in a child pwsh of its own, all lanes at once; the files not named here
# make one more lane. The files named mostly wait on the cluster (pods starting, a deleted pod taking the kubelet
# 10-60 s to go), which leaves the CPU to the rest. Each file touches only cluster objects of its own (its namespaces,
# or jobhello's CronJobs in tron), so lanes do not meet; Exclusive tests run after them, alone.
$PesterLanes = @(
    @('Bounce.Integration.Tests.ps1'),
    @('BounceDrain.Integration.Tests.ps1'),
    @('Kubernetes.Integration.Tests.ps1', 'Jobs.Integration.Tests.ps1')
)

function Get-PesterRunArguments([string] $Name, [string[]] $Include, [string[]] $Exclude, [string[]] $Files) {
    $runnerArgs = @('-NoProfile', '-NonInteractive', '-File', (Join-Path $Root 'tests/Invoke-PesterTests.ps1'),
        '-ModuleManifest', (Join-Path $ModuleDir 'Paasta.psd1'),
        '-PesterManifest', (Join-Path (Get-NuGetPackageRoot) 'pester/5.7.1/tools/Pester.psd1'),
        '-ResultDirectory', (Join-Path $OutDir 'test-results'), '-Name', $Name)
    if ($Include) { $runnerArgs += @('-Tag', ($Include -join ',')) }
    if ($Exclude) { $runnerArgs += @('-ExcludeTag', ($Exclude -join ',')) }
    if ($Files) { $runnerArgs += @('-Files', ($Files -join '|')) }
    $runnerArgs
}

function Read-PesterSummary([string] $Name) {
    $summary = Join-Path $OutDir "test-results/$Name-summary.json"
    if (Test-Path $summary) {
        $read = Get-Content -Raw $summary | ConvertFrom-Json -AsHashtable
        $read.Failures = @($read.Failures | Where-Object { $_ })
        return $read
    }
    Write-Warning "Pester ($Name) produced no summary; counting it as one failure."
    return @{ Passed = 0; Failed = 1; Skipped = 0; Failures = @("$Name produced no summary") }
}

function Invoke-PesterRun([string] $Name, [string[]] $Include, [string[]] $Exclude) {
    Remove-Item (Join-Path $OutDir "test-results/$Name-summary.json") -ErrorAction Ignore
    Invoke-ChildPwsh (Get-PesterRunArguments $Name $Include $Exclude) | Out-Host
    Read-PesterSummary $Name
}

function Start-PesterLanes([string[]] $Include, [string[]] $Exclude) {
    # Every lane at once, each in its own child pwsh writing to a log (Complete-PesterLanes shows each log whole, so a
    # lane's failures read as they would alone).
    $all = @(Get-ChildItem (Join-Path $Root 'tests') -Filter '*.Tests.ps1' | Sort-Object Name)
    $named = @($PesterLanes | ForEach-Object { $_ })
    $lanes = @($PesterLanes | ForEach-Object { , @($all | Where-Object Name -in $_) }) + , @($all | Where-Object Name -notin $named)
    $cmd = @(Get-PwshCommand)
    for ($i = 0; $i -lt $lanes.Count; $i++) {
        if (-not $lanes[$i]) { continue }
        $name = "pester-$($i + 1)"
        $log = Join-Path $OutDir "test-results/$name.log"
        Remove-Item (Join-Path $OutDir "test-results/$name-summary.json") -ErrorAction Ignore
        $arguments = @($cmd | Select-Object -Skip 1) + (Get-PesterRunArguments $name $Include $Exclude $lanes[$i].FullName)
        $job = Start-ThreadJob -ArgumentList $cmd[0], $arguments, $log -ScriptBlock {
            param($exe, $arguments, $log)
            & $exe @arguments *> $log
        }
        [pscustomobject]@{ Name = $name; Files = $lanes[$i].Name; Log = $log; Job = $job }
    }
}

function Complete-PesterLanes([object[]] $Lanes) {
    $total = @{ Passed = 0; Failed = 0; Skipped = 0; Failures = @() }
    foreach ($lane in $Lanes) {
        $null = Wait-Job $lane.Job
        Receive-Job $lane.Job -ErrorAction Continue | Out-Host
        Remove-Job $lane.Job
        Write-Step "Pester $($lane.Name): $($lane.Files -join ', ')"
        if (Test-Path $lane.Log) { Get-Content $lane.Log | Out-Host }
        $summary = Read-PesterSummary $lane.Name
        foreach ($k in 'Passed', 'Failed', 'Skipped', 'Failures') { $total[$k] += $summary[$k] }
    }
    $total
}

function Invoke-Package {
    Invoke-Build
    $packages = New-Item -ItemType Directory -Force (Join-Path $OutDir 'packages')
    Get-ChildItem $packages -Filter "Paasta.$Version.nupkg" | Remove-Item
    Write-Step "Packing Paasta $Version"
    Import-Module Microsoft.PowerShell.PSResourceGet -ErrorAction Stop
    Compress-PSResource -Path $ModuleDir -DestinationPath $packages
    $nupkg = Join-Path $packages "Paasta.$Version.nupkg"
    if (-not (Test-Path $nupkg)) { throw "Packing produced no $nupkg." }
    Write-Step "Package ready: $nupkg"
}

function Invoke-Demo {
    Invoke-Build
    $demoArgs = @('-NoProfile', '-File', (Join-Path $Root 'examples/Demo.ps1'), '-ModuleManifest', (Join-Path $ModuleDir 'Paasta.psd1'))
    if (Test-PlatformUsable) {
        Write-Step 'Bringing the local platform up (the first time builds Kubernetes: minutes; later: seconds)'
        if ((Invoke-Platform 'Up') -ne 0) { throw 'The local platform did not come up; see the messages above.' }
        $demoArgs += @('-Platform', '-PlatformState', $PlatformState)
    }
    Invoke-ChildPwsh $demoArgs
    if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
}

function Invoke-Benchmark {
    Invoke-Build
    # The cluster benches use the local platform, found (and started where it can run) as the Test task does.
    if (-not $NoPlatform -and (Test-PlatformUsable)) {
        $null = & bash (Join-Path $Root 'tools/platform/platform.sh') status *>&1
        if ($LASTEXITCODE -ne 0) {
            Write-Step 'Bringing the local platform up for the cluster benches'
            if ((Invoke-Platform 'Up') -ne 0) { Write-Warning 'The local platform did not come up; the cluster benches will say so.' }
        }
    }
    $kubeconfig = Join-Path $PlatformState 'kubeconfig'
    if (-not $env:KUBECONFIG -and (Test-Path $kubeconfig)) { $env:KUBECONFIG = $kubeconfig }
    $benchArgs = @('-NoProfile', '-File', (Join-Path $Root 'tools/benchmark/Invoke-Benchmark.ps1'), '-ModuleManifest', (Join-Path $ModuleDir 'Paasta.psd1'))
    if ($Bench) { $benchArgs += @('-Name', ($Bench -join ',')) }
    Invoke-ChildPwsh $benchArgs
    if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }
}

switch ($Task) {
    'Build' { Invoke-Build }
    'Test' { Invoke-Test }
    'Package' { Invoke-Package }
    'Demo' { Invoke-Demo }
    'Benchmark' { Invoke-Benchmark }
    'Platform' {
        if (-not $IsLinux) { Write-Error 'The local platform runs on Linux only; point $env:KUBECONFIG at any existing cluster instead.'; exit 2 }
        exit (Invoke-Platform $Action)
    }
    'Clean' {
        Write-Step 'Removing build output'
        foreach ($path in @($OutDir) + (Get-ChildItem $Root -Recurse -Directory -Include bin, obj | Where-Object FullName -notmatch '[\\/]\.platform[\\/]').FullName) {
            if ($path -and (Test-Path $path)) { Remove-Item -Recurse -Force $path }
        }
    }
}
