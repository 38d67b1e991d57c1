#Requires -Version 7.4
# Bounces on the real local cluster: each bounce method replaces hello's 3 copies while `kubectl get pods -w`
# records every pod change; the recorded timeline is checked against the method's promise (docs/BEHAVIOUR.md §6.2).
# Objects live in a namespace of this run's own (paastasvc-bouncehello…), the only one it deletes; the cluster is the
# local platform's (Use-TestCluster).
BeforeAll {
    . (Join-Path $PSScriptRoot 'Bounce.TestSetup.ps1')
    # `kubectl get pods -w` writes one line per change of any pod; replaying them gives every state the cluster went through.
    function Start-PodTimeline {
        $file = Join-Path $TestDrive "timeline-$([guid]::NewGuid().ToString('n')).txt"
        # A template file keeps the quotes and escapes away from command-line quoting.
        '{.type}|{.object.metadata.name}|{.object.metadata.labels.paasta\.yelp\.com/git_sha}|{.object.status.conditions[?(@.type=="Ready")].status}|{.object.metadata.annotations.paasta\.yelp\.com/draining-since}|{.object.metadata.deletionTimestamp}{"\n"}' |
            Set-Content -NoNewline "$file.jsonpath"
        # The watch starts by listing the pods that exist; those first lines are the starting state, not changes.
        $existing = @(Get-Pods).Count
        $p = Start-Process -FilePath $Kubectl -PassThru -RedirectStandardOutput $file -RedirectStandardError "$file.err" -ArgumentList @(
            '-n', $Namespace, 'get', 'pods', '-l', "paasta.yelp.com/instance=$Instance", '--watch', '--output-watch-events', '-o', "jsonpath-file=$file.jsonpath")
        Start-Sleep -Seconds 1
        [pscustomobject]@{ Process = $p; File = $file; Existing = $existing }
    }
    # Every state the pods went through, as counts per version: serving (ready, not draining, not terminating) and present.
    function Stop-PodTimeline($Timeline, [string] $Old, [string] $New) {
        Start-Sleep -Seconds 1
        Stop-Process -Id $Timeline.Process.Id -Force -ErrorAction Ignore
        $Timeline.Process.WaitForExit()
        $pods = @{}
        $states = [System.Collections.Generic.List[object]]::new()
        $lines = @(Get-Content $Timeline.File | Where-Object { ($_ -split '\|').Count -ge 6 })
        for ($n = 0; $n -lt $lines.Count; $n++) {
            $f = $lines[$n] -split '\|'
            if ($f[0] -eq 'DELETED') { $pods.Remove($f[1]) }
            else { $pods[$f[1]] = [pscustomobject]@{ Sha = $f[2]; Serving = $f[3] -eq 'True' -and -not $f[4] -and -not $f[5] } }
            if ($n + 1 -lt $Timeline.Existing) { continue }
            $states.Add([pscustomobject]@{
                OldServing = @($pods.Values | Where-Object { $_.Sha -eq $Old -and $_.Serving }).Count
                NewServing = @($pods.Values | Where-Object { $_.Sha -eq $New -and $_.Serving }).Count
                OldPresent = @($pods.Values | Where-Object Sha -eq $Old).Count
                NewPresent = @($pods.Values | Where-Object Sha -eq $New).Count
            })
        }
        if ($states.Count -lt 2) { throw "the pod watch recorded nothing: $(Get-Content -Raw "$($Timeline.File).err")" }
        $states
    }
}

AfterAll {
    if ($Up) { Remove-TestNamespace $Namespace }
}

