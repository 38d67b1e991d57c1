#Requires -Version 7.4
# Local runs, image builds and service checks that need no Docker engine: plans (-DryRun), refusals, -WhatIf.
# What runs in the real engine is in LocalRun.Integration.Tests.ps1; both share LocalRun.Fixture.ps1.
BeforeAll {
    . (Join-Path $PSScriptRoot 'LocalRun.Fixture.ps1')
}

Describe 'Invoke-PaastaLocalRun without a Docker engine' {
    It 'says clearly that the engine cannot be reached' {
        $r = Invoke-PaastaLocalRun -SoaDir $Soa -Service $Service -Cluster local -Instance greet -Image busybox `
            -DockerHost "unix://$TestDrive/no-docker.sock" -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
        $r | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -Be 'DockerUnavailable,Paasta.Commands.InvokePaastaLocalRun'
        $err[0].CategoryInfo.Category | Should -Be 'ConnectionError'
        $err[0].Exception.Message | Should -Match 'no socket at .*no-docker\.sock.*Is dockerd running\?'
    }

    It 'plans a dry run without touching any engine' {
        $plan = Invoke-PaastaLocalRun -SoaDir $Soa -Service $Service -Cluster local -Instance main -Image 'hello:dev' -DryRun `
            -DockerHost "unix://$TestDrive/no-docker.sock" -Env @{ EXTRA = 'x y' }
        $plan.PSObject.TypeNames[0] | Should -Be 'Paasta.Docker.LocalRunPlan'
        # A kubernetes instance: PAASTA_CLUSTER comes last (PaaSTA's pods read it from a label; local-run puts it back).
        $plan.CommandLine | Should -Match '^docker run --env=PAASTA_SERVICE=lr-hello --env=PAASTA_INSTANCE=main --env=PAASTA_DEPLOY_GROUP=local.everything '
        $plan.CommandLine | Should -Match " --env=PAASTA_SOA_CONFIGS_SHA=$SoaSha .* --env=PAASTA_CLUSTER=local '--env=EXTRA=x y' --memory="
        $plan.CommandLine | Should -Match "--memory=64m --memory-swap=128m --cpu-period=100000 --cpu-quota=110000 "
        $plan.CommandLine | Should -Match "--publish=$($plan.HostPort):8888 .* --rm hello:dev$"
        $plan.Healthcheck.Target | Should -Be "http://127.0.0.1:$($plan.HostPort)/status"
        ($plan | Out-String) | Should -Match 'CommandLine\s+: docker run'
    }

    It 'changes nothing with -WhatIf (it would need the engine otherwise)' {
        $noEngine = "unix://$TestDrive/no-docker.sock"
        $out = Invoke-PaastaLocalRun -SoaDir $Soa -Service $Service -Cluster local -Instance greet -Image busybox -DockerHost $noEngine -WhatIf -ErrorVariable e1
        $out | Should -BeNullOrEmpty
        $e1 | Should -BeNullOrEmpty
        Build-PaastaImage -SoaDir $Soa -Service $Service -Path $Checkout -Tag lr-whatif -DockerHost $noEngine -WhatIf -ErrorVariable e2 | Should -BeNullOrEmpty
        $e2 | Should -BeNullOrEmpty
    }

    It 'refuses conflicting image sources and modes' {
        Invoke-PaastaLocalRun -SoaDir $Soa -Service $Service -Cluster local -Instance main -Pull -Image x -DryRun -ErrorVariable e1 -ErrorAction SilentlyContinue
        $e1[0].FullyQualifiedErrorId | Should -Be 'ImageSourceConflict,Paasta.Commands.InvokePaastaLocalRun'
        Invoke-PaastaLocalRun -SoaDir $Soa -Service $Service -Cluster local -Instance main -Image x -Detach -Interactive -DryRun -ErrorVariable e2 -ErrorAction SilentlyContinue
        $e2[0].FullyQualifiedErrorId | Should -Be 'LocalRunModeConflict,Paasta.Commands.InvokePaastaLocalRun'
        Invoke-PaastaLocalRun -SoaDir $Soa -Service $Service -Cluster local -Instance main -Image x -Commit HEAD -DryRun -ErrorVariable e3 -ErrorAction SilentlyContinue
        $e3[0].FullyQualifiedErrorId | Should -Be 'ImageSourceConflict,Paasta.Commands.InvokePaastaLocalRun'
        Invoke-PaastaLocalRun -SoaDir $Soa -Service $Service -Cluster local -Instance greet -Pull -DryRun -ErrorVariable e4 -ErrorAction SilentlyContinue
        $e4[0].FullyQualifiedErrorId | Should -Be 'DeploymentsFileNotFound,Paasta.Commands.InvokePaastaLocalRun'
    }

    It 'refuses an extra_docker_args option it cannot apply, naming it and its file, before touching the engine' {
        $r = Invoke-PaastaLocalRun -SoaDir $Soa -Service $Service -Cluster local -Instance unsupported -Image busybox `
            -DockerHost "unix://$TestDrive/no-docker.sock" -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
        $r | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -Be 'ExtraDockerArgUnsupported,Paasta.Commands.InvokePaastaLocalRun'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $err[0].Exception.Message | Should -Match "kubernetes-local\.yaml: extra_docker_args 'cgroup-parent' of $Service\.unsupported"
        # -DryRun refuses it too: the plan would not be what runs.
        Invoke-PaastaLocalRun -SoaDir $Soa -Service $Service -Cluster local -Instance unsupported -Image busybox -DryRun -ErrorVariable err2 -ErrorAction SilentlyContinue
        $err2[0].FullyQualifiedErrorId | Should -Be 'ExtraDockerArgUnsupported,Paasta.Commands.InvokePaastaLocalRun'
    }

    It 'refuses an -Env value given without NAME= without echoing it' {
        $secret = "tok-$(Get-Random)-s3cr3t"
        $r = Invoke-PaastaLocalRun -SoaDir $Soa -Service $Service -Cluster local -Instance main -Image x -DryRun -Env $secret -ErrorVariable err -ErrorAction SilentlyContinue
        $r | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -Be 'EnvInvalid,Paasta.Commands.InvokePaastaLocalRun'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        ($err[0] | Format-List * -Force | Out-String) | Should -Not -Match $secret
        "$($err[0].TargetObject)" | Should -Not -Match $secret
        # A hashtable key with '=' in it shows only what comes before the '='.
        Invoke-PaastaLocalRun -SoaDir $Soa -Service $Service -Cluster local -Instance main -Image x -DryRun -Env @{ "TOKEN=$secret" = '1' } -ErrorVariable err2 -ErrorAction SilentlyContinue
        $err2[0].FullyQualifiedErrorId | Should -Be 'EnvInvalid,Paasta.Commands.InvokePaastaLocalRun'
        $err2[0].Exception.Message | Should -Not -Match $secret
    }

    It 'refuses an env name from soa-configs that a container cannot carry, naming file, line and key' {
        $soa2 = Join-Path $TestDrive 'soa-badenv'
        Copy-Item -Recurse $Soa $soa2
        Add-Content (Join-Path $soa2 "$Service/kubernetes-local.yaml") "`nbadenv:`n  <<: *defaults`n  env:`n    `"A=B`": x`n"
        Invoke-PaastaLocalRun -SoaDir $soa2 -Service $Service -Cluster local -Instance badenv -Image x -DryRun -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -Be 'ConfigEnvNameInvalid,Paasta.Commands.InvokePaastaLocalRun'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidData'
        $err[0].Exception.Key | Should -Be 'env.A…'
        $err[0].Exception.File | Should -BeLike '*kubernetes-local.yaml'
        $err[0].Exception.Message | Should -Match "kubernetes-local\.yaml:\d+: 'env\.A…': .*contains '='"
    }

    It 'runs a Tron action with Tron''s date variables filled in, interactively and without a port' {
        $plan = Invoke-PaastaLocalRun -SoaDir $Soa -Service $Service -Cluster local -Instance dated.show -Image x -Date 2024-03-01 -DryRun
        $plan.InstanceType | Should -Be 'tron'
        $plan.Command | Should -Be @('sh', '-c', 'echo day=2024-02-29 month=2024-03 $PAASTA_INSTANCE')
        $plan.Interactive | Should -BeTrue
        $plan.HostPort | Should -BeNullOrEmpty
        $plan.CommandLine | Should -Match ' --interactive=true --rm x sh -c '
        $plan.CommandLine | Should -Not -Match '--publish'
    }

    It 'runs the image a commit was built into, from the registry (-Commit)' {
        $plan = Invoke-PaastaLocalRun -SoaDir $Soa -Service $Service -Cluster local -Instance main -Commit HEAD -Path $Checkout -DryRun -Registry 'registry.example:5000'
        $plan.Image | Should -Be "registry.example:5000/services-$($Service):paasta-$Sha"
        $env = @{}; foreach ($e in $plan.Environment) { $env[$e.Key] = $e.Value }
        $env.PAASTA_GIT_SHA | Should -Be $Sha.Substring(0, 8)
        $env.PAASTA_DOCKER_IMAGE | Should -Be "services-$($Service):paasta-$Sha"
        # The service's own registry (service.yaml docker_registry) when -Registry is not given.
        (Invoke-PaastaLocalRun -SoaDir $Soa -Service $Service -Cluster local -Instance main -Commit $Sha -DryRun).Image | Should -Be "$Registry/services-$($Service):paasta-$Sha"
    }

    It 'runs an instance without a healthcheck interactively, with its own command, publishing no port' {
        $plan = Invoke-PaastaLocalRun -SoaDir $Soa -Service $Service -Cluster local -Instance greet -Image x -Port 4567 -DryRun -WarningVariable warn -WarningAction SilentlyContinue
        $plan.Interactive | Should -BeTrue
        $plan.Command | Should -Be @('sh', '-c', 'echo "$GREETING from $PAASTA_SERVICE.$PAASTA_INSTANCE"')
        $plan.HostPort | Should -BeNullOrEmpty
        "$warn" | Should -Match '-Port 4567 is ignored: lr-hello\.greet has no healthcheck'
        (Invoke-PaastaLocalRun -SoaDir $Soa -Service $Service -Cluster local -Instance greet -Image x -Interactive:$false -DryRun).Interactive | Should -BeFalse
    }
}

Describe 'Test-PaastaService' {
    It 'checks the hello example against the contract' {
        $results = Test-PaastaService -SoaDir $Soa -Service $Service -Path $Checkout
        $byCheck = @{}
        foreach ($r in $results) { $byCheck[$r.Check] = $r }
        foreach ($check in 'Dockerfile', 'Makefile', 'MakeTarget:test', 'MakeTarget:itest', 'MakeTarget:cook-image', 'MakefileDockerTag', 'SoaConfigs', 'DeployYaml', 'DeployGroups', 'DockerfileTimeZone') {
            $byCheck[$check].Status | Should -Be 'Passed' -Because "$check on the example: $($byCheck[$check].Message)"
        }
        # hello serves HTTP but has no smartstack.yaml: a warning, not a failure.
        $byCheck['MeshRegistration'].Status | Should -Be 'Warning'
        Test-PaastaService -SoaDir $Soa -Service $Service -Path $Checkout -Quiet | Should -BeTrue
        ($results | Out-String) | Should -Match 'Passed\s+MakeTarget:cook-image'
    }

    It 'reports a missing make as one failed check, and still runs the others' {
        # A process whose PATH has no make: Test-PaastaService must not stop at the first make --question.
        $noMake = Join-Path $TestDrive 'no-make-bin'
        $null = New-Item -ItemType Directory -Force $noMake
        $line = "`$env:PATH = '$noMake'; Import-Module '$env:PAASTA_TEST_MODULE'; " +
            "Test-PaastaService -SoaDir '$Soa' -Service $Service -Path '$Checkout' | ForEach-Object { '{0}={1}' -f `$_.Check, `$_.Status }"
        $out = @(Invoke-ChildPwsh -Command $line)
        $out | Should -Contain 'Make=Failed'
        @($out | Where-Object { $_ -like 'MakeTarget:*' }).Count | Should -Be 0
        foreach ($check in 'Dockerfile', 'Makefile', 'MakefileDockerTag', 'SoaConfigs', 'DeployYaml', 'DeployGroups') { $out | Should -Contain "$check=Passed" }
        $out | Should -Contain 'MeshRegistration=Warning'
    }

    It 'fails a checkout without a Makefile' {
        $empty = Join-Path $TestDrive 'empty-checkout'
        $null = New-Item -ItemType Directory -Force $empty
        Test-PaastaService -SoaDir $Soa -Service $Service -Path $empty -Quiet | Should -BeFalse
        (Test-PaastaService -SoaDir $Soa -Service $Service -Path $empty | Where-Object Check -eq 'Makefile').Status | Should -Be 'Failed'
    }
}
