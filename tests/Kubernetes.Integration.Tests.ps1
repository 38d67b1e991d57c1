#Requires -Version 7.4
# Sync-PaastaInstance, Get-PaastaInstanceStatus, Wait-PaastaDeployment and ConvertTo-PaastaKubernetesObject against
# the real local cluster (tools/platform; only it: Use-TestCluster): kubectl, docker and HTTP are the oracles.
# Every service name carries a random suffix, so each run works in namespaces of its own (paastasvc-sync…),
# registered before they are created and the only ones it deletes.
# Sync -Wait allows 300 s where old copies must go: on a loaded machine the v1.20 kubelet can take minutes to remove
# a deleted pod, and the wait counts it until it is gone.
BeforeAll {
    Import-Module $env:PAASTA_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'Paasta.TestUtils.psm1') -Force
    $script:Repo = if ($env:PAASTA_REPO_ROOT) { $env:PAASTA_REPO_ROOT } else { (Resolve-Path (Join-Path $PSScriptRoot '..')).Path }
    $script:Cluster = Use-TestCluster
    $script:Kubectl = $Cluster.Kubectl
    $script:Up = $Cluster.Up
    function Wait-Until([scriptblock] $Condition, [int] $Seconds, [string] $What) {
        $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
        while (-not (& $Condition)) {
            if ([DateTime]::UtcNow -gt $deadline) { throw "Timed out after $Seconds s waiting for $What" }
            Start-Sleep -Milliseconds 500
        }
    }

    $script:Service = New-TestName 'synchello'
    $script:Namespace = "paastasvc-$Service"
    $script:Deployment = "$Service-main"
    if (-not $Up) { return }
    Register-TestNamespace $Namespace

    # soa-configs: the hello example under another service name (main only, to keep the cluster light),
    # and a bare repository for its deploy tags.
    $script:Soa = Join-Path $TestDrive 'soa'
    New-Item -ItemType Directory $Soa | Out-Null
    $script:InstanceFile = Copy-HelloService $Soa $Service
    # Probes every second from the first (the example waits 5 s, then probes every 2 s): each rollout is ready sooner.
    (Get-Content -Raw $InstanceFile) -replace '(?s)\ncanary:.*$', "`n" -replace 'healthcheck_grace_period_seconds: 5', 'healthcheck_grace_period_seconds: 1' -replace 'healthcheck_interval_seconds: 2', 'healthcheck_interval_seconds: 1' | Set-Content $InstanceFile
    Add-Content (Join-Path $Soa "$Service/deploy.yaml") '- step: local.broken'

    # Three commits, each with its image in the local registry: A (good), B (no /status: fails readiness), C (good).
    $script:Bare = Join-Path $TestDrive 'synchello.git'
    $script:Work = Join-Path $TestDrive 'work'
    Invoke-Git init -q --bare $Bare | Out-Null
    Invoke-Git clone -q $Bare $Work | Out-Null
    Copy-Item -Recurse (Join-Path $Repo 'examples/services/hello/*') $Work
    function New-Commit([string] $Message) { New-TestImageCommit -Work $Work -Service $Service -Message $Message }
    $script:ShaA = New-Commit 'hello'
    Remove-Item (Join-Path $Work 'www/status')
    $script:ShaB = New-Commit 'lose /status'
    'ok' | Set-Content -NoNewline (Join-Path $Work 'www/status')
    '<p>hello, again</p>' | Set-Content (Join-Path $Work 'www/index.html')
    $script:ShaC = New-Commit 'hello again'

    $null = Publish-PaastaDeployment -SoaDir $Soa -Service $Service -DeployGroup local.everything -Commit $ShaA -Repository $Bare -Confirm:$false
    $null = New-PaastaDeployments -SoaDir $Soa -Service $Service -Repository $Bare -Confirm:$false

    function Sync { Sync-PaastaInstance -SoaDir $Soa -Service $Service -Cluster local -Instance main -Confirm:$false @args }
    # -Force: deploy groups some tests add to deployments.json by hand have no tag, and may be dropped by then.
    function Update-Deployments { New-PaastaDeployments -SoaDir $Soa -Service $Service -Repository $Bare -Force -Confirm:$false | Out-Null }
    # An instance added to soa-configs after deployments.json was generated gets its control entry, as the next
    # New-PaastaDeployments would give it (regenerating here would refuse: some tests add deploy groups by hand).
    function Add-ControlEntry([string] $Branch) {
        $file = Join-Path $Soa "$Service/deployments.json"
        $doc = Get-Content -Raw $file | ConvertFrom-Json -AsHashtable
        $doc.v2.controls["${Service}:$Branch"] = [ordered]@{ desired_state = 'start'; force_bounce = $null }
        [IO.File]::WriteAllText($file, ($doc | ConvertTo-Json -Depth 10))
    }
    function Get-Live([string] $Name = $Deployment) { Invoke-Kubectl -n $Namespace get deployment $Name -o json | ConvertFrom-Json }
    function Wait-Rollout([string] $Name = $Deployment) { Invoke-Kubectl -n $Namespace rollout status "deployment/$Name" --timeout=180s | Out-Null }
    function Get-Pods([string] $Instance = 'main') {
        (Invoke-Kubectl -n $Namespace get pods -l "paasta.yelp.com/instance=$Instance" -o json | ConvertFrom-Json).items | Where-Object { -not $_.metadata.deletionTimestamp }
    }
    function Get-ReadyPods([string] $Instance = 'main') {
        Get-Pods $Instance | Where-Object { $_.status.conditions | Where-Object { $_.type -eq 'Ready' -and $_.status -eq 'True' } }
    }
}

