#Requires -Version 7.4
# Local runs, image builds and pushes against the real Docker engine and registry of the local platform.
# The docker CLI and the registry's HTTP API are the oracles. Set-up is shared with LocalRun.Tests.ps1
# (LocalRun.Fixture.ps1); everything made here belongs to the service lr-hello and is removed in AfterAll.
BeforeAll {
    . (Join-Path $PSScriptRoot 'LocalRun.Fixture.ps1')
}

AfterAll {
    if (-not $DockerUp) { return }
    $ids = Get-Containers
    if ($ids) { $null = & docker rm -f @ids 2>&1 }
    $images = @(& docker images --format '{{.Repository}}:{{.Tag}}' 2>$null) |
        Where-Object { $_ -like "paasta-local-run-$Service-*" -or $_ -like "*services-$($Service):*" -or $_ -like "lr-dockerfile-*" }
    if ($images) { $null = & docker rmi -f @images 2>&1 }
}

Describe 'Invoke-PaastaLocalRun in the local Docker engine' -Tag Integration {
    It 'builds the checkout with make cook-image, runs main detached and healthy, with PaaSTA''s environment and limits' {
        if (-not (Assert-PlatformOrSkip $DockerUp 'The Docker engine')) { return }
        $r = Invoke-PaastaLocalRun -SoaDir $Soa -Service $Service -Cluster local -Instance main -Build -Path $Checkout -Detach -Confirm:$false 6>$null
        try {
            $r.PSObject.TypeNames[0] | Should -Be 'Paasta.Docker.LocalRunResult'
            $script:BuiltImage = $r.Image
            $r.Image | Should -BeLike "paasta-local-run-$Service-*"
            $r.Healthy | Should -BeTrue
            $r.Healthcheck.Target | Should -Be "http://127.0.0.1:$($r.HostPort)/status"
            $r.Running | Should -BeTrue
            $r.ExitCode | Should -BeNullOrEmpty

            # The oracles: the engine itself, and the service answering on the host port.
            (& docker inspect $r.ContainerId --format '{{.State.Running}}') | Should -Be 'true'
            $http = [Net.Http.HttpClient]::new()
            try { $http.GetStringAsync("$($r.Url)status").GetAwaiter().GetResult().Trim() | Should -Be 'ok' } finally { $http.Dispose() }
            $envs = Get-Env $r.ContainerId
            $envs.PAASTA_SERVICE | Should -Be $Service
            $envs.PAASTA_INSTANCE | Should -Be 'main'
            $envs.PAASTA_CLUSTER | Should -Be 'local'
            $envs.PAASTA_DOCKER_IMAGE | Should -Be $r.Image
            $envs.PAASTA_GIT_SHA | Should -Be $Sha.Substring(0, 8)
            $envs.PAASTA_SOA_CONFIGS_SHA | Should -Be $SoaSha
            $envs.PAASTA_PORT | Should -Be '8888'
            $envs.PAASTA_RESOURCE_MEM | Should -Be '64'
            $envs.GREETING | Should -Be 'hello from main'
            $envs.PAASTA_LAUNCHED_BY | Should -Not -BeNullOrEmpty
            $limits = & docker inspect $r.ContainerId --format '{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.CpuPeriod}} {{.HostConfig.CpuQuota}} {{.HostConfig.Init}} {{index .Config.Labels "paasta_instance"}}'
            $limits | Should -Be "$(64MB) $(128MB) 100000 110000 true main"
            (& docker inspect $r.ContainerId --format '{{json .HostConfig.CapDrop}}' | ConvertFrom-Json) | Should -Contain 'NET_RAW'
        }
        finally { $null = & docker rm -f $r.ContainerId 2>&1 }
    }

    It 'runs an adhoc command to completion: output streamed, exit code returned, container removed' {
        if (-not (Assert-PlatformOrSkip ($DockerUp -and $BuiltImage) 'The Docker engine and the built image')) { return }
        $r = Invoke-PaastaLocalRun -SoaDir $Soa -Service $Service -Cluster local -Instance greet -Image $BuiltImage `
            -Command 'echo "out $PAASTA_SERVICE.$PAASTA_INSTANCE $PAASTA_CLUSTER $PAASTA_DOCKER_IMAGE"; echo err >&2; exit 3' -Env @{ EXTRA = 'from-env' } `
            -Interactive:$false -InformationVariable info -Confirm:$false 6>$null
        $r.ExitCode | Should -Be 3
        $r.Removed | Should -BeTrue
        $stdout = @($info | Where-Object { $_.Tags -contains 'Stdout' } | ForEach-Object { "$($_.MessageData)" })
        $stderr = @($info | Where-Object { $_.Tags -contains 'Stderr' } | ForEach-Object { "$($_.MessageData)" })
        $stdout | Should -Contain "out $Service.greet local $BuiltImage"
        $stderr | Should -Contain 'err'
        (& docker ps -aq --filter "id=$($r.ContainerId)") | Should -BeNullOrEmpty

        # Without -Command, the instance's own cmd runs with its env.
        $r2 = Invoke-PaastaLocalRun -SoaDir $Soa -Service $Service -Cluster local -Instance greet -Image $BuiltImage -Interactive:$false -InformationVariable info2 -Confirm:$false 6>$null
        $r2.ExitCode | Should -Be 0
        @($info2 | Where-Object { $_.Tags -contains 'Stdout' } | ForEach-Object { "$($_.MessageData)" }) | Should -Contain "hi from $Service.greet"
    }

    It 'reports a failing healthcheck as unhealthy and removes the container' {
        if (-not (Assert-PlatformOrSkip ($DockerUp -and $BuiltImage) 'The Docker engine and the built image')) { return }
        $r = Invoke-PaastaLocalRun -SoaDir $Soa -Service $Service -Cluster local -Instance broken -Image $BuiltImage -Detach `
            -ErrorVariable err -ErrorAction SilentlyContinue -Confirm:$false 6>$null
        $r.Healthy | Should -BeFalse
        $r.Healthcheck.CountedFailures | Should -Be 2
        $r.Healthcheck.Message | Should -Match 'HTTP 404'
        $r.Removed | Should -BeTrue
        $r.Running | Should -BeFalse
        $err[0].FullyQualifiedErrorId | Should -Be 'HealthcheckFailed,Paasta.Commands.InvokePaastaLocalRun'
        $err[0].TargetObject.ContainerId | Should -Be $r.ContainerId
        (& docker ps -aq --filter "id=$($r.ContainerId)") | Should -BeNullOrEmpty
    }

    It 'checks health only, then removes the container (-HealthcheckOnly)' {
        if (-not (Assert-PlatformOrSkip ($DockerUp -and $BuiltImage) 'The Docker engine and the built image')) { return }
        $r = Get-PaastaInstance -SoaDir $Soa -Service $Service -Cluster local -Instance canary |
            Invoke-PaastaLocalRun -Image $BuiltImage -HealthcheckOnly -Confirm:$false 6>$null
        $r.Instance | Should -Be 'canary'
        $r.Healthy | Should -BeTrue
        $r.Running | Should -BeFalse
        $r.Removed | Should -BeTrue
        (& docker ps -aq --filter "id=$($r.ContainerId)") | Should -BeNullOrEmpty
        Invoke-PaastaLocalRun -SoaDir $Soa -Service $Service -Cluster local -Instance greet -Image $BuiltImage -HealthcheckOnly `
            -ErrorVariable err -ErrorAction SilentlyContinue -Confirm:$false | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -Be 'HealthcheckNotDefined,Paasta.Commands.InvokePaastaLocalRun'
    }

    It 'applies net, extra_volumes, cfs_period_us, cpu_burst_add and extra_docker_args, as docker inspect shows' {
        if (-not (Assert-PlatformOrSkip ($DockerUp -and $BuiltImage) 'The Docker engine and the built image')) { return }
        # The cmd healthcheck reads a file of the mounted volume: it passes only if extra_volumes was applied.
        $r = Invoke-PaastaLocalRun -SoaDir $Soa -Service $Service -Cluster local -Instance tuned -Image $BuiltImage -Detach -Confirm:$false 6>$null
        try {
            $r.Healthy | Should -BeTrue
            $r.Healthcheck.Mode | Should -Be 'cmd'
            $r.Healthcheck.Message | Should -Match "'test -s /data/marker' exited 0"
            $h = (& docker inspect $r.ContainerId --format '{{json .HostConfig}}' | ConvertFrom-Json)
            ($h.CpuPeriod, $h.CpuQuota) | Should -Be @(50000, 30000)            # (0.1 + 0.5) x 50000
            $h.Binds | Should -Be @("$($VolumeDir):/data:ro")
            $h.NetworkMode | Should -Be 'bridge'
            $h.ShmSize | Should -Be (96MB)
            $h.MemorySwap | Should -Be (256MB)
            $h.Memory | Should -Be (64MB)
            @($h.Ulimits | ForEach-Object { "$($_.Name)=$($_.Soft):$($_.Hard)" }) | Should -Be @('nofile=1024:2048')
            $h.CapAdd | Should -Contain 'SYS_PTRACE'
            $h.ExtraHosts | Should -Be @('db.local:10.1.2.3')
            $h.Dns | Should -Be @('10.0.0.53')
            # And inside: the limits and files the container's own process gets. ulimit nofile=1024:2048 means soft 1024,
            # hard 2048, and `ulimit -n` reports the soft one. The limits are read from /proc/1/limits (the init
            # process runc started with them), not with `ulimit -n` in a `docker exec`: runc 1.1 built with Go 1.19 or
            # later raises an exec'd process's soft limit to its hard one, depending on a race (opencontainers/runc#4195,
            # fixed in runc 1.1.13 and 1.2), so an exec'd shell says 2048 on some machines and 1024 on others.
            $nofile = (& docker exec $r.ContainerId cat /proc/1/limits) -match '^Max open files' -split '\s{2,}'
            ($nofile[1], $nofile[2]) | Should -Be @('1024', '2048')
            (& docker exec $r.ContainerId sh -c 'cat /data/marker; grep db.local /etc/hosts | tr -s " \t" " "') | Should -Be @('mounted', '10.1.2.3 db.local')
            $r.CommandLine | Should -Match '--shm-size=96m --ulimit=nofile=1024:2048 --cap-add=SYS_PTRACE --add-host=db.local:10.1.2.3 --dns=10.0.0.53 --memory-swap=256m --init=true'
        }
        finally { $null = & docker rm -f $r.ContainerId 2>&1 }
    }

    It 'runs net: none, and says that -Port is ignored there' {
        if (-not (Assert-PlatformOrSkip ($DockerUp -and $BuiltImage) 'The Docker engine and the built image')) { return }
        $r = Invoke-PaastaLocalRun -SoaDir $Soa -Service $Service -Cluster local -Instance isolated -Image $BuiltImage -Port (Get-FreePort) -Detach `
            -WarningVariable warn -WarningAction SilentlyContinue -Confirm:$false 6>$null
        try {
            $r.Healthy | Should -BeTrue
            $r.HostPort | Should -BeNullOrEmpty
            "$warn" | Should -Match '-Port \d+ is ignored: with net: none the container port is not published'
            (& docker inspect $r.ContainerId --format '{{.HostConfig.NetworkMode}} {{len .HostConfig.PortBindings}}') | Should -Be 'none 0'
        }
        finally { $null = & docker rm -f $r.ContainerId 2>&1 }
    }

    It 'passes a tcp healthcheck when the service listens, and fails it when nothing does (net: host)' {
        if (-not (Assert-PlatformOrSkip ($DockerUp -and $BuiltImage) 'The Docker engine and the built image')) { return }
        # net: host, so the check connects to the container's own socket: through a published port, docker's proxy
        # would accept the connection whether or not anything listens inside.
        $asked = Get-FreePort
        $ok = Invoke-PaastaLocalRun -SoaDir $Soa -Service $Service -Cluster local -Instance tcphost -Image $BuiltImage -HealthcheckOnly -Port $asked `
            -WarningVariable warn -WarningAction SilentlyContinue -Confirm:$false 6>$null
        $ok.Healthy | Should -BeTrue
        ($ok.Healthcheck.Mode, $ok.Healthcheck.Target) | Should -Be @('tcp', "tcp://127.0.0.1:$HostNetPort")
        $ok.Healthcheck.Message | Should -Be "connected to 127.0.0.1:$HostNetPort"
        $ok.Removed | Should -BeTrue
        "$warn" | Should -Match "-Port $asked is ignored: with net: host .* its own port $HostNetPort"

        $bad = Invoke-PaastaLocalRun -SoaDir $Soa -Service $Service -Cluster local -Instance tcphost -Image $BuiltImage -HealthcheckOnly -Command 'sleep 60' `
            -ErrorAction SilentlyContinue -Confirm:$false 6>$null
        $bad.Healthy | Should -BeFalse
        $bad.Healthcheck.CountedFailures | Should -Be 6
        $bad.Healthcheck.Message | Should -Match "127\.0\.0\.1:$($HostNetPort): .*refused"
    }

    It 'passes a cmd healthcheck that exits 0 inside the container' {
        if (-not (Assert-PlatformOrSkip ($DockerUp -and $BuiltImage) 'The Docker engine and the built image')) { return }
        $r = Invoke-PaastaLocalRun -SoaDir $Soa -Service $Service -Cluster local -Instance isolated -Image $BuiltImage -HealthcheckOnly -Confirm:$false 6>$null
        ($r.Healthy, $r.Healthcheck.Mode, $r.Healthcheck.Attempts) | Should -Be @($true, 'cmd', 1)
        $r.Healthcheck.Message | Should -Be "'true' exited 0"
        (& docker ps -aq --filter "id=$($r.ContainerId)") | Should -BeNullOrEmpty
    }

    It 'gives up on an HTTP answer slower than healthcheck_timeout_seconds, and waits for it when the timeout allows' {
        if (-not (Assert-PlatformOrSkip ($DockerUp -and $BuiltImage) 'The Docker engine and the built image')) { return }
        # busybox httpd with a CGI /cgi-bin/status that answers after 3 s.
        $slowServer = 'mkdir -p /tmp/www/cgi-bin && printf ''#!/bin/sh\nsleep 3\necho "Content-Type: text/plain"\necho\necho ok\n'' > /tmp/www/cgi-bin/status && chmod +x /tmp/www/cgi-bin/status && exec httpd -f -p 8888 -h /tmp/www'
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $fast = Invoke-PaastaLocalRun -SoaDir $Soa -Service $Service -Cluster local -Instance slow -Image $BuiltImage -HealthcheckOnly -Command $slowServer `
            -ErrorAction SilentlyContinue -Confirm:$false 6>$null
        $sw.Stop()
        $fast.Healthy | Should -BeFalse
        $fast.Healthcheck.CountedFailures | Should -Be 2
        $fast.Healthcheck.Message | Should -Match 'did not answer within 1 s'
        $fast.Healthcheck.Duration.TotalSeconds | Should -BeLessThan 3.5   # two 1 s timeouts and a 0.5 s pause, not 3 s answers

        $patient = Invoke-PaastaLocalRun -SoaDir $Soa -Service $Service -Cluster local -Instance patient -Image $BuiltImage -HealthcheckOnly -Command $slowServer -Confirm:$false 6>$null
        $patient.Healthy | Should -BeTrue -Because $patient.Healthcheck.Message
        $patient.Healthcheck.Message | Should -Match '^HTTP 200 from http://127\.0\.0\.1:\d+/cgi-bin/status: ok$'
        $patient.Healthcheck.Duration.TotalSeconds | Should -BeGreaterThan 2.5
    }

    It 'keeps -Env values out of -Verbose and the result, and passes them to the container' {
        if (-not (Assert-PlatformOrSkip ($DockerUp -and $BuiltImage) 'The Docker engine and the built image')) { return }
        $secret = "tok-$(Get-Random)-s3cr3t"
        $out = Invoke-PaastaLocalRun -SoaDir $Soa -Service $Service -Cluster local -Instance greet -Image $BuiltImage -Command 'echo "token=$API_TOKEN"' `
            -Env @{ API_TOKEN = $secret } -Interactive:$false -InformationVariable info -Verbose -Confirm:$false 4>&1 6>$null
        $r = $out | Where-Object { $_.PSObject.TypeNames[0] -eq 'Paasta.Docker.LocalRunResult' }
        $verbose = @($out | Where-Object { $_ -is [Management.Automation.VerboseRecord] } | ForEach-Object Message)
        $r.ExitCode | Should -Be 0
        @($info | Where-Object { $_.Tags -contains 'Stdout' } | ForEach-Object { "$($_.MessageData)" }) | Should -Contain "token=$secret"   # the container got it
        $line = $verbose | Where-Object { $_ -like 'docker run *' }
        $line | Should -Match '^docker run --env PAASTA_SERVICE --env PAASTA_INSTANCE '
        $line | Should -Match ' --env API_TOKEN '
        ($verbose -join "`n") | Should -Not -Match $secret
        $r.CommandLine | Should -Match ' --env API_TOKEN '
        ($r | Format-List * | Out-String) | Should -Not -Match $secret
        "$r" | Should -Not -Match $secret
        # Only the plan the caller asked for shows the value, so its command line runs as it is.
        $plan = Invoke-PaastaLocalRun -SoaDir $Soa -Service $Service -Cluster local -Instance greet -Image $BuiltImage -Env @{ API_TOKEN = $secret } -DryRun
        $plan.CommandLine | Should -Match " --env=API_TOKEN=$secret "
    }

    It 'says when the container was killed for running out of memory' {
        if (-not (Assert-PlatformOrSkip ($DockerUp -and $BuiltImage) 'The Docker engine and the built image')) { return }
        $r = Invoke-PaastaLocalRun -SoaDir $Soa -Service $Service -Cluster local -Instance hog -Image $BuiltImage -Interactive:$false -WarningVariable warn -WarningAction SilentlyContinue -Confirm:$false 6>$null
        $r.ExitCode | Should -Be 137
        $r.OomKilled | Should -BeTrue
        $r.Removed | Should -BeTrue
        "$warn" | Should -Match 'out of memory \(mem: 33 MiB\)'
    }

    It 'passes piped stdin to an interactive run and returns its exit code' {
        if (-not (Assert-PlatformOrSkip ($DockerUp -and $BuiltImage) 'The Docker engine and the built image')) { return }
        function Invoke-WithStdin([string] $Arguments, [string] $Stdin) {
            $cmd = @(Get-PwshCommand)
            $start = [Diagnostics.ProcessStartInfo]::new($cmd[0])
            foreach ($a in @($cmd | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-Command',
                    "Import-Module '$env:PAASTA_TEST_MODULE'; `$r = Invoke-PaastaLocalRun -SoaDir '$Soa' -Service $Service -Cluster local -Image '$BuiltImage' $Arguments -Confirm:`$false; 'exit=' + `$r.ExitCode")) {
                $start.ArgumentList.Add($a)
            }
            $start.RedirectStandardInput = $true
            $start.RedirectStandardOutput = $true
            $start.UseShellExecute = $false
            $p = [Diagnostics.Process]::Start($start)
            $p.StandardInput.Write($Stdin)
            $p.StandardInput.Close()
            $out = $p.StandardOutput.ReadToEnd()
            $p.WaitForExit(120000) | Should -BeTrue
            $out
        }
        # No -Instance: the interactive instance, with a shell.
        $out = Invoke-WithStdin '' "echo piped-`$((40 + 2)) `$PAASTA_INSTANCE`nexit 5`n"
        $out | Should -Match 'piped-42 interactive'
        $out | Should -Match 'exit=5'
        # An instance without a healthcheck runs interactively too (as PaaSTA forces it), with its own command or -Command.
        $out2 = Invoke-WithStdin "-Instance greet -Command 'read line; echo got-`$line; exit 4'" "hello-stdin`n"
        $out2 | Should -Match 'got-hello-stdin'
        $out2 | Should -Match 'exit=4'
    }

    It 'runs a Tron action with its date variables filled in' {
        if (-not (Assert-PlatformOrSkip ($DockerUp -and $BuiltImage) 'The Docker engine and the built image')) { return }
        $r = Invoke-PaastaLocalRun -SoaDir $Soa -Service $Service -Cluster local -Instance dated.show -Image $BuiltImage -Date 2024-03-01 `
            -Interactive:$false -InformationVariable info -Confirm:$false 6>$null
        $r.ExitCode | Should -Be 0
        @($info | Where-Object { $_.Tags -contains 'Stdout' } | ForEach-Object { "$($_.MessageData)" }) | Should -Contain 'day=2024-02-29 month=2024-03 dated.show'
    }

    It 'stops and removes the container when the run is interrupted (Ctrl+C)' {
        if (-not (Assert-PlatformOrSkip ($DockerUp -and $BuiltImage) 'The Docker engine and the built image')) { return }
        $cmd = @(Get-PwshCommand)
        $start = [Diagnostics.ProcessStartInfo]::new($cmd[0])
        foreach ($a in @($cmd | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-Command',
                "Import-Module '$env:PAASTA_TEST_MODULE'; Invoke-PaastaLocalRun -SoaDir '$Soa' -Service $Service -Cluster local -Instance greet -Image '$BuiltImage' -Command 'echo started; sleep 300' -Interactive:`$false -Confirm:`$false")) {
            $start.ArgumentList.Add($a)
        }
        $start.RedirectStandardOutput = $true
        $start.RedirectStandardInput = $true
        $start.UseShellExecute = $false
        $p = [Diagnostics.Process]::Start($start)
        try {
            $deadline = [DateTime]::UtcNow.AddSeconds(90)
            $id = $null
            while (-not $id -and [DateTime]::UtcNow -lt $deadline) {
                $id = @(& docker ps -q --filter "label=paasta_service=$Service" --filter 'label=paasta_instance=greet') | Select-Object -First 1
                if (-not $id) { Start-Sleep -Milliseconds 300 }
            }
            $id | Should -Not -BeNullOrEmpty -Because 'the run should have started a container'
            & kill -INT $p.Id
            $p.WaitForExit(60000) | Should -BeTrue
            (& docker ps -aq --filter "id=$id") | Should -BeNullOrEmpty
        }
        finally { if (-not $p.HasExited) { $p.Kill($true) } }
    }
}

Describe 'Build-PaastaImage, Publish-PaastaImage and Invoke-PaastaLocalRun -Pull' -Tag Integration {
    It 'builds the image for a commit, pushes it once, and runs it pulled from the registry' {
        if (-not (Assert-PlatformOrSkip ($DockerUp -and $RegistryUp) 'The Docker engine and the local registry')) { return }
        $image = "$Registry/services-$($Service):paasta-$Sha"
        $built = Build-PaastaImage -SoaDir $Soa -Service $Service -Path $Checkout -Commit HEAD -Confirm:$false 6>$null
        $built.Image | Should -Be $image
        $built.Commit | Should -Be $Sha
        $built.Method | Should -Be 'make cook-image'
        (& docker image inspect $image --format '{{.Id}}') | Should -Be $built.ImageId

        $manifestUrl = "http://$Registry/v2/services-$Service/manifests/paasta-$Sha"
        $accept = @{ Accept = 'application/vnd.docker.distribution.manifest.v2+json' }
        $built | Publish-PaastaImage -SoaDir $Soa -WhatIf | Should -BeNullOrEmpty
        (Invoke-WebRequest -Method Head $manifestUrl -Headers $accept -SkipHttpErrorCheck).StatusCode | Should -Be 404

        $pushed = $built | Publish-PaastaImage -SoaDir $Soa -Confirm:$false
        $pushed.Pushed | Should -BeTrue
        $pushed.Digest | Should -Match '^sha256:[0-9a-f]{64}$'
        (Invoke-WebRequest -Method Head $manifestUrl -Headers $accept -SkipHttpErrorCheck).StatusCode | Should -Be 200
        (Publish-PaastaImage -SoaDir $Soa -Service $Service -Commit $Sha).Pushed | Should -BeFalse
        (Publish-PaastaImage -SoaDir $Soa -Service $Service -Commit $Sha -Force -Confirm:$false).Pushed | Should -BeTrue

        # deployments.json says local.everything runs that commit; drop the local copy so -Pull must fetch it.
        Set-Content (Join-Path $Soa "$Service/deployments.json") (@{
                v1 = @{}
                v2 = @{
                    deployments = @{ 'local.everything' = @{ docker_image = "services-$($Service):paasta-$Sha"; git_sha = $Sha; image_version = $null } }
                    controls    = @{ "$($Service):local.greet" = @{ desired_state = 'start'; force_bounce = $null } }
                }
            } | ConvertTo-Json -Depth 5)
        $null = & docker rmi $image 2>&1
        (& docker images -q $image) | Should -BeNullOrEmpty
        $r = Invoke-PaastaLocalRun -SoaDir $Soa -Service $Service -Cluster local -Instance greet -Pull `
            -Command 'echo "$PAASTA_DOCKER_IMAGE $PAASTA_GIT_SHA"' -Interactive:$false -InformationVariable info -Confirm:$false 6>$null
        $r.Image | Should -Be $image
        $r.ExitCode | Should -Be 0
        @($info | Where-Object { $_.Tags -contains 'Stdout' } | ForEach-Object { "$($_.MessageData)" }) |
            Should -Contain "services-$($Service):paasta-$Sha $($Sha.Substring(0, 8))"
        (& docker images -q $image) | Should -Not -BeNullOrEmpty

        # -Commit runs the image of that commit from the registry, without deployments.json.
        Remove-Item (Join-Path $Soa "$Service/deployments.json")
        $null = & docker rmi $image 2>&1
        $c = Invoke-PaastaLocalRun -SoaDir $Soa -Service $Service -Cluster local -Instance greet -Commit $Sha `
            -Command 'echo "commit $PAASTA_GIT_SHA"' -Interactive:$false -InformationVariable info2 -Confirm:$false 6>$null
        $c.Image | Should -Be $image
        $c.ExitCode | Should -Be 0
        @($info2 | Where-Object { $_.Tags -contains 'Stdout' } | ForEach-Object { "$($_.MessageData)" }) | Should -Contain "commit $($Sha.Substring(0, 8))"
    }

    It 'pushes both the plain and the versioned tag with -ImageVersion, as the same image' {
        if (-not (Assert-PlatformOrSkip ($DockerUp -and $RegistryUp) 'The Docker engine and the local registry')) { return }
        # A commit of its own, so neither tag is in the registry yet.
        $clone = Join-Path $TestDrive 'versioned-checkout'
        $null = Invoke-Git clone -q $Checkout $clone
        $null = Invoke-Git -C $clone -c user.name=test -c user.email=test@example.com commit -q --allow-empty -m "versioned $(New-Guid)"
        $sha = (Invoke-Git -C $clone rev-parse HEAD).Trim()
        $version = "v$(Get-Random -Maximum 100000)"
        $built = Build-PaastaImage -SoaDir $Soa -Service $Service -Path $clone -Commit HEAD -ImageVersion $version -Confirm:$false 6>$null
        $built.Image | Should -Be "$Registry/services-$($Service):paasta-$sha-$version"

        $accept = @{ Accept = 'application/vnd.docker.distribution.manifest.v2+json' }
        $urls = "paasta-$sha", "paasta-$sha-$version" | ForEach-Object { "http://$Registry/v2/services-$Service/manifests/$_" }
        foreach ($u in $urls) { (Invoke-WebRequest -Method Head $u -Headers $accept -SkipHttpErrorCheck).StatusCode | Should -Be 404 }

        $pushed = @(Publish-PaastaImage -SoaDir $Soa -Service $Service -Path $clone -Commit $sha -ImageVersion $version -Confirm:$false 6>$null)
        ($pushed | ForEach-Object Image) | Should -Be @("$Registry/services-$($Service):paasta-$sha", "$Registry/services-$($Service):paasta-$sha-$version")
        ($pushed | ForEach-Object Pushed) | Should -Be @($true, $true)
        # The oracle: the registry's own manifests, over HTTP; one image under two tags.
        $digests = foreach ($u in $urls) {
            $head = Invoke-WebRequest -Method Head $u -Headers $accept -SkipHttpErrorCheck
            $head.StatusCode | Should -Be 200
            "$($head.Headers['Docker-Content-Digest'])"
        }
        $digests[0] | Should -Match '^sha256:[0-9a-f]{64}$'
        $digests[1] | Should -Be $digests[0]
        $pushed[0].Digest | Should -Be $digests[0]
    }

    It 'builds from the Dockerfile when the Makefile has no cook-image target' {
        if (-not (Assert-PlatformOrSkip $DockerUp 'The Docker engine')) { return }
        $plain = Join-Path $TestDrive 'dockerfile-only'
        $null = New-Item -ItemType Directory $plain
        Copy-Item (Join-Path $Checkout 'Dockerfile'), (Join-Path $Checkout 'run.sh') $plain
        Copy-Item -Recurse (Join-Path $Checkout 'www') $plain
        Set-Content (Join-Path $plain '.dockerignore') 'www/index.html'
        $tag = "lr-dockerfile-$(Get-Random)"
        $built = Build-PaastaImage -SoaDir $Soa -Service $Service -Path $plain -Tag $tag -Confirm:$false 6>$null
        $built.Method | Should -Be 'Dockerfile'
        (& docker image inspect $tag --format '{{.Id}}') | Should -Be $built.ImageId
        $files = & docker run --rm $tag ls /srv/hello/www
        $files | Should -Contain 'status'
        $files | Should -Not -Contain 'index.html'
    }

    It 'reports a failing build with make''s exit code' {
        if (-not (Assert-PlatformOrSkip $DockerUp 'The Docker engine')) { return }
        $bad = Join-Path $TestDrive 'bad-build'
        $null = New-Item -ItemType Directory $bad
        Set-Content (Join-Path $bad 'Makefile') "cook-image:`n`t@echo building `$(DOCKER_TAG); exit 4`n"
        Build-PaastaImage -SoaDir $Soa -Service $Service -Path $bad -Tag lr-never -InformationVariable info -ErrorVariable err -ErrorAction SilentlyContinue -Confirm:$false 6>$null
        $err[0].FullyQualifiedErrorId | Should -Be 'ImageBuildFailed,Paasta.Commands.BuildPaastaImage'
        $err[0].Exception.Message | Should -Match 'failed with exit code 2 \(DOCKER_TAG=lr-never\)'   # make's own code for a failed recipe
        @($info | ForEach-Object { "$($_.MessageData)" }) | Should -Contain 'building lr-never'
    }
}
