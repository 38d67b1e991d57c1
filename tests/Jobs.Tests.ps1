#Requires -Version 7.4
# Tron jobs: the namespace config pushed to a stand-in Tron master (a Tron master cannot run here), and
# the same jobs as Kubernetes CronJobs on the real local cluster (tools/platform), where kubectl is the
# oracle. Cluster objects carry the label paasta.yelp.com/service=jobhello in namespace tron.
BeforeAll {
    Import-Module $env:PAASTA_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'Paasta.TestUtils.psm1') -Force
    $script:Repo = if ($env:PAASTA_REPO_ROOT) { $env:PAASTA_REPO_ROOT } else { (Resolve-Path (Join-Path $PSScriptRoot '..')).Path }
    $script:Kubectl = Get-TestKubectl
    $script:Up = Test-KubernetesUp
    function Wait-Until([scriptblock] $Condition, [int] $Seconds, [string] $What) {
        $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
        while (-not (& $Condition)) {
            if ([DateTime]::UtcNow -gt $deadline) { throw "Timed out after $Seconds s waiting for $What" }
            Start-Sleep -Seconds 1
        }
    }

    $script:Service = 'jobhello'
    $script:Namespace = 'tron'
    $script:Selector = "paasta.yelp.com/service=$Service"

    # soa-configs for jobhello: three jobs. two_steps lists 'second' before 'first' so that only
    # requires can put them in the order they run.
    $script:Soa = Join-Path $TestDrive 'soa'
    $script:Dir = New-Item -ItemType Directory (Join-Path $Soa $Service)
    @'
description: Tron jobs of Paasta's integration tests.
docker_registry: 127.0.0.1:5000
'@ | Set-Content (Join-Path $Dir 'service.yaml')
    @'
pipeline:
- step: local.everything
'@ | Set-Content (Join-Path $Dir 'deploy.yaml')
    "team: jobs`n" | Set-Content (Join-Path $Dir 'monitoring.yaml')
    $script:TronFile = Join-Path $Dir 'tron-local.yaml'
    $script:TronText = @'
every_minute:
  schedule: "cron * * * * *"
  deploy_group: local.everything
  actions:
    tick:
      command: "echo tick {shortdate} $PAASTA_SERVICE"
      cpus: 0.05
      mem: 64
      disk: 64
two_steps:
  schedule: "daily 03:00:00"
  deploy_group: local.everything
  actions:
    second:
      requires: [first]
      command: "echo second-start $(date +%s)"
      cpus: 0.05
      mem: 64
      disk: 64
    first:
      command: "echo first-start $(date +%s); sleep 2; echo first-end $(date +%s)"
      cpus: 0.05
      mem: 64
      disk: 64
failing:
  schedule: "interval 1d"
  deploy_group: local.everything
  actions:
    prepare:
      command: "echo preparing"
      cpus: 0.05
      mem: 64
      disk: 64
    explode:
      requires: [prepare]
      command: "echo about to fail; exit 3"
      cpus: 0.05
      mem: 64
      disk: 64
'@
    $TronText | Set-Content $TronFile
    New-Item -ItemType Directory (Join-Path $Soa 'tron/local') | Out-Null
    @'
k8s_options:
  enabled: true
  default_volumes: []
