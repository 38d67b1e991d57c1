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

Describe 'Deploy group completion' {
    It 'completes the deploy groups of the named service' {
        $examples = Join-Path $env:PAASTA_REPO_ROOT 'examples/soa-configs'
        $line = "Publish-PaastaDeployment -SoaDir $examples -Service example_service -DeployGroup prod."
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be @('prod.canary', 'prod.non_canary')
    }
}
