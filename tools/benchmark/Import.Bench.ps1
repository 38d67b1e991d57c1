#Requires -Version 7.4
# Import cost (issue 10): a whole `pwsh -c 'Import-Module Paasta'` process against a bare `pwsh -c exit`,
# same executable, interleaved, median of 7. Target: at most 0.3 s extra. Heavy dependencies (Kubernetes,
# Docker, git) must load only when a cmdlet needs them, so a third row runs one real command.
param([Parameter(Mandatory)] [string] $ModuleManifest)
$ErrorActionPreference = 'Stop'
$process = [Environment]::ProcessPath
$prefix = @(if ((Split-Path -Leaf $process) -match '^dotnet(\.exe)?$') { Join-Path $PSHOME 'pwsh.dll' })
$examples = Join-Path $PSScriptRoot '../../examples/soa-configs'

function Measure-Pwsh([string] $Command) {
    $sw = [Diagnostics.Stopwatch]::StartNew()
    & $process @prefix -NoProfile -NonInteractive -Command $Command | Out-Null
    if ($LASTEXITCODE -ne 0) { throw "pwsh -c '$Command' failed" }
    $sw.Elapsed.TotalSeconds
}

$bare = [Collections.Generic.List[double]]::new()
$import = [Collections.Generic.List[double]]::new()
$use = [Collections.Generic.List[double]]::new()
$null = Measure-Pwsh "Import-Module '$ModuleManifest'"   # warm the disk cache
foreach ($i in 1..7) {
    $bare.Add((Measure-Pwsh 'exit'))
    $import.Add((Measure-Pwsh "Import-Module '$ModuleManifest'"))
    $use.Add((Measure-Pwsh "Import-Module '$ModuleManifest'; `$null = Get-PaastaInstance -SoaDir '$examples'"))
}
function Median($values) { ($values | Sort-Object)[[int][math]::Floor($values.Count / 2)] }
$b = Median $bare; $m = Median $import; $u = Median $use
'import: pwsh -c exit {0:N3} s; with Import-Module Paasta {1:N3} s = {2:N3} s extra (target <= 0.3 s: {3})' -f $b, $m, ($m - $b), $(if ($m - $b -le 0.3) { 'met' } else { 'NOT met' })
'import: Import-Module + Get-PaastaInstance on the examples {0:N3} s ({1:N3} s over bare pwsh)' -f $u, ($u - $b)
# What each step loads, in any load context (tests/Module.Tests.ps1 asserts the same). Run with an empty
# cache folder: otherwise pwsh's startup JIT profile pre-compiles in the background what the runs above ran,
# which loads Paasta.Core whatever the measured command does.
$heavyNames = 'KubernetesClient', 'Docker.DotNet', 'LibGit2Sharp', 'YamlDotNet', 'Paasta.Core'
$probe = "([System.Runtime.Loader.AssemblyLoadContext]::All.Assemblies | ForEach-Object { `$_.GetName().Name }) -join ','"
$savedCache = $env:XDG_CACHE_HOME
$freshCache = New-Item -ItemType Directory (Join-Path ([IO.Path]::GetTempPath()) "paasta-bench-cache-$([guid]::NewGuid().ToString('N'))")
try {
    foreach ($step in @(@('Import-Module alone', ''), @('Import-Module + Get-PaastaInstance', "`$null = Get-PaastaInstance -SoaDir '$examples'; "))) {
        $env:XDG_CACHE_HOME = Join-Path $freshCache ($step[0] -replace '\W', '')
        $loaded = & $process @prefix -NoProfile -NonInteractive -Command "Import-Module '$ModuleManifest'; $($step[1])$probe"
        $heavy = $heavyNames | Where-Object { ($loaded -split ',') -contains $_ }
        'import: dependencies loaded by {0}: {1}' -f $step[0], $(if ($heavy) { $heavy -join ', ' } else { 'none' })
    }
}
finally {
    $env:XDG_CACHE_HOME = $savedCache
    Remove-Item -Recurse -Force $freshCache
}