time_zone: UTC
'@ | Set-Content (Join-Path $Soa 'tron/local/MASTER.yaml')

    function Sync { Sync-PaastaJob -SoaDir $Soa -Service $Service -Cluster local -Confirm:$false @args }
    function Get-LiveCronJob([string] $Job) {
        $items = (Invoke-Kubectl -n $Namespace get cronjobs -l "$Selector,paasta.yelp.com/job=$Job" -o json | ConvertFrom-Json).items
        @($items)
    }
    # The CronJob API the server serves, asked independently of Paasta: batch/v1 only when it lists cronjobs.
    function Get-ServedCronJobApi {
        $v1 = Invoke-Kubectl get --raw /apis/batch/v1 | ConvertFrom-Json
        if ($v1.resources.name -contains 'cronjobs') { 'batch/v1' } else { 'batch/v1beta1' }
    }

    if (-not $Up) { return }

    # An image for deploy group local.everything: a commit of a tiny repository, built FROM the platform's
    # busybox and pushed to the local registry, marked for deployment, and deployments.json from the tags.
    $script:Bare = Join-Path $TestDrive 'jobhello.git'
    $work = Join-Path $TestDrive 'work'
    Invoke-Git init -q --bare $Bare | Out-Null
    Invoke-Git clone -q $Bare $work | Out-Null
    "FROM paasta-local/busybox:latest`n" | Set-Content (Join-Path $work 'Dockerfile')
    Invoke-Git -C $work add -A | Out-Null
    Invoke-Git -C $work -c user.name=t -c user.email=t@example.com commit -q -m 'jobs' | Out-Null
    Invoke-Git -C $work push -q origin HEAD:refs/heads/main | Out-Null
    $script:Sha = (Invoke-Git -C $work rev-parse HEAD).Trim()
    $script:Image = "127.0.0.1:5000/services-${Service}:paasta-$Sha"
    $out = & docker build -q -t $Image $work 2>&1
    if ($LASTEXITCODE) { throw "docker build failed: $out" }
    $out = & docker push $Image 2>&1
    if ($LASTEXITCODE) { throw "docker push failed: $out" }
    $null = Publish-PaastaDeployment -SoaDir $Soa -Service $Service -DeployGroup local.everything -Commit $Sha -Repository $Bare -Confirm:$false
    $null = New-PaastaDeployments -SoaDir $Soa -Service $Service -Repository $Bare -Confirm:$false
    $null = & $Kubectl -n $Namespace delete cronjobs,jobs,pods -l $Selector --ignore-not-found --wait=true --timeout=60s 2>&1
}

AfterAll {
    if ($Up) { $null = & $Kubectl -n $Namespace delete cronjobs,jobs,pods -l $Selector --ignore-not-found --wait=false 2>&1 }
    # Only the tag this run made (the image is the platform's busybox, which stays).
    if ($Up -and (Get-Variable Image -Scope Script -ErrorAction Ignore)) { $null = & docker rmi $Image 2>&1 }
}

