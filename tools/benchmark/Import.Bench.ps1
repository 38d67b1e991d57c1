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
$loaded = & $process @prefix -NoProfile -NonInteractive -Command "Import-Module '$ModuleManifest'; [AppDomain]::CurrentDomain.GetAssemblies().GetName().Name -join ','"
$heavy = 'KubernetesClient', 'Docker.DotNet', 'LibGit2Sharp', 'YamlDotNet', 'Paasta.Core' | Where-Object { ($loaded -split ',') -contains $_ }
'import: dependencies loaded by Import-Module alone: {0}' -f $(if ($heavy) { $heavy -join ', ' } else { 'none' })
