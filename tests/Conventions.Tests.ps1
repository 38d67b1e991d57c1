#Requires -Version 7.4
# Conventions every exported cmdlet keeps (issue 10): safety switches, a catalogue of stable ErrorIds.
BeforeDiscovery {
    Import-Module $env:PAASTA_TEST_MODULE -Force
    # Verbs whose cmdlets change something outside the session.
    $script:Changing = 'New', 'Set', 'Start', 'Stop', 'Restart', 'Publish', 'Undo', 'Sync', 'Send', 'Build', 'Register', 'Unregister', 'Remove', 'Invoke', 'Update', 'Add'
    $script:StateChanging = Get-Command -Module Paasta -CommandType Cmdlet | Where-Object Verb -in $Changing | ForEach-Object { @{ Name = $_.Name; Verb = $_.Verb } }
    $script:Destructive = $StateChanging | Where-Object { $_.Verb -in 'Stop', 'Undo', 'Remove', 'Unregister' }
}

BeforeAll {
    Import-Module $env:PAASTA_TEST_MODULE -Force
    $script:Src = Join-Path $env:PAASTA_REPO_ROOT 'src'

    # ErrorIds and finding RuleIds as the source code raises them, with the category each is raised with.
    function Get-SourceErrorIds {
        $ids = @{}
        function Add([string] $id, [string] $category, [string] $where) {
            if (-not $ids.ContainsKey($id)) { $ids[$id] = [Collections.Generic.HashSet[string]]::new() }
            $null = $ids[$id].Add($category)
        }
        foreach ($file in Get-ChildItem $Src -Recurse -Filter *.cs) {
            $text = Get-Content -Raw $file.FullName
            foreach ($m in [regex]::Matches($text, '"([A-Z][A-Za-z0-9]+)",\s*PaastaErrorKind\.(\w+)')) { Add $m.Groups[1].Value $m.Groups[2].Value $file.Name }
            foreach ($m in [regex]::Matches($text, '\bError\("([A-Z][A-Za-z0-9]+)"([^;]*);')) {
                $kind = [regex]::Match($m.Groups[2].Value, 'kind:\s*PaastaErrorKind\.(\w+)')
                Add $m.Groups[1].Value $(if ($kind.Success) { $kind.Groups[1].Value } else { 'ParserError' }) $file.Name
            }
            foreach ($m in [regex]::Matches($text, '\("([A-Z][A-Za-z0-9]+)",\s*PaastaErrorKind\.(\w+)\)')) { Add $m.Groups[1].Value $m.Groups[2].Value $file.Name }
            foreach ($m in [regex]::Matches($text, '"([A-Z][A-Za-z0-9]+)",\s*FindingSeverity\.')) { Add $m.Groups[1].Value 'Finding' $file.Name }
            foreach ($m in [regex]::Matches($text, '\bAt\("([A-Z][A-Za-z0-9]+)"')) { Add $m.Groups[1].Value 'Finding' $file.Name }
            foreach ($m in [regex]::Matches($text, '=>\s*"((?:WrongType|MissingKey|InvalidValue|ConflictingKeys|SchemaViolation|UnknownKey))"')) { Add $m.Groups[1].Value 'Finding' $file.Name }
            foreach ($m in [regex]::Matches($text, 'new ErrorRecord\([^;]*?"([A-Z][A-Za-z0-9]+)",\s*ErrorCategory\.(\w+)')) { Add $m.Groups[1].Value $m.Groups[2].Value $file.Name }
        }
        $ids
    }

    function Get-CatalogueErrorIds {
        $catalogue = @{}
        $path = Join-Path (Split-Path $env:PAASTA_TEST_MODULE) 'en-US/about_Paasta_Errors.help.txt'
        foreach ($line in Get-Content $path) {
            if ($line -match '^\s{4}([A-Z][A-Za-z0-9]+)\s+([A-Z][A-Za-z]+)\s{2,}\S') {
                if ($Matches[1] -in 'ErrorId', 'RuleId') { continue }
                $catalogue[$Matches[1]] = $Matches[2]
            }
        }
        $catalogue
    }
}

