#Requires -Version 7.4
# Sync-PaastaInstance against the real local cluster (tools/platform): kubectl is the oracle.
BeforeAll {
    Import-Module $env:PAASTA_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'Paasta.TestUtils.psm1') -Force
    $script:Repo = $env:PAASTA_REPO_ROOT
    $script:Kubectl = if ($env:KUBECONFIG -and (Test-Path (Join-Path (Split-Path $env:KUBECONFIG) 'bin/kubectl'))) { Join-Path (Split-Path $env:KUBECONFIG) 'bin/kubectl' } else { (Get-Command kubectl -ErrorAction Ignore).Source }
    $script:Up = $false
    if ($env:KUBECONFIG -and (Test-Path $env:KUBECONFIG) -and $Kubectl) {
        $ready = & $Kubectl get --raw /readyz 2>$null
        $script:Up = $LASTEXITCODE -eq 0 -and $ready -eq 'ok'
    }
    function Invoke-Kubectl { $out = & $script:Kubectl @args 2>&1; if ($LASTEXITCODE) { throw "kubectl $args failed: $out" }; $out }
    function Invoke-Git { $out = & git @args 2>&1; if ($LASTEXITCODE) { throw "git $args failed: $out" }; $out }

    $script:Service = 'synchello'
    $script:Namespace = "paastasvc-$Service"
    $script:Deployment = "$Service-main"
    if (-not $Up) { return }

    # soa-configs: the hello example under another service name, and a bare repo for its deploy tags.
    $script:Soa = Join-Path $TestDrive 'soa'
    New-Item -ItemType Directory $Soa | Out-Null
    Copy-Item -Recurse (Join-Path $Repo 'examples/soa-configs/hello') (Join-Path $Soa $Service)
    Remove-Item (Join-Path $Soa "$Service/adhoc-local.yaml"), (Join-Path $Soa "$Service/tron-local.yaml")
    $script:InstanceFile = Join-Path $Soa "$Service/kubernetes-local.yaml"
    $script:Bare = Join-Path $TestDrive 'synchello.git'
    $work = Join-Path $TestDrive 'work'
    Invoke-Git init -q --bare $Bare | Out-Null
    Invoke-Git clone -q $Bare $work | Out-Null
    Copy-Item -Recurse (Join-Path $Repo 'examples/services/hello/*') $work
    Invoke-Git -C $work add -A | Out-Null
    Invoke-Git -C $work -c user.name=t -c user.email=t@example.com commit -q -m hello | Out-Null
    Invoke-Git -C $work push -q origin HEAD:refs/heads/main | Out-Null
    $script:Sha = (Invoke-Git -C $work rev-parse HEAD).Trim()

    $image = "127.0.0.1:5000/services-${Service}:paasta-$Sha"
    $out = & make -C $work cook-image "DOCKER_TAG=$image" 2>&1
    if ($LASTEXITCODE) { throw "make cook-image failed: $out" }
    $out = & docker push $image 2>&1
    if ($LASTEXITCODE) { throw "docker push failed: $out" }

    $null = Publish-PaastaDeployment -SoaDir $Soa -Service $Service -DeployGroup local.everything -Commit $Sha -Repository $Bare -Confirm:$false
    $null = New-PaastaDeployments -SoaDir $Soa -Service $Service -Repository $Bare -Confirm:$false
    $null = & $Kubectl delete namespace $Namespace --ignore-not-found --wait=true --timeout=120s 2>&1

    function Sync { Sync-PaastaInstance -SoaDir $Soa -Service $Service -Cluster local -Instance main -Confirm:$false @args }
    function Get-Live { Invoke-Kubectl -n $Namespace get deployment $Deployment -o json | ConvertFrom-Json }
    function Wait-Rollout { Invoke-Kubectl -n $Namespace rollout status "deployment/$Deployment" --timeout=180s | Out-Null }
    function Get-ReadyPods {
        (Invoke-Kubectl -n $Namespace get pods -l "paasta.yelp.com/instance=main" -o json | ConvertFrom-Json).items |
            Where-Object { -not $_.metadata.deletionTimestamp -and ($_.status.conditions | Where-Object { $_.type -eq 'Ready' -and $_.status -eq 'True' }) }
    }
}

AfterAll {
    if ($Up) { $null = & $Kubectl delete namespace $Namespace --ignore-not-found --wait=false 2>&1 }
}