Describe 'Sync-PaastaTronNamespace against a stand-in Tron master (GET/POST /api/config as spec §10.3)' {
    BeforeAll {
        # The stand-in: GET /api/config?name=NS&no_header=1 answers {config, hash} (hash = SHA-1 of the stored
        # text, "" for an unknown namespace), POST /api/config takes name, config, hash, check as form fields
        # and refuses, with {error}, a hash that is not the stored one. It records every request it gets.
        if (-not ('JobsTests.TronStandIn' -as [type])) {
            Add-Type -TypeDefinition @'
using System;
using System.Collections.Generic;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;
namespace JobsTests {
public sealed class Received {
    public string Method; public string Path; public string Query; public string UserAgent;
    public Dictionary<string, string> Form = new Dictionary<string, string>();
}
public sealed class TronStandIn : IDisposable {
    private readonly HttpListener _listener = new HttpListener();
    public readonly Dictionary<string, string> Store = new Dictionary<string, string>();
    public readonly List<Received> Requests = new List<Received>();
    /// <summary>Someone else changes this namespace right after the next GET of it (a concurrent writer).</summary>
    public string ChangeAfterGet;
    public string Url { get; }
    public TronStandIn(int port) {
        Url = "http://127.0.0.1:" + port + "/";
        _listener.Prefixes.Add(Url);
        _listener.Start();
        Task.Run(Loop);
    }
    public static string Sha1(string text) => Convert.ToHexString(SHA1.HashData(Encoding.UTF8.GetBytes(text))).ToLowerInvariant();
    private async Task Loop() {
        while (_listener.IsListening) {
            HttpListenerContext c;
            try { c = await _listener.GetContextAsync(); } catch { return; }
            try { Handle(c); } catch (Exception e) { Reply(c, 500, JsonSerializer.Serialize(new { error = e.Message })); }
        }
    }
    private static Dictionary<string, string> Parse(string text) {
        var d = new Dictionary<string, string>();
        foreach (var pair in (text ?? "").TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)) {
            var i = pair.IndexOf('=');
            string Dec(string s) => Uri.UnescapeDataString(s.Replace('+', ' '));
            d[Dec(i < 0 ? pair : pair.Substring(0, i))] = i < 0 ? "" : Dec(pair.Substring(i + 1));
        }
        return d;
    }
    private void Handle(HttpListenerContext c) {
        var r = new Received { Method = c.Request.HttpMethod, Path = c.Request.Url.AbsolutePath, Query = c.Request.Url.Query, UserAgent = c.Request.UserAgent };
        if (r.Method == "POST") {
            using var reader = new System.IO.StreamReader(c.Request.InputStream, Encoding.UTF8);
            r.Form = Parse(reader.ReadToEnd());
        }
        lock (Requests) Requests.Add(r);
        if (r.Path != "/api/config") { Reply(c, 404, "{\"error\": \"not found\"}"); return; }
        if (r.Method == "GET") {
            var q = Parse(r.Query);
            var name = q.TryGetValue("name", out var n) ? n : "";
            var config = Store.TryGetValue(name, out var s) ? s : "";
            Reply(c, 200, JsonSerializer.Serialize(new { config, hash = Sha1(config) }));
            if (ChangeAfterGet == name) { Store[name] = config + "# edited by someone else\n"; ChangeAfterGet = null; }
            return;
        }
        var ns = r.Form["name"];
        var current = Store.TryGetValue(ns, out var cur) ? cur : "";
        if (r.Form["hash"] != Sha1(current)) { Reply(c, 200, "{\"error\": \"Configuration update will fail: config is stale, try again\"}"); return; }
        Store[ns] = r.Form["config"];
        Reply(c, 200, "{\"status\": \"Active\"}");
    }
    private static void Reply(HttpListenerContext c, int status, string body) {
        var bytes = Encoding.UTF8.GetBytes(body);
        c.Response.StatusCode = status;
        c.Response.ContentType = "application/json";
        c.Response.OutputStream.Write(bytes, 0, bytes.Length);
        c.Response.Close();
    }
    public void Dispose() { _listener.Stop(); _listener.Close(); }
}
}
'@
        }
        $probe = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $probe.Start(); $port = $probe.LocalEndpoint.Port; $probe.Stop()
        $script:Tron = [JobsTests.TronStandIn]::new($port)
        function SyncTron { Sync-PaastaTronNamespace -SoaDir $Soa -Service $Service -Cluster local -TronUrl $Tron.Url -Confirm:$false -WarningAction SilentlyContinue @args }
        function Get-Generated { ConvertTo-PaastaTronConfig -SoaDir $Soa -Service $Service -Cluster local -WarningAction SilentlyContinue }
    }
    AfterAll { if ($Tron) { $Tron.Dispose() } }
    BeforeEach { $Tron.Requests.Clear() }

    It 'posts the generated YAML with the hash it read (an empty namespace first), then holds exactly that text' {
        $generated = Get-Generated
        $generated.Namespace | Should -Be $Service
        $generated.Jobs | Should -Be @('every_minute', 'two_steps', 'failing')
        $r = SyncTron
        $r.Action | Should -Be 'Updated'
        $r.OldHash | Should -Be ([JobsTests.TronStandIn]::Sha1(''))
        $r.NewHash | Should -Be ([JobsTests.TronStandIn]::Sha1($generated.Yaml))
        $Tron.Requests.Count | Should -Be 2
        $get, $post = $Tron.Requests
        $get.Method | Should -Be 'GET'
        $get.Query | Should -Be "?name=$Service&no_header=1"
        $get.UserAgent | Should -Match 'Paasta'
        $post.Method | Should -Be 'POST'
        $post.Path | Should -Be '/api/config'
        @($post.Form.Keys | Sort-Object) | Should -Be @('check', 'config', 'hash', 'name')
        $post.Form['name'] | Should -Be $Service
        $post.Form['config'] | Should -BeExactly $generated.Yaml
        $post.Form['hash'] | Should -Be ([JobsTests.TronStandIn]::Sha1(''))
        $post.Form['check'] | Should -Be '0'
        $Tron.Store[$Service] | Should -BeExactly $generated.Yaml
    }

    It 'sends nothing when the master already holds the same config' {
        $r = SyncTron
        $r.Action | Should -Be 'Unchanged'
        $r.OldHash | Should -Be ([JobsTests.TronStandIn]::Sha1($Tron.Store[$Service]))
        @($Tron.Requests.Method) | Should -Be @('GET')
    }

    It 'shows the diff under -WhatIf and posts nothing' {
        $before = $Tron.Store[$Service]
        ($TronText -replace 'echo preparing', 'echo preparing again') | Set-Content $TronFile
        try {
            $r = SyncTron -WhatIf
            $r.Action | Should -Be 'Updated'
            $r.WhatIf | Should -BeTrue
            $r.Diff | Should -Match '(?m)^-\s+command: echo preparing$'
            $r.Diff | Should -Match '(?m)^\+\s+command: echo preparing again$'
            @($Tron.Requests.Method) | Should -Be @('GET')
            $Tron.Store[$Service] | Should -BeExactly $before
        }
        finally { $TronText | Set-Content $TronFile }
    }

    It 'reports TronUpdateRefused when the master changed after the read (the stale hash is refused)' {
        ($TronText -replace 'echo preparing', 'echo preparing again') | Set-Content $TronFile
        try {
            $Tron.ChangeAfterGet = $Service
            # -ErrorVariable on the cmdlet itself: through a helper function it would land in the function's scope.
            $r = Sync-PaastaTronNamespace -SoaDir $Soa -Service $Service -Cluster local -TronUrl $Tron.Url -Confirm:$false -WarningAction SilentlyContinue -ErrorVariable err -ErrorAction SilentlyContinue
            $r.Action | Should -Be 'Failed'
            $err[0].FullyQualifiedErrorId | Should -BeLike 'TronUpdateRefused,*'
            $err[0].CategoryInfo.Category | Should -Be 'InvalidOperation'
            $Tron.Store[$Service] | Should -Match 'edited by someone else'
            $post = $Tron.Requests | Where-Object Method -eq 'POST'
            $post.Form['hash'] | Should -Not -Be ([JobsTests.TronStandIn]::Sha1($Tron.Store[$Service]))
        }
        finally { $TronText | Set-Content $TronFile }
    }

    It 'updates MASTER first from tron/CLUSTER/MASTER.yaml with -IncludeMaster' {
        $r = @(SyncTron -IncludeMaster)
        $r[0].Namespace | Should -Be 'MASTER'
        $r[0].Action | Should -Be 'Updated'
        ($Tron.Requests | Where-Object Method -eq 'GET')[0].Query | Should -Be '?name=MASTER&no_header=1'
        $Tron.Store['MASTER'] | Should -BeExactly "k8s_options:`n  default_volumes: []`n  enabled: true`ntime_zone: UTC`n"
    }

    It 'needs a Tron URL: TronUrlNotConfigured without -TronUrl or configuration' {
        $saved = $env:PAASTA_TRON_URL; $savedConfig = $env:PAASTA_CONFIG
        try {
            $env:PAASTA_TRON_URL = $null
            $env:PAASTA_CONFIG = Join-Path $TestDrive 'no-settings.json'
            Sync-PaastaTronNamespace -SoaDir $Soa -Service $Service -Cluster local -WarningAction SilentlyContinue -ErrorVariable err -ErrorAction SilentlyContinue
            $err[0].FullyQualifiedErrorId | Should -BeLike 'TronUrlNotConfigured,*'
            $Tron.Requests.Count | Should -Be 0
        }
        finally { $env:PAASTA_TRON_URL = $saved; $env:PAASTA_CONFIG = $savedConfig }
    }
}

