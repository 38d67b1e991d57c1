#Requires -Version 7.4
# Bounces on the real local cluster: each bounce method replaces hello's 4 copies while `kubectl get pods -w`
# records every pod change; the recorded timeline is checked against the method's promise (docs/BEHAVIOUR.md §6.2).
# Objects live in a namespace of this run's own (paastasvc-bouncehello…), the only one it deletes; the cluster is the
# local platform's (Use-TestCluster).
BeforeAll {
    Import-Module $env:PAASTA_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'Paasta.TestUtils.psm1') -Force
    $script:Repo = if ($env:PAASTA_REPO_ROOT) { $env:PAASTA_REPO_ROOT } else { (Resolve-Path (Join-Path $PSScriptRoot '..')).Path }
    $script:Kubectl = Get-TestKubectl
    $script:Up = Test-KubernetesUp

    $script:Service = New-TestName 'bouncehello'
    $script:Namespace = "paastasvc-$Service"
    if (-not $Up) { return }
    Register-TestNamespace $Namespace

    $script:Soa = Join-Path $TestDrive 'soa'
    New-Item -ItemType Directory $Soa | Out-Null
    Copy-Item -Recurse (Join-Path $Repo 'examples/soa-configs/hello') (Join-Path $Soa $Service)
    Remove-Item (Join-Path $Soa "$Service/adhoc-local.yaml"), (Join-Path $Soa "$Service/tron-local.yaml")
    $script:InstanceFile = Join-Path $Soa "$Service/kubernetes-local.yaml"
    # One instance of 4 copies; its bounce and drain settings are rewritten per test.
    function Set-Instance([string] $Extra = '') {
        @"
main:
  deploy_group: local.everything
  cpus: 0.05
  mem: 48
  disk: 128
  instances: 4
  healthcheck_mode: http
  healthcheck_uri: /status
  healthcheck_grace_period_seconds: 1
  healthcheck_interval_seconds: 1
  env:
    GREETING: bounce
$Extra
"@ | Set-Content $InstanceFile
    }
    Set-Instance

    # Commits with images in the local registry: A, B and D answer /status; C does not (never ready).
    $script:Bare = Join-Path $TestDrive "$Service.git"
    $script:Work = Join-Path $TestDrive 'work'
    Invoke-Git init -q --bare $Bare | Out-Null
    Invoke-Git clone -q $Bare $Work | Out-Null
    Copy-Item -Recurse (Join-Path $Repo 'examples/services/hello/*') $Work
    function New-Commit([string] $Message) {
        Invoke-Git -C $Work add -A | Out-Null
        Invoke-Git -C $Work -c user.name=t -c user.email=t@example.com commit -q --allow-empty -m $Message | Out-Null
        Invoke-Git -C $Work push -q origin HEAD:refs/heads/main | Out-Null
        $sha = (Invoke-Git -C $Work rev-parse HEAD).Trim()
        $image = "127.0.0.1:5000/services-${Service}:paasta-$sha"
        $out = & make -C $Work cook-image "DOCKER_TAG=$image" 2>&1
        if ($LASTEXITCODE) { throw "make cook-image failed: $out" }
        $out = & docker push $image 2>&1
        if ($LASTEXITCODE) { throw "docker push failed: $out" }
        $sha
    }
    $script:Shas = [System.Collections.Generic.List[string]]::new()
    foreach ($n in 1..3) { $Shas.Add((New-Commit "good $n")) }
    Remove-Item (Join-Path $Work 'www/status')
    $script:BrokenSha = New-Commit 'lose /status'
    $script:NextGood = 0
    # Good shas in rotation: two calls in a row never give the same one.
    function Get-NextSha { $sha = $Shas[$script:NextGood % $Shas.Count]; $script:NextGood++; $sha }

    function Deploy([string] $Sha) {
        $null = Publish-PaastaDeployment -SoaDir $Soa -Service $Service -DeployGroup local.everything -Commit $Sha -Repository $Bare -Confirm:$false
        $null = New-PaastaDeployments -SoaDir $Soa -Service $Service -Repository $Bare -Confirm:$false
    }
    function Sync { Sync-PaastaInstance -SoaDir $Soa -Service $Service -Cluster local -Instance main -Confirm:$false @args }
    function Get-Pods {
        @((Invoke-Kubectl -n $Namespace get pods -l 'paasta.yelp.com/instance=main' -o json | ConvertFrom-Json).items)
    }
    function Get-ServingPods([string] $Sha) {
        Get-Pods | Where-Object {
            -not $_.metadata.deletionTimestamp -and $_.metadata.labels.'paasta.yelp.com/git_sha' -eq $Sha -and
            ($_.status.conditions | Where-Object { $_.type -eq 'Ready' -and $_.status -eq 'True' })
        }
    }
    # The next good sha, deployed and fully running before a bounce starts.
    function Initialize-Running {
        $sha = Get-NextSha
        Deploy $sha
        $null = Sync -Wait -TimeoutSec 180
        $deadline = [DateTime]::UtcNow.AddSeconds(180)
        while (@(Get-ServingPods $sha).Count -lt 4) {
            if ([DateTime]::UtcNow -gt $deadline) { throw "4 ready pods of $sha did not appear" }
            Start-Sleep -Milliseconds 500
        }
        $sha
    }

    # `kubectl get pods -w` writes one line per change of any pod; replaying them gives every state the cluster went through.
    function Start-PodTimeline {
        $file = Join-Path $TestDrive "timeline-$([guid]::NewGuid().ToString('n')).txt"
        # A template file keeps the quotes and escapes away from command-line quoting.
        '{.type}|{.object.metadata.name}|{.object.metadata.labels.paasta\.yelp\.com/git_sha}|{.object.status.conditions[?(@.type=="Ready")].status}|{.object.metadata.annotations.paasta\.yelp\.com/draining-since}|{.object.metadata.deletionTimestamp}{"\n"}' |
            Set-Content -NoNewline "$file.jsonpath"
        # The watch starts by listing the pods that exist; those first lines are the starting state, not changes.
        $existing = @(Get-Pods).Count
        $p = Start-Process -FilePath $Kubectl -PassThru -RedirectStandardOutput $file -RedirectStandardError "$file.err" -ArgumentList @(
            '-n', $Namespace, 'get', 'pods', '-l', 'paasta.yelp.com/instance=main', '--watch', '--output-watch-events', '-o', "jsonpath-file=$file.jsonpath")
        Start-Sleep -Seconds 1
        [pscustomobject]@{ Process = $p; File = $file; Existing = $existing }
    }
    # Every state the pods went through, as counts per version: serving (ready, not draining, not terminating) and present.
    function Stop-PodTimeline($Timeline, [string] $Old, [string] $New) {
        Start-Sleep -Seconds 1
        Stop-Process -Id $Timeline.Process.Id -Force -ErrorAction Ignore
        $Timeline.Process.WaitForExit()
        $pods = @{}
        $states = [System.Collections.Generic.List[object]]::new()
        $lines = @(Get-Content $Timeline.File | Where-Object { ($_ -split '\|').Count -ge 6 })
        for ($n = 0; $n -lt $lines.Count; $n++) {
            $f = $lines[$n] -split '\|'
            if ($f[0] -eq 'DELETED') { $pods.Remove($f[1]) }
            else { $pods[$f[1]] = [pscustomobject]@{ Sha = $f[2]; Serving = $f[3] -eq 'True' -and -not $f[4] -and -not $f[5] } }
            if ($n + 1 -lt $Timeline.Existing) { continue }
            $states.Add([pscustomobject]@{
                OldServing = @($pods.Values | Where-Object { $_.Sha -eq $Old -and $_.Serving }).Count
                NewServing = @($pods.Values | Where-Object { $_.Sha -eq $New -and $_.Serving }).Count
                OldPresent = @($pods.Values | Where-Object Sha -eq $Old).Count
                NewPresent = @($pods.Values | Where-Object Sha -eq $New).Count
            })
        }
        if ($states.Count -lt 2) { throw "the pod watch recorded nothing: $(Get-Content -Raw "$($Timeline.File).err")" }
        $states
    }
}