Describe 'Safety switches on <Name>' -ForEach $StateChanging {
    It 'supports -WhatIf and -Confirm' {
        $cmd = Get-Command $Name
        $cmd.Parameters.Keys | Should -Contain 'WhatIf'
        $cmd.Parameters.Keys | Should -Contain 'Confirm'
    }

}

Describe 'Confirmation by default for <Name>' -ForEach $Destructive {
    It 'has ConfirmImpact High' {
        $attr = (Get-Command $Name).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $true)[0]
        $attr.ConfirmImpact | Should -Be 'High'
    }
}

Describe 'ErrorId catalogue (about_Paasta_Errors)' {
    BeforeAll {
        $script:source = Get-SourceErrorIds
        $script:catalogue = Get-CatalogueErrorIds
    }

    It 'finds the ErrorIds in the source (the scanner itself works)' {
        $source.Keys | Should -Contain 'ServiceNotFound'
        $source.Keys | Should -Contain 'YamlDuplicateKey'
        $source.Keys | Should -Contain 'UnknownKey'
        $source.Count | Should -BeGreaterThan 50
    }

    It 'names every ErrorId in PascalCase, each with one category' {
        foreach ($id in $source.Keys) {
            $id | Should -MatchExactly '^[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)*$'
            @($source[$id]).Count | Should -Be 1 -Because "$id is raised with categories $($source[$id] -join ', ')"
        }
    }

    It 'documents every ErrorId the code raises, with its category' {
        foreach ($id in $source.Keys) {
            $catalogue.Keys | Should -Contain $id -Because "$id is raised in src/ and must be listed in docs/en-US/about_Paasta_Errors.help.txt"
            $catalogue[$id] | Should -Be (@($source[$id])[0]) -Because "the catalogue's category for $id"
        }
    }

    It 'lists no ErrorId the code no longer raises' {
        foreach ($id in $catalogue.Keys) { $source.Keys | Should -Contain $id -Because "$id is documented but not raised anywhere" }
    }

    It 'is shipped as help' {
        (Get-Help about_Paasta_Errors | Out-String) | Should -Match 'YamlDuplicateKey'
    }
}

Describe 'Argument completers on the parameters that name soa-configs things' {
    BeforeAll {
        $script:Expected = [ordered]@{
            Service      = 'ServiceCompleter'
            Instance     = 'InstanceCompleter'
            Cluster      = 'ClusterCompleter'
            DeployGroup  = 'DeployGroupCompleter'
            InstanceType = 'InstanceTypeCompleter'
        }
        $script:Checked = foreach ($cmd in Get-Command -Module Paasta -CommandType Cmdlet) {
            foreach ($p in $cmd.Parameters.Values | Where-Object Name -in $Expected.Keys) {
                $completer = $p.Attributes | Where-Object { $_ -is [System.Management.Automation.ArgumentCompleterAttribute] } | Select-Object -First 1
                [pscustomobject]@{ Key = "$($cmd.Name) -$($p.Name)"; Wanted = $Expected[$p.Name]; Actual = $completer.Type.Name }
            }
        }
        $script:Violations = @($Checked | Where-Object { $_.Actual -ne $_.Wanted } | ForEach-Object Key)
    }

    It 'walks the exported cmdlets (the scan itself works)' {
        $Checked.Count | Should -BeGreaterThan 40
        $Checked.Key | Should -Contain 'Get-PaastaInstance -InstanceType'
        $Checked.Key | Should -Contain 'Publish-PaastaDeployment -DeployGroup'
    }

    It 'gives every Service, Instance, Cluster, DeployGroup and InstanceType parameter its completer' {
        $unexpected = $Violations
        $details = $Checked | Where-Object Key -in $unexpected | ForEach-Object { "$($_.Key): wants [ArgumentCompleter(typeof($($_.Wanted)))], has $(if ($_.Actual) { $_.Actual } else { 'none' })" }
        $unexpected | Should -BeNullOrEmpty -Because ($details -join '; ')
    }
}

