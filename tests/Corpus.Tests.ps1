#Requires -Version 7.4
# The malformed soa-configs corpus (tests/corpus/malformed/NN-name/, one defect per case, described by case.json):
# Test-PaastaConfig reports every case with its rule, file and line; Get-PaastaInstance turns load-level
# defects into ErrorRecords with stable ErrorIds; nothing crashes, hangs or shows a raw .NET exception, and the
# session keeps working. Each case runs once, under a timeout: cases marked "isolate" (those that could end or
# hang a process) in a child pwsh, so that a regression fails that case instead of killing the test run. The
# summary prints, per class of hostile input, how many cases were tried and how many were handled.

BeforeDiscovery {
    $repoRoot = if ($env:PAASTA_REPO_ROOT) { $env:PAASTA_REPO_ROOT } else { (Resolve-Path (Join-Path $PSScriptRoot '..')).Path }
    $corpusDir = Join-Path $repoRoot 'tests/corpus/malformed'
    $cases = @(foreach ($dir in Get-ChildItem -LiteralPath $corpusDir -Directory | Sort-Object Name) {
            $case = Get-Content -LiteralPath (Join-Path $dir.FullName 'case.json') -Raw | ConvertFrom-Json
            @{
                Name       = $dir.Name
                CasePath   = $dir.FullName
                Class      = if ($case.class) { $case.class } else { 'malformed' }
                Isolate    = [bool]$case.isolate
                Service    = if ($case.service) { $case.service } else { 'svc' }
                RuleId     = $case.ruleId
                File       = $case.file
                Line       = [int]$case.line
                ErrorId    = $case.errorId
                Generate   = $case.generate
                Special    = $case.special
                Secret     = $case.secret
                Timeout    = if ($case.timeoutSeconds) { [int]$case.timeoutSeconds } else { 120 }
                Severity   = if ($case.severity) { $case.severity } else { 'Error' }
                KnownIssue = $case.knownIssue
            }
        })
    $loadCases = @($cases | Where-Object { $_.ErrorId })
    $pathNames = @('..', '.', '/etc', 'a/b', '../hello', 'a\b', '/', '../../etc/passwd') | ForEach-Object { @{ ServiceName = $_ } }
}

