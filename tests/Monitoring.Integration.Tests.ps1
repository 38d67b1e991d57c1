#Requires -Version 7.4
# Replication monitoring as operators use it (issue 7): Test-PaastaReplication against the real local cluster and a
# real HAProxy the test configures, its results sent to the Sensu client stand-in. kubectl, curl and the stand-in
# are the oracles.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Monitoring.TestSetup.ps1')
}

Describe 'Test-PaastaReplication on the local cluster, with a real HAProxy' -Tag Integration {
    BeforeAll {
        $script:Repo = $env:PAASTA_REPO_ROOT
        # The local platform's cluster only (Use-TestCluster), never whatever KUBECONFIG names.
        $script:Kubectl = Get-TestKubectl
        # A service (and so a namespace) of this run's own: the test deletes only the namespace it registered.
        $script:MonSvc = New-TestName 'monitorhello'
        $script:Ns = "paastasvc-${MonSvc}"
        $script:Image = "127.0.0.1:5000/services-${MonSvc}:paasta-itest"

        $script:PlatformUp = $IsLinux -and (Test-KubernetesUp)
        # Debian's haproxy is in the platform's package list; under CI=true its absence fails the tests.
        $script:Haproxy = (Get-Command haproxy -ErrorAction SilentlyContinue).Source
        if (-not $Haproxy -and (Test-Path /usr/sbin/haproxy)) { $script:Haproxy = '/usr/sbin/haproxy' }
        $script:Curl = (Get-Command curl -ErrorAction SilentlyContinue).Source
        if (-not $PlatformUp) { return }

        # soa-configs: the examples plus a service of our own whose namespace nobody else uses.
        $script:Soa = Join-Path $TestDrive 'soa'
        Copy-Item -Recurse (Join-Path $Repo 'examples/soa-configs') $Soa
        $svc = New-Item -ItemType Directory (Join-Path $Soa "${MonSvc}")
        Set-Content (Join-Path $svc 'service.yaml') "description: monitoring itest`nexternal_link: http://example`ngit_url: null`ndocker_registry: 127.0.0.1:5000`n"
        Set-Content (Join-Path $svc 'monitoring.yaml') "team: itest-team`nnotification_email: itest@example.com`nrunbook: y/${MonSvc}`ntags: [itest]`n"
        Set-Content (Join-Path $svc 'deploy.yaml') "pipeline:`n- step: itest.everything`n"
        Set-Content (Join-Path $svc 'smartstack.yaml') "mesh: {proxy_port: 20666}`n"
        Set-Content (Join-Path $svc 'kubernetes-local.yaml') @'
_d: &d {deploy_group: itest.everything, cpus: 0.1, mem: 64}
main: {<<: *d, instances: 2}
broken:
  <<: *d
  instances: 2
  monitoring: {page: true, alert_after: 3m, irc_channels: ['#monitorhello'], tip: Look at the broken copies, ticket: true, project: MON, priority: P2}
stopped: {<<: *d, instances: 1}
scaled: {<<: *d, min_instances: 1, max_instances: 3}
stateful: {<<: *d, min_instances: 1, max_instances: 4, persistent_volumes: [{container_path: /data, size: 1, mode: RW}]}
mesh: {<<: *d, instances: 3}
undeployed: {deploy_group: itest.never}
'@
        $controls = 'main', 'broken', 'stopped', 'scaled', 'stateful', 'mesh', 'undeployed' | ForEach-Object {
            $state = if ($_ -eq 'stopped') { '"stop", "force_bounce": "20240316T090000"' } else { '"start", "force_bounce": null' }
            "`"${MonSvc}:local.$_`": {`"desired_state`": $state}"
        }
        Set-Content (Join-Path $svc 'deployments.json') -NoNewline ("{`"v1`": {}, `"v2`": {`"deployments`": {`"itest.everything`": {`"docker_image`": `"services-${MonSvc}:paasta-itest`", `"git_sha`": `"0123456789abcdef0123456789abcdef01234567`", `"image_version`": null}}, `"controls`": {" + ($controls -join ', ') + '}}}')

        # The hello image, from the local registry.
        $out = & make -C (Join-Path $Repo 'examples/services/hello') cook-image "DOCKER_TAG=$Image" 2>&1
        if ($LASTEXITCODE -ne 0) { throw "make cook-image failed: $out" }
        $out = & docker push $Image 2>&1
        if ($LASTEXITCODE -ne 0) { throw "docker push failed: $out" }

        Register-TestNamespace $Ns
        $null = Invoke-Kubectl create namespace $Ns

        # Deployments labelled as the reconciler labels them (docs/BEHAVIOUR.md §5.5): main serves /status; broken serves a folder
        # without it, so its readiness probe and HAProxy's check both fail; stopped and scaled have 0 replicas.
        function New-Deployment([string] $Instance, [int] $Replicas, [string[]] $Command, [string] $Kind = 'Deployment') {
            $labels = @{ 'paasta.yelp.com/service' = "${MonSvc}"; 'paasta.yelp.com/instance' = $Instance; 'paasta.yelp.com/managed' = 'true'
                'paasta.yelp.com/git_sha' = '0123456789abcdef0123456789abcdef01234567' }
            $container = @{
                name = $Instance; image = $Image; imagePullPolicy = 'IfNotPresent'
                env = @(@{ name = 'PAASTA_PORT'; value = '8888' })
                ports = @(@{ containerPort = 8888 })
                resources = @{ requests = @{ cpu = '10m'; memory = '16Mi' } }
                readinessProbe = @{ httpGet = @{ path = '/status'; port = 8888 }; periodSeconds = 1; failureThreshold = 1 }
            }
            if ($Command) { $container.command = $Command }
            $object = @{
                apiVersion = 'apps/v1'; kind = $Kind
                metadata   = @{ name = "${MonSvc}-$Instance"; namespace = $Ns; labels = $labels }
                spec       = @{
                    replicas = $Replicas
                    selector = @{ matchLabels = @{ 'paasta.yelp.com/service' = "${MonSvc}"; 'paasta.yelp.com/instance' = $Instance } }
                    template = @{ metadata = @{ labels = $labels }; spec = @{ terminationGracePeriodSeconds = 1; containers = @($container) } }
                }
            }
            # No volumeClaimTemplates: the check reads spec.replicas, and the platform has no storage class to bind claims.
            if ($Kind -eq 'StatefulSet') { $object.spec.serviceName = "${MonSvc}-$Instance"; $object.spec.podManagementPolicy = 'Parallel' }
            $object
        }
        $manifest = Join-Path $TestDrive 'deployments.json'
        @{ apiVersion = 'v1'; kind = 'List'; items = @(
                New-Deployment main 2
                New-Deployment broken 2 @('httpd', '-f', '-p', '0.0.0.0:8888', '-h', '/srv/hello')
                New-Deployment stopped 0
                New-Deployment scaled 0
                New-Deployment stateful 2 -Kind StatefulSet   # autoscaled 1..4, live 2: expects 2, not max_instances
            )
        } | ConvertTo-Json -Depth 20 | Set-Content $manifest
        $null = Invoke-Kubectl apply -f $manifest

        $null = Invoke-Kubectl -n $Ns wait --for=condition=Ready pod -l 'paasta.yelp.com/instance=main' --timeout=180s
        $deadline = [DateTime]::UtcNow.AddSeconds(180)
        do {
            $statefulReady = Invoke-Kubectl -n $Ns get statefulset "${MonSvc}-stateful" -o 'jsonpath={.status.readyReplicas}'
            if ($statefulReady -eq '2') { break }
            Start-Sleep -Seconds 1
        } while ([DateTime]::UtcNow -lt $deadline)
        if ($statefulReady -ne '2') { throw "the stateful pods did not become Ready: $(Invoke-Kubectl -n $Ns get pods -o wide)" }
        $deadline = [DateTime]::UtcNow.AddSeconds(180)
        do {
            $brokenIps = @((Invoke-Kubectl -n $Ns get pods -l 'paasta.yelp.com/instance=broken' --field-selector=status.phase=Running -o 'jsonpath={.items[*].status.podIP}') -split ' ' | Where-Object { $_ })
            if ($brokenIps.Count -ge 2) { break }
            Start-Sleep -Seconds 1
        } while ([DateTime]::UtcNow -lt $deadline)
        if ($brokenIps.Count -lt 2) { throw "the broken pods did not start: $(Invoke-Kubectl -n $Ns get pods -o wide)" }
        $script:MainIps = @((Invoke-Kubectl -n $Ns get pods -l 'paasta.yelp.com/instance=main' -o 'jsonpath={.items[*].status.podIP}') -split ' ' | Where-Object { $_ })
        $script:BrokenIps = $brokenIps
        # Give the broken copies' own readiness probes time to have run (they must be running, not Ready).
        Start-Sleep -Seconds 2

        # HAProxy, configured as SmartStack's synapse would: backend <service>.<namespace> with the pods as servers,
        # health-checked with GET /status. One main pod passes, the two broken pods fail and go DOWN.
        if ($Haproxy) {
            $script:HapDir = Join-Path $TestDrive 'haproxy'
            $null = New-Item -ItemType Directory $HapDir
            $script:HapSocket = Join-Path $HapDir 'stats.sock'
            $script:HapPort = Get-FreePort
            $cfg = @"
global
    stats socket $HapSocket mode 600 level admin
defaults
    mode http
    timeout connect 1s
    timeout client 5s
    timeout server 5s
listen stats
    bind 127.0.0.1:$HapPort
    stats enable
    stats uri /
backend ${MonSvc}.mesh
    option httpchk GET /status
    default-server inter 500 fall 1 rise 1
    server up-0 $($MainIps[0]):8888 check
    server down-0 $($BrokenIps[0]):8888 check
    server down-1 $($BrokenIps[1]):8888 check
"@
            Set-Content (Join-Path $HapDir 'haproxy.cfg') $cfg
            $script:HapProcess = Start-Process $Haproxy -ArgumentList '-f', (Join-Path $HapDir 'haproxy.cfg'), '-db' -PassThru `
                -RedirectStandardOutput (Join-Path $HapDir 'out.log') -RedirectStandardError (Join-Path $HapDir 'err.log')
            $script:HapCsvUrl = "http://127.0.0.1:$HapPort/"
            # Oracle: HAProxy's own CSV over HTTP, read with curl, until its checks have settled.
            $deadline = [DateTime]::UtcNow.AddSeconds(30)
            do {
                Start-Sleep -Milliseconds 500
                $script:HapCsv = & $Curl -s "http://127.0.0.1:$HapPort/;csv;norefresh" 2>$null
                $states = @($HapCsv | Where-Object { $_ -like "${MonSvc}.mesh,*" -and $_ -notlike "${MonSvc}.mesh,BACKEND,*" } | ForEach-Object { $f = $_ -split ','; "$($f[1])=$($f[17])" })
            } until (($states -contains 'up-0=UP' -and $states -contains 'down-0=DOWN' -and $states -contains 'down-1=DOWN') -or [DateTime]::UtcNow -gt $deadline)
            $script:HapStates = $states
        }
    }

    AfterAll {
        if ($script:HapProcess) { Stop-Process -Id $HapProcess.Id -Force -ErrorAction SilentlyContinue }
        if ($PlatformUp -and $Ns) { Remove-TestNamespace $Ns }
    }

    Context 'counting Ready pods' {
        BeforeAll {
            if ($PlatformUp) {
                $script:results = Test-PaastaReplication -SoaDir $Soa -Service "${MonSvc}" -Cluster local -Verbose 4>&1
                $script:verbose = @($results | Where-Object { $_ -is [Management.Automation.VerboseRecord] } | ForEach-Object Message)
                $script:byInstance = @{}
                $results | Where-Object { $_.PSObject.TypeNames[0] -eq 'Paasta.Monitoring.ReplicationCheckResult' } | ForEach-Object { $byInstance[$_.Instance] = $_ }
            }
        }

        It 'reports the instance that is fully up as OK' {
            if (-not (Assert-PlatformOrSkip $PlatformUp 'The local platform')) { return }
            $r = $byInstance['main']
            $r.PSObject.TypeNames[0] | Should -Be 'Paasta.Monitoring.ReplicationCheckResult'
            $r.Status | Should -Be 'OK'
            $r.Method | Should -Be 'Pods'
            $r.Output | Should -Be "${MonSvc}.main has 2/2 replicas available (threshold: 50%)"
            $r.Description | Should -Be "${MonSvc}.main is well-replicated: at least 50% of its expected replicas are up."
            # Oracle: kubectl's own view of the Ready pods.
            $ready = @(Invoke-Kubectl -n $Ns get pods -l 'paasta.yelp.com/instance=main' -o 'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | Where-Object { $_ -eq 'True' })
            $r.AvailableCount | Should -Be $ready.Count
        }

        It 'reports the instance whose copies never become ready as CRITICAL, with what to do' {
            if (-not (Assert-PlatformOrSkip $PlatformUp 'The local platform')) { return }
            $r = $byInstance['broken']
            $r.Status | Should -Be 'CRITICAL'
            $r.IsUnderReplicated | Should -BeTrue
            $r.Output | Should -Be "${MonSvc}.broken has 0/2 replicas available (threshold: 50%)"
            $r.Description | Should -Match "paasta status -s ${MonSvc} -i broken -c local -vv"
            $r.Ratio | Should -Be 0
            @(Invoke-Kubectl -n $Ns get pods -l 'paasta.yelp.com/instance=broken' -o name).Count | Should -Be 2   # they run, they are just not Ready
        }

        It 'expects nothing of the stopped instance' {
            if (-not (Assert-PlatformOrSkip $PlatformUp 'The local platform')) { return }
            $r = $byInstance['stopped']
            ($r.Status, $r.ExpectedCount, $r.DesiredState) | Should -Be @('OK', 0, 'stop')
            $r.Output | Should -Be "${MonSvc}.stopped has 0/0 replicas available (threshold: 50%)"
            $r.AlertAfter | Should -Be '20m'   # one copy, not autoscaled
        }

        It 'clamps an autoscaled instance''s live replicas to min_instances' {
            if (-not (Assert-PlatformOrSkip $PlatformUp 'The local platform')) { return }
            Invoke-Kubectl -n $Ns get deployment "${MonSvc}-scaled" -o 'jsonpath={.spec.replicas}' | Should -Be '0'
            $r = $byInstance['scaled']
            ($r.Status, $r.ExpectedCount, $r.IsAutoscaled) | Should -Be @('CRITICAL', 1, $true)
        }

        It 'counts a mesh instance by its pods when no HAProxy stats are given, and skips the undeployed one' {
            if (-not (Assert-PlatformOrSkip $PlatformUp 'The local platform')) { return }
            $byInstance['mesh'].Method | Should -Be 'Pods'
            $byInstance['mesh'].Output | Should -Be "${MonSvc}.mesh has 0/3 replicas available (threshold: 50%)"
            $byInstance.Keys | Should -Not -Contain 'undeployed'
            $verbose | Should -Contain "Not deployed, skipped: ${MonSvc}.undeployed: deploy group itest.never has no docker image in deployments.json"
        }

        It 'reads an autoscaled StatefulSet''s live replicas from the StatefulSet' {
            if (-not (Assert-PlatformOrSkip $PlatformUp 'The local platform')) { return }
            Invoke-Kubectl -n $Ns get statefulset "${MonSvc}-stateful" -o 'jsonpath={.spec.replicas}' | Should -Be '2'
            $r = $byInstance['stateful']
            ($r.Status, $r.ExpectedCount, $r.AvailableCount, $r.IsAutoscaled) | Should -Be @('OK', 2, 2, $true)   # max_instances would be 4
        }

        It 'reads the namespace with one LIST of pods, one of Deployments and one of StatefulSets, and writes nothing' {
            if (-not (Assert-PlatformOrSkip $PlatformUp 'The local platform')) { return }
            # The connection's closing line names the API server: "Kubernetes API (https://...): N request(s), M write(s)."
            $verbose -replace '^Kubernetes API \(.*?\):', 'Kubernetes API:' | Should -Contain 'Kubernetes API: 3 request(s), 0 write(s).'
            $verbose | Should -Contain "Namespace paastasvc-${MonSvc}: 6 pod(s) listed."
        }

        It 'lists a kind of controller only when an autoscaled instance runs as it' {
            if (-not (Assert-PlatformOrSkip $PlatformUp 'The local platform')) { return }
            $requests = foreach ($instances in @(@('main', 'broken'), @('main', 'scaled'), @('main', 'stateful'))) {
                $v = Test-PaastaReplication -SoaDir $Soa -Service "${MonSvc}" -Cluster local -Instance $instances -Verbose 4>&1 |
                    Where-Object { $_ -is [Management.Automation.VerboseRecord] -and $_.Message -like 'Kubernetes API (*' }
                "$($instances -join ',')=$($v.Message -replace '^Kubernetes API \(.*?\):', 'Kubernetes API:')"
            }
            $requests | Should -Be @(
                'main,broken=Kubernetes API: 1 request(s), 0 write(s).'     # pods only: nothing is autoscaled
                'main,scaled=Kubernetes API: 2 request(s), 0 write(s).'     # pods and Deployments
                'main,stateful=Kubernetes API: 2 request(s), 0 write(s).'   # pods and StatefulSets
            )
        }

        It 'takes instances from Get-PaastaInstance and gives the same answers' {
            if (-not (Assert-PlatformOrSkip $PlatformUp 'The local platform')) { return }
            $piped = Get-PaastaInstance -SoaDir $Soa -Service "${MonSvc}" -Cluster local | Test-PaastaReplication
            ($piped | ForEach-Object { "$($_.Instance)=$($_.Status)" }) | Should -Be @('broken=CRITICAL', 'main=OK', 'mesh=CRITICAL', 'scaled=CRITICAL', 'stateful=OK', 'stopped=OK')
        }

        It 'summarises pod-counted trouble as WARNING: the cluster-wide rule counts mesh-checked instances only' {
            if (-not (Assert-PlatformOrSkip $PlatformUp 'The local platform')) { return }
            $s = Test-PaastaReplication -SoaDir $Soa -Service "${MonSvc}" -Cluster local -Summary -MinCountCritical 1
            $s.PSObject.TypeNames[0] | Should -Be 'Paasta.Monitoring.ReplicationSummary'
            ($s.Checked, $s.MeshChecked, $s.IsCritical, $s.ExitCode) | Should -Be @(6, 0, $false, 1)
            $s.CriticalInstances | Should -Be @("${MonSvc}.broken", "${MonSvc}.mesh", "${MonSvc}.scaled")
            $s.Output | Should -BeLike 'WARNING: 6 instance(s) checked on local; 0 of 0 mesh-checked under-replicated*'
        }
    }

    Context 'counting UP servers in HAProxy' {
        It 'HAProxy itself marks the pods that fail GET /status DOWN (the oracle, read with curl)' {
            if (-not (Assert-PlatformOrSkip $PlatformUp 'The local platform')) { return }
            if (-not (Assert-PlatformOrSkip ([bool]$Haproxy) 'haproxy (Debian package, installed by tools/platform/platform.sh)')) { return }
            $HapStates | Should -Be @('up-0=UP', 'down-0=DOWN', 'down-1=DOWN')
        }

        It 'counts the mesh instance from the stats socket, not from its pods' {
            if (-not (Assert-PlatformOrSkip $PlatformUp 'The local platform')) { return }
            if (-not (Assert-PlatformOrSkip ([bool]$Haproxy) 'haproxy')) { return }
            $r = Test-PaastaReplication -SoaDir $Soa -Service "${MonSvc}" -Cluster local -Instance mesh, main -HaproxyStats $HapSocket
            $mesh = $r | Where-Object Instance -eq mesh
            $mesh.Method | Should -Be 'Smartstack'
            ($mesh.Status, $mesh.AvailableCount, $mesh.ExpectedCount) | Should -Be @('CRITICAL', 1, 3)
            $mesh.Output | Should -Be "${MonSvc}.mesh has 1/3 replicas in local according to Smartstack (CRITICAL: 33.33333333333333%)"
            $mesh.Locations.Count | Should -Be 1
            $mesh.Locations[0].Source | Should -Be $HapSocket
            $mesh.Description | Should -Match '503'
            ($r | Where-Object Instance -eq main).Method | Should -Be 'Pods'   # not registered in smartstack.yaml
        }

        It 'reads the stats CSV over HTTP, one expected copy per named location' {
            if (-not (Assert-PlatformOrSkip $PlatformUp 'The local platform')) { return }
            if (-not (Assert-PlatformOrSkip ([bool]$Haproxy) 'haproxy')) { return }
            $mesh = Test-PaastaReplication -SoaDir $Soa -Service "${MonSvc}" -Cluster local -Instance mesh -HaproxyStats "west=$HapCsvUrl", "east=unix:$HapSocket"
            $mesh.Status | Should -Be 'OK'   # int(3 / 2) = 1 expected per location, 1 UP in each
            $mesh.Output | Should -Be ("${MonSvc}.mesh has 1/1 replicas in east according to Smartstack (OK: 100.0%), " +
                "${MonSvc}.mesh has 1/1 replicas in west according to Smartstack (OK: 100.0%)")
            ($mesh.Locations | ForEach-Object Source) | Should -Be @("unix:$HapSocket", $HapCsvUrl)
        }

        It 'reports a location whose HAProxy does not answer, and leaves that instance unchecked' {
            if (-not (Assert-PlatformOrSkip $PlatformUp 'The local platform')) { return }
            $s = Test-PaastaReplication -SoaDir $Soa -Service "${MonSvc}" -Cluster local -Instance mesh, main -HaproxyStats "http://127.0.0.1:$(Get-FreePort)/" -Summary -ErrorVariable err -ErrorAction SilentlyContinue
            $err[0].FullyQualifiedErrorId | Should -Be 'HaproxyStatsUnavailable,Paasta.Commands.TestPaastaReplication'
            $s.Unchecked | Should -Be @("${MonSvc}.mesh")
            ($s.Results | ForEach-Object Instance) | Should -Be @('main')
            $s.Status | Should -Be 'UNKNOWN'
            $s.ExitCode | Should -Be 1   # issue 7: a check command exits 0, 1 or 2; could-not-check is a warning
        }

        It 'works as a Sensu check command: events for every instance, field by field, and exit code 2 when the run is critical' {
            if (-not (Assert-PlatformOrSkip $PlatformUp 'The local platform')) { return }
            if (-not (Assert-PlatformOrSkip ([bool]$Haproxy) 'haproxy')) { return }
            $sensu = Start-SensuClientStandIn
            try {
                $line = "Import-Module '$env:PAASTA_TEST_MODULE'; " +
                "`$s = Test-PaastaReplication -SoaDir '$Soa' -Service ${MonSvc} -Cluster local -HaproxyStats '$HapSocket' -MinCountCritical 1 -Summary; " +
                "`$s.Results | Send-PaastaSensuEvent -SensuSocket '$($sensu.Socket)'; `$s.Output; exit `$s.ExitCode"
                $out = Invoke-ChildPwsh -Command $line
                $LASTEXITCODE | Should -Be 2
                "$out" | Should -BeLike 'CRITICAL: 6 instance(s) checked on local; 1 of 1 mesh-checked under-replicated (100%*'

                $events = @{}
                Get-Received $sensu | ForEach-Object { $events[$_.Json.name] = $_ }
                $events.Keys | Sort-Object | Should -Be (@('broken', 'main', 'mesh', 'scaled', 'stateful', 'stopped') | ForEach-Object { "check_paasta_services_replication.${MonSvc}.$_" })
                @($sensu.Answers.ToArray() | Where-Object { $_ -ne 'ok' }).Count | Should -Be 0

                $main = $events["check_paasta_services_replication.${MonSvc}.main"].Json
                @($main.Keys) | Should -Be ($SensuKeys + 'description')
                $main.status | Should -Be 0
                $main.output | Should -Be "${MonSvc}.main has 2/2 replicas available (threshold: 50%)"
                $main.handler | Should -Be 'default'
                $main.team | Should -Be 'itest-team'
                $main.runbook | Should -Be "y/${MonSvc}"
                $main.tip | Should -Be "Check the instance with: ``paasta status -s ${MonSvc} -i main -c local -vv``"
                $main.notification_email | Should -Be 'itest@example.com'
                $main.interval | Should -Be 60
                $main.page | Should -BeNullOrEmpty
                $main.ContainsKey('page') | Should -BeTrue
                $main.realert_every | Should -Be -1
                @($main.dependencies).Count | Should -Be 0
                $main.alert_after | Should -Be 600
                $main.ticket | Should -BeFalse
                $main.project | Should -BeNullOrEmpty
                $main.priority | Should -BeNullOrEmpty
                $main.source | Should -Be 'paasta-local'
                $main.tags | Should -Be @('itest')
                $main.ttl | Should -BeNullOrEmpty
                $main.issuetype | Should -BeNullOrEmpty
                $main.description | Should -Be "${MonSvc}.main is well-replicated: at least 50% of its expected replicas are up."

                $broken = $events["check_paasta_services_replication.${MonSvc}.broken"].Json
                @($broken.Keys) | Should -Be ($SensuKeys + 'irc_channels', 'description')
                $broken.status | Should -Be 2
                $broken.output | Should -Be "${MonSvc}.broken has 0/2 replicas available (threshold: 50%)"
                $broken.team | Should -Be 'itest-team'
                $broken.runbook | Should -Be "y/${MonSvc}"
                $broken.tip | Should -Be 'Look at the broken copies'
                $broken.page | Should -BeTrue
                $broken.alert_after | Should -Be 180
                $broken.ticket | Should -BeTrue
                $broken.project | Should -Be 'MON'
                $broken.priority | Should -Be 'P2'
                $broken.irc_channels | Should -Be @('#monitorhello')
                $broken.description | Should -Match 'under-replicated: 0 of its 2 expected replicas are Ready'

                $stopped = $events["check_paasta_services_replication.${MonSvc}.stopped"].Json
                ($stopped.status, $stopped.alert_after) | Should -Be @(0, 1200)
                $mesh = $events["check_paasta_services_replication.${MonSvc}.mesh"]
                $mesh.Json.status | Should -Be 2
                $mesh.Json.output | Should -Be "${MonSvc}.mesh has 1/3 replicas in local according to Smartstack (CRITICAL: 33.33333333333333%)"
                # Byte for byte as Python's json.dumps lays it out, newline-terminated.
                $prefix = "{`"name`": `"check_paasta_services_replication.${MonSvc}.mesh`", `"status`": 2, `"output`": `"${MonSvc}.mesh has 1/3 replicas in local according to Smartstack (CRITICAL: 33.33333333333333%)`", `"handler`": `"default`", `"team`": `"itest-team`", `"runbook`": `"y/${MonSvc}`", `"tip`": `"Check the instance with: ``paasta status -s ${MonSvc} -i mesh -c local -vv```", `"notification_email`": `"itest@example.com`", `"interval`": 60, `"page`": null, `"realert_every`": -1, `"dependencies`": [], `"alert_after`": 600, `"ticket`": false, `"project`": null, `"priority`": null, `"source`": `"paasta-local`", `"tags`": [`"itest`"], `"ttl`": null, `"issuetype`": null, `"description`": `""
                $mesh.Raw.StartsWith($prefix, [StringComparison]::Ordinal) | Should -BeTrue -Because "the event was: $($mesh.Raw)"
                $mesh.Raw.EndsWith("`"}`n", [StringComparison]::Ordinal) | Should -BeTrue
                $mesh.Raw.Substring($prefix.Length) | Should -Match '^[\x20-\x7e]+\n$'   # one line, ASCII: newlines inside are escaped
            }
            finally { Stop-SensuClientStandIn $sensu }
        }
    }
}
