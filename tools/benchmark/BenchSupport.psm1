# What the benches of tools/benchmark share: finding the local cluster, medians, and kubectl/git calls that throw.
Set-StrictMode -Version 3.0

$script:Kubectl = $null

function Get-Median([double[]] $Values) { ($Values | Sort-Object)[[int][math]::Floor($Values.Count / 2)] }

# The kubectl of the cluster KUBECONFIG names (the local platform's own binary next to its kubeconfig, else the one
# on PATH), once the API server answers /readyz and every tool in -Tools is on PATH; else $null, with a warning that
# says which figures are skipped.
function Find-BenchCluster([string] $Figures, [string[]] $Tools = @()) {
    $kubectl = if ($env:KUBECONFIG) { Join-Path (Split-Path $env:KUBECONFIG) 'bin/kubectl' }
    if (-not $kubectl -or -not (Test-Path $kubectl)) { $kubectl = (Get-Command kubectl -ErrorAction SilentlyContinue).Source }
    if (-not ($kubectl -and $env:KUBECONFIG -and ((& $kubectl get --raw /readyz 2>$null) -eq 'ok'))) {
        Write-Warning "No Kubernetes cluster (KUBECONFIG): the $Figures are skipped."
        return $null
    }
    foreach ($tool in $Tools) {
        if (-not (Get-Command $tool -ErrorAction SilentlyContinue)) { Write-Warning "No $($tool): the $Figures are skipped."; return $null }
    }
    $script:Kubectl = $kubectl
    $kubectl
}

function Invoke-Kubectl {
    if (-not $script:Kubectl) { throw 'Find-BenchCluster has not found a cluster.' }
    $out = & $script:Kubectl @args 2>&1
    if ($LASTEXITCODE -ne 0) { throw "kubectl $($args -join ' ') failed: $out" }
    $out
}

function Invoke-Git {
    $out = & git @args 2>&1
    if ($LASTEXITCODE -ne 0) { throw "git $($args -join ' ') failed: $out" }
    $out
}

# A fresh folder of this process under the temp folder.
function New-BenchRoot([string] $Name) {
    $root = Join-Path ([IO.Path]::GetTempPath()) "paasta-bench-$Name-$PID"
    if (Test-Path $root) { Remove-Item -Recurse -Force $root }
    (New-Item -ItemType Directory -Force $root).FullName
}

Export-ModuleMember -Function Get-Median, Find-BenchCluster, Invoke-Kubectl, Invoke-Git, New-BenchRoot
