#Requires -Version 7.4
# Sync-PaastaInstance while the local platform's own kube-apiserver restarts. Tagged Exclusive: every other test on
# the cluster would fail while the server is down, so build.ps1 runs this file alone, after the others.
BeforeAll {
    Import-Module $env:PAASTA_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'Paasta.TestUtils.psm1') -Force
    $script:Repo = if ($env:PAASTA_REPO_ROOT) { $env:PAASTA_REPO_ROOT } else { (Resolve-Path (Join-Path $PSScriptRoot '..')).Path }
    $script:Cluster = Use-TestCluster
    $script:Kubectl = $Cluster.Kubectl
    $script:Up = $Cluster.Up
}

Describe 'Sync-PaastaInstance through a kube-apiserver restart' -Tag Integration, Exclusive {
    # The local platform's own kube-apiserver is stopped while a Sync is writing (requests in flight are cut,
    # new connections refused) and started again; the next Sync must converge and the one after write nothing.
    BeforeAll {
        $script:OutageService = New-TestName 'syncoutage'
        $script:OutageNamespace = "paastasvc-$OutageService"
        $script:Count = 150
        $script:PlatformScript = Join-Path $Repo 'tools/platform/platform.sh'
        # Only the platform of this checkout can be restarted by the test: a shared one serves other runs too.
        $script:OwnApiServer = $Up -and $Cluster.OwnPlatform
        if (-not $OwnApiServer) { return }
        Register-TestNamespace $OutageNamespace

        $script:OutageSoa = Join-Path $TestDrive 'outage-soa'
        $dir = New-Item -ItemType Directory -Force (Join-Path $OutageSoa $OutageService)
        Set-Content (Join-Path $dir 'service.yaml') "description: outage test`nexternal_link: http://example`ngit_url: null`ndocker_registry: 127.0.0.1:5000`n"
        Set-Content (Join-Path $dir 'monitoring.yaml') 'team: platform'
        Set-Content (Join-Path $dir 'deploy.yaml') "pipeline:`n- step: local.everything`n"
        # Instances with 0 replicas: real objects, no pods.
        $yaml = foreach ($n in 1..$Count) { "i$n`: {instances: 0, cpus: 0.1, mem: 64, deploy_group: local.everything, env: {N: '$n'}}" }
        Set-Content (Join-Path $dir 'kubernetes-local.yaml') ($yaml -join "`n")
        $sha = 'f' * 40
        $controls = (1..$Count | ForEach-Object { "`"${OutageService}:local.i$_`": {`"desired_state`": `"start`", `"force_bounce`": null}" }) -join ', '
        [IO.File]::WriteAllText((Join-Path $dir 'deployments.json'), "{`"v1`": {}, `"v2`": {`"deployments`": {`"local.everything`": {`"docker_image`": `"services-${OutageService}:paasta-$sha`", `"git_sha`": `"$sha`", `"image_version`": null}}, `"controls`": {$controls}}}")

        function Invoke-Platform([string] $Action) {
            $out = & bash $PlatformScript $Action 2>&1
            if ($LASTEXITCODE) { throw "platform.sh $Action failed: $out" }
        }
        function Get-OutageDeployments { @(& $Kubectl -n $OutageNamespace get deployments -o name 2>$null) | Where-Object { $_ } }
    }

    AfterAll {
        if ($OwnApiServer) {
            Invoke-Platform start-apiserver   # whatever happened, leave the cluster serving
            Remove-TestNamespace $OutageNamespace
        }
    }

    It 'converges on the next pass after the kube-apiserver restarted mid-sync, then writes nothing' {
        if (-not (Assert-PlatformOrSkip $OwnApiServer 'The local platform''s own kube-apiserver (this test restarts it)')) { return }
        $module = $env:PAASTA_TEST_MODULE
        $job = Start-ThreadJob -ScriptBlock {
            param($module, $soa, $service)
            Import-Module $module
            $results = Sync-PaastaInstance -SoaDir $soa -Service $service -Cluster local -Confirm:$false -ErrorVariable errs -ErrorAction SilentlyContinue
            [pscustomobject]@{ Results = $results; Errors = @($errs) }
        } -ArgumentList $module, $OutageSoa, $OutageService
        try {
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while (@(Get-OutageDeployments).Count -lt 3 -and $job.State -eq 'Running') {
                if ([DateTime]::UtcNow -gt $deadline) { throw 'Timed out after 60 s waiting for the sync to start writing' }
                Start-Sleep -Milliseconds 500
            }
            Invoke-Platform stop-apiserver   # the real server goes away with requests in flight
            $first = Receive-Job $job -Wait -AutoRemoveJob
        }
        finally { Invoke-Platform start-apiserver }

        $createdFirst = @(Get-OutageDeployments).Count
        $createdFirst | Should -BeLessThan $Count -Because 'the restart must interrupt the first pass (otherwise the test proves nothing)'
        $first.Errors.Count | Should -BeGreaterThan 0
        ($first.Errors | ForEach-Object { $_.FullyQualifiedErrorId.Split(',')[0] } | Sort-Object -Unique) | Should -Contain 'KubeApiUnreachable'

        $second = Sync-PaastaInstance -SoaDir $OutageSoa -Service $OutageService -Cluster local -Confirm:$false -ErrorVariable errs
        $errs.Count | Should -Be 0
        @($second | Where-Object Action -eq 'Failed').Count | Should -Be 0
        @(Get-OutageDeployments).Count | Should -Be $Count
        $live = (Invoke-Kubectl -n $OutageNamespace get deployments -o json | ConvertFrom-Json).items
        foreach ($r in $second) {
            ($live | Where-Object { $_.metadata.name -eq $r.Name }).metadata.labels.'paasta.yelp.com/config_sha' | Should -Be $r.NewConfigSha
        }
        @((Invoke-Kubectl -n $OutageNamespace get poddisruptionbudgets.v1beta1.policy -o json | ConvertFrom-Json).items).Count | Should -Be $Count

        $stream = Sync-PaastaInstance -SoaDir $OutageSoa -Service $OutageService -Cluster local -Confirm:$false -Verbose 4>&1
        @($stream | Where-Object { $_.PSObject.TypeNames[0] -eq 'Paasta.Sync.SyncResult' -and $_.Action -ne 'Unchanged' }).Count | Should -Be 0
        (Get-KubeApiCounts $stream).Writes | Should -Be 0
        (Get-KubeApiCounts $stream).Requests | Should -BeLessOrEqual 3
    }
}
