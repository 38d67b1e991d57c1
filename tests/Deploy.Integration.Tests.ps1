#Requires -Version 7.4
# Deploy-PaastaService on the real local cluster (issue 17): hello's two-step pipeline (local.canary, then
# local.main) with a good image, a crash-looping image rolled back, and a manual step that a non-interactive run
# stops at. kubectl, git and deployments.json are the oracles, not Paasta's own output. The service has a name of
# this run's own (deployhello…), so its objects live in paastasvc-deployhello…, the only namespace it deletes; the
# images it pushes are tagged with that name too.
BeforeAll {
    Import-Module $env:PAASTA_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'Paasta.TestUtils.psm1') -Force
    $script:Repo = if ($env:PAASTA_REPO_ROOT) { $env:PAASTA_REPO_ROOT } else { (Resolve-Path (Join-Path $PSScriptRoot '..')).Path }
    $script:Up = Test-KubernetesUp
    $script:Service = New-TestName 'deployhello'
    $script:Namespace = "paastasvc-$Service"
    if (-not $Up) { return }
    Register-TestNamespace $Namespace

    # soa-configs: hello's service.yaml, a canary (1 copy) and a main (2 copies) in two deploy groups, noop drain,
    # short health checks, and a pipeline canary → main.
    $script:Soa = Join-Path $TestDrive 'soa'
    $dir = New-Item -ItemType Directory -Force (Join-Path $Soa $Service)
    Copy-Item (Join-Path $Repo 'examples/soa-configs/hello/service.yaml'), (Join-Path $Repo 'examples/soa-configs/hello/monitoring.yaml') $dir
    $common = "  cpus: 0.05`n  mem: 48`n  disk: 128`n  drain_method: noop`n  healthcheck_mode: http`n  healthcheck_uri: /status`n  healthcheck_grace_period_seconds: 1`n  healthcheck_interval_seconds: 1`n"
    "canary:`n  deploy_group: local.canary`n  instances: 1`n$common" + "main:`n  deploy_group: local.main`n  instances: 2`n$common" |
        Set-Content (Join-Path $dir 'kubernetes-local.yaml')
    $script:DeployYaml = Join-Path $dir 'deploy.yaml'
    function Set-Pipeline([string] $CanaryExtra = '') {
        "pipeline:`n- step: itest`n- step: local.canary`n$CanaryExtra- step: local.main`n" | Set-Content $DeployYaml
    }
    Set-Pipeline

    # hello's repository: two good commits and one whose entrypoint exits at once (a crash loop), each with its image.
    $script:Bare = Join-Path $TestDrive "$Service.git"
    $script:Work = Join-Path $TestDrive 'work'
    Invoke-Git init -q --bare $Bare | Out-Null
    Invoke-Git clone -q $Bare $Work | Out-Null
    Copy-Item -Recurse (Join-Path $Repo 'examples/services/hello/*') $Work
    $script:Images = [System.Collections.Generic.List[string]]::new()
    function New-Commit([string] $Message) {
        $sha = New-TestImageCommit -Work $Work -Service $Service -Message $Message
        $Images.Add("127.0.0.1:5000/services-${Service}:paasta-$sha")
        $sha
    }
    $script:Good1 = New-Commit 'hello'
    '<p>hello, again</p>' | Set-Content (Join-Path $Work 'www/index.html')
    $script:Good2 = New-Commit 'hello again'
    "#!/bin/sh`necho 'hello: broken on purpose' >&2`nexit 1`n" | Set-Content -NoNewline (Join-Path $Work 'run.sh')
    $script:Bad = New-Commit 'crash on start'

    function Deploy { Deploy-PaastaService -SoaDir $Soa -Service $Service -Repository $Bare -Sync -TimeoutSec 240 -Confirm:$false @args }
    function Get-Live([string] $Instance) { Invoke-Kubectl -n $Namespace get deployment "$Service-$Instance" -o json | ConvertFrom-Json }
    # The pods kubectl shows for an instance that are not being deleted.
    function Get-Pods([string] $Instance) {
        @((Invoke-Kubectl -n $Namespace get pods -l "paasta.yelp.com/instance=$Instance" -o json | ConvertFrom-Json).items | Where-Object { -not $_.metadata.deletionTimestamp })
    }
    function Test-Ready($Pod) { [bool]($Pod.status.conditions | Where-Object { $_.type -eq 'Ready' -and $_.status -eq 'True' }) }
    function Get-DeployedSha([string] $Group) { (Get-Content -Raw (Join-Path $Soa "$Service/deployments.json") | ConvertFrom-Json).v2.deployments.$Group.git_sha }
    function Get-Tags { Invoke-Git ls-remote --tags $Bare | ForEach-Object { $sha, $ref = $_ -split "`t"; [pscustomobject]@{ Name = $ref -replace '^refs/tags/'; Sha = $sha } } }
    # Every live pod of the instance runs the version and is ready, and there are as many as wanted.
    function Assert-Running([string] $Instance, [string] $Sha, [int] $Copies) {
        (Get-Live $Instance).metadata.labels.'paasta.yelp.com/git_sha' | Should -Be $Sha
        $pods = Get-Pods $Instance
        $pods.Count | Should -Be $Copies -Because "$Instance runs $Copies copies and no old one"
        foreach ($pod in $pods) {
            $pod.metadata.labels.'paasta.yelp.com/git_sha' | Should -Be $Sha
            Test-Ready $pod | Should -BeTrue -Because "$($pod.metadata.name) is Ready"
        }
    }
}