AfterAll {
    if ($Up) { Remove-TestNamespace $Namespace }
}

Describe 'Bounce methods on the local cluster' -Tag Integration {
    It 'crossover keeps at least ceil(instances x bounce_margin_factor) copies serving, and only Paasta removes old pods' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        Set-Instance "  bounce_method: crossover`n  bounce_margin_factor: 0.75"
        $old = Initialize-Running
        $new = Get-NextSha
        Deploy $new
        $timeline = Start-PodTimeline
        $results = Sync -Wait -TimeoutSec 240 -Verbose 4>&1
        $states = @(Stop-PodTimeline $timeline $old $new)
        ($results | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }).Converging | Should -BeFalse
        foreach ($state in $states) { $state.OldServing + $state.NewServing | Should -BeGreaterOrEqual 3 }
        # Old copies went one by one as new ones became ready, not all at once: some state had both serving.
        @($states | Where-Object { $_.OldServing -gt 0 -and $_.NewServing -gt 0 }).Count | Should -BeGreaterThan 0
        @(Get-ServingPods $new).Count | Should -Be 4
        @(Get-Pods | Where-Object { $_.metadata.labels.'paasta.yelp.com/git_sha' -eq $old }).Count | Should -Be 0
        # The new Deployment's ReplicaSet never owned the old pods, and the bounce marker is gone.
        $deployment = Invoke-Kubectl -n $Namespace get deployment "$Service-main" -o json | ConvertFrom-Json
        $deployment.metadata.annotations.'paasta.yelp.com/bouncing' | Should -BeNullOrEmpty
        @((Invoke-Kubectl -n $Namespace get replicasets -o json | ConvertFrom-Json).items).Count | Should -Be 1
        ($results | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -match 'drained with noop and deleted' }) | Should -Not -BeNullOrEmpty
    }

    It 'upthendown drains no old copy before all new copies are ready' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        Set-Instance '  bounce_method: upthendown'
        $old = Initialize-Running
        $new = Get-NextSha
        Deploy $new
        $timeline = Start-PodTimeline
        $null = Sync -Wait -TimeoutSec 240
        $states = @(Stop-PodTimeline $timeline $old $new)
        $firstLoss = $states | Where-Object OldServing -lt 4 | Select-Object -First 1
        $firstLoss | Should -Not -BeNullOrEmpty
        $firstLoss.NewServing | Should -Be 4
        # 2x capacity: a state with all 8 copies present.
        @($states | Where-Object { $_.OldPresent -eq 4 -and $_.NewServing -eq 4 }).Count | Should -BeGreaterThan 0
        @(Get-ServingPods $new).Count | Should -Be 4
    }

    It 'downthenup starts no new copy before every old one is gone' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        Set-Instance '  bounce_method: downthenup'
        $old = Initialize-Running
        $new = Get-NextSha
        Deploy $new
        $timeline = Start-PodTimeline
        $null = Sync -Wait -TimeoutSec 240
        $states = @(Stop-PodTimeline $timeline $old $new)
        foreach ($state in $states) {
            if ($state.NewPresent -gt 0) { $state.OldPresent | Should -Be 0 }
        }
        @($states | Where-Object { $_.OldPresent -eq 0 -and $_.NewPresent -eq 0 }).Count | Should -BeGreaterThan 0
        @(Get-ServingPods $new).Count | Should -Be 4
    }

    It 'brutal takes every old copy away at once, without waiting for new ones' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        Set-Instance '  bounce_method: brutal'
        $old = Initialize-Running
        $new = Get-NextSha
        Deploy $new
        $timeline = Start-PodTimeline
        $first = Sync
        $states = @(Stop-PodTimeline $timeline $old $new)
        $first.Action | Should -Be 'Updated'
        $first.Bounce.Killed | Should -Be 4
        # After the single pass: no old copy serves, and the new ones are not all ready yet.
        $states[-1].OldServing | Should -Be 0
        $states[-1].NewServing | Should -BeLessThan 4
        $null = Sync -Wait -TimeoutSec 240
        @(Get-ServingPods $new).Count | Should -Be 4
    }

    It 'crossover to a version that never becomes ready leaves the old one serving' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        Set-Instance '  bounce_method: crossover'
        $old = Initialize-Running
        Deploy $BrokenSha
        $results = Sync-PaastaInstance -SoaDir $Soa -Service $Service -Cluster local -Instance main -Confirm:$false -Wait -TimeoutSec 25 -ErrorVariable err -ErrorAction SilentlyContinue
        $err.FullyQualifiedErrorId | Should -Contain 'SyncWaitTimedOut,Paasta.Commands.SyncPaastaInstance'
        $results.BounceInProgress | Should -BeTrue
        $results.Bounce.NewReady | Should -Be 0
        @(Get-ServingPods $old).Count | Should -Be 4
        (Get-Pods | Where-Object { $_.metadata.labels.'paasta.yelp.com/git_sha' -eq $old -and $_.metadata.annotations.'paasta.yelp.com/draining-since' }) | Should -BeNullOrEmpty
        (Get-PaastaInstanceStatus -SoaDir $Soa -Service $Service -Cluster local -Instance main).BounceInProgress | Should -BeTrue
        # Fixing forward finishes the bounce from where it stands.
        $good = Get-NextSha
        Deploy $good
        $null = Sync -Wait -TimeoutSec 240
        @(Get-ServingPods $good).Count | Should -Be 4
        @(Get-Pods | Where-Object { $_.metadata.labels.'paasta.yelp.com/git_sha' -ne $good }).Count | Should -Be 0
    }

    It 'resumes a bounce whose Sync process was killed midway' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        Set-Instance "  bounce_method: crossover`n  bounce_margin_factor: 1.0"
        $old = Initialize-Running
        $new = Get-NextSha
        Deploy $new
        $pwsh = Get-PwshCommand
        $script = "Import-Module '$($env:PAASTA_TEST_MODULE)'; Sync-PaastaInstance -SoaDir '$Soa' -Service $Service -Cluster local -Instance main -Confirm:`$false -Wait -TimeoutSec 300"
        $child = Start-Process -FilePath $pwsh[0] -ArgumentList (@($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-Command', $script)) -PassThru -RedirectStandardOutput (Join-Path $TestDrive 'child.out')
        # Kill it once the bounce is under way: the old Deployment is orphaned and the new one has pods, not yet ready.
        $deadline = [DateTime]::UtcNow.AddSeconds(120)
        while ($true) {
            if (@(Get-Pods | Where-Object { $_.metadata.labels.'paasta.yelp.com/git_sha' -eq $new }).Count -gt 0) { break }
            if ([DateTime]::UtcNow -gt $deadline) { throw 'the bounce did not start' }
            Start-Sleep -Milliseconds 200
        }
        Stop-Process -Id $child.Id -Force
        $child.WaitForExit()
        @(Get-Pods | Where-Object { $_.metadata.labels.'paasta.yelp.com/git_sha' -eq $old -and -not $_.metadata.deletionTimestamp }).Count | Should -BeGreaterThan 0 -Because 'the child was killed before the bounce finished'
        $r = Sync -Wait -TimeoutSec 240
        $r.BounceInProgress | Should -BeFalse
        @(Get-ServingPods $new).Count | Should -Be 4
        @(Get-Pods | Where-Object { $_.metadata.labels.'paasta.yelp.com/git_sha' -eq $old }).Count | Should -Be 0
        (Sync).Action | Should -Be 'Unchanged'
    }
}

