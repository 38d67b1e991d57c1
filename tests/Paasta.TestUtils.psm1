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

Export-ModuleMember -Function Get-PwshCommand, Invoke-ChildPwsh, Assert-PlatformOrSkip