BeforeAll {
    Import-Module $env:PAASTA_TEST_MODULE -Force
    $script:RepoRoot = if ($env:PAASTA_REPO_ROOT) { $env:PAASTA_REPO_ROOT } else { (Resolve-Path (Join-Path $PSScriptRoot '..')).Path }
    $script:Examples = Join-Path $script:RepoRoot 'examples/soa-configs'
    $script:Outcomes = @{}
    $script:CaseInfo = @{}
    # ErrorIds the cmdlet edge gives an exception the engine did not convert itself: in the corpus, a raw exception.
    $script:EdgeIds = 'UnexpectedError', 'InvalidArgument', 'InvalidFormat', 'InvalidJson', 'LimitsExceeded', 'FileSystemError', 'PathNotFound', 'PathTooLong'

    # What one case does, as plain data: the same script runs in this session and in a child pwsh.
    $script:CaseScript = {
        param([string] $Root, [string] $Service)
        $outcome = [ordered]@{ Findings = @(); Quiet = @(); Errors = @(); Raw = @() }
        function ConvertTo-ErrorData($e) {
            if ($e -isnot [Management.Automation.ErrorRecord]) { return [pscustomobject]@{ FullyQualifiedErrorId = ''; ExceptionType = $e.GetType().FullName; ErrorId = $null; File = $null; Line = 0; Message = "$e"; Target = $null } }
            [pscustomobject]@{
                FullyQualifiedErrorId = $e.FullyQualifiedErrorId
                ExceptionType         = $e.Exception.GetType().FullName
                ErrorId               = if ($e.Exception.PSObject.Properties['ErrorId']) { $e.Exception.ErrorId } else { $null }
                File                  = if ($e.Exception.PSObject.Properties['File']) { $e.Exception.File } else { $null }
                Line                  = if ($e.Exception.PSObject.Properties['Line']) { [int]$e.Exception.Line } else { 0 }
                Message               = $e.Exception.Message
                Target                = if ($null -ne $e.TargetObject) { "$($e.TargetObject)" } else { $null }
            }
        }
        try {
            $errs = $null
            $outcome.Findings = @(Test-PaastaConfig -SoaDir $Root -Service $Service -ErrorVariable errs -ErrorAction SilentlyContinue | ForEach-Object {
                    [pscustomobject]@{ Type = $_.GetType().FullName; RuleId = $_.RuleId; File = $_.File; Line = [int]$_.Line; Column = [int]$_.Column; Severity = "$($_.Severity)"; Message = $_.Message }
                })
            $outcome.Raw += @($errs | ForEach-Object { "Test-PaastaConfig wrote $(($_ | Out-String).Trim())" })
        }
        catch { $outcome.Raw += "Test-PaastaConfig threw $($_.Exception.GetType().FullName): $($_.Exception.Message)" }
        try { $outcome.Quiet = @(Test-PaastaConfig -SoaDir $Root -Service $Service -Quiet -ErrorAction SilentlyContinue) }
        catch { $outcome.Raw += "Test-PaastaConfig -Quiet threw $($_.Exception.GetType().FullName): $($_.Exception.Message)" }
        try {
            $errs = $null
            $null = Get-PaastaInstance -SoaDir $Root -Service $Service -ErrorVariable errs -ErrorAction SilentlyContinue
            $outcome.Errors = @($errs | ForEach-Object { ConvertTo-ErrorData $_ })
        }
        catch { $outcome.Raw += "Get-PaastaInstance threw $($_.Exception.GetType().FullName): $($_.Exception.Message)" }
        [pscustomobject]$outcome
    }

    # A throwaway copy of a case (the corpus itself is never touched), plus its generated and special files.
    function New-CaseCopy {
        param([string] $CasePath, [string] $Name, $Generate, $Special, [string] $File)
        $copy = Join-Path $TestDrive $Name
        $outside = Join-Path $TestDrive "$Name-outside"
        foreach ($p in $copy, $outside) { if (Test-Path -LiteralPath $p) { Remove-Item -LiteralPath $p -Recurse -Force } }
        Copy-Item -LiteralPath $CasePath -Destination $copy -Recurse
        Remove-Item -LiteralPath (Join-Path $copy 'case.json')
        if ($Generate -eq 'large') {
            # 50 MB of valid YAML (comments): only the size is wrong.
            $line = [Text.Encoding]::UTF8.GetBytes("# padding padding padding padding padding padding padding padding padding padding`n")
            $block = [byte[]]::new($line.Length * 1024)
            for ($i = 0; $i -lt 1024; $i++) { [Array]::Copy($line, 0, $block, $i * $line.Length, $line.Length) }
            $stream = [IO.File]::Create((Join-Path $copy $File))
            try { for ($written = 0L; $written -lt 50MB; $written += $block.Length) { $stream.Write($block, 0, $block.Length) } }
            finally { $stream.Dispose() }
        }
        elseif ($Generate) {
            foreach ($g in $Generate) {
                $writer = [IO.StreamWriter]::new((Join-Path $copy $g.file), $false, [Text.UTF8Encoding]::new($false), 65536)
                try {
                    foreach ($part in $g.parts) {
                        if ($null -ne $part.text) { $writer.Write([string]$part.text) }
                        if ($null -eq $part.repeat) { continue }
                        $template = [string]$part.repeat
                        $hasI = $template.Contains('{i}'); $hasNext = $template.Contains('{next}')
                        for ($i = 0; $i -lt [int]$part.count; $i++) {
                            $text = $template
                            if ($hasI) { $text = $text.Replace('{i}', [string]$i) }
                            if ($hasNext) { $text = $text.Replace('{next}', [string]($i + 1)) }
                            $writer.Write($text)
                        }
                    }
                }
                finally { $writer.Dispose() }
            }
        }
        foreach ($s in @($Special | Where-Object { $_ })) {
            $path = Join-Path $copy $s.path
            switch ($s.kind) {
                'fifo' { Remove-Item -LiteralPath $path -Force -ErrorAction SilentlyContinue; & mkfifo $path }
                'symlink' { Remove-Item -LiteralPath $path -Force -ErrorAction SilentlyContinue; $null = New-Item -ItemType SymbolicLink -Path $path -Target $s.target }
                'link-outside' {
                    $target = Join-Path $outside $s.path
                    $null = New-Item -ItemType Directory -Path (Split-Path $target) -Force
                    Move-Item -LiteralPath $path -Destination $target
                    $null = New-Item -ItemType SymbolicLink -Path $path -Target $target
                }
                default { throw "unknown special kind $($s.kind)" }
            }
        }
        [pscustomobject]@{ Root = $copy; Outside = $outside }
    }

    function Remove-CaseCopy($Copy) {
        foreach ($p in $Copy.Root, $Copy.Outside) { if (Test-Path -LiteralPath $p) { Remove-Item -LiteralPath $p -Recurse -Force -ErrorAction SilentlyContinue } }
    }

    # Runs a case in a child pwsh, killed after the timeout; a crash or a hang is the outcome's Failure.
    function Invoke-IsolatedCase([string] $Root, [string] $Service, [int] $TimeoutSeconds) {
        $runner = Join-Path $TestDrive 'run-case.ps1'
        if (-not (Test-Path $runner)) {
            Set-Content -LiteralPath $runner -Value @"
param([string] `$Module, [string] `$Root, [string] `$Service)
Import-Module `$Module
`$case = { $($script:CaseScript.ToString()) }
& `$case `$Root `$Service | ConvertTo-Json -Depth 5 -Compress
"@
        }
        $start = [Diagnostics.ProcessStartInfo]::new([Environment]::ProcessPath)
        if ([IO.Path]::GetFileNameWithoutExtension([Environment]::ProcessPath) -eq 'dotnet') { $start.ArgumentList.Add((Join-Path $PSHOME 'pwsh.dll')) }
        foreach ($a in '-NoProfile', '-NonInteractive', '-File', $runner, '-Module', $env:PAASTA_TEST_MODULE, '-Root', $Root, '-Service', $Service) { $start.ArgumentList.Add($a) }
        $start.RedirectStandardOutput = $true; $start.RedirectStandardError = $true; $start.UseShellExecute = $false
        $child = [Diagnostics.Process]::Start($start)
        $stdout = $child.StandardOutput.ReadToEndAsync()
        $stderr = $child.StandardError.ReadToEndAsync()
        if (-not $child.WaitForExit($TimeoutSeconds * 1000)) {
            $child.Kill($true); $child.WaitForExit()
            return [pscustomobject]@{ Failure = "did not finish within $TimeoutSeconds s (a hang?); the child pwsh was killed" }
        }
        $json = $stdout.GetAwaiter().GetResult()
        if ($child.ExitCode -ne 0 -or -not $json) {
            $tail = ($stderr.GetAwaiter().GetResult() -split "`n" | Select-Object -First 6) -join "`n"
            return [pscustomobject]@{ Failure = "the child pwsh ended with exit code $($child.ExitCode) (a crash?): $tail" }
        }
        $json | ConvertFrom-Json
    }

    # Runs a case in this session, on a runspace of its own so that a hang is stopped after the timeout.
    function Invoke-LocalCase([string] $Root, [string] $Service, [int] $TimeoutSeconds) {
        if (-not $script:CaseRunspace) {
            $script:CaseRunspace = [runspacefactory]::CreateRunspace()
            $script:CaseRunspace.Open()
            $ps = [powershell]::Create(); $ps.Runspace = $script:CaseRunspace
            $null = $ps.AddCommand('Import-Module').AddParameter('Name', $env:PAASTA_TEST_MODULE).Invoke(); $ps.Dispose()
        }
        $ps = [powershell]::Create(); $ps.Runspace = $script:CaseRunspace
        $null = $ps.AddScript($script:CaseScript.ToString()).AddArgument($Root).AddArgument($Service)
        $handle = $ps.BeginInvoke()
        try {
            if (-not $handle.AsyncWaitHandle.WaitOne($TimeoutSeconds * 1000)) {
                $null = $ps.BeginStop($null, $null)
                $script:CaseRunspace = $null   # abandoned: the next case gets a fresh one
                return [pscustomobject]@{ Failure = "did not finish within $TimeoutSeconds s (a hang?)" }
            }
            $result = $ps.EndInvoke($handle)
            if ($result.Count -ne 1) { return [pscustomobject]@{ Failure = "the case script failed: $($ps.Streams.Error | Select-Object -First 1)" } }
            $result[0]
        }
        finally { if ($handle.IsCompleted) { $ps.Dispose() } }
    }

    function Get-CaseOutcome {
        param([hashtable] $Case)
        if ($script:Outcomes.ContainsKey($Case.Name)) { return $script:Outcomes[$Case.Name] }
        $copy = New-CaseCopy -CasePath $Case.CasePath -Name $Case.Name -Generate $Case.Generate -Special $Case.Special -File $Case.File
        try {
            $elapsed = Measure-Command {
                $script:last = if ($Case.Isolate) { Invoke-IsolatedCase $copy.Root $Case.Service $Case.Timeout } else { Invoke-LocalCase $copy.Root $Case.Service $Case.Timeout }
            }
            if ($Case.Isolate -or $Case.Generate) { Write-Host "    $($Case.Name): $([int]$elapsed.TotalMilliseconds) ms$(if ($Case.Isolate) { ' (child pwsh)' })" }
        }
        finally { Remove-CaseCopy $copy }
        $script:Outcomes[$Case.Name] = $script:last
        $script:CaseInfo[$Case.Name] = $Case
        $script:last
    }

    # Why a case was not handled (a crash, a hang, a raw exception, or not what case.json expects); $null when it was.
    function Get-CaseProblem([hashtable] $Case, $Outcome) {
        if ($Outcome.PSObject.Properties['Failure'] -and $Outcome.Failure) { return $Outcome.Failure }
        if (@($Outcome.Raw).Count -gt 0) { return "raw exception: $(@($Outcome.Raw)[0])" }
        $raw = @($Outcome.Errors | Where-Object { $_.ExceptionType -ne 'Paasta.Errors.PaastaException' -or $_.ErrorId -in $script:EdgeIds })
        if ($raw) { return "raw exception at the cmdlet edge: $($raw[0].ExceptionType) $($raw[0].ErrorId): $($raw[0].Message)" }
        if (-not ($Outcome.Findings | Where-Object { $_.RuleId -eq $Case.RuleId -and (Test-PathSuffix $_.File $Case.File) -and $_.Line -eq $Case.Line })) { return "no $($Case.RuleId) finding at $($Case.File):$($Case.Line)" }
        if ($Case.ErrorId -and -not ($Outcome.Errors | Where-Object { $_.ErrorId -eq $Case.ErrorId -and (Test-PathSuffix $_.File $Case.File) })) { return "no $($Case.ErrorId) ErrorRecord naming $($Case.File)" }
        if ($Case.Secret -and (($Outcome.Findings.Message + $Outcome.Errors.Message + $Outcome.Errors.Target) -match [regex]::Escape($Case.Secret))) { return 'the secret is shown' }
        $null
    }

    function Test-PathSuffix {
        param([string] $Path, [string] $Suffix)
        $Path -and ('/' + ($Path -replace '\\', '/')).EndsWith('/' + ($Suffix -replace '\\', '/'))
    }

    function Format-Findings {
        param($Findings)
        ($Findings | ForEach-Object { "$($_.RuleId) $($_.File):$($_.Line):$($_.Column) $($_.Message)" }) -join "`n  "
    }

    function Assert-Finished($Outcome, [string] $Name) {
        $failure = if ($Outcome.PSObject.Properties['Failure']) { $Outcome.Failure }
        $failure | Should -BeNullOrEmpty -Because "$Name must not crash or hang"
        @($Outcome.Raw) | Should -BeNullOrEmpty -Because "$Name must not show a raw .NET exception"
    }
}

AfterAll {
    # The report per class of hostile input, over the cases this run tried.
    $rows = foreach ($name in $script:Outcomes.Keys) {
        $case = $script:CaseInfo[$name]
        [pscustomobject]@{ Class = $case.Class; Name = $name; Problem = Get-CaseProblem $case $script:Outcomes[$name] }
    }
    foreach ($group in $rows | Group-Object Class | Sort-Object Name) {
        $handled = @($group.Group | Where-Object { -not $_.Problem }).Count
        Write-Host ("corpus class {0,-15} {1,3} tried, {2,3} handled" -f $group.Name, $group.Count, $handled)
    }
    foreach ($row in $rows | Where-Object Problem | Sort-Object Name) { Write-Host "  not handled: [$($row.Class)] $($row.Name): $($row.Problem)" }
    if ($script:CaseRunspace) { $script:CaseRunspace.Dispose() }
}

Describe 'Malformed soa-configs corpus' {
    It 'holds at least 60 cases (<CaseCount>)' -ForEach @(@{ CaseCount = $cases.Count }) {
        $CaseCount | Should -BeGreaterOrEqual 60
    }

    Context 'Test-PaastaConfig' {
        It '<Name>: reports <RuleId> at <File>:<Line>' -ForEach $cases {
            $outcome = Get-CaseOutcome $_
            Assert-Finished $outcome $Name
            $findings = @($outcome.Findings)
            $findings | Should -Not -BeNullOrEmpty
            # The engine lives in the module's own load context, so compare type names rather than [type]s.
            $findings | ForEach-Object { $_.Type | Should -Be 'Paasta.Validation.ConfigFinding' }
            $match = $findings | Where-Object { $_.RuleId -eq $RuleId -and (Test-PathSuffix $_.File $File) -and $_.Line -eq $Line }
            $because = "$Name expects $RuleId at ${File}:$Line$(if ($KnownIssue) { " [known issue: $KnownIssue]" }); got:`n  $(Format-Findings $findings)"
            $match | Should -Not -BeNullOrEmpty -Because $because
            "$(@($match)[0].Severity)" | Should -Be $Severity
            if ($Secret) { ($findings.Message -join "`n") | Should -Not -Match ([regex]::Escape($Secret)) }
        }

        It '<Name>: -Quiet returns $false for an error, $true for a warning' -ForEach $cases {
            $outcome = Get-CaseOutcome $_
            Assert-Finished $outcome $Name
            $result = @($outcome.Quiet)
            $result.Count | Should -Be 1
            $result[0] | Should -BeOfType [bool]
            # -Quiet allows warnings: a case whose only defect is a warning (an ignored unknown file) passes.
            $result[0] | Should -Be ($Severity -eq 'Warning')
        }

        It '-Quiet returns $true for the examples' {
            Test-PaastaConfig -SoaDir $script:Examples -Quiet | Should -BeTrue
        }
    }

    Context 'Get-PaastaInstance' {
        It '<Name>: writes a <ErrorId> ErrorRecord naming file and line, and the session keeps working' -ForEach $loadCases {
            $outcome = Get-CaseOutcome $_
            Assert-Finished $outcome $Name
            $err = @($outcome.Errors)
            $because = "$Name expects $ErrorId$(if ($KnownIssue) { " [known issue: $KnownIssue]" }); got: $(($err | ForEach-Object { "$($_.FullyQualifiedErrorId): $($_.Message)" }) -join '; ')"
            $record = @($err | Where-Object { $_.FullyQualifiedErrorId -like "$ErrorId,*" })[0]
            $record | Should -Not -BeNullOrEmpty -Because $because
            $record.ExceptionType | Should -Be 'Paasta.Errors.PaastaException'
            $record.ErrorId | Should -Be $ErrorId
            $record.Target | Should -Not -BeNullOrEmpty
            Test-PathSuffix $record.File $File | Should -BeTrue -Because "the error names $($record.File)"
            if ($Line -gt 0) { $record.Line | Should -BeGreaterThan 0 -Because $because }
            $record.Message | Should -Not -BeNullOrEmpty
            if ($Secret) { (($err.Message + $err.Target) -join "`n") | Should -Not -Match ([regex]::Escape($Secret)) }

            # The session is unharmed: the valid examples still load.
            $errors = $null
            $instances = @(Get-PaastaInstance -SoaDir $script:Examples -Service hello -ErrorVariable errors)
            $errors | Should -BeNullOrEmpty
            $instances.Count | Should -BeGreaterThan 0
        }

        It 'no ErrorRecord of <Name> is a raw .NET exception' -ForEach $cases {
            $outcome = Get-CaseOutcome $_
            Assert-Finished $outcome $Name
            foreach ($record in @($outcome.Errors)) {
                $record.ExceptionType | Should -Be 'Paasta.Errors.PaastaException' -Because "$Name wrote $($record.FullyQualifiedErrorId): $($record.Message)"
                $record.ErrorId | Should -Not -BeIn $script:EdgeIds -Because "$Name reached the cmdlet edge unconverted: $($record.Message)"
            }
        }
    }

    Context 'Service names that are paths' {
        It 'Get-PaastaInstance -Service <ServiceName> is refused with InvalidServiceName' -ForEach $pathNames {
            $err = $null
            $out = @(Get-PaastaInstance -SoaDir $script:Examples -Service $ServiceName -ErrorVariable err -ErrorAction SilentlyContinue)
            $out.Count | Should -Be 0
            @($err).Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -BeLike 'InvalidServiceName,*'
            $err[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err[0].TargetObject | Should -Be $ServiceName
        }

        It 'Get-PaastaService -Name <ServiceName> is refused with InvalidServiceName' -ForEach $pathNames {
            $err = $null
            $out = @(Get-PaastaService -SoaDir $script:Examples -Name $ServiceName -ErrorVariable err -ErrorAction SilentlyContinue)
            $out.Count | Should -Be 0
            $err[0].FullyQualifiedErrorId | Should -BeLike 'InvalidServiceName,*'
        }

        It 'Test-PaastaConfig -Service <ServiceName> is refused with InvalidServiceName and -Quiet is $false' -ForEach $pathNames {
            $err = $null
            $out = @(Test-PaastaConfig -SoaDir $script:Examples -Service $ServiceName -ErrorVariable err -ErrorAction SilentlyContinue)
            $out.Count | Should -Be 0
            $err[0].FullyQualifiedErrorId | Should -BeLike 'InvalidServiceName,*'
            Test-PaastaConfig -SoaDir $script:Examples -Service $ServiceName -Quiet | Should -BeFalse
        }

        It 'the session keeps working afterwards' {
            @(Get-PaastaInstance -SoaDir $script:Examples -Service hello).Count | Should -BeGreaterThan 0
        }
    }
}