Describe 'Bounces drain through hacheck (a stand-in implementing hacheck''s spool API, reached at every pod IP by a DNAT rule)' -Tag Integration {
    BeforeAll {
        # hacheck cannot run here. The stand-in keeps, per pod IP (the request's Host), registration and port, the
        # state hacheck keeps: POST status=down|up with expiration and reason; GET answers 200 when up, else 503
        # with "Service <reg> in down state since <t> until <t>: <reason>". It records every request.
        if (-not ('BounceTests.HacheckStandIn' -as [type])) {
            Add-Type -TypeDefinition @'
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Net;
using System.Text;
using System.Threading.Tasks;
namespace BounceTests {
public sealed class SpoolRequest {
    public DateTime At; public string Method; public string PodIp; public string Path; public string UserAgent;
    public Dictionary<string, string> Form = new Dictionary<string, string>();
}
public sealed class HacheckStandIn : IDisposable {
    private readonly HttpListener _listener = new HttpListener();
    private readonly Dictionary<string, (double Since, double Until, string Reason)> _down = new Dictionary<string, (double, double, string)>();
    public readonly List<SpoolRequest> Requests = new List<SpoolRequest>();
    public HacheckStandIn(int port) {
        _listener.Prefixes.Add("http://+:" + port + "/");
        _listener.Start();
        Task.Run(Loop);
    }
    private static double Now() => (DateTime.UtcNow - DateTime.UnixEpoch).TotalSeconds;
    private async Task Loop() {
        while (_listener.IsListening) {
            HttpListenerContext c;
            try { c = await _listener.GetContextAsync(); } catch { return; }
            try { Handle(c); } catch (Exception e) { Reply(c, 500, e.Message); }
        }
    }
    private void Handle(HttpListenerContext c) {
        var host = c.Request.Headers["Host"] ?? "";
        var r = new SpoolRequest { At = DateTime.UtcNow, Method = c.Request.HttpMethod, PodIp = host.Split(':')[0], Path = c.Request.Url.AbsolutePath, UserAgent = c.Request.UserAgent };
        if (r.Method == "POST") {
            using var reader = new System.IO.StreamReader(c.Request.InputStream, Encoding.UTF8);
            foreach (var pair in reader.ReadToEnd().Split('&', StringSplitOptions.RemoveEmptyEntries)) {
                var i = pair.IndexOf('=');
                string Dec(string s) => Uri.UnescapeDataString(s.Replace('+', ' '));
                r.Form[Dec(i < 0 ? pair : pair.Substring(0, i))] = i < 0 ? "" : Dec(pair.Substring(i + 1));
            }
        }
        lock (Requests) Requests.Add(r);
        var parts = r.Path.Split('/', StringSplitOptions.RemoveEmptyEntries); // spool, registration, port, status
        if (parts.Length != 4 || parts[0] != "spool" || parts[3] != "status") { Reply(c, 404, "not found"); return; }
        var key = r.PodIp + "/" + parts[1] + "/" + parts[2];
        lock (_down) {
            if (r.Method == "POST") {
                if (r.Form.TryGetValue("status", out var status) && status == "down")
                    _down[key] = (_down.TryGetValue(key, out var was) ? was.Since : Now(), double.Parse(r.Form["expiration"], CultureInfo.InvariantCulture), r.Form.TryGetValue("reason", out var why) ? why : "");
                else _down.Remove(key);
                Reply(c, 200, "OK");
                return;
            }
            if (_down.TryGetValue(key, out var d) && d.Until > Now())
                Reply(c, 503, string.Format(CultureInfo.InvariantCulture, "Service {0} in down state since {1:0.000} until {2:0.000}: {3}", parts[1], d.Since, d.Until, d.Reason));
            else { _down.Remove(key); Reply(c, 200, "Service " + parts[1] + " in up state"); }
        }
    }
    private static void Reply(HttpListenerContext c, int status, string body) {
        var bytes = Encoding.UTF8.GetBytes(body);
        c.Response.StatusCode = status;
        c.Response.OutputStream.Write(bytes, 0, bytes.Length);
        c.Response.Close();
    }
    /// <summary>Forget every state and request: hacheck runs as a sidecar in each pod, so its state dies with the pod; this one stand-in serves every pod IP, and the docker bridge reuses the IPs of deleted pods.</summary>
    public void Reset() { lock (_down) _down.Clear(); lock (Requests) Requests.Clear(); }
    public void Dispose() { _listener.Stop(); _listener.Close(); }
}
}
'@
        }
        $script:HacheckPort = 16666
        $script:Bridge = '172.17.0.1'
        $script:RuleArgs = @('-p', 'tcp', '-d', '172.17.0.0/16', '--dport', "$HacheckPort", '-m', 'comment', '--comment', 'paasta-bounce-test-hacheck', '-j', 'DNAT', '--to-destination', "${Bridge}:$HacheckPort")
        if (-not $Up) { return }
        $out = & iptables -t nat -A OUTPUT @RuleArgs 2>&1
        if ($LASTEXITCODE) { throw "iptables could not add the DNAT rule for the hacheck stand-in: $out" }
        $script:Hacheck = [BounceTests.HacheckStandIn]::new($HacheckPort)
        $script:Delay = 6
        $script:DrainSettings = "  drain_method: hacheck`n  drain_method_params:`n    hacheck_port: $HacheckPort`n    delay: $Delay"
        function Get-PodRecords {
            (Invoke-Kubectl -n $Namespace get pods -l 'paasta.yelp.com/instance=main' -o json | ConvertFrom-Json).items | ForEach-Object {
                [pscustomobject]@{ Name = $_.metadata.name; Ip = $_.status.podIP; Sha = $_.metadata.labels.'paasta.yelp.com/git_sha' }
            }
        }
        # Pod changes as they happen (kubectl get pods --watch -o json), with the times the API server gives them.
        function Start-DeletionWatch {
            Start-ThreadJob -ArgumentList $Kubectl, $Namespace -ScriptBlock {
                param($Kubectl, $Namespace)
                & $Kubectl -n $Namespace get pods -l 'paasta.yelp.com/instance=main' --watch -o json 2>$null
            }
        }
        # The watched pod objects, one per change.
        function Stop-DeletionWatch($Job) {
            $null = Stop-Job $Job; $watched = (Receive-Job $Job) -join "`n"; Remove-Job $Job -Force
            @(($watched -replace '}\s*{', "}`u{1e}{") -split "`u{1e}" | Where-Object { $_.Trim() } | ForEach-Object { $_ | ConvertFrom-Json })
        }
        # When the pod was deleted: its deletionTimestamp less its grace period (whole seconds).
        function Get-DeletedAt($Pod) { ([DateTime]$Pod.metadata.deletionTimestamp).ToUniversalTime().AddSeconds(-[int]$Pod.spec.terminationGracePeriodSeconds) }
    }
    AfterAll {
        if ($Hacheck) { $Hacheck.Dispose() }
        if ($Up) { $null = & iptables -t nat -D OUTPUT @RuleArgs 2>&1 }
    }

    It 'sends down for exactly the old pods, and deletes none of them before delay seconds have passed' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        Set-Instance "  bounce_method: crossover`n  bounce_margin_factor: 1.0`n$DrainSettings"
        $old = Initialize-Running
        $oldPods = @(Get-PodRecords | Where-Object Sha -eq $old)
        $oldPods.Count | Should -Be 4
        $Hacheck.Reset()
        $new = Get-NextSha
        Deploy $new
        $watch = Start-DeletionWatch
        $null = Sync -Wait -TimeoutSec 240
        $downs = @($Hacheck.Requests | Where-Object { $_.Method -eq 'POST' -and $_.Form['status'] -eq 'down' })
        @($downs.PodIp | Sort-Object -Unique) | Should -Be @($oldPods.Ip | Sort-Object)
        foreach ($d in $downs) {
            $d.Path | Should -Be "/spool/$Service.main/8888/status"
            $d.Form['reason'] | Should -Be 'Drained by Paasta'
            # expiration defaults to 10 x delay from now (epoch seconds).
            $expected = ($d.At - [DateTime]::UnixEpoch).TotalSeconds + 10 * $Delay
            [double]$d.Form['expiration'] | Should -BeGreaterThan ($expected - 5)
            [double]$d.Form['expiration'] | Should -BeLessThan ($expected + 5)
        }
        @($Hacheck.Requests | Where-Object { $_.Form['status'] -eq 'up' }) | Should -BeNullOrEmpty
        # Every old pod was deleted, and not before delay seconds after its first down.
        $events = Stop-DeletionWatch $watch
        foreach ($pod in $oldPods) {
            $firstDown = ($downs | Where-Object PodIp -eq $pod.Ip | Sort-Object At | Select-Object -First 1).At
            $gone = $events | Where-Object { $_.metadata.name -eq $pod.Name -and $_.metadata.deletionTimestamp } | Select-Object -First 1
            $gone | Should -Not -BeNullOrEmpty -Because "$($pod.Name) must have been deleted"
            (Get-DeletedAt $gone) | Should -BeGreaterOrEqual $firstDown.AddSeconds($Delay - 1) -Because "$($pod.Name) was marked down at $($firstDown.ToString('O'))"
        }
        @(Get-ServingPods $new).Count | Should -Be 4
    }

    It 'drains a copy again when hacheck has forgotten its down (a restarted sidecar), and waits a full delay from then' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        Set-Instance "  bounce_method: brutal`n$DrainSettings"
        $old = Initialize-Running
        $oldPods = @(Get-PodRecords | Where-Object Sha -eq $old)
        $oldPods.Count | Should -Be 4
        $Hacheck.Reset()
        Deploy (Get-NextSha)
        # brutal: the first pass marks every old copy down at once; none is safe to kill before delay.
        $null = Sync
        @($Hacheck.Requests | Where-Object { $_.Form['status'] -eq 'down' } | ForEach-Object PodIp | Sort-Object -Unique) | Should -Be @($oldPods.Ip | Sort-Object)
        $Hacheck.Reset()   # every sidecar restarts: hacheck says up again for all of them
        $watch = Start-DeletionWatch
        $null = Sync -Wait -TimeoutSec 240
        $events = Stop-DeletionWatch $watch
        $redrains = @($Hacheck.Requests | Where-Object { $_.Method -eq 'POST' -and $_.Form['status'] -eq 'down' })
        foreach ($pod in $oldPods) {
            $again = $redrains | Where-Object PodIp -eq $pod.Ip | Sort-Object At | Select-Object -First 1
            $again | Should -Not -BeNullOrEmpty -Because "$($pod.Name) was no longer down in hacheck, so it had to be drained again"
            $gone = $events | Where-Object { $_.metadata.name -eq $pod.Name -and $_.metadata.deletionTimestamp } | Select-Object -First 1
            $gone | Should -Not -BeNullOrEmpty -Because "$($pod.Name) must have been deleted"
            (Get-DeletedAt $gone) | Should -BeGreaterOrEqual $again.At.AddSeconds($Delay - 1) -Because "$($pod.Name) was marked down again at $($again.At.ToString('O'))"
        }
    }

    It 'resumes a bounce killed while its old copies were draining: no second down, no delete before delay' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        Set-Instance "  bounce_method: brutal`n$DrainSettings"
        $old = Initialize-Running
        $oldPods = @(Get-PodRecords | Where-Object Sha -eq $old)
        $Hacheck.Reset()
        Deploy (Get-NextSha)
        $pwsh = Get-PwshCommand
        $script = "Import-Module '$($env:PAASTA_TEST_MODULE)'; Sync-PaastaInstance -SoaDir '$Soa' -Service $Service -Cluster local -Instance main -Confirm:`$false -Wait -TimeoutSec 300"
        $child = Start-Process -FilePath $pwsh[0] -ArgumentList (@($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-Command', $script)) -PassThru -RedirectStandardOutput (Join-Path $TestDrive 'child-drain.out')
        # Kill it once every old copy is drained and marked (the mark follows the down; a copy killed between the
        # two is simply drained again, which the redrain test covers).
        $deadline = [DateTime]::UtcNow.AddSeconds(120)
        while (@(Get-Pods | Where-Object { $_.metadata.labels.'paasta.yelp.com/git_sha' -eq $old -and $_.metadata.annotations.'paasta.yelp.com/draining-since' }).Count -lt $oldPods.Count) {
            if ([DateTime]::UtcNow -gt $deadline -or $child.HasExited) { throw 'the child Sync did not drain and mark the old copies' }
            Start-Sleep -Milliseconds 100
        }
        Stop-Process -Id $child.Id -Force
        $child.WaitForExit()
        $draining = @(Get-Pods | Where-Object { $_.metadata.labels.'paasta.yelp.com/git_sha' -eq $old -and -not $_.metadata.deletionTimestamp })
        $draining.Count | Should -Be $oldPods.Count -Because "the child was killed before hacheck's $Delay s delay let it delete anything"
        @($Hacheck.Requests | Where-Object { $_.Form['status'] -eq 'down' } | ForEach-Object PodIp | Sort-Object -Unique) | Should -Be @($oldPods.Ip | Sort-Object)

        $watch = Start-DeletionWatch
        $null = Sync -Wait -TimeoutSec 240
        $events = Stop-DeletionWatch $watch
        $downs = @($Hacheck.Requests | Where-Object { $_.Method -eq 'POST' -and $_.Form['status'] -eq 'down' })
        foreach ($pod in $oldPods) {
            $mine = @($downs | Where-Object PodIp -eq $pod.Ip)
            $mine.Count | Should -Be 1 -Because "hacheck still had $($pod.Name) down, so the resumed pass only checks it"
            $gone = $events | Where-Object { $_.metadata.name -eq $pod.Name -and $_.metadata.deletionTimestamp } | Select-Object -First 1
            $gone | Should -Not -BeNullOrEmpty
            (Get-DeletedAt $gone) | Should -BeGreaterOrEqual $mine[0].At.AddSeconds($Delay - 1)
        }
        @($Hacheck.Requests | Where-Object { $_.Form['status'] -eq 'up' }) | Should -BeNullOrEmpty
    }

    It 'drains every copy before a stop scales the instance to zero' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        $running = @(Get-PodRecords | Where-Object { $_.Ip })
        $running.Count | Should -Be 4
        $Hacheck.Reset()
        Get-PaastaInstance -SoaDir $Soa -Service $Service -Cluster local -Instance main | Stop-PaastaInstance -Repository $Bare -Confirm:$false | Out-Null
        $null = New-PaastaDeployments -SoaDir $Soa -Service $Service -Repository $Bare -Confirm:$false
        $first = Sync
        $first.NewReplicas | Should -Be 0
        # The first pass marks every copy down but deletes none: hacheck's delay has not passed.
        $marked = [DateTime]::UtcNow
        $downIps = @($Hacheck.Requests | Where-Object { $_.Method -eq 'POST' -and $_.Form['status'] -eq 'down' } | ForEach-Object PodIp | Sort-Object -Unique)
        $downIps | Should -Be @($running.Ip | Sort-Object)
        @(Get-Pods | Where-Object { -not $_.metadata.deletionTimestamp }).Count | Should -Be 4
        $null = Sync -Wait -TimeoutSec 120
        ([DateTime]::UtcNow - $marked).TotalSeconds | Should -BeGreaterOrEqual ($Delay - 1)
        @(Get-Pods | Where-Object { -not $_.metadata.deletionTimestamp }).Count | Should -Be 0
        (Invoke-Kubectl -n $Namespace get deployment "$Service-main" -o jsonpath='{.spec.replicas}') | Should -Be '0'
        # Bring it back for anything that runs after.
        Get-PaastaInstance -SoaDir $Soa -Service $Service -Cluster local -Instance main | Start-PaastaInstance -Repository $Bare -Confirm:$false | Out-Null
        $null = New-PaastaDeployments -SoaDir $Soa -Service $Service -Repository $Bare -Confirm:$false
    }
}