AfterAll {
    if ($Up) { Remove-TestNamespace $Namespace }
}

Describe 'Sync-PaastaInstance on the local cluster' -Tag Integration {
    It 'changes nothing under -WhatIf and says what it would create' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        $r = Sync -WhatIf
        $r.Action | Should -Be 'Created'
        $r.WhatIf | Should -BeTrue
        $r.Changes | Should -Contain "create Namespace $Namespace"
        $r.Changes | Should -Contain "create Deployment $Namespace/$Deployment"
        $r.Diff | Should -Match "3 replica\(s\) of 127\.0\.0\.1:5000/services-${Service}:paasta-"
        & $Kubectl get namespace $Namespace 2>$null | Out-Null
        $LASTEXITCODE | Should -Not -Be 0
    }

    It 'creates the namespace, a Deployment whose 3 pods become Ready and answer /status, and its PDB' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        $r = Sync
        $r.Action | Should -Be 'Created'
        $r.NewReplicas | Should -Be 3
        $r.NewGitSha | Should -Be $ShaA
        Wait-Rollout
        $live = Get-Live
        $live.metadata.labels.'paasta.yelp.com/git_sha' | Should -Be $ShaA
        $live.metadata.labels.'paasta.yelp.com/config_sha' | Should -Be $r.NewConfigSha
        $live.metadata.labels.'paasta.yelp.com/managed' | Should -Be 'true'
        $live.spec.template.spec.containers[0].image | Should -Be "127.0.0.1:5000/services-${Service}:paasta-$ShaA"
        $live.spec.template.spec.containers[0].readinessProbe.httpGet.path | Should -Be '/status'
        ($live.spec.template.spec.containers[0].env | Where-Object name -eq 'PAASTA_CLUSTER').valueFrom.fieldRef.fieldPath | Should -Be "metadata.labels['paasta.yelp.com/cluster']"
        $pods = @(Get-ReadyPods)
        $pods.Count | Should -Be 3
        foreach ($pod in $pods) {
            $response = Invoke-WebRequest -Uri "http://$($pod.status.podIP):8888/status" -TimeoutSec 10
            $response.StatusCode | Should -Be 200
        }
        $ns = Invoke-Kubectl get namespace $Namespace -o json | ConvertFrom-Json
        $ns.metadata.labels.'paasta.yelp.com/managed' | Should -Be 'true'
        $ns.metadata.labels.'paasta.yelp.com/owner' | Should -Be 'compute_infra_platform_experience'
        Invoke-Kubectl -n $Namespace get limitrange limit-mem-cpu-disk-per-container -o name | Should -Be 'limitrange/limit-mem-cpu-disk-per-container'
        # v1.20 serves policy/v1beta1 only: Sync found that out rather than assuming policy/v1.
        $pdb = Invoke-Kubectl -n $Namespace get poddisruptionbudgets.v1beta1.policy $Deployment -o json | ConvertFrom-Json
        $pdb.spec.maxUnavailable | Should -Be 0
        $pdb.spec.selector.matchLabels.'paasta.yelp.com/instance' | Should -Be 'main'
    }

    It 'reports Running in Get-PaastaInstanceStatus, with the pods kubectl sees' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        $s = Get-PaastaInstanceStatus -SoaDir $Soa -Service $Service -Cluster local -Instance main
        $s.State | Should -Be 'Running'
        $s.DesiredState | Should -Be 'start'
        $s.GitSha | Should -Be $ShaA
        $s.DesiredGitSha | Should -Be $ShaA
        $s.ConfigSha | Should -Be $s.DesiredConfigSha
        $s.Replicas | Should -Be 3
        $s.ReadyReplicas | Should -Be 3
        $s.UpToDateReplicas | Should -Be 3
        $s.BounceInProgress | Should -BeFalse
        $s.Image | Should -Be "127.0.0.1:5000/services-${Service}:paasta-$ShaA"
        $kubectlPods = Get-Pods
        @($s.Pods).Count | Should -Be 3
        ($s.Pods.Name | Sort-Object) | Should -Be ($kubectlPods.metadata.name | Sort-Object)
        foreach ($pod in $s.Pods) {
            $pod.Ready | Should -BeTrue
            $pod.Node | Should -Be 'paasta-local'
            $pod.IP | Should -Be ($kubectlPods | Where-Object { $_.metadata.name -eq $pod.Name }).status.podIP
            $pod.Version | Should -Be "$($ShaA.Substring(0, 8)),$($s.ConfigSha)"
        }
        ($s | Format-Table | Out-String) | Should -Match 'Running'
        ($s | Format-List | Out-String) | Should -Match ([regex]::Escape($s.Pods[0].Name))
    }

    It 'Wait-PaastaDeployment returns at once when the version is already ready (-Timeout, the old name of -TimeoutSec, still binds)' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        $w = Wait-PaastaDeployment -SoaDir $Soa -Service $Service -DeployGroup local.everything -Cluster local -Timeout 60
        $w.Converged | Should -BeTrue
        $w.GitSha | Should -Be $ShaA
        $w.ReadyReplicas | Should -Be 3
        $w.Elapsed.TotalSeconds | Should -BeLessThan 10
    }

    It 'writes nothing on a second pass, with at most 3 API requests' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        $before = (Get-Live).metadata.resourceVersion
        $stream = Sync -Verbose 4>&1
        ($stream | Where-Object { $_.PSObject.TypeNames[0] -eq 'Paasta.Sync.SyncResult' }).Action | Should -Be 'Unchanged'
        $counts = Get-KubeApiCounts $stream
        $counts.Writes | Should -Be 0
        $counts.Requests | Should -BeLessOrEqual 3
        (Get-Live).metadata.resourceVersion | Should -Be $before
    }

    It 'shows the changed env field under -WhatIf without changing anything, then rolls out a new config_sha' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        $live = Get-Live
        $oldPods = @(Get-Pods).metadata.name
        (Get-Content -Raw $InstanceFile) -replace 'hello from main', 'hello again' | Set-Content $InstanceFile
        $preview = Sync -WhatIf
        $preview.Action | Should -Be 'Updated'
        $preview.WhatIf | Should -BeTrue
        $preview.Diff | Should -Match "spec\.template\.spec\.containers\[main\]\.env\[GREETING\]\.value: 'hello from main' -> 'hello again'"
        $preview.Diff | Should -Match "config_sha $($preview.OldConfigSha) -> $($preview.NewConfigSha)"
        (Get-Live).metadata.resourceVersion | Should -Be $live.metadata.resourceVersion

        $r = Sync
        $r.Action | Should -Be 'Updated'
        $r.OldConfigSha | Should -Be $live.metadata.labels.'paasta.yelp.com/config_sha'
        $r.NewConfigSha | Should -Not -Be $r.OldConfigSha
        # The first pass starts the bounce (new Deployment, old pods orphaned); -Wait passes until the old copies are drained and gone.
        (Sync -Wait -TimeoutSec 300).Converging | Should -BeFalse
        $pods = @(Get-ReadyPods)
        $pods.Count | Should -Be 3
        $pods | ForEach-Object { $_.metadata.labels.'paasta.yelp.com/config_sha' | Should -Be $r.NewConfigSha }
        $pods | ForEach-Object { $_.metadata.name | Should -Not -BeIn $oldPods }
        (($pods[0].spec.containers[0].env | Where-Object name -eq 'GREETING').value) | Should -Be 'hello again'
    }

    It 'scales without a rollout when only instances changes' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        $podsBefore = @(Get-ReadyPods).metadata.name
        $live = Get-Live
        (Get-Content -Raw $InstanceFile) -replace 'instances: 3', 'instances: 2' | Set-Content $InstanceFile
        $r = Sync
        $r.Action | Should -Be 'Scaled'
        $r.NewConfigSha | Should -Be $live.metadata.labels.'paasta.yelp.com/config_sha'
        ($r.OldReplicas, $r.NewReplicas) | Should -Be @(3, 2)
        Wait-Until { @(Get-Pods).Count -eq 2 } 60 'two pods'
        $after = Get-Live
        $after.spec.replicas | Should -Be 2
        $after.metadata.generation | Should -Be ($live.metadata.generation + 1)
        $after.metadata.labels.'paasta.yelp.com/config_sha' | Should -Be $r.NewConfigSha
        @(Get-ReadyPods).metadata.name | ForEach-Object { $podsBefore | Should -Contain $_ }
    }

    It 'scales a stopped instance to 0 and brings it back on start' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        Get-PaastaInstance -SoaDir $Soa -Service $Service -Cluster local -Instance main | Stop-PaastaInstance -Repository $Bare -Confirm:$false | Out-Null
        Update-Deployments
        $r = Sync
        $r.DesiredState | Should -Be 'stop'
        $r.NewReplicas | Should -Be 0
        (Get-Live).spec.replicas | Should -Be 0
        (Get-PaastaInstanceStatus -SoaDir $Soa -Service $Service -Cluster local -Instance main).State | Should -BeIn 'Stopping', 'Stopped'
        Wait-Until { (Get-PaastaInstanceStatus -SoaDir $Soa -Service $Service -Cluster local -Instance main).State -eq 'Stopped' } 90 'the instance to be Stopped'
        @(& $Kubectl -n $Namespace get pods -l paasta.yelp.com/instance=main -o name) | Where-Object { $_ } | Should -BeNullOrEmpty

        Get-PaastaInstance -SoaDir $Soa -Service $Service -Cluster local -Instance main | Start-PaastaInstance -Repository $Bare -Confirm:$false | Out-Null
        Update-Deployments
        $r = Sync
        $r.DesiredState | Should -Be 'start'
        $r.NewReplicas | Should -Be 2
        Wait-Rollout
        @(Get-ReadyPods).Count | Should -Be 2
    }

    It 'lets a deploy of another sha reset a stop, and waits for it' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        Get-PaastaInstance -SoaDir $Soa -Service $Service -Cluster local -Instance main | Stop-PaastaInstance -Repository $Bare -Confirm:$false | Out-Null
        Update-Deployments
        (Sync).NewReplicas | Should -Be 0

        $null = Publish-PaastaDeployment -SoaDir $Soa -Service $Service -DeployGroup local.everything -Commit $ShaC -Repository $Bare -Confirm:$false
        Update-Deployments
        $r = Sync
        $r.Action | Should -Be 'Updated'
        $r.DesiredState | Should -Be 'start'
        ($r.OldGitSha, $r.NewGitSha) | Should -Be @($ShaA, $ShaC)
        $r.NewReplicas | Should -Be 2
        $w = Wait-PaastaDeployment -SoaDir $Soa -Service $Service -DeployGroup local.everything -Commit $ShaC.Substring(0, 10) -Cluster local -TimeoutSec 150
        $w.Converged | Should -BeTrue
        $w.ReadyReplicas | Should -Be 2
        @(Get-ReadyPods) | ForEach-Object { $_.metadata.labels.'paasta.yelp.com/git_sha' | Should -Be $ShaC }
        $body = (Invoke-WebRequest -Uri "http://$(@(Get-ReadyPods)[0].status.podIP):8888/" -TimeoutSec 10).Content
        $body | Should -Match 'hello, again'
        # Pods of the stopped version were still terminating when C was created, so that was a bounce; a pass ends it.
        (Sync -Wait -TimeoutSec 300).Converging | Should -BeFalse
        (Sync).Action | Should -Be 'Unchanged'
    }

    It 'reports an instance whose deploy group has no deployment, without failing the others' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        Add-Content $InstanceFile "`nbroken:`n  deploy_group: local.broken`n  cpus: 0.1`n  mem: 64`n  healthcheck_mode: http`n  healthcheck_grace_period_seconds: 1`n  healthcheck_interval_seconds: 1`n"
        $results = Sync-PaastaInstance -SoaDir $Soa -Service $Service -Cluster local -Confirm:$false -WarningVariable warnings -WarningAction SilentlyContinue
        ($results | Where-Object Instance -eq broken).Action | Should -Be 'NoDeployment'
        ($results | Where-Object Instance -eq main).Action | Should -Be 'Unchanged'
        "$warnings" | Should -Match 'local\.broken'
        (Get-PaastaInstanceStatus -SoaDir $Soa -Service $Service -Cluster local -Instance broken).State | Should -Be 'NotDeployed'
    }

    It 'says why an image that fails readiness does not converge, in status and in Wait' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        $null = Publish-PaastaDeployment -SoaDir $Soa -Service $Service -DeployGroup local.broken -Commit $ShaB -Repository $Bare -Confirm:$false
        Update-Deployments
        (Sync-PaastaInstance -SoaDir $Soa -Service $Service -Cluster local -Instance broken -Confirm:$false).Action | Should -Be 'Created'
        Wait-Until { (Invoke-Kubectl -n $Namespace get events --field-selector 'reason=Unhealthy' -o name) -match "$Service-broken" } 90 'a failed probe'
        # The kubelet can report the container as being (re)created for a moment after the first failed probe (seen
        # once on a clean run: ContainerCreating); what the status must come to say is the readiness failure.
        Wait-Until { @((Get-PaastaInstanceStatus -SoaDir $Soa -Service $Service -Cluster local -Instance broken).Pods)[0].Reason -eq 'ReadinessProbeFailing' } 60 'the status to name the failing readiness probe'

        $s = Get-PaastaInstanceStatus -SoaDir $Soa -Service $Service -Cluster local -Instance broken
        $s.State | Should -Be 'Starting'
        $s.ReadyReplicas | Should -Be 0
        $pod = @($s.Pods)[0]
        $pod.Ready | Should -BeFalse
        $pod.Reason | Should -Be 'ReadinessProbeFailing'
        $pod.Message | Should -Match 'probe failed: HTTP probe failed with statuscode: 404'
        $s.Message | Should -Match 'not ready: ReadinessProbeFailing'

        $w = Wait-PaastaDeployment -SoaDir $Soa -Service $Service -DeployGroup local.broken -Cluster local -TimeoutSec 6 -ErrorVariable err -ErrorAction SilentlyContinue
        $w.Converged | Should -BeFalse
        $w.Reason | Should -Match 'fail their readiness check'
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -Be 'DeploymentWaitTimedOut,Paasta.Commands.WaitPaastaDeployment'
        $err[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
        $err[0].Exception.Message | Should -Match 'broken on local: .*fail their readiness check \(.*statuscode: 404'
    }

    It 'names an image that cannot be pulled and a crash loop as the reasons Wait gives' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        # A commit whose image was never pushed, and a good image whose command exits at once.
        Invoke-Git -C $Work -c user.name=t -c user.email=t@example.com commit -q --allow-empty -m 'no image for this one' | Out-Null
        Invoke-Git -C $Work push -q origin HEAD:refs/heads/main | Out-Null
        $unpushed = (Invoke-Git -C $Work rev-parse HEAD).Trim()
        Add-Content (Join-Path $Soa "$Service/deploy.yaml") "- step: local.unpullable`n- step: local.crashing"
        Add-Content $InstanceFile "`nunpullable:`n  deploy_group: local.unpullable`n  cpus: 0.05`n  mem: 48`n`ncrashing:`n  deploy_group: local.crashing`n  cpus: 0.05`n  mem: 48`n  cmd: /bin/sh -c 'exit 3'`n"
        $null = Publish-PaastaDeployment -SoaDir $Soa -Service $Service -DeployGroup local.unpullable -Commit $unpushed -Repository $Bare -Confirm:$false
        $null = Publish-PaastaDeployment -SoaDir $Soa -Service $Service -DeployGroup local.crashing -Commit $ShaA -Repository $Bare -Confirm:$false
        Update-Deployments
        foreach ($i in 'unpullable', 'crashing') { (Sync-PaastaInstance -SoaDir $Soa -Service $Service -Cluster local -Instance $i -Confirm:$false).Action | Should -Be 'Created' }
        Wait-Until { (Get-PaastaInstanceStatus -SoaDir $Soa -Service $Service -Cluster local -Instance unpullable).Pods.Reason -match 'ImagePull' } 90 'an image pull failure'
        Wait-Until { (Get-PaastaInstanceStatus -SoaDir $Soa -Service $Service -Cluster local -Instance crashing).Pods.Reason -contains 'CrashLoopBackOff' } 120 'a crash loop'

        $w = Wait-PaastaDeployment -SoaDir $Soa -Service $Service -DeployGroup local.unpullable -Cluster local -TimeoutSec 3 -ErrorVariable err -ErrorAction SilentlyContinue
        $w.Converged | Should -BeFalse
        $w.Reason | Should -Match 'cannot pull their image'
        $err[0].Exception.Message | Should -Match "unpullable on local: .*cannot pull their image.*paasta-$unpushed"
        $w = Wait-PaastaDeployment -SoaDir $Soa -Service $Service -DeployGroup local.crashing -Cluster local -TimeoutSec 3 -ErrorVariable err -ErrorAction SilentlyContinue
        $w.Converged | Should -BeFalse
        $w.Reason | Should -Match 'crash loop'
        $err[0].FullyQualifiedErrorId | Should -Be 'DeploymentWaitTimedOut,Paasta.Commands.WaitPaastaDeployment'
        $err[0].Exception.Message | Should -Match 'crashing on local: .*are in a crash loop'
    }

    It 'refuses instances of several clusters that would share one context, and changes nothing' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        Copy-Item $InstanceFile (Join-Path $Soa "$Service/kubernetes-elsewhere.yaml")
        try {
            $before = (Get-Live).metadata.resourceVersion
            $r = Sync-PaastaInstance -SoaDir $Soa -Service $Service -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
            $r | Should -BeNullOrEmpty
            $err[0].FullyQualifiedErrorId | Should -Be 'MultipleClusters,Paasta.Commands.SyncPaastaInstance'
            $err[0].Exception.Message | Should -Match 'elsewhere, local'
            $err[0].Exception.Message | Should -Match 'ClusterContext'
            (Get-Live).metadata.resourceVersion | Should -Be $before
        }
        finally { Remove-Item (Join-Path $Soa "$Service/kubernetes-elsewhere.yaml") }
    }

    It 'talks to each of two PaaSTA clusters through its own context' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        # Two contexts in a kubeconfig of the test's own, both naming the test cluster; instances of distinct names
        # (the two PaaSTA clusters share one Kubernetes cluster here, so they would otherwise meet).
        $two = Join-Path $TestDrive 'two-contexts'
        Copy-Item $Cluster.KubeConfig $two
        $kubeCluster = Invoke-Kubectl config view -o 'jsonpath={.contexts[0].context.cluster}'
        $kubeUser = Invoke-Kubectl config view -o 'jsonpath={.contexts[0].context.user}'
        foreach ($name in 'ctx-a', 'ctx-b') {
            $out = & $Kubectl --kubeconfig $two config set-context $name --cluster $kubeCluster --user $kubeUser 2>&1
            if ($LASTEXITCODE) { throw "kubectl config set-context failed: $out" }
        }
        "other:`n  deploy_group: local.everything`n  cpus: 0.05`n  mem: 48`n  instances: 0`n" | Set-Content (Join-Path $Soa "$Service/kubernetes-elsewhere.yaml")
        Add-ControlEntry elsewhere.other
        $env:PAASTA_CLUSTER_CONTEXT = 'local=ctx-a,elsewhere=ctx-b'
        try {
            $stream = Sync-PaastaInstance -SoaDir $Soa -Service $Service -Cluster local, elsewhere -Instance main, other -KubeConfig $two -Confirm:$false -Verbose 4>&1
            $results = @($stream | Where-Object { $_.PSObject.TypeNames[0] -eq 'Paasta.Sync.SyncResult' })
            ($results | Where-Object Cluster -eq elsewhere).Action | Should -Be 'Created'
            ($results | Where-Object Cluster -eq local).Action | Should -Be 'Unchanged'
            $verbose = @($stream | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message
            $verbose | Should -Contain ($verbose | Where-Object { $_ -match '^Kubernetes for cluster elsewhere: .*context ctx-b\)' })
            @($verbose | Where-Object { $_ -match '^Kubernetes for cluster (local|elsewhere): .*context ctx-(a|b)\)' }).Count | Should -Be 2
            (Get-Live "$Service-other").metadata.labels.'paasta.yelp.com/cluster' | Should -Be 'elsewhere'
        }
        finally {
            Remove-Item Env:PAASTA_CLUSTER_CONTEXT
            Remove-Item (Join-Path $Soa "$Service/kubernetes-elsewhere.yaml")
            $null = & $Kubectl -n $Namespace delete deployment "$Service-other" --ignore-not-found 2>&1
            $null = & $Kubectl -n $Namespace delete poddisruptionbudgets.v1beta1.policy "$Service-other" --ignore-not-found 2>&1
        }
    }
}

