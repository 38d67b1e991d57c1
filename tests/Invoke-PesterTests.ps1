#Requires -Version 7.4
# Runs the Pester suites against a built module in this (fresh) process and writes a JSON summary.
param(
    [Parameter(Mandatory)] [string] $ModuleManifest,
    [Parameter(Mandatory)] [string] $PesterManifest,
    [Parameter(Mandatory)] [string] $ResultDirectory,
    [string] $Name = 'pester',
    [string] $Tag,
    [string] $ExcludeTag,
    # Test files to run, separated by '|' (default: every file in this folder).
    [string] $Files
)
$ErrorActionPreference = 'Stop'
Import-Module $PesterManifest -Force
$env:PAASTA_TEST_MODULE = (Resolve-Path $ModuleManifest).Path
$env:PAASTA_REPO_ROOT = (Resolve-Path (Join-Path $PSScriptRoot '..')).Path
# The module keeps a cache under $XDG_CACHE_HOME (API discovery, docs/CONFIGURATION.md); a test run keeps its own,
# in a temporary folder it removes, and leaves the user's home alone.
$cacheHome = Join-Path ([IO.Path]::GetTempPath()) "paasta-test-cache-$PID"
$env:XDG_CACHE_HOME = (New-Item -ItemType Directory -Force $cacheHome).FullName

$config = New-PesterConfiguration
$config.Run.Path = if ($Files) { @($Files -split '\|' | Where-Object { $_ }) } else { $PSScriptRoot }
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Normal'
$config.TestResult.Enabled = $true
$config.TestResult.OutputFormat = 'NUnitXml'
$config.TestResult.OutputPath = Join-Path $ResultDirectory "$Name.xml"
if ($Tag) { $config.Filter.Tag = $Tag -split ',' }
if ($ExcludeTag) { $config.Filter.ExcludeTag = $ExcludeTag -split ',' }

try { $result = Invoke-Pester -Configuration $config }
finally { Remove-Item -Recurse -Force $cacheHome -ErrorAction SilentlyContinue }
# A container that failed to run (syntax error, BeforeAll throwing) counts as a failure too.
$failed = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
# The names and first error lines of what failed, so the run's last lines say what to look at.
$failures = @(@($result.Failed) + @($result.FailedBlocks) + @($result.FailedContainers) | Where-Object { $_ } | ForEach-Object {
    $what = if ($_.ExpandedPath) { $_.ExpandedPath } elseif ($_.Item) { "$($_.Item)" } else { "$($_.Name)" }
    $why = @($_.ErrorRecord | Select-Object -First 1 | ForEach-Object { ("$($_.Exception.Message)" -split "`n")[0] })
    "$what -- $why"
})
@{ Passed = $result.PassedCount; Failed = $failed; Skipped = $result.SkippedCount; Failures = $failures } |
    ConvertTo-Json | Set-Content (Join-Path $ResultDirectory "$Name-summary.json")
