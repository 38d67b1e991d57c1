#Requires -Version 7.4
# Write-Progress on operations that can take over a second (issue 10): git ref listings and pushes of the
# deployment cmdlets, and drain-method calls. Each command runs in its own runspace, whose Streams.Progress
# keeps every record; the assertions are on the records (what is announced, and that it is completed), never
# on how long anything took.
BeforeAll {
    Import-Module $env:PAASTA_TEST_MODULE -Force

    function Invoke-Git {
        param([Parameter(Mandatory)] [string] $Directory, [Parameter(ValueFromRemainingArguments)] [string[]] $GitArgs)
        $out = & git -C $Directory -c user.name=test -c user.email=test@example.com @GitArgs 2>&1
        if ($LASTEXITCODE -ne 0) { throw "git $($GitArgs -join ' ') failed: $out" }
        $out
    }

    # A bare remote with one commit, and soa-configs for 'svc' (two instances on c1) pointing at it.
    function New-TestBed {
        $root = Join-Path $TestDrive ([guid]::NewGuid().ToString('N').Substring(0, 8))
        $remote = Join-Path $root 'remote.git'
        $work = Join-Path $root 'work'
        $soa = Join-Path $root 'soa'
        $null = New-Item -ItemType Directory -Force $root, (Join-Path $soa 'svc')
        $null = & git init -q --bare -b main $remote
        $null = & git init -q -b main $work
        Set-Content (Join-Path $work 'file.txt') 'one'
        $null = Invoke-Git $work add file.txt
        $null = Invoke-Git $work commit -q -m one
        $null = Invoke-Git $work push -q $remote HEAD:refs/heads/main
        Set-Content (Join-Path $soa 'svc/service.yaml') "description: test`nexternal_link: http://example`ngit_url: $remote`n"
        Set-Content (Join-Path $soa 'svc/deploy.yaml') "pipeline:`n- step: prod.main`n"
        Set-Content (Join-Path $soa 'svc/kubernetes-c1.yaml') "main:`n  deploy_group: prod.main`ncanary:`n  deploy_group: prod.main`n"
        [pscustomobject]@{ Remote = $remote; Soa = $soa; Sha = (Invoke-Git $work rev-parse HEAD).Trim() }
    }

    # Runs a script (with a param block) in a new runspace that imports the module; returns its output and streams.
    function Invoke-Captured([string] $Script, [hashtable] $Parameters = @{}) {
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddCommand('Import-Module').AddParameter('Name', $env:PAASTA_TEST_MODULE).AddStatement().AddScript($Script)
            foreach ($name in $Parameters.Keys) { $null = $ps.AddParameter($name, $Parameters[$name]) }
            $output = $ps.Invoke()
            [pscustomobject]@{ Output = @($output); Progress = @($ps.Streams.Progress); Errors = @($ps.Streams.Error) }
        }
        finally { $ps.Dispose() }
    }

    # Every activity that was started ends with a Completed record (a bar left behind is the classic bug).
    function Assert-AllCompleted([object[]] $Progress) {
        $Progress | Should -Not -BeNullOrEmpty
        foreach ($group in $Progress | Group-Object ActivityId) {
            $group.Group[-1].RecordType | Should -Be 'Completed' -Because "activity $($group.Name) ('$($group.Group[0].Activity)') must be completed"
        }
        @($Progress | Where-Object RecordType -eq 'Processing').Count | Should -BeGreaterThan 0
    }
}

