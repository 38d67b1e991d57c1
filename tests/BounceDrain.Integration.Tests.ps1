#Requires -Version 7.4
# Bounces that drain through hacheck on the real local cluster (a stand-in for hacheck's spool API): which pods are
# marked down, and that none is deleted before the drain's delay (docs/BEHAVIOUR.md §6.2). Its own namespace
# (paastasvc-bouncehello…, Bounce.TestSetup.ps1), apart from Bounce.Integration.Tests.ps1 so both can run at once.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Bounce.TestSetup.ps1')
}

AfterAll {
    if ($Up) { Remove-TestNamespace $Namespace }
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
            (Invoke-Kubectl -n $Namespace get pods -l "paasta.yelp.com/instance=$Instance" -o json | ConvertFrom-Json).items | ForEach-Object {
                [pscustomobject]@{ Name = $_.metadata.name; Ip = $_.status.podIP; Sha = $_.metadata.labels.'paasta.yelp.com/git_sha' }
            }
        }
        # Pod changes as they happen (kubectl get pods --watch -o json), with the times the API server gives them.
        function Start-DeletionWatch {
            Start-ThreadJob -ArgumentList $Kubectl, $Namespace, $Instance -ScriptBlock {
                param($Kubectl, $Namespace, $Instance)
                & $Kubectl -n $Namespace get pods -l "paasta.yelp.com/instance=$Instance" --watch -o json 2>$null
            }
        }
        # The watched pod objects, one per change.
        function Stop-DeletionWatch($Job) {
            $null = Stop-Job $Job; $watched = (Receive-Job $Job) -join "`n"; Remove-Job $Job -Force
            $objects = @(($watched -replace '}\s*{', "}`u{1e}{") -split "`u{1e}" | Where-Object { $_.Trim() })
            @(for ($i = 0; $i -lt $objects.Count; $i++) {
                    # Stopping the watch can cut its last object short; only that one may be incomplete.
                    try { $objects[$i] | ConvertFrom-Json } catch { if ($i -lt $objects.Count - 1) { throw } }
                })
        }
        # Sync passes until each of the pods named is deleted (has a deletionTimestamp, or is gone). These tests check
        # when each old copy was deleted; how long the kubelet then takes to remove it (10-60 s here) is not theirs.
        function Sync-UntilDeleted([string[]] $Names, [int] $TimeoutSec = 240) {
            $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSec)
            while ($true) {
                $null = Sync
                if (-not @(Get-Pods | Where-Object { $_.metadata.name -in $Names -and -not $_.metadata.deletionTimestamp })) { break }
                if ([DateTime]::UtcNow -gt $deadline) { throw "Sync did not delete $($Names -join ', ') within $TimeoutSec s" }
                Start-Sleep -Seconds 1
            }
            Start-Sleep -Seconds 1   # the deletion watch sees the last change
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
        $oldPods.Count | Should -Be $Copies
        $Hacheck.Reset()
        $new = Get-NextSha
        Deploy $new
        $watch = Start-DeletionWatch
        Sync-UntilDeleted $oldPods.Name
        $downs = @($Hacheck.Requests | Where-Object { $_.Method -eq 'POST' -and $_.Form['status'] -eq 'down' })
        @($downs.PodIp | Sort-Object -Unique) | Should -Be @($oldPods.Ip | Sort-Object)
        foreach ($d in $downs) {
            $d.Path | Should -Be "/spool/$Service.$Instance/8888/status"
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
        @(Get-ServingPods $new).Count | Should -Be $Copies
    }

    It 'drains a copy again when hacheck has forgotten its down (a restarted sidecar), and waits a full delay from then' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        Set-Instance "  bounce_method: brutal`n$DrainSettings"
        $old = Initialize-Running
        $oldPods = @(Get-PodRecords | Where-Object Sha -eq $old)
        $oldPods.Count | Should -Be $Copies
        $Hacheck.Reset()
        Deploy (Get-NextSha)
        # brutal: the first pass marks every old copy down at once; none is safe to kill before delay.
        $null = Sync
        @($Hacheck.Requests | Where-Object { $_.Form['status'] -eq 'down' } | ForEach-Object PodIp | Sort-Object -Unique) | Should -Be @($oldPods.Ip | Sort-Object)
        $Hacheck.Reset()   # every sidecar restarts: hacheck says up again for all of them
        $watch = Start-DeletionWatch
        Sync-UntilDeleted $oldPods.Name
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
        $script = "Import-Module '$($env:PAASTA_TEST_MODULE)'; Sync-PaastaInstance -SoaDir '$Soa' -Service $Service -Cluster local -Instance $Instance -Confirm:`$false -Wait -TimeoutSec 300"
        $child = Start-Process -FilePath $pwsh[0] -ArgumentList (@($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-Command', $script)) -PassThru -RedirectStandardOutput (Join-Path $TestDrive 'child-drain.out')
        # Kill it once every old copy is drained and marked (the mark follows the down; a copy killed between the
        # two is simply drained again, which the redrain test covers).
        $deadline = [DateTime]::UtcNow.AddSeconds(120)
        while (@(Get-Pods | Where-Object { $_.metadata.labels.'paasta.yelp.com/git_sha' -eq $old -and $_.metadata.annotations.'paasta.yelp.com/draining-since' }).Count -lt $oldPods.Count) {
            if ([DateTime]::UtcNow -gt $deadline -or $child.HasExited) { throw 'the child Sync did not drain and mark the old copies' }
            Start-Sleep -Milliseconds 500
        }
        Stop-Process -Id $child.Id -Force
        $child.WaitForExit()
        $draining = @(Get-Pods | Where-Object { $_.metadata.labels.'paasta.yelp.com/git_sha' -eq $old -and -not $_.metadata.deletionTimestamp })
        $draining.Count | Should -Be $oldPods.Count -Because "the child was killed before hacheck's $Delay s delay let it delete anything"
        @($Hacheck.Requests | Where-Object { $_.Form['status'] -eq 'down' } | ForEach-Object PodIp | Sort-Object -Unique) | Should -Be @($oldPods.Ip | Sort-Object)

        $watch = Start-DeletionWatch
        Sync-UntilDeleted $oldPods.Name
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
        Set-Instance "  bounce_method: brutal`n$DrainSettings"
        $null = Initialize-Running
        $running = @(Get-PodRecords | Where-Object { $_.Ip })
        $running.Count | Should -Be $Copies
        $Hacheck.Reset()
        Get-PaastaInstance -SoaDir $Soa -Service $Service -Cluster local -Instance $Instance | Stop-PaastaInstance -Repository $Bare -Confirm:$false | Out-Null
        $null = New-PaastaDeployments -SoaDir $Soa -Service $Service -Repository $Bare -Confirm:$false
        $first = Sync
        $first.NewReplicas | Should -Be 0
        # The first pass marks every copy down but deletes none: hacheck's delay has not passed.
        $marked = [DateTime]::UtcNow
        $downIps = @($Hacheck.Requests | Where-Object { $_.Method -eq 'POST' -and $_.Form['status'] -eq 'down' } | ForEach-Object PodIp | Sort-Object -Unique)
        $downIps | Should -Be @($running.Ip | Sort-Object)
        @(Get-Pods | Where-Object { -not $_.metadata.deletionTimestamp }).Count | Should -Be $Copies
        Sync-UntilDeleted $running.Name -TimeoutSec 120
        ([DateTime]::UtcNow - $marked).TotalSeconds | Should -BeGreaterOrEqual ($Delay - 1)
        @(Get-Pods | Where-Object { -not $_.metadata.deletionTimestamp }).Count | Should -Be 0
        (Invoke-Kubectl -n $Namespace get deployment "$Service-$Instance" -o jsonpath='{.spec.replicas}') | Should -Be '0'
    }
}
