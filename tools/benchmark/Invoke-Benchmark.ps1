#Requires -Version 7.4
# Runs every tools/benchmark/*.Bench.ps1 against the built module and prints their figures.
# Each bench measures Paasta next to a baseline run in the same process (git, kubectl, docker, or bare pwsh).
param([Parameter(Mandatory)] [string] $ModuleManifest)
$ErrorActionPreference = 'Stop'
$failed = 0
foreach ($bench in Get-ChildItem $PSScriptRoot -Filter '*.Bench.ps1' | Sort-Object Name) {
    Write-Host "--- $($bench.BaseName)" -ForegroundColor Cyan
    try { & $bench.FullName -ModuleManifest $ModuleManifest }
    catch { $failed++; Write-Warning "$($bench.BaseName) could not run: $_" }
}
if ($failed) { exit 1 }