Describe 'Sync-PaastaJob, Get-PaastaJob and Start-PaastaJob on the local cluster' -Tag Integration {
    It 'changes nothing under -WhatIf and says what it would create' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        $r = Sync -WhatIf
        @($r.Job) | Should -Be @('every_minute', 'two_steps', 'failing')
        $r.Action | Sort-Object -Unique | Should -Be 'Created'
        $r.WhatIf | Sort-Object -Unique | Should -BeTrue
        (Get-LiveCronJob 'every_minute').Count | Should -Be 0
    }

    It 'creates one CronJob per job with the API the server serves, the translated schedule, labels and actions in requires order' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        $r = Sync
        $r.Action | Sort-Object -Unique | Should -Be 'Created'
        $api = Get-ServedCronJobApi
        $r.ApiVersion | Sort-Object -Unique | Should -Be $api
        ($r | Where-Object Job -eq 'failing').Schedule | Should -Be '0 0 * * *'

        $cj = Get-LiveCronJob 'two_steps'
        $cj.Count | Should -Be 1
        $cj = $cj[0]
        $cj.apiVersion | Should -Be $api
        $cj.spec.schedule | Should -Be '0 3 * * *'
        $cj.spec.suspend | Should -BeFalse
        $cj.spec.concurrencyPolicy | Should -Be 'Forbid'
        $cj.metadata.labels.'paasta.yelp.com/service' | Should -Be $Service
        $cj.metadata.labels.'paasta.yelp.com/job' | Should -Be 'two_steps'
        $cj.metadata.labels.'paasta.yelp.com/cluster' | Should -Be 'local'
        $cj.metadata.labels.'paasta.yelp.com/config_sha' | Should -Be ($r | Where-Object Job -eq 'two_steps').NewConfigSha
        $pod = $cj.spec.jobTemplate.spec.template.spec
        @($pod.initContainers.name) | Should -Be @('first')
        @($pod.containers.name) | Should -Be @('second')
        $pod.containers[0].image | Should -Be $Image
        $pod.restartPolicy | Should -Be 'Never'
        $cj.spec.jobTemplate.spec.backoffLimit | Should -Be 0
        ($pod.containers[0].env | Where-Object name -eq 'PAASTA_SERVICE').value | Should -Be $Service
        $pod.containers[0].resources.limits.memory | Should -Be '64Mi'
    }

    It 'writes nothing when run again' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        $stream = Sync -Verbose 4>&1
        ($stream | Where-Object { $_.PSObject.TypeNames -contains 'Paasta.JobSyncResult' }).Action | Sort-Object -Unique | Should -Be 'Unchanged'
        $line = $stream | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -match '^Kubernetes API: \d+ request\(s\), (\d+) write\(s\)' }
        $line | Should -Not -BeNullOrEmpty
        $null = @($line)[-1].Message -match 'write\(s\)' -and @($line)[-1].Message -match '(\d+) write\(s\)'
        [int]$Matches[1] | Should -Be 0
    }

    It 'runs the every-minute job on schedule: its pod completes, its output has the date filled in, and Get-PaastaJob reports it' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        $uid = (Get-LiveCronJob 'every_minute')[0].metadata.uid
        $script:scheduled = $null
        Wait-Until {
            $jobs = (Invoke-Kubectl -n $Namespace get jobs -l "$Selector,paasta.yelp.com/job=every_minute" -o json | ConvertFrom-Json).items
            $script:scheduled = $jobs | Where-Object { $_.metadata.ownerReferences.uid -eq $uid -and $_.status.succeeded -ge 1 } | Select-Object -First 1
            [bool]$script:scheduled
        } -Seconds 180 -What 'a scheduled run of every_minute to complete'
        $scheduled.metadata.annotations.'cronjob.kubernetes.io/instantiate' | Should -BeNullOrEmpty
        $pod = (Invoke-Kubectl -n $Namespace get pods -l "job-name=$($scheduled.metadata.name)" -o json | ConvertFrom-Json).items[0]
        $pod.status.phase | Should -Be 'Succeeded'
        $log = (Invoke-Kubectl -n $Namespace logs $pod.metadata.name -c tick) -join "`n"
        $today = [DateTime]::UtcNow
        $log | Should -Match "^tick ($($today.ToString('yyyy-MM-dd'))|$($today.AddDays(-1).ToString('yyyy-MM-dd'))) $Service$"

        $info = Get-PaastaJob -Service $Service -Cluster local -Job every_minute
        $info.Schedule | Should -Be '* * * * *'
        $info.TronSchedule | Should -Be 'cron * * * * *'
        $info.Suspended | Should -BeFalse
        $info.LastScheduleTime | Should -Not -BeNullOrEmpty
        $info.LastScheduleTime | Should -BeGreaterThan ([DateTime]::UtcNow.AddMinutes(-5))
        $info.LastRun | Should -Not -BeNullOrEmpty
        $info.LastRunOutcome | Should -BeIn @('Succeeded', 'Running', 'Pending')
        # The run kubectl saw finished; Get-PaastaJob's last run is it or a later one.
        $runs = (Invoke-Kubectl -n $Namespace get jobs -l "$Selector,paasta.yelp.com/job=every_minute" -o json | ConvertFrom-Json).items
        $runs.metadata.name | Should -Contain $info.LastRun
    }

    It 'runs two actions in requires order (Start-PaastaJob -Wait), proved by their output and container times' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        $run = Start-PaastaJob -Service $Service -Job two_steps -Cluster local -Wait -TimeoutSec 180 -Confirm:$false
        $run.Outcome | Should -Be 'Succeeded'
        @($run.Output.Keys) | Should -Be @('first', 'second')
        $null = $run.Output['first'] -match 'first-start (\d+)\s+first-end (\d+)'
        $firstStart = [long]$Matches[1]; $firstEnd = [long]$Matches[2]
        $null = $run.Output['second'] -match 'second-start (\d+)'
        $secondStart = [long]$Matches[1]
        $firstEnd - $firstStart | Should -BeGreaterOrEqual 2
        $secondStart | Should -BeGreaterOrEqual $firstEnd
        # kubectl's view: the second action's container started only after the first one terminated with 0.
        $pod = (Invoke-Kubectl -n $Namespace get pods -l "job-name=$($run.Name)" -o json | ConvertFrom-Json).items[0]
        $first = $pod.status.initContainerStatuses | Where-Object name -eq 'first'
        $second = $pod.status.containerStatuses | Where-Object name -eq 'second'
        $first.state.terminated.exitCode | Should -Be 0
        [DateTime]$second.state.terminated.startedAt | Should -BeGreaterOrEqual ([DateTime]$first.state.terminated.finishedAt)
        (Invoke-Kubectl -n $Namespace logs $pod.metadata.name -c second) | Should -Match "^second-start $secondStart$"
    }

    It 'fails the run when an action fails: JobRunFailed names the action, and Get-PaastaJob says Failed' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        $run = Start-PaastaJob -Service $Service -Job failing -Cluster local -Wait -TimeoutSec 180 -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
        $run.Outcome | Should -Be 'Failed'
        $run.FailedAction | Should -Be 'explode'
        $run.Output['prepare'] | Should -Match 'preparing'
        $run.Output['explode'] | Should -Match 'about to fail'
        $err[0].FullyQualifiedErrorId | Should -BeLike 'JobRunFailed,*'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidResult'
        $err[0].Exception.Message | Should -Match "action 'explode'"
        $job = Invoke-Kubectl -n $Namespace get job $run.Name -o json | ConvertFrom-Json
        ($job.status.conditions | Where-Object type -eq 'Failed').status | Should -Be 'True'

        $info = Get-PaastaJob -Service $Service -Cluster local -Job failing
        $info.LastRun | Should -Be $run.Name
        $info.LastRunOutcome | Should -Be 'Failed'
        $info.FailedAction | Should -Be 'explode'
    }

    It 'refuses a schedule with no cron form with TronScheduleNotTranslatable naming the job, and still syncs the others' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        Add-Content $TronFile @'
