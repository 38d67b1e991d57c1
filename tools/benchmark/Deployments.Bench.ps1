#Requires -Version 7.4
# deployments.json at scale: a repository with 100,000 deploy tags over 200 deploy groups (plus start/stop tags),
# and a service with an instance in each group. Target (issue 3): New-PaastaDeployments <= 2x `git ls-remote`
# of the same repository, measured in the same run. Warm-up once, then the median of 3.
param([Parameter(Mandatory)] [string] $ModuleManifest)
$ErrorActionPreference = 'Stop'
Import-Module $ModuleManifest -Force

$Groups = 200
$TagsPerGroup = 500
$root = Join-Path ([IO.Path]::GetTempPath()) "paasta-bench-deploy-$PID"
if (Test-Path $root) { Remove-Item -Recurse -Force $root }
$repo = Join-Path $root 'service.git'
$soa = Join-Path $root 'soa'

function Invoke-Git {
    $out = & git @args
    if ($LASTEXITCODE -ne 0) { throw "git $($args -join ' ') failed" }
    $out
}

try {
    # The repository: 50 commits made without a work tree, and every ref written at once as packed-refs
    # (100,000 `git tag` calls would take longer than everything measured here).
    $null = Invoke-Git init -q --bare -b main $repo
    $empty = Join-Path $root 'empty'
    [IO.File]::WriteAllBytes($empty, [byte[]]@())
    $tree = (Invoke-Git -C $repo hash-object -t tree -w $empty).Trim()   # the empty tree
    $commits = [Collections.Generic.List[string]]::new()
    $parent = $null
    foreach ($n in 1..50) {
        $commitArgs = @('-C', $repo, '-c', 'user.name=bench', '-c', 'user.email=bench@example.com', 'commit-tree', $tree, '-m', "commit $n")
        if ($parent) { $commitArgs += @('-p', $parent) }
        $parent = (Invoke-Git @commitArgs).Trim()
        $commits.Add($parent)
    }
    $refs = [Collections.Generic.List[string]]::new(110000)
    $refs.Add("$parent refs/heads/main")
    $base = [DateTime]::new(2020, 1, 1, 0, 0, 0, [DateTimeKind]::Utc)
    foreach ($g in 0..($Groups - 1)) {
        foreach ($t in 0..($TagsPerGroup - 1)) {
            $ts = $base.AddMinutes($t * 37 + $g).ToString("yyyyMMdd'T'HHmmss")
            $sha = $commits[($t + $g) % $commits.Count]
            $refs.Add("$sha refs/tags/paasta-group$g.deploy-$ts-deploy")
        }
        # Each instance was stopped and restarted a few times along the way.
        foreach ($s in 0..1) {
            $ts = $base.AddMinutes(($TagsPerGroup - 1) * 37 + $g + $s + 1).ToString("yyyyMMdd'T'HHmmss")
            $refs.Add("$($commits[($TagsPerGroup - 1 + $g) % $commits.Count]) refs/tags/paasta-bench.inst$g-$ts-$(if ($s) { 'start' } else { 'stop' })")
        }
    }
    $sorted = $refs.ToArray()
    [Array]::Sort($sorted, [Collections.Generic.Comparer[string]]::Create({ param($a, $b) [string]::CompareOrdinal($a.Substring(41), $b.Substring(41)) }))
    [IO.File]::WriteAllText((Join-Path $repo 'packed-refs'), "# pack-refs with: peeled fully-peeled sorted `n" + ($sorted -join "`n") + "`n")
    $deployTags = $Groups * $TagsPerGroup

    # The service: one instance per deploy group on one cluster.
    $null = New-Item -ItemType Directory -Force (Join-Path $soa 'bench')
    Set-Content (Join-Path $soa 'bench/service.yaml') "description: benchmark`nexternal_link: http://example`ngit_url: $repo`n"
    Set-Content (Join-Path $soa 'bench/deploy.yaml') ("pipeline:`n" + ((0..($Groups - 1) | ForEach-Object { "- step: group$_.deploy" }) -join "`n") + "`n")
    Set-Content (Join-Path $soa 'bench/kubernetes-bench.yaml') ((0..($Groups - 1) | ForEach-Object { "inst$($_):`n  deploy_group: group$_.deploy`n  cpus: 0.5`n  mem: 512" }) -join "`n")
    $file = Join-Path $soa 'bench/deployments.json'

    function Measure-LsRemote([string] $Url = $repo) {
        # Consume the output, as any reader of ls-remote must; no PowerShell pipeline in between.
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $start = [Diagnostics.ProcessStartInfo]::new('git')
        $start.ArgumentList.Add('ls-remote'); $start.ArgumentList.Add($Url)
        $start.RedirectStandardOutput = $true
        $start.UseShellExecute = $false
        $p = [Diagnostics.Process]::Start($start)
        $lines = 0
        while ($null -ne $p.StandardOutput.ReadLine()) { $lines++ }
        $p.WaitForExit()
        $sw.Stop()
        if ($p.ExitCode -ne 0) { throw 'git ls-remote failed' }
        [pscustomobject]@{ Seconds = $sw.Elapsed.TotalSeconds; Lines = $lines }
    }
    function Measure-Generate([string] $Url) {
        # From scratch each time (no deployments.json), so every run lists, computes and writes.
        Remove-Item $file -ErrorAction Ignore
        $extra = if ($Url) { @{ Repository = $Url } } else { @{} }
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $result = New-PaastaDeployments -SoaDir $soa -Service bench @extra
        $sw.Stop()
        [pscustomobject]@{ Seconds = $sw.Elapsed.TotalSeconds; Result = $result }
    }
    function Get-Median([double[]] $Values) { ($Values | Sort-Object)[[int][math]::Floor($Values.Count / 2)] }

    # Warm up: JIT, native library load, file cache.
    $warm = Measure-Generate
    $ls = Measure-LsRemote
    if ($warm.Result.Deployments.Count -ne $Groups -or $warm.Result.Controls.Count -ne $Groups) {
        throw "expected $Groups deploy groups and instances, got $($warm.Result.Deployments.Count) and $($warm.Result.Controls.Count)"
    }
    if ($ls.Lines -lt $deployTags) { throw "git ls-remote listed only $($ls.Lines) refs" }

    $paasta = Get-Median @(foreach ($i in 1..3) { (Measure-Generate).Seconds })
    $git = Get-Median @(foreach ($i in 1..3) { (Measure-LsRemote).Seconds })
    $ratio = $paasta / $git
    'deployments: {0:N0} refs ({1:N0} deploy tags, {2} deploy groups), median of 3, warm, {3} cores' -f $ls.Lines, $deployTags, $Groups, [Environment]::ProcessorCount
    'deployments: New-PaastaDeployments {0:N2} s vs git ls-remote {1:N2} s = {2:N2}x (target <= 2x)' -f $paasta, $git, $ratio
    if ($ratio -gt 2) { Write-Warning ('New-PaastaDeployments is {0:N2}x git ls-remote, over the 2x target.' -f $ratio) }

    # The same over the git protocol (git daemon on localhost), where Paasta lists refs through libgit2
    # instead of reading the ref store: the network path every ssh/https remote takes.
    $daemonExe = Join-Path (Invoke-Git --exec-path).Trim() 'git-daemon'
    if (Test-Path $daemonExe) {
        $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
        $listener.Start(); $port = $listener.LocalEndpoint.Port; $listener.Stop()
        # Started as git-daemon itself (not through `git daemon`), so stopping this process id stops the server.
        $daemon = Start-Process $daemonExe -ArgumentList '--reuseaddr', '--export-all', "--base-path=$root", "--port=$port", '--listen=127.0.0.1', $root `
            -PassThru -RedirectStandardError (Join-Path $root 'daemon.err') -RedirectStandardOutput (Join-Path $root 'daemon.out')
        try {
            $url = "git://127.0.0.1:$port/service.git"
            $deadline = [DateTime]::UtcNow.AddSeconds(10)
            while ($true) {
                try { $probe = [Net.Sockets.TcpClient]::new('127.0.0.1', $port); $probe.Dispose(); break }
                catch { if ([DateTime]::UtcNow -gt $deadline) { throw 'git daemon did not start' }; Start-Sleep -Milliseconds 50 }
            }
            $null = Measure-Generate $url; $null = Measure-LsRemote $url
            $paastaNet = Get-Median @(foreach ($i in 1..3) { (Measure-Generate $url).Seconds })
            $gitNet = Get-Median @(foreach ($i in 1..3) { (Measure-LsRemote $url).Seconds })
            'deployments (git://): New-PaastaDeployments {0:N2} s vs git ls-remote {1:N2} s = {2:N2}x (target <= 2x)' -f $paastaNet, $gitNet, ($paastaNet / $gitNet)
        }
        finally {
            Stop-Process -Id $daemon.Id -ErrorAction SilentlyContinue
        }
    }
}
finally {
    if (Test-Path $root) { Remove-Item -Recurse -Force $root -ErrorAction SilentlyContinue }
}
