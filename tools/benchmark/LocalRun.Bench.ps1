#Requires -Version 7.4
# Local runs (issue 8): Invoke-PaastaLocalRun of a short command to completion, against `docker run --rm` of the
# same image and command, in one warm session. Runs alternate (Paasta, docker, Paasta, ...) so load from other
# users of the engine hits both alike; the median of each is compared. Target: <= 1.2x.
# A second baseline runs the docker CLI with the full command line Invoke-PaastaLocalRun -DryRun prints
# (PaaSTA's env, limits, labels, capabilities, --init), which is what the cmdlet really asks of the engine.
# The target is judged against plain docker run --rm, and reported met or NOT met.
param(
    [Parameter(Mandatory)] [string] $ModuleManifest,
    [int] $Runs = 7,
    [string] $Image = 'paasta-local/busybox:latest'
)
$ErrorActionPreference = 'Stop'
Import-Module $ModuleManifest -Force

$null = & docker image inspect $Image 2>&1
if ($LASTEXITCODE -ne 0) { throw "The image $Image is not in the Docker engine (the local platform builds it: ./build.ps1 -Task Platform -Action Up)." }

$root = Join-Path ([IO.Path]::GetTempPath()) "paasta-bench-localrun-$PID"
$soa = Join-Path $root 'soa'
$null = New-Item -ItemType Directory -Force (Join-Path $soa 'lrbench')
Set-Content (Join-Path $soa 'lrbench/service.yaml') "description: benchmark`nexternal_link: http://example`n"
Set-Content (Join-Path $soa 'lrbench/monitoring.yaml') "team: bench`n"
Set-Content (Join-Path $soa 'lrbench/deploy.yaml') "pipeline:`n- step: bench.everything`n"
Set-Content (Join-Path $soa 'lrbench/adhoc-bench.yaml') "job:`n  deploy_group: bench.everything`n  cpus: 0.5`n  mem: 128`n"
$command = 'echo done'

function Measure-Paasta {
    $sw = [Diagnostics.Stopwatch]::StartNew()
    $r = Invoke-PaastaLocalRun -SoaDir $soa -Service lrbench -Cluster bench -Instance job -Image $Image -Command $command -Confirm:$false 6>$null
    $sw.Stop()
    if ($r.ExitCode -ne 0) { throw "Invoke-PaastaLocalRun exited $($r.ExitCode)" }
    $sw.Elapsed.TotalSeconds
}

function Measure-Docker([string[]] $Arguments) {
    $sw = [Diagnostics.Stopwatch]::StartNew()
    $out = & docker @Arguments 2>&1
    $sw.Stop()
    if ($LASTEXITCODE -ne 0) { throw "docker $($Arguments -join ' ') failed: $out" }
    $sw.Elapsed.TotalSeconds
}

function Median([double[]] $values) {
    $sorted = $values | Sort-Object
    $sorted[[int][Math]::Floor($sorted.Count / 2)]
}

try {
    $plain = @('run', '--rm', $Image, 'sh', '-c', $command)
    $plan = Invoke-PaastaLocalRun -SoaDir $soa -Service lrbench -Cluster bench -Instance job -Image $Image -Command $command -DryRun
    $equivalent = @($plan.DockerArguments)

    # Warm-up: the module, the engine connection, the image's layers in the page cache.
    $null = Measure-Paasta
    $null = Measure-Docker $plain
    $null = Measure-Docker $equivalent

    $paasta = [Collections.Generic.List[double]]::new()
    $docker = [Collections.Generic.List[double]]::new()
    $full = [Collections.Generic.List[double]]::new()
    foreach ($i in 1..$Runs) {
        $paasta.Add((Measure-Paasta))
        $docker.Add((Measure-Docker $plain))
        $full.Add((Measure-Docker $equivalent))
    }
    $p = Median $paasta
    $d = Median $docker
    $f = Median $full
    $load = (Get-Content /proc/loadavg -ErrorAction Ignore) -split ' ' | Select-Object -First 1
    Write-Host ("Runs: {0} each, alternating; image {1}; command '{2}'; load average {3}" -f $Runs, $Image, $command, $load)
    Write-Host ("Invoke-PaastaLocalRun (create, attach, start, wait, remove): median {0:0.000} s  (all: {1})" -f $p, (($paasta | ForEach-Object { $_.ToString('0.00') }) -join ' '))
    Write-Host ("docker run --rm IMAGE sh -c '{0}':              median {1:0.000} s  (all: {2})" -f $command, $d, (($docker | ForEach-Object { $_.ToString('0.00') }) -join ' '))
    Write-Host ("docker run with Paasta's full command line:       median {0:0.000} s  (all: {1})" -f $f, (($full | ForEach-Object { $_.ToString('0.00') }) -join ' '))
    $ratio = $p / $d
    Write-Host ("Ratio Invoke-PaastaLocalRun / docker run --rm: {0:0.00}x (target <= 1.2x: {1}); / same command line: {2:0.00}x (diagnostic only)" -f `
            $ratio, $(if ($ratio -le 1.2) { 'met' } else { 'NOT met' }), ($p / $f))
    if ($ratio -gt 1.2) { Write-Warning ('Invoke-PaastaLocalRun took {0:0.00}x docker run --rm, over the 1.2x target.' -f $ratio) }
}
finally {
    $left = @(& docker ps -aq --filter 'label=paasta_service=lrbench' 2>$null) | Where-Object { $_ }
    if ($left) { $null = & docker rm -f @left 2>&1 }
    Remove-Item -Recurse -Force $root -ErrorAction Ignore
}