AfterAll {
    if ($Up) {
        Remove-TestNamespace $Namespace
        foreach ($image in $Images) { $null = & docker rmi $image 2>&1 }
    }
}

Describe 'Deploy-PaastaService on the local cluster' -Tag Integration {
    It 'deploys a good commit to the canary, then to main, with the tags PaaSTA writes' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        $first = Deploy -Commit $Good1
        [string[]]($first | Where-Object DeployGroup -like 'local.*').State | Should -Be @('Deployed', 'Deployed')

        $steps = Deploy -Commit $Good2
        $steps.DeployGroup | Should -Be @('itest', 'local.canary', 'local.main')
        [string[]]$steps.State | Should -Be @('Skipped', 'Deployed', 'Deployed')
        $tags = Get-Tags
        foreach ($step in $steps | Where-Object State -eq Deployed) {
            $step.FromVersion.Sha | Should -Be $Good1
            $step.ToVersion.Sha | Should -Be $Good2
            $step.Clusters | Should -Be @('local')
            $step.TagsWritten.Count | Should -Be 1
            $step.TagsWritten[0] | Should -Match "^paasta-$([regex]::Escape($step.DeployGroup))-\d{8}T\d{6}-deploy$"
            ($tags | Where-Object Name -eq $step.TagsWritten[0]).Sha | Should -Be $Good2 -Because 'git itself sees the deploy tag on the commit'
            Get-DeployedSha $step.DeployGroup | Should -Be $Good2
        }
        # The canary was marked (and came up) before main was marked.
        $steps[1].TagsWritten[0] -replace '^paasta-local\.canary-(\d{8}T\d{6})-deploy$', '$1' |
            Should -BeLessOrEqual ($steps[2].TagsWritten[0] -replace '^paasta-local\.main-(\d{8}T\d{6})-deploy$', '$1')
        Assert-Running canary $Good2 1
        Assert-Running main $Good2 2
    }

    It 'rolls a crash-looping commit back on the canary and goes no further' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        $steps = Deploy-PaastaService -SoaDir $Soa -Service $Service -Repository $Bare -Sync -TimeoutSec 240 -Commit $Bad.Substring(0, 10) -AutoRollback -ErrorVariable failures -ErrorAction SilentlyContinue
        $steps.DeployGroup | Should -Be @('itest', 'local.canary')
        $canary = $steps[1]
        [string]$canary.State | Should -Be 'RolledBack'
        $canary.Reason | Should -Match 'restarted \d+\+ times'
        $canary.FromVersion.Sha | Should -Be $Good2
        $canary.ToVersion.Sha | Should -Be $Bad
        @($failures | Where-Object { $_.FullyQualifiedErrorId -like 'DeployRolledBack,*' }).Count | Should -Be 1
        # git: the bad commit got a deploy tag and then a rollback tag; the good one a new deploy tag.
        $tags = Get-Tags
        $rollback = @($tags | Where-Object Name -like 'paasta-local.canary-*-rollback')
        $rollback.Count | Should -Be 1
        $rollback[0].Sha | Should -Be $Bad
        $canary.TagsWritten | Should -Contain $rollback[0].Name
        Get-DeployedSha 'local.canary' | Should -Be $Good2 -Because 'deployments.json was regenerated after the rollback'
        Assert-Running canary $Good2 1
        Get-DeployedSha 'local.main' | Should -Be $Good2
        Assert-Running main $Good2 2
    }

    It 'stops a non-interactive run at a manual step, and a second run with -Force continues without marking the canary again' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        Set-Pipeline "  trigger_next_step_manually: true`n"
        # pwsh -NonInteractive, as a runbook or CI job runs it: no one to ask.
        $script = "Import-Module '$env:PAASTA_TEST_MODULE'; `$steps = Deploy-PaastaService -SoaDir '$Soa' -Service $Service -Commit $Good1 -Repository '$Bare' -Sync -TimeoutSec 240 " +
            "-WarningVariable w -WarningAction SilentlyContinue; @{ Steps = @(`$steps | Select-Object DeployGroup, @{ n = 'State'; e = { [string]`$_.State } }); Warnings = @(`$w.Message) } | ConvertTo-Json -Compress -Depth 4"
        $out = Invoke-ChildPwsh -Command $script
        $LASTEXITCODE | Should -Be 0
        $first = $out | Select-Object -Last 1 | ConvertFrom-Json
        $first.Steps.DeployGroup | Should -Be @('itest', 'local.canary', 'local.main')
        $first.Steps.State | Should -Be @('Skipped', 'Deployed', 'WaitingForApproval')
        $first.Warnings | Should -Match 'waits for approval.*-Force'
        Assert-Running canary $Good1 1
        Assert-Running main $Good2 2
        Get-DeployedSha 'local.main' | Should -Be $Good2

        $canaryTags = @(Get-Tags | Where-Object Name -like 'paasta-local.canary-*-deploy').Count
        $second = Deploy -Commit $Good1 -Force
        [string[]]$second.State | Should -Be @('Skipped', 'Deployed', 'Deployed')
        $second[1].TagsWritten | Should -BeNullOrEmpty
        @(Get-Tags | Where-Object Name -like 'paasta-local.canary-*-deploy').Count | Should -Be $canaryTags
        $second[2].TagsWritten.Count | Should -Be 1
        Assert-Running canary $Good1 1
        Assert-Running main $Good1 2
    }
}
