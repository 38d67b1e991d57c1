#Requires -Version 7.4
# The local platform (tools/platform/platform.sh) as the module's integration tests use it:
# a real kube-apiserver/kubelet, a real Docker engine and a real registry. kubectl is the oracle.
# Bring it up first with: ./build.ps1 -Task Platform -Action Up
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'Paasta.TestUtils.psm1') -Force
    $script:Repo = if ($env:PAASTA_REPO_ROOT) { $env:PAASTA_REPO_ROOT } else { (Resolve-Path (Join-Path $PSScriptRoot '..')).Path }
    $script:State = if ($env:PAASTA_PLATFORM_STATE) { $env:PAASTA_PLATFORM_STATE } else { Join-Path $Repo '.platform' }
    $script:Kubeconfig = Join-Path $State 'kubeconfig'
    $script:PlatformScript = Join-Path $Repo 'tools/platform/platform.sh'
    # The kubectl built with the cluster (v1.20) matches the server; any other is a fallback.
    $script:Kubectl = Join-Path $State 'bin/kubectl'
    if (-not (Test-Path $Kubectl)) { $script:Kubectl = (Get-Command kubectl -ErrorAction SilentlyContinue).Source }

    function Invoke-Kubectl {
        $out = & $script:Kubectl --kubeconfig $script:Kubeconfig @args 2>&1
        if ($LASTEXITCODE -ne 0) { throw "kubectl $($args -join ' ') failed ($LASTEXITCODE): $out" }
        $out
    }

    function Test-Platform {
        if (-not $IsLinux -or -not $script:Kubectl -or -not (Test-Path $script:Kubeconfig)) { return $false }
        $ready = & $script:Kubectl --kubeconfig $script:Kubeconfig get --raw /readyz 2>$null
        return ($LASTEXITCODE -eq 0 -and $ready -eq 'ok')
    }

    $script:PlatformUp = Test-Platform
}