monthly:
  schedule: "7th of month at 11:00"
  deploy_group: local.everything
  actions:
    run:
      command: "echo monthly"
'@
        try {
            $r = Sync-PaastaJob -SoaDir $Soa -Service $Service -Cluster local -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
            ($r | Where-Object Job -eq 'monthly').Action | Should -Be 'Failed'
            @($r | Where-Object Job -ne 'monthly' | ForEach-Object Action | Sort-Object -Unique) | Should -Be @('Unchanged')
            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -BeLike 'TronScheduleNotTranslatable,*'
            $err[0].Exception.Message | Should -Match "Job 'monthly'"
            $err[0].Exception.Message | Should -Match '7th of month at 11:00'
            (Get-LiveCronJob 'monthly').Count | Should -Be 0
        }
        finally { $TronText | Set-Content $TronFile }
    }

    It 'suspends the CronJob of a job with enabled: false' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        ($TronText -replace '(?m)^(every_minute:\r?\n)', "`$1  enabled: false`n") | Set-Content $TronFile
        $r = Sync
        $changed = $r | Where-Object Job -eq 'every_minute'
        $changed.Action | Should -Be 'Updated'
        $changed.Suspended | Should -BeTrue
        (Get-LiveCronJob 'every_minute')[0].spec.suspend | Should -BeTrue
        (Get-PaastaJob -Service $Service -Cluster local -Job every_minute).Suspended | Should -BeTrue
        @($r | Where-Object Job -ne 'every_minute' | ForEach-Object Action | Sort-Object -Unique) | Should -Be @('Unchanged')
    }

    It 'deletes the CronJob of a job removed from soa-configs' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        ($TronText -replace '(?ms)^failing:.*\z', '') -replace '(?m)^(every_minute:\r?\n)', "`$1  enabled: false`n" | Set-Content $TronFile
        $r = Sync
        $gone = $r | Where-Object Job -eq 'failing'
        $gone.Action | Should -Be 'Deleted'
        (Get-LiveCronJob 'failing').Count | Should -Be 0
        (Get-LiveCronJob 'two_steps').Count | Should -Be 1
        @(Get-PaastaJob -Service $Service -Cluster local).Job | Sort-Object | Should -Be @('every_minute', 'two_steps')
    }
}

Describe 'Job completion' {
    It 'completes -Job from tron-CLUSTER.yaml of the service and cluster typed, and -Cluster from its tron files' {
        $TronText | Set-Content $TronFile  # the cluster tests above leave it edited
        $line = "Start-PaastaJob -SoaDir $Soa -Service $Service -Cluster local -Job "
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be @('every_minute', 'failing', 'two_steps')
        $line = "Sync-PaastaJob -SoaDir $Soa -Service $Service -Job t"
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be @('two_steps')
        $line = "Get-PaastaJob -SoaDir $Soa -Service $Service -Cluster "
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be @('local')
    }
}
