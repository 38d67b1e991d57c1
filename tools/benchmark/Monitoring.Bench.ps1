#Requires -Version 7.4
# Replication monitoring at scale (issue 7), each figure next to a baseline measured in this process:
#  1. Test-PaastaReplication over 200 deployed instances of one service (one namespace) vs `kubectl get pods -o json`
#     of that namespace: the least any check must do. Needs the local platform (KUBECONFIG); skipped otherwise.
#  2. The same 200 instances registered in the mesh, counted from a real HAProxy's stats socket (200 backends x 5
#     servers) vs reading `show stat` off that socket with a bare .NET socket. Needs haproxy; skipped otherwise.
#  3. Send-PaastaSensuEvent of 200 events to a loopback listener that answers "ok" as the Sensu client does, vs a
#     bare TcpClient loop writing the same JSON lines and reading the answers.
# Warm-up once; then each figure and its baseline run alternately, 5 times, and the medians are compared (the machine
# is shared, so alternating keeps a burst of load from landing on one side only).
param([Parameter(Mandatory)] [string] $ModuleManifest)
$ErrorActionPreference = 'Stop'
Import-Module $ModuleManifest -Force

$Instances = 200
$root = Join-Path ([IO.Path]::GetTempPath()) "paasta-bench-monitoring-$PID"
if (Test-Path $root) { Remove-Item -Recurse -Force $root }
$soa = Join-Path $root 'soa'
$svc = New-Item -ItemType Directory -Force (Join-Path $soa 'monitorbench')

function Get-Median([double[]] $Values) { ($Values | Sort-Object)[[int][math]::Floor($Values.Count / 2)] }
function Measure-Pair([scriptblock] $A, [scriptblock] $B, [int] $Runs = 5) {
    $null = & $A; $null = & $B   # warm-up
    $ta = [Collections.Generic.List[double]]::new(); $tb = [Collections.Generic.List[double]]::new()
    foreach ($i in 1..$Runs) {
        $sw = [Diagnostics.Stopwatch]::StartNew(); $null = & $A; $ta.Add($sw.Elapsed.TotalSeconds)
        $sw = [Diagnostics.Stopwatch]::StartNew(); $null = & $B; $tb.Add($sw.Elapsed.TotalSeconds)
    }
    [pscustomobject]@{ A = Get-Median $ta.ToArray(); B = Get-Median $tb.ToArray() }
}
function Get-FreePort { $l = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0); $l.Start(); $p = $l.LocalEndpoint.Port; $l.Stop(); $p }