Describe 'Sync-PaastaInstance with a secret in env' -Tag Integration {
    It 'bounces when the secret is rotated, not before, and the new pod sees the new value' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        $secretName = "$Namespace-secret-$Service-token"
        function Set-Secret([string] $Value) {
            $yaml = Invoke-Kubectl -n $Namespace create secret generic $secretName "--from-literal=token=$Value" --dry-run=client -o yaml
            $yaml | & $Kubectl apply -f - 2>&1 | Out-Null
            if ($LASTEXITCODE) { throw "kubectl apply of the secret failed" }
        }
        Set-Secret 'first'
        Add-Content $InstanceFile "`nsecretive:`n  deploy_group: local.everything`n  cpus: 0.05`n  mem: 48`n  instances: 1`n  env:`n    TOKEN: SECRET(token)`n"
        Add-ControlEntry local.secretive
        function Sync-Secretive { Sync-PaastaInstance -SoaDir $Soa -Service $Service -Cluster local -Instance secretive -Confirm:$false @args }
        function Get-Token {
            $pod = @(Get-ReadyPods secretive)
            $pod.Count | Should -Be 1
            # '--' quoted, or PowerShell takes it for its own end of parameters.
            ("$(Invoke-Kubectl -n $Namespace exec $pod[0].metadata.name '--' /bin/sh -c 'echo $TOKEN')").Trim()
        }
        $created = Sync-Secretive -Wait -TimeoutSec 300
        Wait-Until { @(Get-ReadyPods secretive).Count -eq 1 } 120 'the secretive pod'
        Get-Token | Should -Be 'first'
        (Sync-Secretive).Action | Should -Be 'Unchanged'
        # Relabelling the Secret is not a rotation.
        Invoke-Kubectl -n $Namespace label secret $secretName rotated=no | Out-Null
        (Sync-Secretive).Action | Should -Be 'Unchanged'

        Set-Secret 'second'
        $status = Get-PaastaInstanceStatus -SoaDir $Soa -Service $Service -Cluster local -Instance secretive
        $status.DesiredConfigSha | Should -Not -Be $created.NewConfigSha -Because 'status signs the secret as Sync does'
        $rotated = Sync-Secretive
        $rotated.Action | Should -Be 'Updated'
        $rotated.OldConfigSha | Should -Be $created.NewConfigSha
        $rotated.NewConfigSha | Should -Be $status.DesiredConfigSha
        (Sync-Secretive -Wait -TimeoutSec 300).Converging | Should -BeFalse
        Wait-Until { @(Get-ReadyPods secretive).Count -eq 1 -and @(Get-Pods secretive).Count -eq 1 } 120 'one new secretive pod'
        Get-Token | Should -Be 'second'
    }
}