Describe 'Service parameters bind the Name of Get-PaastaService output' {
    BeforeAll {
        # Cmdlets whose -Service deliberately does not: the reason is the value.
        $script:Exempt = @{
            'Invoke-PaastaDrainMethod' = '-Name is the drain method, and piped pods carry their own Service'
        }
        $script:WithService = Get-Command -Module Paasta -CommandType Cmdlet | Where-Object { $_.Parameters.ContainsKey('Service') }
        $script:Violations = @(foreach ($cmd in $WithService) {
                $p = $cmd.Parameters['Service']
                $byName = @($p.ParameterSets.Values | Where-Object ValueFromPipelineByPropertyName).Count -gt 0
                if (-not ($p.Aliases -contains 'Name' -and $byName)) { $cmd.Name }
            })
    }

    It 'finds the cmdlets with a -Service (the scan itself works)' {
        $WithService.Count | Should -BeGreaterThan 15
        $WithService.Name | Should -Contain 'Publish-PaastaDeployment'
    }

    It 'gives every -Service the alias Name and binding by property name' {
        $unexpected = @($Violations | Where-Object { -not $Exempt.ContainsKey($_) })
        $unexpected | Should -BeNullOrEmpty -Because 'Get-PaastaService | <cmdlet> binds -Service from the Name property only through [Alias("Name")] with ValueFromPipelineByPropertyName'
    }

    It 'keeps the exemptions to cmdlets that really lack it' {
        $Exempt.Count | Should -BeGreaterThan 0
        foreach ($entry in $Exempt.Keys) {
            $entry | Should -BeIn $Violations -Because "$entry binds Name now: remove its exemption"
        }
    }

    It 'really binds: Get-PaastaService | Get-PaastaDeployment reads the piped service' {
        $examples = Join-Path $env:PAASTA_REPO_ROOT 'examples/soa-configs'
        Get-PaastaService -SoaDir $examples -Name hello | Get-PaastaDeployment -SoaDir $examples -ErrorVariable err -ErrorAction SilentlyContinue
        # hello has no deployments.json: the error names the piped service, so it was bound.
        $err[0].FullyQualifiedErrorId | Should -Be 'DeploymentsFileNotFound,Paasta.Commands.GetPaastaDeployment'
        $err[0].Exception.Message | Should -Match 'hello'
    }
}