Describe 'Progress of the git cmdlets' {
    BeforeAll { $bed = New-TestBed }

    It 'Publish-PaastaDeployment announces the ref listing and the push, naming the tag' {
        $r = Invoke-Captured 'param($Soa, $Sha) Publish-PaastaDeployment -SoaDir $Soa -Service svc -DeployGroup prod.main -Commit $Sha -PassThru' @{ Soa = $bed.Soa; Sha = $bed.Sha }
        $r.Errors | Should -BeNullOrEmpty
        $tag = $r.Output[0].Tag
        $tag | Should -Match '^paasta-prod\.main-\d{8}T\d{6}-deploy$'
        $top = @($r.Progress | Where-Object ParentActivityId -eq -1)
        $top.Activity | Sort-Object -Unique | Should -Be 'Publish-PaastaDeployment'
        # Each tag write (with its retries) is a bar nested under the step that makes it.
        $nested = @($r.Progress | Where-Object ParentActivityId -ne -1)
        $nested.ParentActivityId | Sort-Object -Unique | Should -Be ($top.ActivityId | Sort-Object -Unique)
        $r.Progress.StatusDescription | Should -Contain "Listing the refs of $($bed.Remote)"
        $r.Progress.StatusDescription | Should -Contain "svc: marking $($bed.Sha) for deployment to prod.main"
        $r.Progress.CurrentOperation | Should -Contain "Writing $tag to $($bed.Remote)"
        Assert-AllCompleted $r.Progress
    }

    It 'Start-PaastaInstance reports each instance with its share of the work' {
        $r = Invoke-Captured 'param($Soa) Start-PaastaInstance -SoaDir $Soa -Service svc -Cluster c1' @{ Soa = $bed.Soa }
        $r.Errors | Should -BeNullOrEmpty
        $steps = $r.Progress | Where-Object { $_.RecordType -eq 'Processing' -and -not $_.CurrentOperation -and $_.StatusDescription -like 'svc.*' }
        $steps.StatusDescription | Should -Be @('svc.main on c1: writing the start tag', 'svc.canary on c1: writing the start tag')
        $steps.PercentComplete | Should -Be @(0, 50)
        ($r.Progress | Where-Object CurrentOperation -like 'Writing paasta-c1.main-*-start to *') | Should -Not -BeNullOrEmpty
        Assert-AllCompleted $r.Progress
    }

    It 'Stop-, Restart-PaastaInstance and Undo-PaastaDeployment report their pushes too' {
        $stop = Invoke-Captured 'param($Soa) Stop-PaastaInstance -SoaDir $Soa -Service svc -Cluster c1 -Instance main -Confirm:$false' @{ Soa = $bed.Soa }
        $stop.Progress.StatusDescription | Should -Contain 'svc.main on c1: writing the stop tag'
        Assert-AllCompleted $stop.Progress
        $restart = Invoke-Captured 'param($Soa) Restart-PaastaInstance -SoaDir $Soa -Service svc -Cluster c1 -Instance main' @{ Soa = $bed.Soa }
        $restart.Progress.StatusDescription | Should -Contain 'svc.main on c1: writing the start tag'
        Assert-AllCompleted $restart.Progress

        $null = Invoke-Captured 'param($Soa, $Sha) Publish-PaastaDeployment -SoaDir $Soa -Service svc -DeployGroup prod.main -Commit $Sha -ImageVersion 2' @{ Soa = $bed.Soa; Sha = $bed.Sha }
        $undo = Invoke-Captured 'param($Soa) Undo-PaastaDeployment -SoaDir $Soa -Service svc -DeployGroup prod.main -Confirm:$false' @{ Soa = $bed.Soa }
        $undo.Errors | Should -BeNullOrEmpty
        $undo.Progress.StatusDescription | Should -Contain "svc: rolling prod.main back to $($bed.Sha)"
        @($undo.Progress.CurrentOperation -like 'Writing paasta-prod.main-*-deploy to *').Count | Should -BeGreaterThan 0
        @($undo.Progress.CurrentOperation -like 'Writing paasta-prod.main+2-*-rollback to *').Count | Should -BeGreaterThan 0
        Assert-AllCompleted $undo.Progress
    }

    It 'New-PaastaDeployments reports the ref listing of each service' {
        $r = Invoke-Captured 'param($Soa) New-PaastaDeployments -SoaDir $Soa -Service svc -WhatIf' @{ Soa = $bed.Soa }
        $r.Errors | Should -BeNullOrEmpty
        $r.Progress.StatusDescription | Should -Contain "svc: listing the repository's refs and loading the instances"
        Assert-AllCompleted $r.Progress
    }

    It 'writes no progress when nothing is pushed (-WhatIf stops before the push)' {
        $r = Invoke-Captured 'param($Soa, $Sha) Publish-PaastaDeployment -SoaDir $Soa -Service svc -DeployGroup prod.main -Commit $Sha -WhatIf' @{ Soa = $bed.Soa; Sha = $bed.Sha }
        $r.Progress.StatusDescription | Should -Not -Contain "svc: marking $($bed.Sha) for deployment to prod.main"
        $r.Progress.StatusDescription | Should -Contain "Listing the refs of $($bed.Remote)"
    }
}

Describe 'Progress of Invoke-PaastaDrainMethod' {
    BeforeAll {
        # Registrations are per process, so the slow method registered here is visible to the captured runspaces.
        $script:method = "slow$([guid]::NewGuid().ToString('N').Substring(0, 6))"
        Register-PaastaDrainMethod -Name $method -Drain { } -IsSafeToKill { Start-Sleep -Milliseconds 1500; $true }
    }
    AfterAll { Unregister-PaastaDrainMethod -Name $method -Confirm:$false }

    It 'shows a call that is still running against -TimeoutSec, and completes it' {
        $r = Invoke-Captured 'param($Method) Invoke-PaastaDrainMethod -Name $Method -Task @{ Id = "pod-1"; Host = "127.0.0.1"; Port = 1 } -Action IsSafeToKill -TimeoutSec 30' @{ Method = $method }
        $r.Errors | Should -BeNullOrEmpty
        $r.Output[0].SafeToKill | Should -BeTrue
        $r.Progress.Activity | Sort-Object -Unique | Should -Be 'Invoke-PaastaDrainMethod'
        $r.Progress[0].StatusDescription | Should -BeLike "IsSafeToKill * through drain method '$method'"
        $r.Progress[0].SecondsRemaining | Should -Be 30
        # The method sleeps 1.5 s and the cmdlet looks every 250 ms, so at least one "still waiting" update comes.
        ($r.Progress | Where-Object CurrentOperation -match '^waiting for the drain method: \d+ s of at most 30 s$') | Should -Not -BeNullOrEmpty
        Assert-AllCompleted $r.Progress
    }
}
