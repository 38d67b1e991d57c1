# Helpers shared by the Pester suites.

function Get-PwshCommand {
    <# The command line that starts a fresh pwsh like this one: the pwsh apphost, or 'dotnet pwsh.dll'
       when PowerShell runs as a .NET tool (then the process path is dotnet itself). #>
    $process = [Environment]::ProcessPath
    if ((Split-Path -Leaf $process) -match '^dotnet(\.exe)?$') { return @($process, (Join-Path $PSHOME 'pwsh.dll')) }
    return @($process)
}

function Invoke-ChildPwsh {
    <# Runs a script in a new pwsh process (-NoProfile -NonInteractive) and returns its output; sets $LASTEXITCODE. #>
    param([Parameter(Mandatory)] [string] $Command)
    $cmd = @(Get-PwshCommand)
    $rest = @($cmd | Select-Object -Skip 1)
    & $cmd[0] @rest -NoProfile -NonInteractive -Command $Command
}

function Assert-PlatformOrSkip {
    <# Integration tests: under CI=true a missing engine or cluster is a failure, never a silent skip. #>
    param([Parameter(Mandatory)] [bool] $Available, [Parameter(Mandatory)] [string] $What)
    if ($Available) { return $true }
    if ($env:CI -eq 'true') { throw "$What is not available, and CI=true requires it (bring it up with: ./build.ps1 -Task Platform -Action Up)." }
    Set-ItResult -Skipped -Because "$What is not available (run ./build.ps1 -Task Platform -Action Up)"
    return $false
}

function Get-TestKubectl {
    <# kubectl: the local platform's (next to $env:KUBECONFIG), else the one on PATH; $null when there is none. #>
    if ($env:KUBECONFIG -and (Test-Path (Join-Path (Split-Path $env:KUBECONFIG) 'bin/kubectl'))) { return Join-Path (Split-Path $env:KUBECONFIG) 'bin/kubectl' }
    (Get-Command kubectl -ErrorAction Ignore).Source
}

function Test-KubernetesUp {
    <# True when $env:KUBECONFIG points at an API server that answers /readyz with ok. #>
    $kubectl = Get-TestKubectl
    if (-not ($env:KUBECONFIG -and (Test-Path $env:KUBECONFIG) -and $kubectl)) { return $false }
    $ready = & $kubectl get --raw /readyz 2>$null
    $LASTEXITCODE -eq 0 -and $ready -eq 'ok'
}

function Invoke-Kubectl {
    <# kubectl with the test's arguments; throws with its output when it fails. #>
    $out = & (Get-TestKubectl) @args 2>&1
    if ($LASTEXITCODE) { throw "kubectl $args failed: $out" }
    $out
}

function Invoke-Git {
    <# git with the test's arguments; throws with its output when it fails. #>
    $out = & git @args 2>&1
    if ($LASTEXITCODE) { throw "git $args failed: $out" }
    $out
}

Export-ModuleMember -Function Get-PwshCommand, Invoke-ChildPwsh, Assert-PlatformOrSkip, Get-TestKubectl, Test-KubernetesUp, Invoke-Kubectl, Invoke-Git