Describe 'TabExpansion2 completes each kind from soa-configs' {
    BeforeAll {
        $script:Examples = Join-Path $env:PAASTA_REPO_ROOT 'examples/soa-configs'
        $script:savedSoa = $env:PAASTA_SOA_DIR
        $script:savedConfig = $env:PAASTA_CONFIG
        $env:PAASTA_CONFIG = Join-Path $TestDrive 'no-settings.json'
        function Complete([string] $line) { (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText }
    }
    AfterAll { $env:PAASTA_SOA_DIR = $savedSoa; $env:PAASTA_CONFIG = $savedConfig }
    BeforeEach { $env:PAASTA_SOA_DIR = $null }

    It 'Service (Invoke-PaastaDrainMethod, from $env:PAASTA_SOA_DIR)' {
        $env:PAASTA_SOA_DIR = $Examples
        Complete 'Invoke-PaastaDrainMethod -Name noop -Service ex' | Should -Be @('example_service')
    }

    It 'Instance (Invoke-PaastaDrainMethod, of the service already typed)' {
        $env:PAASTA_SOA_DIR = $Examples
        Complete 'Invoke-PaastaDrainMethod -Name noop -Service hello -Instance ' | Should -Be @('canary', 'greet', 'interactive', 'main', 'nightly_report.collect', 'nightly_report.publish')
        Complete 'Invoke-PaastaDrainMethod -Name noop -Service example_service -Instance ' | Should -Be @('canary', 'main')
    }

    It 'Cluster (Set-PaastaConfiguration, from the -SoaDir being saved)' {
        Complete "Set-PaastaConfiguration -SoaDir $Examples -Cluster " | Should -Be @('local', 'pnw-prod')
        Complete "Set-PaastaConfiguration -SoaDir $Examples -Cluster pn" | Should -Be @('pnw-prod')
    }

    It 'Instance, of the several services and clusters already typed (Get-PaastaInstance)' {
        Complete "Get-PaastaInstance -SoaDir $Examples -Service hello, example_service -Cluster pnw-prod, 'no*' -Instance " | Should -Be @('canary', 'main')
        Complete "Get-PaastaJob -SoaDir $Examples -Service hello -Cluster 'pnw*', 'lo*' -Job " | Should -Be @('nightly_report')
    }

    It 'DeployGroup (Get-PaastaDeployment, of the service already typed)' {
        Complete "Get-PaastaDeployment -SoaDir $Examples -Service example_service -DeployGroup " | Should -Be @('prod.canary', 'prod.non_canary')
        Complete "Publish-PaastaDeployment -SoaDir $Examples -Service example_service -DeployGroup prod." | Should -Be @('prod.canary', 'prod.non_canary')
    }

    It 'InstanceType (Get-PaastaInstance), even where no soa-configs exist' {
        $env:PAASTA_SOA_DIR = Join-Path $TestDrive 'no-soa-configs-here'
        Complete 'Get-PaastaInstance -InstanceType ' | Should -Be @('adhoc', 'eks', 'kubernetes', 'tron')
        # -InstanceType also has a ValidateSet, which PowerShell falls back to when a completer answers nothing,
        # so ask the completer itself too.
        $completer = [Paasta.Commands.InstanceTypeCompleter]::new()
        $completer.CompleteArgument('Get-PaastaInstance', 'InstanceType', 'k', $null, @{}).CompletionText | Should -Be @('kubernetes')
    }

    It 'drain methods (Get-, Invoke-PaastaDrainMethod -Name): built-in and registered ones, not the test methods unless -IncludeTestMethods' {
        Register-PaastaDrainMethod -Name completer_probe -Drain { } -IsSafeToKill { $true }
        try {
            Complete 'Get-PaastaDrainMethod -Name ' | Should -Be @('completer_probe', 'hacheck', 'http', 'noop')
            Complete 'Invoke-PaastaDrainMethod -Name h' | Should -Be @('hacheck', 'http')
            Complete 'Invoke-PaastaDrainMethod -Name cr' | Should -BeNullOrEmpty
            Complete 'Get-PaastaDrainMethod -IncludeTestMethods -Name ' | Should -Be @('completer_probe', 'crashy_drain', 'hacheck', 'http', 'noop', 'test')
            # What can be removed or replaced: the registered ones only.
            Complete 'Unregister-PaastaDrainMethod -Name ' | Should -Be @('completer_probe')
            Complete 'Register-PaastaDrainMethod -Force -Name comp' | Should -Be @('completer_probe')
        }
        finally { Unregister-PaastaDrainMethod -Name completer_probe -Confirm:$false }
    }

    It 'answers nothing, rather than failing, where no soa-configs exist' {
        $env:PAASTA_SOA_DIR = Join-Path $TestDrive 'no-soa-configs-here'
        Complete 'Invoke-PaastaDrainMethod -Name noop -Service ' | Should -Not -Contain 'hello'
        [Paasta.Commands.ServiceCompleter]::new().CompleteArgument('Get-PaastaService', 'Name', '', $null, @{}) | Should -BeNullOrEmpty
    }
}

Describe 'Selection parameters: -Service, -Cluster and -Instance follow one rule (docs/ARCHITECTURE.md, "Parameters")' {
    BeforeAll {
        # Readers and reconcilers act per instance over a selection: their -Service, -Cluster and -Instance take
        # several names with wildcards. Every other cmdlet acts on one target and takes one literal name.
        $script:SelectingVerbs = 'Get', 'Test', 'ConvertTo', 'Sync', 'Wait', 'Watch'
        # Where the verb says otherwise: 'Cmdlet' or 'Cmdlet -Parameter', the kind it is, and why.
        $script:Exempt = @{
            'New-PaastaDeployments'               = 'Selection', 'regenerates the deployments.json of every service selected (-Service * is what the soa-configs primary runs)'
            'Start-PaastaInstance'                = 'Selection', 'writes one start tag per instance selected, the instances Get-PaastaInstance -Service -Cluster -Instance gives'
            'Stop-PaastaInstance'                 = 'Selection', 'writes one stop tag per instance selected (it asks for each: ConfirmImpact High)'
            'Restart-PaastaInstance'              = 'Selection', 'writes one start tag per instance selected'
            'Test-PaastaService'                  = 'Single', 'checks one checkout (-Path) against the contract of the one service it builds'
            'ConvertTo-PaastaTronConfig -Cluster' = 'Single', 'a Tron cluster is one Tron master: its namespaces (MASTER first with -IncludeMaster) are generated for that master'
            'Sync-PaastaTronNamespace -Cluster'   = 'Single', 'the namespaces go to one Tron master (-TronUrl), which serves one Tron cluster'
        }
        $script:Checked = foreach ($cmd in Get-Command -Module Paasta -CommandType Cmdlet) {
            $params = $cmd.Parameters.Values | Where-Object { $_.Name -in 'Service', 'Cluster', 'Instance' -or ($_.Aliases | Where-Object { $_ -in 'Service', 'Cluster', 'Instance' }) }
            foreach ($p in $params) {
                $key = "$($cmd.Name) -$($p.Name)"
                $byVerb = if ($cmd.Verb -in $SelectingVerbs) { 'Selection' } else { 'Single' }
                $exemption = if ($Exempt.ContainsKey($key)) { $Exempt[$key] } elseif ($Exempt.ContainsKey($cmd.Name)) { $Exempt[$cmd.Name] }
                $wanted = if ($exemption) { $exemption[0] } else { $byVerb }
                $wild = [bool]($p.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] })
                $actual = if ($p.ParameterType -eq [string[]] -and $wild) { 'Selection' } elseif ($p.ParameterType -eq [string] -and -not $wild) { 'Single' } else { "$($p.ParameterType.Name) with wildcards $wild" }
                [pscustomobject]@{ Key = $key; Command = $cmd.Name; ByVerb = $byVerb; Wanted = $wanted; Actual = $actual }
            }
        }
    }

    It 'walks the exported cmdlets (the scan itself works)' {
        $Checked.Count | Should -BeGreaterThan 40
        $Checked.Key | Should -Contain 'Get-PaastaService -Name'   # -Name, alias Service
        $Checked.Key | Should -Contain 'Sync-PaastaJob -Job'       # -Job, alias Instance
        $Checked.Key | Should -Contain 'Invoke-PaastaLocalRun -Instance'
    }

    It 'gives a reader or reconciler string[] with [SupportsWildcards()], and a single-target action one literal string' {
        $wrong = @($Checked | Where-Object { $_.Actual -ne $_.Wanted } | ForEach-Object { "$($_.Key): wants $($_.Wanted), is $($_.Actual)" })
        $wrong | Should -BeNullOrEmpty -Because ($wrong -join '; ')
    }

    It 'keeps only exemptions that change the verb''s answer, each with a reason' {
        foreach ($key in $Exempt.Keys) {
            $rows = @($Checked | Where-Object { $_.Key -eq $key -or $_.Command -eq $key })
            $rows | Should -Not -BeNullOrEmpty -Because "$key names no exported cmdlet or parameter"
            @($rows | Where-Object { $_.ByVerb -ne $Exempt[$key][0] }) | Should -Not -BeNullOrEmpty -Because "$key is $($Exempt[$key][0]) by its verb already: remove its exemption"
            $Exempt[$key][1].Length | Should -BeGreaterThan 20 -Because "$key needs its reason"
        }
    }
}