Describe 'Sync-PaastaInstance on the local cluster' -Tag Integration {
    It 'changes nothing under -WhatIf' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        $r = Sync -WhatIf
        $r.Action | Should -Be 'Created'
        $r.WhatIf | Should -BeTrue
        & $Kubectl get namespace $Namespace 2>$null | Out-Null
        $LASTEXITCODE | Should -Not -Be 0
    }

    It 'creates the namespace and a Deployment whose 3 pods become Ready and answer /status' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        $r = Sync
        $r.Action | Should -Be 'Created'
        $r.NewReplicas | Should -Be 3
        Wait-Rollout
        $live = Get-Live
        $live.metadata.labels.'paasta.yelp.com/git_sha' | Should -Be $Sha
        $live.metadata.labels.'paasta.yelp.com/config_sha' | Should -Be $r.NewConfigSha
        $live.spec.template.spec.containers[0].image | Should -Be "127.0.0.1:5000/services-${Service}:paasta-$Sha"
        $pods = @(Get-ReadyPods)
        $pods.Count | Should -Be 3
        (Invoke-WebRequest -Uri "http://$($pods[0].status.podIP):8888/status" -TimeoutSec 10).StatusCode | Should -Be 200
        $ns = Invoke-Kubectl get namespace $Namespace -o json | ConvertFrom-Json
        $ns.metadata.labels.'paasta.yelp.com/managed' | Should -Be 'true'
    }

    It 'writes nothing on a second pass' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        $before = (Get-Live).metadata.resourceVersion
        $verbose = Sync -Verbose 4>&1
        ($verbose | Where-Object { $_.PSObject.TypeNames[0] -eq 'Paasta.SyncResult' }).Action | Should -Be 'Unchanged'
        ($verbose | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | Out-String) | Should -Match '2 request\(s\), 0 write\(s\)'
        (Get-Live).metadata.resourceVersion | Should -Be $before
    }

    It 'shows status: versions, ready and up-to-date copies, and the pods' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        $status = Get-PaastaInstanceStatus -SoaDir $Soa -Service $Service -Cluster local -Instance main
        $status.DesiredState | Should -Be 'start'
        $status.GitSha | Should -Be $Sha
        $status.RunningGitSha | Should -Be $Sha
        $status.DesiredReplicas | Should -Be 3
        $status.ReadyReplicas | Should -Be 3
        $status.UpToDateReplicas | Should -Be 3
        $status.BounceInProgress | Should -BeFalse
        $kubectlPods = (Invoke-Kubectl -n $Namespace get pods -l 'paasta.yelp.com/instance=main' -o json | ConvertFrom-Json).items
        ($status.Pods.Name | Sort-Object) | Should -Be ($kubectlPods.metadata.name | Sort-Object)
        ($status.Pods.IP | Sort-Object) | Should -Be ($kubectlPods.status.podIP | Sort-Object)
        $status.Pods | ForEach-Object { $_.Version | Should -Be $Sha.Substring(0, 8) }
        ($status | Out-String) | Should -Match '3/3'
    }

    It 'scales without a rollout when only instances changes' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        $podsBefore = (Get-ReadyPods).metadata.name
        $shaBefore = (Get-Live).metadata.labels.'paasta.yelp.com/config_sha'
        (Get-Content -Raw $InstanceFile) -replace 'instances: 3', 'instances: 2' | Set-Content $InstanceFile
        $r = Sync
        $r.Action | Should -Be 'Scaled'
        $r.NewConfigSha | Should -Be $shaBefore
        Wait-Rollout
        $live = Get-Live
        $live.spec.replicas | Should -Be 2
        $live.metadata.labels.'paasta.yelp.com/config_sha' | Should -Be $shaBefore
        (Get-ReadyPods).metadata.name | ForEach-Object { $podsBefore | Should -Contain $_ }
    }

    It 'rolls out a new config_sha when env changes' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        $shaBefore = (Get-Live).metadata.labels.'paasta.yelp.com/config_sha'
        (Get-Content -Raw $InstanceFile) -replace 'hello from main', 'hello again' | Set-Content $InstanceFile
        $r = Sync
        $r.Action | Should -Be 'Updated'
        $r.NewConfigSha | Should -Not -Be $shaBefore
        Wait-Rollout
        $pods = @(Get-ReadyPods)
        $pods.Count | Should -Be 2
        $pods | ForEach-Object { $_.metadata.labels.'paasta.yelp.com/config_sha' | Should -Be $r.NewConfigSha }
        (($pods[0].spec.containers[0].env | Where-Object name -eq 'GREETING').value) | Should -Be 'hello again'
    }

    It 'scales a stopped instance to 0 and brings it back on start' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        Get-PaastaInstance -SoaDir $Soa -Service $Service -Cluster local -Instance main | Stop-PaastaInstance -Repository $Bare -Confirm:$false | Out-Null
        New-PaastaDeployments -SoaDir $Soa -Service $Service -Repository $Bare -Confirm:$false | Out-Null
        $r = Sync
        $r.NewReplicas | Should -Be 0
        (Get-Live).spec.replicas | Should -Be 0

        Get-PaastaInstance -SoaDir $Soa -Service $Service -Cluster local -Instance main | Start-PaastaInstance -Repository $Bare -Confirm:$false | Out-Null
        New-PaastaDeployments -SoaDir $Soa -Service $Service -Repository $Bare -Confirm:$false | Out-Null
        $r = Sync
        $r.NewReplicas | Should -Be 2
        Wait-Rollout
        @(Get-ReadyPods).Count | Should -Be 2
    }

    It 'reports an instance whose deploy group has no deployment, without failing the others' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        Add-Content $InstanceFile "`nlonely:`n  deploy_group: local.nothing`n"
        $deploy = Join-Path $Soa "$Service/deploy.yaml"
        Add-Content $deploy "- step: local.nothing"
        $results = Sync-PaastaInstance -SoaDir $Soa -Service $Service -Cluster local -Confirm:$false -WarningVariable warnings -WarningAction SilentlyContinue
        ($results | Where-Object Instance -eq lonely).Action | Should -Be 'NoDeployment'
        ($results | Where-Object Instance -eq main).Action | Should -Be 'Unchanged'
        $warnings | Should -Not -BeNullOrEmpty
    }
}
