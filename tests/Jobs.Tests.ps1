#Requires -Version 7.4
# Tron jobs without a cluster: namespace configs pushed to a stand-in Tron master (a Tron master cannot run here),
# piping, completion. The CronJobs on the real local cluster are in Jobs.Integration.Tests.ps1.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Jobs.TestSetup.ps1')
}

Describe 'Sync-PaastaTronNamespace against a stand-in Tron master (GET/POST /api/config as docs/BEHAVIOUR.md §10.3)' {
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
    public string Method; public string Path; public string Query; public string UserAgent; public string Authorization;
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
        var r = new Received { Method = c.Request.HttpMethod, Path = c.Request.Url.AbsolutePath, Query = c.Request.Url.Query, UserAgent = c.Request.UserAgent, Authorization = c.Request.Headers["Authorization"] };
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

    It 'shows the diff in the -WhatIf message itself (what the host prints), not only in the result' {
        ($TronText -replace 'echo preparing', 'echo preparing again') | Set-Content $TronFile
        try {
            $out = (Invoke-ChildPwsh -Command "Import-Module '$env:PAASTA_TEST_MODULE'; Sync-PaastaTronNamespace -SoaDir '$Soa' -Service $Service -Cluster local -TronUrl '$($Tron.Url)' -WhatIf -WarningAction SilentlyContinue | Out-Null") -join "`n"
            $out | Should -Match "What if: Performing the operation `"Send this config`" on target `"Tron namespace $Service on "
            $out | Should -Match '(?m)^-\s+command: echo preparing$'
            $out | Should -Match '(?m)^\+\s+command: echo preparing again$'
            @($Tron.Requests.Method) | Should -Be @('GET')
        }
        finally { $TronText | Set-Content $TronFile }
    }

    It 'sends the bearer token of -TronToken or PAASTA_TRON_TOKEN, none by default, and needs one when TRONCTL_API_AUTH is set' {
        $saved = $env:PAASTA_TRON_TOKEN, $env:TRONCTL_API_AUTH
        try {
            $env:PAASTA_TRON_TOKEN = $null; $env:TRONCTL_API_AUTH = $null
            $null = SyncTron
            $Tron.Requests.Count | Should -BeGreaterThan 0
            @($Tron.Requests | Where-Object Authorization).Count | Should -Be 0

            $Tron.Requests.Clear()
            $null = SyncTron -TronToken (ConvertTo-SecureString 'tok-param' -AsPlainText -Force)
            @($Tron.Requests.Authorization | Sort-Object -Unique) | Should -Be @('Bearer tok-param')

            $Tron.Requests.Clear()
            $env:PAASTA_TRON_TOKEN = 'tok-env'
            $null = SyncTron
            @($Tron.Requests.Authorization | Sort-Object -Unique) | Should -Be @('Bearer tok-env')

            $Tron.Requests.Clear()
            $env:PAASTA_TRON_TOKEN = $null; $env:TRONCTL_API_AUTH = '1'
            $r = Sync-PaastaTronNamespace -SoaDir $Soa -Service $Service -Cluster local -TronUrl $Tron.Url -Confirm:$false -WarningAction SilentlyContinue -ErrorVariable err -ErrorAction SilentlyContinue
            $r | Should -BeNullOrEmpty
            $err[0].FullyQualifiedErrorId | Should -BeLike 'TronTokenNotConfigured,*'
            $err[0].CategoryInfo.Category | Should -Be 'InvalidOperation'
            $Tron.Requests.Count | Should -Be 0
        }
        finally { $env:PAASTA_TRON_TOKEN, $env:TRONCTL_API_AUTH = $saved }
    }

    It 'with a wildcard leaves out services whose tron file has no job with a paasta, ssh or spark action; by name keeps them' {
        $empty = New-Item -ItemType Directory (Join-Path $Soa 'jobempty') -Force
        "description: no jobs`n" | Set-Content (Join-Path $empty 'service.yaml')
        "team: jobs`n" | Set-Content (Join-Path $empty 'monitoring.yaml')
        "pipeline:`n- step: local.everything`n" | Set-Content (Join-Path $empty 'deploy.yaml')
        "{}`n" | Set-Content (Join-Path $empty 'tron-local.yaml')
        try {
            @(ConvertTo-PaastaTronConfig -SoaDir $Soa -Service 'jobe*', 'jobh*' -Cluster local -WarningAction SilentlyContinue).Namespace | Should -Be @($Service)
            $named = ConvertTo-PaastaTronConfig -SoaDir $Soa -Service jobempty -Cluster local
            $named.Namespace | Should -Be 'jobempty'
            $named.Yaml | Should -Be "jobs: {}`n"
        }
        finally { Remove-Item -Recurse -Force $empty }
    }

    It 'binds -Service from Get-PaastaService (Name) and -Cluster by property name' {
        $savedCluster, $savedConfig = $env:PAASTA_CLUSTER, $env:PAASTA_CONFIG
        try {
            # A configured cluster that is not the piped one: only binding by property name gives 'local'.
            $env:PAASTA_CLUSTER = 'elsewhere'
            $env:PAASTA_CONFIG = Join-Path $TestDrive 'no-settings.json'
            $fromService = Get-PaastaService -SoaDir $Soa -Name $Service | ConvertTo-PaastaTronConfig -Cluster local -WarningAction SilentlyContinue
            $fromService.Namespace | Should -Be $Service
            $fromService.Jobs | Should -Contain 'two_steps'
            $piped = [pscustomobject]@{ Service = $Service; Cluster = 'local' } | ConvertTo-PaastaTronConfig -SoaDir $Soa -WarningAction SilentlyContinue
            $piped.Cluster | Should -Be 'local'
            $piped.Jobs | Should -Contain 'two_steps'
        }
        finally { $env:PAASTA_CLUSTER, $env:PAASTA_CONFIG = $savedCluster, $savedConfig }
    }

    It 'takes ConvertTo-PaastaTronConfig''s output from the pipeline (issue 14: it did not bind) and sends those configs' {
        ($TronText -replace 'echo preparing', 'echo piped') | Set-Content $TronFile
        try {
            $generated = @(ConvertTo-PaastaTronConfig -SoaDir $Soa -Service $Service -Cluster local -IncludeMaster -WarningAction SilentlyContinue)
            $r = @(ConvertTo-PaastaTronConfig -SoaDir $Soa -Service $Service -Cluster local -IncludeMaster -WarningAction SilentlyContinue |
                    Sync-PaastaTronNamespace -TronUrl $Tron.Url -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue)
            $err | Should -BeNullOrEmpty
            @($r.Namespace) | Should -Be @('MASTER', $Service)
            $Tron.Store[$Service] | Should -BeExactly ($generated | Where-Object Namespace -eq $Service).Yaml
            $Tron.Store[$Service] | Should -Match 'command: echo piped'
            # The same with positional names, as the help's example writes it.
            $again = ConvertTo-PaastaTronConfig $Service local -SoaDir $Soa -WarningAction SilentlyContinue | Sync-PaastaTronNamespace -TronUrl $Tron.Url -WhatIf
            $again.Action | Should -Be 'Unchanged'
        }
        finally { $TronText | Set-Content $TronFile }
    }

    It 'disables a job with a stopped action (enabled: false) until the next deploy, and leaves the others as configured' {
        # deployments.json as New-PaastaDeployments writes it after Stop-PaastaInstance on two_steps.first.
        $stoppedSoa = Join-Path $TestDrive 'stopped-soa'
        Copy-Item -Recurse $Soa $stoppedSoa
        $sha = '0123456789abcdef0123456789abcdef01234567'
        function Set-Controls([string] $FirstState) {
            $controls = 'every_minute.tick', 'two_steps.second', 'two_steps.first', 'failing.prepare', 'failing.explode' | ForEach-Object {
                $state = if ($_ -eq 'two_steps.first') { $FirstState } else { 'start' }
                "`"${Service}:local.$_`": {`"desired_state`": `"$state`", `"force_bounce`": null}"
            }
            Set-Content (Join-Path $stoppedSoa "$Service/deployments.json") -NoNewline ('{"v1": {}, "v2": {"deployments": {"local.everything": {"docker_image": "services-' + $Service + ':paasta-' + $sha + '", "git_sha": "' + $sha + '", "image_version": null}}, "controls": {' + ($controls -join ', ') + '}}}')
        }
        Set-Controls 'stop'
        $stopped = ConvertTo-PaastaTronConfig -SoaDir $stoppedSoa -Service $Service -Cluster local -Verbose 4>&1
        $config = $stopped | Where-Object { $_.PSObject.TypeNames[0] -eq 'Paasta.Tron.TronNamespaceConfig' }
        # A job's own keys, as PyYAML's block style writes them: four spaces in, under "  JOB:".
        function Get-JobKeys([string] $Yaml, [string] $Job) {
            $block = [regex]::Match($Yaml, "(?ms)^  ${Job}:\n(.*?)(?=^  \S|\z)").Groups[1].Value
            [regex]::Matches($block, '(?m)^    (\w+):(.*)$') | ForEach-Object { "$($_.Groups[1].Value):$($_.Groups[2].Value)" }
        }
        Get-JobKeys $config.Yaml two_steps | Should -Contain 'enabled: false'
        @(Get-JobKeys $config.Yaml every_minute) -like 'enabled:*' | Should -BeNullOrEmpty
        @(Get-JobKeys $config.Yaml failing) -like 'enabled:*' | Should -BeNullOrEmpty
        @(Get-JobKeys $config.Yaml two_steps).Count | Should -BeGreaterThan 3
        ($stopped | Where-Object { $_ -is [Management.Automation.VerboseRecord] }).Message | Should -Contain "$Service.two_steps: stopped (deployments.json says stop for first); written with enabled: false until the next deploy."

        # The next deploy writes start (a new deploy tag resets the stop): the job is scheduled again.
        Set-Controls 'start'
        @(Get-JobKeys (ConvertTo-PaastaTronConfig -SoaDir $stoppedSoa -Service $Service -Cluster local).Yaml two_steps) -like 'enabled:*' | Should -BeNullOrEmpty
    }

    It 'refuses a cluster no service has a tron file for (ClusterNotFound) instead of pushing empty namespaces' {
        $r = Sync-PaastaTronNamespace -SoaDir $Soa -Service $Service -Cluster locl -TronUrl $Tron.Url -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
        $r | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -Be 'ClusterNotFound,Paasta.Commands.SyncPaastaTronNamespace'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $Tron.Requests.Count | Should -Be 0
        # A service named without a file for a known cluster still gets its empty namespace (how jobs are removed).
        (ConvertTo-PaastaTronConfig -SoaDir $Soa -Service $Service -Cluster local).Namespace | Should -Be $Service
    }

    It 'takes piped namespace configs without the parameters that only shape generation' {
        $set = (Get-Command Sync-PaastaTronNamespace).ParameterSets | Where-Object Name -eq 'InputObject'
        $names = $set.Parameters.Name
        $names | Should -Contain 'InputObject'
        $names | Should -Contain 'TronUrl'
        foreach ($p in 'Cluster', 'Registry', 'IncludeMaster', 'DefaultVolume', 'Service') { $names | Should -Not -Contain $p }
        # -IncludeMaster selects the -Service form, which piped configs cannot bind: refused, not ignored.
        Get-Generated | Sync-PaastaTronNamespace -TronUrl $Tron.Url -IncludeMaster -WhatIf -ErrorVariable err -ErrorAction SilentlyContinue
        $err.Count | Should -BeGreaterThan 0
        $err[0].Exception | Should -BeOfType ([System.Management.Automation.ParameterBindingException])
        $Tron.Requests.Count | Should -Be 0
    }

    It 'writes -DefaultVolume into MASTER''s k8s_options.default_volumes, and refuses it without -IncludeMaster' {
        $master = ConvertTo-PaastaTronConfig -SoaDir $Soa -Service $Service -Cluster local -IncludeMaster -DefaultVolume '/nail/etc:/nail/etc:ro', '/tmp/a:/data' -WarningAction SilentlyContinue | Where-Object Namespace -eq 'MASTER'
        $master.Yaml | Should -BeExactly "k8s_options:`n  default_volumes:`n  - container_path: /nail/etc`n    host_path: /nail/etc`n    mode: RO`n  - container_path: /data`n    host_path: /tmp/a`n    mode: RW`n  enabled: true`ntime_zone: UTC`n"
        $r = ConvertTo-PaastaTronConfig -SoaDir $Soa -Service $Service -Cluster local -DefaultVolume '/nail/etc:/nail/etc' -ErrorVariable err -ErrorAction SilentlyContinue
        $r | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'DefaultVolumeNeedsMaster,*'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        ConvertTo-PaastaTronConfig -SoaDir $Soa -Service $Service -Cluster local -IncludeMaster -DefaultVolume 'relative:/x' -ErrorVariable err2 -ErrorAction SilentlyContinue | Out-Null
        $err2[0].FullyQualifiedErrorId | Should -BeLike 'VolumeSpecInvalid,*'
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