$haproxy = $null
$sensuPs = $null
try {
    # 200 instances in namespace paastasvc-monitorbench (which need not exist: a LIST there is empty), all deployed.
    Set-Content (Join-Path $svc 'service.yaml') "description: bench`nexternal_link: http://example`ngit_url: null`n"
    Set-Content (Join-Path $svc 'monitoring.yaml') "team: bench`n"
    Set-Content (Join-Path $svc 'deploy.yaml') "pipeline:`n- step: bench.all`n"
    Set-Content (Join-Path $svc 'smartstack.yaml') ((0..($Instances - 1) | ForEach-Object { "inst$($_): {proxy_port: $(20000 + $_)}" }) -join "`n")
    Set-Content (Join-Path $svc 'kubernetes-bench.yaml') ((0..($Instances - 1) | ForEach-Object { "inst$($_): {deploy_group: bench.all, instances: 5}" }) -join "`n")
    $controls = (0..($Instances - 1) | ForEach-Object { "`"monitorbench:bench.inst$_`": {`"desired_state`": `"start`", `"force_bounce`": null}" }) -join ', '
    Set-Content (Join-Path $svc 'deployments.json') -NoNewline ('{"v1": {}, "v2": {"deployments": {"bench.all": {"docker_image": "services-monitorbench:paasta-abc", "git_sha": "abc", "image_version": null}}, "controls": {' + $controls + '}}}')

    $kubectl = if ($env:KUBECONFIG) { Join-Path (Split-Path $env:KUBECONFIG) 'bin/kubectl' }
    if (-not $kubectl -or -not (Test-Path $kubectl)) { $kubectl = (Get-Command kubectl -ErrorAction SilentlyContinue).Source }
    $clusterUp = $kubectl -and $env:KUBECONFIG -and ((& $kubectl get --raw /readyz 2>$null) -eq 'ok')
    if ($clusterUp) {
        $check = Test-PaastaReplication -SoaDir $soa -Cluster bench
        if (@($check).Count -ne $Instances) { throw "expected $Instances results, got $(@($check).Count)" }
        $m = Measure-Pair { Test-PaastaReplication -SoaDir $soa -Cluster bench } { & $kubectl get pods -n paastasvc-monitorbench -l 'paasta.yelp.com/service in (monitorbench),paasta.yelp.com/instance' -o json | Out-String }
        $paasta = $m.A; $kube = $m.B
        $config = (Measure-Pair { Get-PaastaInstance -SoaDir $soa -Service monitorbench -Cluster bench } { }).A
        'monitoring: {0} instances, 1 namespace, medians of 5 alternating runs, warm, {1} cores, load average {2}' -f $Instances, [Environment]::ProcessorCount, ((Get-Content /proc/loadavg -ErrorAction SilentlyContinue) -split ' ')[0]
        'monitoring: Test-PaastaReplication {0:N3} s vs kubectl get pods -o json {1:N3} s = {2:N2}x (of which reading soa-configs: {3:N3} s)' -f $paasta, $kube, ($paasta / $kube), $config
        $v = Test-PaastaReplication -SoaDir $soa -Cluster bench -Verbose 4>&1 | Where-Object { $_ -is [Management.Automation.VerboseRecord] -and $_.Message -like 'Kubernetes API*' }
        "monitoring: $($v.Message)"

        $haproxyExe = (Get-Command haproxy -ErrorAction SilentlyContinue).Source
        if (-not $haproxyExe -and (Test-Path /usr/sbin/haproxy)) { $haproxyExe = '/usr/sbin/haproxy' }
        if ($haproxyExe) {
            $sock = Join-Path $root 'stats.sock'
            $backends = foreach ($n in 0..($Instances - 1)) {
                "backend monitorbench.inst$n"
                foreach ($s in 0..4) { "    server s$s 127.0.0.1:$(30000 + $s)" }
            }
            Set-Content (Join-Path $root 'haproxy.cfg') (@("global", "    stats socket $sock mode 600 level admin", "defaults", "    mode http",
                    "    timeout connect 1s", "    timeout client 5s", "    timeout server 5s") + $backends)
            $haproxy = Start-Process $haproxyExe -ArgumentList '-f', (Join-Path $root 'haproxy.cfg'), '-db' -PassThru `
                -RedirectStandardOutput (Join-Path $root 'hap.out') -RedirectStandardError (Join-Path $root 'hap.err')
            $deadline = [DateTime]::UtcNow.AddSeconds(10)
            while (-not (Test-Path $sock) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 100 }
            Start-Sleep -Milliseconds 300
            $readSocket = {
                $s = [Net.Sockets.Socket]::new([Net.Sockets.AddressFamily]::Unix, [Net.Sockets.SocketType]::Stream, [Net.Sockets.ProtocolType]::Unspecified)
                try {
                    $s.Connect([Net.Sockets.UnixDomainSocketEndPoint]::new($sock))
                    $null = $s.Send([Text.Encoding]::ASCII.GetBytes("show stat`n"))
                    $buf = [byte[]]::new(65536); $ms = [IO.MemoryStream]::new()
                    while (($n = $s.Receive($buf)) -gt 0) { $ms.Write($buf, 0, $n) }
                    [Text.Encoding]::UTF8.GetString($ms.ToArray())
                }
                finally { $s.Dispose() }
            }
            $rows = ((& $readSocket) -split "`n" | Where-Object { $_ -and $_ -notlike '#*' }).Count
            $mesh = Test-PaastaReplication -SoaDir $soa -Cluster bench -HaproxyStats $sock
            if (@($mesh | Where-Object Method -eq 'Smartstack').Count -ne $Instances) { throw 'the mesh instances were not counted from HAProxy' }
            $m = Measure-Pair { Test-PaastaReplication -SoaDir $soa -Cluster bench -HaproxyStats $sock } { Test-PaastaReplication -SoaDir $soa -Cluster bench }
            $raw = (Measure-Pair $readSocket { }).A
            'monitoring (HAProxy): {0} stats rows; Test-PaastaReplication -HaproxyStats {1:N3} s vs the same run counting pods {2:N3} s = {3:N2}x; a bare read of show stat takes {4:N3} s' -f `
                $rows, $m.A, $m.B, ($m.A / $m.B), $raw
        }
        else { Write-Warning 'haproxy is not installed: the HAProxy figure is skipped.' }
    }
    else { Write-Warning 'No Kubernetes cluster (KUBECONFIG): the Test-PaastaReplication figures are skipped.' }

    # A loopback listener answering "ok" per connection, as the Sensu client socket does, on its own thread.
    $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
    $listener.Start()
    $port = $listener.LocalEndpoint.Port
    $sensuPs = [powershell]::Create()
    $null = $sensuPs.AddScript({
            param($listener)
            $ok = [Text.Encoding]::ASCII.GetBytes('ok'); $buf = [byte[]]::new(65536)
            while ($true) {
                try { $c = $listener.AcceptTcpClient() } catch { return }
                try {
                    $st = $c.GetStream()
                    $got = ''
                    while (-not $got.EndsWith("`n")) { $n = $st.Read($buf, 0, $buf.Length); if ($n -le 0) { break }; $got += [Text.Encoding]::ASCII.GetString($buf, 0, $n) }
                    $st.Write($ok, 0, 2)
                }
                catch { }
                finally { $c.Close() }
            }
        }).AddArgument($listener)
    $handle = $sensuPs.BeginInvoke()
    $events = 1..$Instances | ForEach-Object {
        [pscustomobject]@{ Name = "check_paasta_services_replication.monitorbench.inst$_"; Status = 'CRITICAL'; Output = "monitorbench.inst$_ has 0/5 replicas available (threshold: 50%)"; Team = 'bench'; Cluster = 'bench' }
    }
    $jsonLines = @($events | Send-PaastaSensuEvent -SensuSocket "127.0.0.1:$port" -PassThru | ForEach-Object { $_.Json + "`n" })
    if ($jsonLines.Count -ne $Instances) { throw "expected $Instances deliveries, got $($jsonLines.Count)" }
    $m = Measure-Pair { $events | Send-PaastaSensuEvent -SensuSocket "127.0.0.1:$port" } {
        foreach ($line in $jsonLines) {
            $c = [Net.Sockets.TcpClient]::new('127.0.0.1', $port)
            try {
                $st = $c.GetStream(); $b = [Text.Encoding]::ASCII.GetBytes($line); $st.Write($b, 0, $b.Length)
                $r = [byte[]]::new(16); $null = $st.Read($r, 0, 16)
            }
            finally { $c.Dispose() }
        }
    }
    $send = $m.A; $bare = $m.B
    'monitoring (Sensu): {0} events, Send-PaastaSensuEvent {1:N3} s ({2:N1} ms/event) vs a bare TcpClient loop {3:N3} s = {4:N2}x' -f `
        $Instances, $send, (1000 * $send / $Instances), $bare, ($send / $bare)
    $listener.Stop()
    $null = $sensuPs.EndInvoke($handle)
}
finally {
    if ($sensuPs) { $sensuPs.Dispose() }
    if ($haproxy) { Stop-Process -Id $haproxy.Id -Force -ErrorAction SilentlyContinue }
    if (Test-Path $root) { Remove-Item -Recurse -Force $root -ErrorAction SilentlyContinue }
}
