#Requires -Version 7.4
# The malformed soa-configs corpus (tests/corpus/malformed/NN-name/, one defect per case, described by case.json):
# Test-PaastaConfig reports every case with its rule, file and line; Get-PaastaInstance turns load-level
# defects into ErrorRecords with stable ErrorIds; nothing crashes or hangs, and the session keeps working.

BeforeDiscovery {
    $repoRoot = if ($env:PAASTA_REPO_ROOT) { $env:PAASTA_REPO_ROOT } else { (Resolve-Path (Join-Path $PSScriptRoot '..')).Path }
    $corpusDir = Join-Path $repoRoot 'tests/corpus/malformed'
    $cases = @(foreach ($dir in Get-ChildItem -LiteralPath $corpusDir -Directory | Sort-Object Name) {
            $case = Get-Content -LiteralPath (Join-Path $dir.FullName 'case.json') -Raw | ConvertFrom-Json
            @{
                Name       = $dir.Name
                CasePath   = $dir.FullName
                Service    = if ($case.service) { $case.service } else { 'svc' }
                RuleId     = $case.ruleId
                File       = $case.file
                Line       = [int]$case.line
                ErrorId    = $case.errorId
                Generate   = $case.generate
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

    # A throwaway copy of a case (the corpus itself is never touched), plus its generated file when it has one.
    function New-CaseCopy {
        param([string] $CasePath, [string] $Name, [string] $Generate, [string] $File)
        $copy = Join-Path $TestDrive $Name
        if (Test-Path -LiteralPath $copy) { Remove-Item -LiteralPath $copy -Recurse -Force }
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
        $copy
    }

    function Test-PathSuffix {
        param([string] $Path, [string] $Suffix)
        $Path -and ('/' + ($Path -replace '\\', '/')).EndsWith('/' + ($Suffix -replace '\\', '/'))
    }

    function Format-Findings {
        param($Findings)
        ($Findings | ForEach-Object { "$($_.RuleId) $($_.File):$($_.Line):$($_.Column) $($_.Message)" }) -join "`n  "
    }
}

Describe 'Malformed soa-configs corpus' {
    It 'holds at least 60 cases (<CaseCount>)' -ForEach @(@{ CaseCount = $cases.Count }) {
        $CaseCount | Should -BeGreaterOrEqual 60
    }

    Context 'Test-PaastaConfig' {
        It '<Name>: reports <RuleId> at <File>:<Line>' -ForEach $cases {
            $copy = New-CaseCopy -CasePath $CasePath -Name $Name -Generate $Generate -File $File
            try {
                $elapsed = Measure-Command { $script:findings = @(Test-PaastaConfig -SoaDir $copy -Service $Service) }
                if ($Generate) { Write-Host "    ${Name}: Test-PaastaConfig took $([int]$elapsed.TotalMilliseconds) ms" }
                $findings | Should -Not -BeNullOrEmpty
                # The engine lives in the module's own load context, so compare type names rather than [type]s.
                $findings | ForEach-Object { $_.GetType().FullName | Should -Be 'Paasta.Validation.ConfigFinding' }
                $match = $findings | Where-Object { $_.RuleId -eq $RuleId -and (Test-PathSuffix $_.File $File) -and $_.Line -eq $Line }
                $because = "$Name expects $RuleId at ${File}:$Line$(if ($KnownIssue) { " [known issue: $KnownIssue]" }); got:`n  $(Format-Findings $findings)"
                $match | Should -Not -BeNullOrEmpty -Because $because
                "$(@($match)[0].Severity)" | Should -Be $Severity
            }
            finally { Remove-Item -LiteralPath $copy -Recurse -Force -ErrorAction SilentlyContinue }
        }

        It '<Name>: -Quiet returns $false for an error, $true for a warning' -ForEach $cases {
            $copy = New-CaseCopy -CasePath $CasePath -Name $Name -Generate $Generate -File $File
            try {
                $result = @(Test-PaastaConfig -SoaDir $copy -Service $Service -Quiet)
                $result.Count | Should -Be 1
                $result[0] | Should -BeOfType [bool]
                # -Quiet allows warnings: a case whose only defect is a warning (an ignored unknown file) passes.
                $result[0] | Should -Be ($Severity -eq 'Warning')
            }
            finally { Remove-Item -LiteralPath $copy -Recurse -Force -ErrorAction SilentlyContinue }
        }

        It '-Quiet returns $true for the examples' {
            Test-PaastaConfig -SoaDir $script:Examples -Quiet | Should -BeTrue
        }
    }

    Context 'Get-PaastaInstance' {
        It '<Name>: writes a <ErrorId> ErrorRecord naming file and line, and the session keeps working' -ForEach $loadCases {
            $copy = New-CaseCopy -CasePath $CasePath -Name $Name -Generate $Generate -File $File
            try {
                $err = $null
                $elapsed = Measure-Command {
                    $null = Get-PaastaInstance -SoaDir $copy -Service $Service -ErrorVariable err -ErrorAction SilentlyContinue
                }
                if ($Generate) { Write-Host "    ${Name}: Get-PaastaInstance took $([int]$elapsed.TotalMilliseconds) ms" }
                $because = "$Name expects $ErrorId$(if ($KnownIssue) { " [known issue: $KnownIssue]" }); got: $(($err | ForEach-Object { "$($_.FullyQualifiedErrorId): $($_.Exception.Message)" }) -join '; ')"
                $record = @($err | Where-Object { $_ -is [Management.Automation.ErrorRecord] -and $_.FullyQualifiedErrorId -like "$ErrorId,*" })[0]
                $record | Should -Not -BeNullOrEmpty -Because $because
                $record.Exception.GetType().FullName | Should -Be 'Paasta.Errors.PaastaException'
                $record.Exception.ErrorId | Should -Be $ErrorId
                $record.TargetObject | Should -Not -BeNullOrEmpty
                Test-PathSuffix $record.Exception.File $File | Should -BeTrue -Because "the error names $($record.Exception.File)"
                if ($Line -gt 0) { $record.Exception.Line | Should -BeGreaterThan 0 -Because $because }
                $record.Exception.Message | Should -Not -BeNullOrEmpty
            }
            finally { Remove-Item -LiteralPath $copy -Recurse -Force -ErrorAction SilentlyContinue }

            # The session is unharmed: the valid examples still load.
            $err = $null
            $instances = @(Get-PaastaInstance -SoaDir $script:Examples -Service hello -ErrorVariable err)
            $err | Should -BeNullOrEmpty
            $instances.Count | Should -BeGreaterThan 0
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
