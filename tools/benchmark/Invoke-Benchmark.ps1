#Requires -Version 7.4
# Runs every tools/benchmark/*.Bench.ps1 against the built module and prints their figures.
# Each bench measures Paasta next to a baseline run in the same process (git, kubectl, docker, or bare pwsh).
# -Name runs only the benches named (Kubernetes, or Kubernetes.Bench; wildcards allowed).
param(
    [Parameter(Mandatory)] [string] $ModuleManifest,
    [string[]] $Name
)
$ErrorActionPreference = 'Stop'
$failed = 0
$benches = @(Get-ChildItem $PSScriptRoot -Filter '*.Bench.ps1' | Sort-Object Name)
$Name = @($Name -split ',' | ForEach-Object Trim | Where-Object { $_ })   # 'a,b' arrives as one string through pwsh -File
if ($Name) {
    $benches = @($benches | Where-Object { $b = $_; $Name | Where-Object { $b.BaseName -like $_ -or $b.BaseName -like "$_.Bench" } })
    if (-not $benches) { throw "No benchmark matches $($Name -join ', ') in $PSScriptRoot." }
}
foreach ($bench in $benches) {
    Write-Host "--- $($bench.BaseName)" -ForegroundColor Cyan
    try { & $bench.FullName -ModuleManifest $ModuleManifest }
    catch { $failed++; Write-Warning "$($bench.BaseName) could not run: $_" }
}
if ($failed) { exit 1 }