Describe 'Parameter names' {
    BeforeAll {
        $script:Common = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters
        $script:All = foreach ($cmd in Get-Command -Module Paasta -CommandType Cmdlet) {
            foreach ($p in $cmd.Parameters.Values | Where-Object Name -notin $Common) { [pscustomobject]@{ Command = $cmd.Name; Parameter = $p } }
        }
    }

    It 'name a time limit in seconds -TimeoutSec, never -Timeout (kept as an alias only where it was the name)' {
        @($All | Where-Object { $_.Parameter.Name -eq 'Timeout' } | ForEach-Object Command) | Should -BeNullOrEmpty
        foreach ($t in $All | Where-Object { $_.Parameter.Name -eq 'TimeoutSec' }) { $t.Parameter.ParameterType | Should -Be ([int]) -Because "$($t.Command) -TimeoutSec counts seconds" }
        foreach ($name in 'Sync-PaastaInstance', 'Wait-PaastaDeployment') { (Get-Command $name).Parameters['TimeoutSec'].Aliases | Should -Contain 'Timeout' -Because "scripts call $name -Timeout" }
    }

    It 'are singular for parameters that take several values (PowerShell''s naming guideline)' {
        # Where the plural is the thing's own name: the reason is the value.
        $exempt = @{ 'Test-PaastaReplication -HaproxyStats' = 'HAProxy calls its status page and socket command "stats"' }
        $plural = @($All | Where-Object { $_.Parameter.ParameterType.IsArray -and $_.Parameter.Name -match '(?<!s)s$' } |
                ForEach-Object { "$($_.Command) -$($_.Parameter.Name)" } | Where-Object { -not $exempt.ContainsKey($_) })
        $plural | Should -BeNullOrEmpty -Because ($plural -join ', ')
        foreach ($key in $exempt.Keys) { $All | Where-Object { "$($_.Command) -$($_.Parameter.Name)" -eq $key } | Should -Not -BeNullOrEmpty -Because "$key is gone: remove its exemption" }
    }

    It 'keep the plural names Send-PaastaSensuEvent had as aliases, and -ClusterName as an alias of -Cluster' {
        $p = (Get-Command Send-PaastaSensuEvent).Parameters
        $p['Tag'].Aliases | Should -Contain 'Tags'
        $p['IrcChannel'].Aliases | Should -Contain 'IrcChannels'
        $p['SlackChannel'].Aliases | Should -Contain 'SlackChannels'
        $p['Dependency'].Aliases | Should -Contain 'Dependencies'
        $p['Cluster'].Aliases | Should -Contain 'ClusterName'
        $p.Keys | Should -Not -Contain 'ClusterName'
    }
}