Describe 'Sync-PaastaInstance of an autoscaled instance' -Tag Integration {
    It 'creates the HorizontalPodAutoscaler with the autoscaling API the server serves, keeps the live replica count, and then writes nothing' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        Add-Content $InstanceFile "`nauto:`n  deploy_group: local.everything`n  cpus: 0.05`n  mem: 48`n  min_instances: 1`n  max_instances: 3`n  autoscaling:`n    metrics_providers:`n    - type: cpu`n      setpoint: 0.7`n"
        Add-ControlEntry local.auto
        $r = Sync-PaastaInstance -SoaDir $Soa -Service $Service -Cluster local -Instance auto -Confirm:$false
        $r.Action | Should -Be 'Created'
        $r.NewReplicas | Should -Be 3   # nothing live yet: max_instances
        # v1.20 serves autoscaling/v2beta2, not v2: the HPA exists under the version Sync discovered.
        $served = @(Invoke-Kubectl api-versions)
        $version = if ($served -contains 'autoscaling/v2') { 'v2' } else { 'v2beta2' }
        $hpa = Invoke-Kubectl -n $Namespace get "horizontalpodautoscalers.$version.autoscaling" "$Service-auto" -o json | ConvertFrom-Json
        $hpa.spec.minReplicas | Should -Be 1
        $hpa.spec.maxReplicas | Should -Be 3
        $hpa.spec.scaleTargetRef.name | Should -Be "$Service-auto"
        $hpa.spec.metrics[0].resource.name | Should -Be 'cpu'
        $hpa.spec.metrics[0].resource.target.averageUtilization | Should -Be 70
        $hpa.spec.behavior.scaleDown.stabilizationWindowSeconds | Should -Be 300

        # The autoscaler owns the replica count: Sync keeps what is live (clamped), and a second pass writes nothing.
        Invoke-Kubectl -n $Namespace scale deployment "$Service-auto" --replicas=2 | Out-Null
        $stream = Sync-PaastaInstance -SoaDir $Soa -Service $Service -Cluster local -Instance auto -Confirm:$false -Verbose 4>&1
        $again = $stream | Where-Object { $_.PSObject.TypeNames[0] -eq 'Paasta.Sync.SyncResult' }
        $again.Action | Should -Be 'Unchanged'
        (Get-KubeApiCounts $stream).Writes | Should -Be 0
        (Get-Live "$Service-auto").spec.replicas | Should -Be 2

        # Stopped: no HPA (docs/BEHAVIOUR.md §5.7), 0 replicas.
        Get-PaastaInstance -SoaDir $Soa -Service $Service -Cluster local -Instance auto | Stop-PaastaInstance -Repository $Bare -Confirm:$false | Out-Null
        Update-Deployments
        $null = Sync-PaastaInstance -SoaDir $Soa -Service $Service -Cluster local -Instance auto -Confirm:$false -Wait -TimeoutSec 300
        & $Kubectl -n $Namespace get "horizontalpodautoscalers.$version.autoscaling" "$Service-auto" 2>$null | Out-Null
        $LASTEXITCODE | Should -Not -Be 0 -Because 'a stopped instance has no autoscaler'
        (Get-Live "$Service-auto").spec.replicas | Should -Be 0
    }
}