Describe 'Bounce methods on the local cluster' -Tag Integration {
    It 'crossover keeps at least ceil(instances x bounce_margin_factor) copies serving, and only Paasta removes old pods' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        # ceil(3 x 0.5) = 2 must serve throughout: one old copy may go at once, the next only as new ones are ready.
        Set-Instance "  bounce_method: crossover`n  bounce_margin_factor: 0.5"
        $old = Initialize-Running
        $new = Get-NextSha
        Deploy $new
        $timeline = Start-PodTimeline
        $results = Sync -Wait -TimeoutSec 240 -Verbose 4>&1
        $states = @(Stop-PodTimeline $timeline $old $new)
        ($results | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }).Converging | Should -BeFalse
        foreach ($state in $states) { $state.OldServing + $state.NewServing | Should -BeGreaterOrEqual 2 }
        # Old copies went one by one as new ones became ready, not all at once: some state had both serving.
        @($states | Where-Object { $_.OldServing -gt 0 -and $_.NewServing -gt 0 }).Count | Should -BeGreaterThan 0
        @(Get-ServingPods $new).Count | Should -Be $Copies
        @(Get-Pods | Where-Object { $_.metadata.labels.'paasta.yelp.com/git_sha' -eq $old }).Count | Should -Be 0
        # The new Deployment's ReplicaSet never owned the old pods, and the bounce marker is gone.
        $deployment = Invoke-Kubectl -n $Namespace get deployment "$Service-$Instance" -o json | ConvertFrom-Json
        $deployment.metadata.annotations.'paasta.yelp.com/bouncing' | Should -BeNullOrEmpty
        @((Invoke-Kubectl -n $Namespace get replicasets -l "paasta.yelp.com/instance=$Instance" -o json | ConvertFrom-Json).items).Count | Should -Be 1
        ($results | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -match 'drained with noop and deleted' }) | Should -Not -BeNullOrEmpty
    }

    It 'upthendown drains no old copy before all new copies are ready' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        Set-Instance '  bounce_method: upthendown'
        $old = Initialize-Running
        $new = Get-NextSha
        Deploy $new
        $timeline = Start-PodTimeline
        $null = Sync -Wait -TimeoutSec 240
        $states = @(Stop-PodTimeline $timeline $old $new)
        $firstLoss = $states | Where-Object OldServing -lt $Copies | Select-Object -First 1
        $firstLoss | Should -Not -BeNullOrEmpty
        $firstLoss.NewServing | Should -Be $Copies
        # 2x capacity: a state with all 8 copies present.
        @($states | Where-Object { $_.OldPresent -eq $Copies -and $_.NewServing -eq $Copies }).Count | Should -BeGreaterThan 0
        @(Get-ServingPods $new).Count | Should -Be $Copies
    }

    It 'downthenup starts no new copy before every old one is gone' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        Set-Instance '  bounce_method: downthenup'
        $old = Initialize-Running
        $new = Get-NextSha
        Deploy $new
        $timeline = Start-PodTimeline
        $null = Sync -Wait -TimeoutSec 240
        $states = @(Stop-PodTimeline $timeline $old $new)
        foreach ($state in $states) {
            if ($state.NewPresent -gt 0) { $state.OldPresent | Should -Be 0 }
        }
        @($states | Where-Object { $_.OldPresent -eq 0 -and $_.NewPresent -eq 0 }).Count | Should -BeGreaterThan 0
        @(Get-ServingPods $new).Count | Should -Be $Copies
    }

    It 'brutal takes every old copy away at once, without waiting for new ones' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        Set-Instance '  bounce_method: brutal'
        $old = Initialize-Running
        $new = Get-NextSha
        Deploy $new
        $timeline = Start-PodTimeline
        $first = Sync
        $states = @(Stop-PodTimeline $timeline $old $new)
        $first.Action | Should -Be 'Updated'
        $first.Bounce.Killed | Should -Be $Copies
        # After the single pass: no old copy serves, and the new ones are not all ready yet.
        $states[-1].OldServing | Should -Be 0
        $states[-1].NewServing | Should -BeLessThan $Copies
        $null = Sync -Wait -TimeoutSec 240
        @(Get-ServingPods $new).Count | Should -Be $Copies
    }

    It 'crossover to a version that never becomes ready leaves the old one serving' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        Set-Instance '  bounce_method: crossover'
        $old = Initialize-Running
        Deploy $BrokenSha
        $results = Sync-PaastaInstance -SoaDir $Soa -Service $Service -Cluster local -Instance $Instance -Confirm:$false -Wait -TimeoutSec 25 -ErrorVariable err -ErrorAction SilentlyContinue
        $err.FullyQualifiedErrorId | Should -Contain 'SyncWaitTimedOut,Paasta.Commands.SyncPaastaInstance'
        $results.BounceInProgress | Should -BeTrue
        $results.Bounce.NewReady | Should -Be 0
        @(Get-ServingPods $old).Count | Should -Be $Copies
        (Get-Pods | Where-Object { $_.metadata.labels.'paasta.yelp.com/git_sha' -eq $old -and $_.metadata.annotations.'paasta.yelp.com/draining-since' }) | Should -BeNullOrEmpty
        (Get-PaastaInstanceStatus -SoaDir $Soa -Service $Service -Cluster local -Instance $Instance).BounceInProgress | Should -BeTrue
        # Fixing forward finishes the bounce from where it stands.
        $good = Get-NextSha
        Deploy $good
        $null = Sync -Wait -TimeoutSec 240
        @(Get-ServingPods $good).Count | Should -Be $Copies
        @(Get-Pods | Where-Object { $_.metadata.labels.'paasta.yelp.com/git_sha' -ne $good }).Count | Should -Be 0
    }

    It 'resumes a bounce whose Sync process was killed midway' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        Set-Instance "  bounce_method: crossover`n  bounce_margin_factor: 1.0"
        $old = Initialize-Running
        $new = Get-NextSha
        Deploy $new
        $pwsh = Get-PwshCommand
        $script = "Import-Module '$($env:PAASTA_TEST_MODULE)'; Sync-PaastaInstance -SoaDir '$Soa' -Service $Service -Cluster local -Instance $Instance -Confirm:`$false -Wait -TimeoutSec 300"
        $child = Start-Process -FilePath $pwsh[0] -ArgumentList (@($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-Command', $script)) -PassThru -RedirectStandardOutput (Join-Path $TestDrive 'child.out')
        # Kill it once the bounce is under way: the old Deployment is orphaned and the new one has pods, not yet ready.
        $deadline = [DateTime]::UtcNow.AddSeconds(120)
        while ($true) {
            if (@(Get-Pods | Where-Object { $_.metadata.labels.'paasta.yelp.com/git_sha' -eq $new }).Count -gt 0) { break }
            if ([DateTime]::UtcNow -gt $deadline) { throw 'the bounce did not start' }
            Start-Sleep -Milliseconds 500
        }
        Stop-Process -Id $child.Id -Force
        $child.WaitForExit()
        @(Get-Pods | Where-Object { $_.metadata.labels.'paasta.yelp.com/git_sha' -eq $old -and -not $_.metadata.deletionTimestamp }).Count | Should -BeGreaterThan 0 -Because 'the child was killed before the bounce finished'
        $r = Sync -Wait -TimeoutSec 240
        $r.BounceInProgress | Should -BeFalse
        @(Get-ServingPods $new).Count | Should -Be $Copies
        @(Get-Pods | Where-Object { $_.metadata.labels.'paasta.yelp.com/git_sha' -eq $old }).Count | Should -Be 0
        (Sync).Action | Should -Be 'Unchanged'
    }
}
