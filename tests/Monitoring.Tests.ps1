#Requires -Version 7.4
# Replication monitoring without a cluster (issue 7): Send-PaastaSensuEvent into a stand-in for the Sensu client
# socket, and Test-PaastaReplication's arguments and its answers when nothing can be read. The checks against the
# real local cluster and a real HAProxy are in Monitoring.Integration.Tests.ps1.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Monitoring.TestSetup.ps1')
}

Describe 'Send-PaastaSensuEvent into a stand-in for the Sensu client socket' {
    BeforeAll { $script:sensu = Start-SensuClientStandIn }
    AfterAll { Stop-SensuClientStandIn $sensu }

    It 'sends any object with the check fields, as one JSON line the client accepts, field by field' {
        $sensu.Received.Clear()
        $check = [pscustomobject]@{
            Name = 'backup_done'; Status = 'CRITICAL'; Output = "no backup for 2 days`nsee the log"; Team = 'storage'; AlertAfter = '1h30m'
            Tags = 'db', 'nightly'; IrcChannels = @('#storage'); Page = $true; Cluster = 'prod'; Ttl = '2h'
        }
        $delivery = $check | Send-PaastaSensuEvent -SensuSocket $sensu.Socket -PassThru
        $delivery.PSObject.TypeNames[0] | Should -Be 'Paasta.Monitoring.SensuDelivery'
        $delivery.Acknowledged | Should -BeTrue
        $delivery.Reply | Should -Be 'ok'
        $got = Get-Received $sensu
        $got.Count | Should -Be 1
        $got[0].Raw | Should -Be ($delivery.Json + "`n")
        $e = $got[0].Json
        @($e.Keys) | Should -Be ($SensuKeys + 'irc_channels')
        $e.name | Should -Be 'backup_done'
        $e.status | Should -Be 2
        $e.output | Should -Be "no backup for 2 days`nsee the log"
        $e.handler | Should -Be 'default'
        $e.team | Should -Be 'storage'
        $e.runbook | Should -Be 'http://y/paasta-troubleshooting'
        $e.tip | Should -BeNullOrEmpty
        $e.notification_email | Should -BeNullOrEmpty
        $e.interval | Should -Be 60
        $e.page | Should -BeTrue
        $e.realert_every | Should -Be -1
        @($e.dependencies).Count | Should -Be 0
        $e.alert_after | Should -Be 5400
        $e.ticket | Should -BeFalse
        $e.project | Should -BeNullOrEmpty
        $e.priority | Should -BeNullOrEmpty
        $e.source | Should -Be 'paasta-prod'
        $e.tags | Should -Be @('db', 'nightly')
        $e.ttl | Should -Be 7200
        $e.issuetype | Should -BeNullOrEmpty
        $e.irc_channels | Should -Be @('#storage')
        # Python json.dumps layout: ", " and ": " separators, one line.
        $got[0].Raw | Should -Match '^\{"name": "backup_done", "status": 2, "output": "no backup for 2 days\\nsee the log", "handler": "default", '
    }

    It 'binds a replication result by its property names (Tags, IrcChannels, SlackChannels: the aliases) and sends exactly its event' {
        $sensu.Received.Clear()
        $null = Get-PaastaConfiguration   # Paasta.Core loads in the module's own context on first use
        $core = [System.Runtime.Loader.AssemblyLoadContext]::All.Assemblies | Where-Object { $_.GetName().Name -eq 'Paasta.Core' } | Select-Object -First 1
        $type = $core.GetType('Paasta.Monitoring.ReplicationCheckResult')
        $result = [Activator]::CreateInstance($type)
        $values = @{
            Service = 'web'; Instance = 'main'; Cluster = 'prod'; Namespace = 'paastasvc-web'; Output = 'web.main has 1 of 3'; Description = 'see the runbook'
            CheckName = 'check_paasta_services_replication.web.main'; Team = 'backend'; Runbook = 'docs/runbook.md'; Tip = 'restart it'; AlertAfter = '10m'
            Tags = [string[]]('a', 'b'); IrcChannels = [string[]]('#web'); SlackChannels = [string[]]('#web-alerts'); Source = 'paasta-prod'
            Status = [Enum]::Parse($type.GetProperty('Status').PropertyType, 'CRITICAL')
        }
        foreach ($name in $values.Keys) { $type.GetProperty($name).SetValue($result, $values[$name]) }
        $delivery = $result | Send-PaastaSensuEvent -SensuSocket $sensu.Socket -PassThru
        $delivery.Acknowledged | Should -BeTrue
        $got = Get-Received $sensu
        $got[0].Raw | Should -Be ($result.ToSensuEvent().ToJson() + "`n")
        $got[0].Json.tags | Should -Be @('a', 'b')
        $got[0].Json.irc_channels | Should -Be @('#web')
        $got[0].Json.slack_channels | Should -Be @('#web-alerts')
    }

    It 'binds the singular names, and ClusterName as the cluster (source paasta-CLUSTER, no cluster_name key, as PaaSTA sends)' {
        $sensu.Received.Clear()
        [pscustomobject]@{ Name = 'n'; Status = 'OK'; Output = 'o'; Team = 't'; Tag = 'x'; IrcChannel = '#i'; SlackChannel = '#s'; Dependency = 'd'; ClusterName = 'prod' } |
            Send-PaastaSensuEvent -SensuSocket $sensu.Socket
        [pscustomobject]@{ Name = 'n'; Status = 'OK'; Output = 'o'; Team = 't'; Dependencies = 'd1', 'd2' } | Send-PaastaSensuEvent -SensuSocket $sensu.Socket
        $got = Get-Received $sensu
        $e = $got[0].Json
        @($e.Keys) | Should -Be ($SensuKeys + 'irc_channels', 'slack_channels')
        $e.tags | Should -Be @('x')
        $e.irc_channels | Should -Be @('#i')
        $e.slack_channels | Should -Be @('#s')
        $e.dependencies | Should -Be @('d')
        $e.source | Should -Be 'paasta-prod'
        $got[1].Json.dependencies | Should -Be @('d1', 'd2')
    }

    It 'warns and sends nothing for an object without a team, as PaaSTA does' {
        $sensu.Received.Clear()
        [pscustomobject]@{ Name = 'x'; Status = 0; Output = 'fine' } | Send-PaastaSensuEvent -SensuSocket $sensu.Socket -WarningVariable w -WarningAction SilentlyContinue
        $w | Should -Match 'no team'
        $sensu.Received.Count | Should -Be 0
    }

    It 'sends nothing with -WhatIf' {
        $sensu.Received.Clear()
        [pscustomobject]@{ Name = 'x'; Status = 0; Output = 'fine'; Team = 't' } | Send-PaastaSensuEvent -SensuSocket $sensu.Socket -WhatIf
        Start-Sleep -Milliseconds 200
        $sensu.Received.Count | Should -Be 0
    }

    It 'refuses a bad check name or duration per event, and sends the others' {
        $sensu.Received.Clear()
        $events = @(
            [pscustomobject]@{ Name = 'bad name'; Status = 0; Output = ''; Team = 't' }
            [pscustomobject]@{ Name = 'good'; Status = 'WARNING'; Output = ''; Team = 't'; AlertAfter = 'soon' }
            [pscustomobject]@{ Name = 'good2'; Status = 1; Output = ''; Team = 't' }
        )
        $events | Send-PaastaSensuEvent -SensuSocket $sensu.Socket -ErrorVariable err -ErrorAction SilentlyContinue
        $err.FullyQualifiedErrorId | Should -Be @('SensuEventNameInvalid,Paasta.Commands.SendPaastaSensuEvent', 'SensuDurationInvalid,Paasta.Commands.SendPaastaSensuEvent')
        $err[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        (Get-Received $sensu).Json.name | Should -Be 'good2'
        (Get-Received $sensu).Json.status | Should -Be 1
    }

    It 'reports a refused connection as one non-terminating error per event' {
        $port = Get-FreePort
        $events = 1..3 | ForEach-Object { [pscustomobject]@{ Name = "c$_"; Status = 2; Output = 'x'; Team = 't' } }
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $out = $events | Send-PaastaSensuEvent -SensuSocket "127.0.0.1:$port" -PassThru -ErrorVariable err -ErrorAction SilentlyContinue
        $sw.Stop()
        $out | Should -BeNullOrEmpty
        $err.Count | Should -Be 3
        $err | ForEach-Object { $_.FullyQualifiedErrorId | Should -Be 'SensuConnectionRefused,Paasta.Commands.SendPaastaSensuEvent' }
        $err[0].CategoryInfo.Category | Should -Be 'ConnectionError'
        $err[0].TargetObject | Should -Be 'c1'
        $err[0].Exception.Message | Should -Match "127\.0\.0\.1:$port"
        $sw.Elapsed.TotalSeconds | Should -BeLessThan 5
    }

    It 'gives up on a socket that never answers within -TimeoutSec, instead of hanging' {
        $silent = Start-SensuClientStandIn -Silent
        try {
            $sw = [Diagnostics.Stopwatch]::StartNew()
            [pscustomobject]@{ Name = 'slow'; Status = 2; Output = 'x'; Team = 't' } |
                Send-PaastaSensuEvent -SensuSocket $silent.Socket -TimeoutSec 1 -ErrorVariable err -ErrorAction SilentlyContinue
            $sw.Stop()
            $err[0].FullyQualifiedErrorId | Should -Be 'SensuSocketTimeout,Paasta.Commands.SendPaastaSensuEvent'
            $err[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
            $sw.Elapsed.TotalSeconds | Should -BeGreaterThan 0.9
            $sw.Elapsed.TotalSeconds | Should -BeLessThan 4
        }
        finally { Stop-SensuClientStandIn $silent }
    }

    It 'refuses a malformed -SensuSocket before sending anything' {
        { [pscustomobject]@{ Name = 'x'; Status = 0; Output = ''; Team = 't' } | Send-PaastaSensuEvent -SensuSocket 'host:notaport' -ErrorAction Stop } |
            Should -Throw -ErrorId 'SensuSocketInvalid,Paasta.Commands.SendPaastaSensuEvent'
    }

    It 'the stand-in answers as the Sensu client does (ping, invalid JSON)' {
        # Guards the stand-in itself: a stand-in that accepted anything would make the tests above prove nothing.
        $port = [int]($sensu.Socket -split ':')[1]
        foreach ($case in @(@{ Send = "ping`n"; Expect = 'pong' }, @{ Send = '{"name": "x", "status": 0}'; Expect = 'invalid' }, @{ Send = '{"name": "bad name", "output": "", "status": 0}'; Expect = 'invalid' })) {
            $client = [Net.Sockets.TcpClient]::new('127.0.0.1', $port)
            try {
                $stream = $client.GetStream()
                $bytes = [Text.Encoding]::ASCII.GetBytes($case.Send)
                $stream.Write($bytes, 0, $bytes.Length)
                $stream.ReadTimeout = 3000
                $buffer = [byte[]]::new(64)
                $n = $stream.Read($buffer, 0, 64)
                [Text.Encoding]::ASCII.GetString($buffer, 0, $n) | Should -Be $case.Expect
            }
            finally { $client.Dispose() }
        }
    }
}

Describe 'Test-PaastaReplication arguments' {
    It 'needs a cluster' {
        $saved = $env:PAASTA_CLUSTER, $env:PAASTA_CONFIG
        try {
            $env:PAASTA_CLUSTER = $null
            $env:PAASTA_CONFIG = Join-Path $TestDrive 'no-settings.json'
            { Test-PaastaReplication -SoaDir (Join-Path $env:PAASTA_REPO_ROOT 'examples/soa-configs') -ErrorAction Stop } |
                Should -Throw -ErrorId 'ClusterNotSpecified,Paasta.Commands.TestPaastaReplication'
        }
        finally { $env:PAASTA_CLUSTER, $env:PAASTA_CONFIG = $saved }
    }

    It 'refuses an -HaproxyStats entry that is neither a socket nor a URL' {
        { Test-PaastaReplication -SoaDir (Join-Path $env:PAASTA_REPO_ROOT 'examples/soa-configs') -Cluster local -HaproxyStats 'ftp://x/' -ErrorAction Stop } |
            Should -Throw -ErrorId 'HaproxyStatsSourceInvalid,Paasta.Commands.TestPaastaReplication'
    }

    It 'skips instances that are not deployed without asking the cluster' {
        $kube = Join-Path $TestDrive 'missing-kubeconfig'
        $r = Test-PaastaReplication -SoaDir (Join-Path $env:PAASTA_REPO_ROOT 'examples/soa-configs') -Cluster local -KubeConfig $kube -Summary -Verbose 4>&1
        $summary = $r | Where-Object { $_.PSObject.TypeNames[0] -eq 'Paasta.Monitoring.ReplicationSummary' }
        ($r | Where-Object { $_ -is [Management.Automation.VerboseRecord] }).Message | Should -Contain 'Not deployed, skipped: hello.main: hello has no deployments.json'
        $summary.Checked | Should -Be 0
        $summary.NotDeployed | Should -Be @('hello.canary', 'hello.main')
        $summary.ExitCode | Should -Be 0
        # Services from Get-PaastaService bind by Name and SoaDir.
        $piped = Get-PaastaService -SoaDir (Join-Path $env:PAASTA_REPO_ROOT 'examples/soa-configs') -Name hello | Test-PaastaReplication -Cluster local -KubeConfig $kube -Summary
        $piped.NotDeployed | Should -Be @('hello.canary', 'hello.main')
    }

    It 'is not OK when deployments.json cannot be read: its instances are unchecked, and the check command exits 1' {
        # A corrupt deployments.json says nothing about what is deployed; skipping its instances would report OK
        # for a run that checked nothing. No cluster is needed: nothing gets as far as asking it.
        $soa = Join-Path $TestDrive 'corrupt-deployments'
        Copy-Item -Recurse (Join-Path $env:PAASTA_REPO_ROOT 'examples/soa-configs') $soa
        Set-Content (Join-Path $soa 'hello/deployments.json') '{"v2": {"deployments": '
        $kube = Join-Path $TestDrive 'missing-kubeconfig'
        $s = Test-PaastaReplication -SoaDir $soa -Service hello -Cluster local -KubeConfig $kube -Summary -ErrorVariable err -ErrorAction SilentlyContinue
        $err.FullyQualifiedErrorId | Should -Contain 'DeploymentsFileInvalid,Paasta.Commands.TestPaastaReplication'
        $s.Checked | Should -Be 0
        $s.NotDeployed | Should -BeNullOrEmpty
        $s.Unchecked | Should -Be @('hello.canary', 'hello.main')
        $s.Status | Should -Be 'UNKNOWN'
        $s.ExitCode | Should -Be 1
        $s.Output | Should -BeLike 'UNKNOWN: 0 instance(s) checked on local;*; not checked: hello.canary, hello.main'

        # The same as a Sensu check command, in a process of its own: exit code 1, never 3 (issue 7: 0/1/2 only).
        $out = Invoke-ChildPwsh -Command ("Import-Module '$env:PAASTA_TEST_MODULE'; " +
            "`$s = Test-PaastaReplication -SoaDir '$soa' -Service hello -Cluster local -KubeConfig '$kube' -Summary -ErrorAction SilentlyContinue; `$s.Output; exit `$s.ExitCode")
        $LASTEXITCODE | Should -Be 1
        "$out" | Should -BeLike 'UNKNOWN:*not checked: hello.canary, hello.main*'
    }

    It 'is not OK when an instance file cannot be read: the service is listed as not checked' {
        $soa = Join-Path $TestDrive 'corrupt-instances'
        Copy-Item -Recurse (Join-Path $env:PAASTA_REPO_ROOT 'examples/soa-configs') $soa
        Set-Content (Join-Path $soa 'hello/kubernetes-local.yaml') "main: {instances: [unclosed`n"
        $s = Test-PaastaReplication -SoaDir $soa -Service hello -Cluster local -KubeConfig (Join-Path $TestDrive 'missing-kubeconfig') -Summary -ErrorVariable err -ErrorAction SilentlyContinue
        $err.Count | Should -BeGreaterThan 0
        $s.Checked | Should -Be 0
        $s.Unchecked | Should -Be @('hello (kubernetes-local.yaml)')
        ($s.Status, $s.ExitCode) | Should -Be @('UNKNOWN', 1)

        # A service asked for by name that does not exist is not checked either.
        $missing = Test-PaastaReplication -SoaDir $soa -Service nosuchservice -Cluster local -Summary -ErrorVariable err2 -ErrorAction SilentlyContinue
        $err2[0].FullyQualifiedErrorId | Should -Be 'ServiceNotFound,Paasta.Commands.TestPaastaReplication'
        $missing.Unchecked | Should -Be @('nosuchservice')
        $missing.ExitCode | Should -Be 1
    }
}