Describe 'Command names' {
    It 'exports no alias that reads as a sibling of cmdlets it is not (an alias Verb-Noun resolves to a cmdlet of that noun)' {
        $nouns = (Get-Command -Module Paasta -CommandType Cmdlet).Noun | Sort-Object -Unique
        $misleading = @(foreach ($alias in Get-Command -Module Paasta -CommandType Alias) {
                $noun = ($alias.Name -split '-', 2)[1]
                if ($noun -and $noun -in $nouns -and $alias.ResolvedCommand.Noun -ne $noun) { "$($alias.Name) -> $($alias.ResolvedCommand.Name)" }
            })
        $misleading | Should -BeNullOrEmpty -Because ($misleading -join ', ')
    }

    It 'tells soa-configs (Test-PaastaConfig) from Paasta''s own settings (Get-/Set-PaastaConfiguration) in each synopsis' {
        (Get-Help Test-PaastaConfig).Synopsis | Should -Match 'soa-configs'
        foreach ($name in 'Get-PaastaConfiguration', 'Set-PaastaConfiguration') {
            $synopsis = (Get-Help $name).Synopsis
            $synopsis | Should -Match 'settings'
            $synopsis | Should -Match 'not soa-configs' -Because "$name could be taken for the soa-configs cmdlet Test-PaastaConfig"
        }
        (Get-Help about_Paasta | Out-String) | Should -Match '(?s)Test-PaastaConfig.{0,400}Get-PaastaConfiguration|Get-PaastaConfiguration.{0,400}Test-PaastaConfig'
    }
}

Describe 'The test run itself' {
    It 'keeps the module''s cache in a temporary folder of its own, out of the user''s home' {
        $env:XDG_CACHE_HOME | Should -Not -BeNullOrEmpty
        $env:XDG_CACHE_HOME | Should -BeLike (Join-Path ([IO.Path]::GetTempPath()) 'paasta-test-cache-*')
        Test-Path -PathType Container $env:XDG_CACHE_HOME | Should -BeTrue
    }
}