Describe 'ConvertTo-PaastaKubernetesObject against what Sync applied' -Tag Integration {
    It 'renders offline the objects Sync created for main (same config_sha, image, replicas), and with the cluster a manifest the API server accepts' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        # Earlier tests may have left main behind soa-configs (a regenerated deployments.json): in sync first.
        $preview = Sync -WhatIf
        if ($preview.Action -ne 'Unchanged') { Write-Host "main before rendering: $($preview.Action)`n$($preview.Diff)" }
        $synced = Sync -Wait -TimeoutSec 300
        $synced.Converging | Should -BeFalse
        $objects = @(ConvertTo-PaastaKubernetesObject -SoaDir $Soa -Service $Service -Cluster local -Instance main)
        $objects.Kind | Should -Be @('Namespace', 'LimitRange', 'Deployment', 'PodDisruptionBudget')
        $live = Get-Live
        $rendered = $objects | Where-Object Kind -eq 'Deployment'
        $live.metadata.labels.'paasta.yelp.com/config_sha' | Should -Be $synced.NewConfigSha
        $rendered.Metadata.Labels['paasta.yelp.com/config_sha'] | Should -Be $synced.NewConfigSha -Because 'Sync builds through the same code'
        $rendered.Spec.Template.Spec.Containers[0].Image | Should -Be $live.spec.template.spec.containers[0].image
        $rendered.Spec.Replicas | Should -Be $live.spec.replicas
        ($objects | Where-Object Kind -eq 'PodDisruptionBudget').ApiVersion | Should -Be 'policy/v1' -Because 'offline, the version PaaSTA writes'

        # Given the cluster: the API versions it serves (v1.20: policy/v1beta1), and a manifest kubectl applies.
        $yaml = ConvertTo-PaastaKubernetesObject -SoaDir $Soa -Service $Service -Cluster local -Instance main -KubeConfig $Cluster.KubeConfig -AsYaml
        $yaml | Should -BeOfType [string]
        $file = Join-Path $TestDrive 'manifest.yaml'
        [IO.File]::WriteAllText($file, $yaml)
        $served = @(Invoke-Kubectl api-versions)
        $yaml | Should -Match ("apiVersion: " + $(if ($served -contains 'policy/v1') { 'policy/v1\b' } else { 'policy/v1beta1' }))
        $out = & $Kubectl apply --dry-run=server -f $file 2>&1
        $LASTEXITCODE | Should -Be 0 -Because "$out"
        "$out" | Should -Match "deployment.apps/$Service-main"
        "$out" | Should -Match "poddisruptionbudget.policy/$Service-main"
        (Get-Live).metadata.resourceVersion | Should -Be $live.metadata.resourceVersion -Because 'rendering changes nothing'
    }
}