Describe 'Local platform' -Tag Integration {
    It 'writes a kubeconfig with the paasta-local context' {
        if (-not (Assert-PlatformOrSkip $PlatformUp 'The local platform')) { return }
        Test-Path $Kubeconfig | Should -BeTrue
        Invoke-Kubectl config current-context | Should -Be 'paasta-local'
        Invoke-Kubectl config view -o 'jsonpath={.clusters[0].cluster.server}' | Should -Be 'https://127.0.0.1:6443'
    }

    It 'serves Kubernetes v1.20 with a Ready node' {
        if (-not (Assert-PlatformOrSkip $PlatformUp 'The local platform')) { return }
        $version = Invoke-Kubectl version -o json | ConvertFrom-Json
        $version.serverVersion.gitVersion | Should -Be 'v1.20.2'
        $ready = Invoke-Kubectl get node paasta-local -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'
        $ready | Should -Be 'True'
    }

    Context 'a pod of the hello service pulled from the local registry' {
        BeforeAll {
            $script:Image = '127.0.0.1:5000/services-hello:paasta-test'
            $script:PodName = 'hello-itest-' + [guid]::NewGuid().ToString('N').Substring(0, 8)
            if (-not $PlatformUp) { return }

            $hello = Join-Path $Repo 'examples/services/hello'
            $out = & make -C $hello cook-image "DOCKER_TAG=$Image" 2>&1
            if ($LASTEXITCODE -ne 0) { throw "make cook-image failed: $out" }
            $out = & docker push $Image 2>&1
            $script:PushedDigest = [regex]::Match("$out", 'digest: (sha256:[0-9a-f]{64})').Groups[1].Value
            if ($LASTEXITCODE -ne 0) { throw "docker push failed: $out" }
            # Drop the local tag so the pod can only start if the kubelet really pulls from the registry.
            $null = & docker image rm $Image 2>&1

            $pod = @{
                apiVersion = 'v1'; kind = 'Pod'
                metadata   = @{ name = $PodName; labels = @{ 'paasta.test' = 'platform' } }
                spec       = @{
                    containers = @(@{
                            name = 'hello'; image = $Image; imagePullPolicy = 'Always'
                            env = @(@{ name = 'PAASTA_PORT'; value = '8888' })
                            ports = @(@{ containerPort = 8888 })
                            readinessProbe = @{ httpGet = @{ path = '/status'; port = 8888 }; periodSeconds = 2 }
                        })
                }
            }
            $manifest = Join-Path ([IO.Path]::GetTempPath()) "$PodName.json"
            $pod | ConvertTo-Json -Depth 10 | Set-Content $manifest
            $null = Invoke-Kubectl apply -f $manifest
            Remove-Item $manifest
            $script:WaitOutput = & $script:Kubectl --kubeconfig $Kubeconfig wait --for=condition=Ready "pod/$PodName" --timeout=180s 2>&1
            $script:WaitExit = $LASTEXITCODE
        }

        AfterAll {
            if ($PlatformUp) {
                & $script:Kubectl --kubeconfig $Kubeconfig delete pod $PodName --ignore-not-found --wait=false 2>&1 | Out-Null
            }
        }

        It 'becomes Ready with the image pulled from 127.0.0.1:5000' {
            if (-not (Assert-PlatformOrSkip $PlatformUp 'The local platform')) { return }
            $WaitExit | Should -Be 0 -Because "kubectl wait said: $WaitOutput"
            $imageId = Invoke-Kubectl get pod $PodName -o 'jsonpath={.status.containerStatuses[0].imageID}'
            # The digest the registry gave the push. (Docker may name another repository of the local registry that holds
            # the same bytes, e.g. a test service built from the same example, so the digest is what identifies the image.)
            $imageId | Should -Match '^docker-pullable://127\.0\.0\.1:5000/[^@]+@sha256:[0-9a-f]{64}$'
            $imageId.Split('@')[1] | Should -Be $PushedDigest
        }

        It 'answers HTTP /status on its pod IP' {
            if (-not (Assert-PlatformOrSkip $PlatformUp 'The local platform')) { return }
            $ip = Invoke-Kubectl get pod $PodName -o 'jsonpath={.status.podIP}'
            $ip | Should -Not -BeNullOrEmpty
            $response = Invoke-WebRequest -Uri "http://${ip}:8888/status" -TimeoutSec 10
            $response.StatusCode | Should -Be 200
            # busybox httpd serves the extension-less file as application/octet-stream: bytes.
            $body = if ($response.Content -is [byte[]]) { [Text.Encoding]::UTF8.GetString($response.Content) } else { $response.Content }
            $body.Trim() | Should -Be 'ok'
        }

        It 'returns its logs through the API server and the kubelet' {
            if (-not (Assert-PlatformOrSkip $PlatformUp 'The local platform')) { return }
            Invoke-Kubectl logs $PodName | Should -Contain 'hello: listening on port 8888'
        }
    }
}

# Run last: stops the platform and checks nothing it started is left listening. Opt-in only
# (PAASTA_PLATFORM_DOWN_TEST=true), so a plain run of the whole suite never stops a platform
# that other tests or a developer are using.
Describe 'Local platform down' -Tag PlatformDown -Skip:($env:PAASTA_PLATFORM_DOWN_TEST -ne 'true') {
    It 'stops every component and frees the ports' {
        if (-not (Assert-PlatformOrSkip ($IsLinux -and (Test-Path (Join-Path $State 'run'))) 'The local platform state')) { return }
        $out = & bash $PlatformScript down 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($out -join "`n")
        foreach ($port in 6443, 2379, 5000, 10250) {
            (& ss -Hltn "sport = :$port") | Should -BeNullOrEmpty -Because "nothing should listen on $port after down"
        }
        Get-ChildItem (Join-Path $State 'run') -Filter *.pid | Should -BeNullOrEmpty
        $null = & bash $PlatformScript status 2>&1
        $LASTEXITCODE | Should -Be 3
    }
}