Describe 'Sync-PaastaInstance -Prune' -Tag Integration {
    # A service of its own with two instances running the image built above; its drain method records every call.
    BeforeAll {
        $script:PruneService = New-TestName 'prunehello'
        $script:PruneNamespace = "paastasvc-$PruneService"
        if (-not $Up) { return }
        Register-TestNamespace $PruneNamespace
        # The drain method is called for several pods at once: each call leaves a file of its own (named for what it
        # did), as lines appended to one shared file by concurrent calls can be lost.
        $script:DrainLog = Join-Path $TestDrive 'prune-drains'
        New-Item -ItemType Directory -Force $DrainLog | Out-Null
        $script:DrainMethod = New-TestName 'prunerecorder'
        Register-PaastaDrainMethod -Name $DrainMethod `
            -Drain ([scriptblock]::Create("param(`$Task) New-Item -ItemType File -Force -Path (Join-Path '$DrainLog' (""drain "" + `$Task.Id)) | Out-Null")) `
            -IsSafeToKill ([scriptblock]::Create("param(`$Task) New-Item -ItemType File -Force -Path (Join-Path '$DrainLog' (""safe "" + `$Task.Id)) | Out-Null; `$true"))
        $script:PruneSoa = Join-Path $TestDrive 'prune-soa'
        $dir = New-Item -ItemType Directory -Force (Join-Path $PruneSoa $PruneService)
        Set-Content (Join-Path $dir 'service.yaml') "description: prune test`nexternal_link: http://example`ngit_url: null`ndocker_registry: 127.0.0.1:5000`ndrain_method: $DrainMethod`n"
        Set-Content (Join-Path $dir 'monitoring.yaml') 'team: platform'
        Set-Content (Join-Path $dir 'deploy.yaml') "pipeline:`n- step: local.everything`n"
        $script:PruneFile = Join-Path $dir 'kubernetes-local.yaml'
        function Set-PruneInstances([string[]] $Names) {
            $yaml = foreach ($n in $Names) { "${n}:`n  deploy_group: local.everything`n  cpus: 0.05`n  mem: 48`n  instances: 2`n  healthcheck_mode: http`n  healthcheck_grace_period_seconds: 1`n  healthcheck_interval_seconds: 1`n" }
            Set-Content $PruneFile $(if ($Names) { $yaml -join "`n" } else { '{}' })
        }
        Set-PruneInstances keep, gone
        [IO.File]::WriteAllText((Join-Path $dir 'deployments.json'), "{`"v1`": {}, `"v2`": {`"deployments`": {`"local.everything`": {`"docker_image`": `"services-${Service}:paasta-$ShaA`", `"git_sha`": `"$ShaA`", `"image_version`": null}}, `"controls`": {`"${PruneService}:local.keep`": {`"desired_state`": `"start`", `"force_bounce`": null}, `"${PruneService}:local.gone`": {`"desired_state`": `"start`", `"force_bounce`": null}}}}")
        function Sync-Prune { Sync-PaastaInstance -SoaDir $PruneSoa -Service $PruneService -Cluster local -Confirm:$false @args }
        function Get-PruneObject([string] $Kind, [string] $Name) {
            $json = & $Kubectl -n $PruneNamespace get $Kind $Name -o json 2>$null
            if ($LASTEXITCODE) { return $null }
            $json | ConvertFrom-Json
        }
    }
    AfterAll {
        if ($Up) {
            try { Unregister-PaastaDrainMethod -Name $DrainMethod -Confirm:$false -ErrorAction Ignore }
            finally { Remove-TestNamespace $PruneNamespace }
        }
    }

    It 'lists under -WhatIf, then drains and removes only the instance gone from soa-configs; unlabelled and foreign objects stay' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        @(Sync-Prune).Action | Should -Be @('Created', 'Created')
        @(Sync-Prune -Wait -TimeoutSec 300).Converging | Should -Be @($false, $false)
        $gonePods = @((Invoke-Kubectl -n $PruneNamespace get pods -l 'paasta.yelp.com/instance=gone' -o json | ConvertFrom-Json).items.metadata.name)
        $gonePods.Count | Should -Be 2
        # An unlabelled Deployment, and one labelled for this service's 'gone' instance on another PaaSTA cluster.
        Invoke-Kubectl -n $PruneNamespace create deployment "$PruneService-unlabelled" --image "127.0.0.1:5000/services-${Service}:paasta-$ShaA" --replicas=0 | Out-Null
        @"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: $PruneService-foreign
  namespace: $PruneNamespace
  labels: {paasta.yelp.com/managed: 'true', paasta.yelp.com/service: $PruneService, paasta.yelp.com/instance: gone, paasta.yelp.com/cluster: elsewhere}
spec:
  replicas: 0
  selector: {matchLabels: {app: foreign}}
  template:
    metadata: {labels: {app: foreign}}
    spec: {containers: [{name: main, image: '127.0.0.1:5000/services-${Service}:paasta-$ShaA'}]}
"@ | Set-Content (Join-Path $TestDrive 'foreign.yaml')
        Invoke-Kubectl apply -f (Join-Path $TestDrive 'foreign.yaml') | Out-Null
        $keep = Get-PruneObject deployment "$PruneService-keep"
        $gone = Get-PruneObject deployment "$PruneService-gone"

        Set-PruneInstances keep
        $preview = @(Sync-Prune -Prune -WhatIf)
        $removal = $preview | Where-Object Instance -eq 'gone'
        $removal.Action | Should -Be 'Removed'
        $removal.WhatIf | Should -BeTrue
        $removal.Changes | Should -Contain "delete Deployment $PruneNamespace/$PruneService-gone"
        $removal.Changes | Should -Contain "delete PodDisruptionBudget $PruneNamespace/$PruneService-gone"
        ($preview | Where-Object Instance -eq 'keep').Action | Should -Be 'Unchanged'
        (Get-PruneObject deployment "$PruneService-gone").metadata.resourceVersion | Should -Be $gone.metadata.resourceVersion
        @(Get-ChildItem $DrainLog -File).Count | Should -Be 0 -Because '-WhatIf drains nothing'

        $removed = @(Sync-Prune -Prune) | Where-Object Instance -eq 'gone'
        $removed.Action | Should -Be 'Removed'
        # Each copy was drained through the service's drain method and found safe before its objects went.
        $log = @(Get-ChildItem $DrainLog -File).Name
        foreach ($pod in $gonePods) { $log | Should -Contain "drain $pod"; $log | Should -Contain "safe $pod" }
        @($log | Where-Object { $_ -match '-keep-' }) | Should -BeNullOrEmpty
        Get-PruneObject deployment "$PruneService-gone" | Should -BeNullOrEmpty
        Get-PruneObject poddisruptionbudgets.v1beta1.policy "$PruneService-gone" | Should -BeNullOrEmpty
        (Get-PruneObject deployment "$PruneService-keep").metadata.resourceVersion | Should -Be $keep.metadata.resourceVersion
        Get-PruneObject deployment "$PruneService-unlabelled" | Should -Not -BeNullOrEmpty
        Get-PruneObject deployment "$PruneService-foreign" | Should -Not -BeNullOrEmpty
        (@(Sync-Prune -Prune -Verbose 4>&1 | Where-Object { $_.PSObject.TypeNames[0] -eq 'Paasta.Sync.SyncResult' }).Action) | Should -Be 'Unchanged'
    }

    It 'refuses to remove every instance of a service without -Force' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        Set-PruneInstances @()
        $r = Sync-PaastaInstance -SoaDir $PruneSoa -Service $PruneService -Cluster local -Confirm:$false -Prune -ErrorVariable err -ErrorAction SilentlyContinue
        $r | Should -BeNullOrEmpty
        @($err.FullyQualifiedErrorId) | Should -Contain 'PruneWouldRemoveAllInstances,Paasta.Commands.SyncPaastaInstance'
        Get-PruneObject deployment "$PruneService-keep" | Should -Not -BeNullOrEmpty

        $forced = @(Sync-Prune -Prune -Force -Wait -TimeoutSec 300)
        $forced.Instance | Should -Be 'keep'
        $forced.Action | Should -Be 'Removed'
        Get-PruneObject deployment "$PruneService-keep" | Should -BeNullOrEmpty
        Get-PruneObject deployment "$PruneService-unlabelled" | Should -Not -BeNullOrEmpty
    }
}
