#Requires -Version 7.4
# Every exported cmdlet ships real help: synopsis, description, every parameter, and at least two examples.
BeforeDiscovery {
    Import-Module $env:PAASTA_TEST_MODULE -Force
    $script:Commands = Get-Command -Module Paasta -CommandType Cmdlet | ForEach-Object { @{ Name = $_.Name } }
}

BeforeAll {
    Import-Module $env:PAASTA_TEST_MODULE -Force
    $script:Common = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters
}

Describe 'Help for <Name>' -ForEach $Commands {
    BeforeAll { $script:help = Get-Help $Name -Full }

    It 'has a synopsis and a description' {
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis | Should -Not -Match "^\s*$Name\s"   # the auto-generated fallback repeats the syntax
        ($help.description.Text -join ' ') | Should -Match '\w{4,}'
    }

    It 'documents every parameter' {
        $params = (Get-Command $Name).Parameters.Keys | Where-Object { $_ -notin $Common }
        foreach ($p in $params) {
            $text = ($help.parameters.parameter | Where-Object name -eq $p).description.Text -join ' '
            $text | Should -Match '\w{3,}' -Because "-$p of $Name needs a description"
        }
    }

    It 'shows the same SYNTAX as Get-Command -Syntax (switches without a value, -WhatIf and -Confirm included)' {
        $fromHelp = @(($help.syntax | Out-String -Width 10000) -split "`r?`n" | ForEach-Object Trim | Where-Object { $_ })
        $fromCommand = @((Get-Command $Name -Syntax) -split "`r?`n" | ForEach-Object Trim | Where-Object { $_ })
        $fromHelp | Should -Be $fromCommand
    }

    It 'lists -WhatIf and -Confirm under PARAMETERS when it supports them' {
        $supports = (Get-Command $Name).Parameters.ContainsKey('WhatIf')
        foreach ($p in 'WhatIf', 'Confirm') {
            $entry = $help.parameters.parameter | Where-Object name -eq $p
            if ($supports) { ($entry.description.Text -join ' ') | Should -Match '\w{4,}' -Because "-$p of $Name needs a description" }
            else { $entry | Should -BeNullOrEmpty }
        }
    }

    It 'states a default value for every parameter, the C# initialiser where there is one' {
        $instance = [Activator]::CreateInstance((Get-Command $Name).ImplementingType)
        foreach ($p in (Get-Command $Name).Parameters.Values | Where-Object Name -notin $Common) {
            $entry = $help.parameters.parameter | Where-Object name -eq $p.Name
            [string]$entry.defaultValue | Should -Not -BeNullOrEmpty -Because "-$($p.Name) of $Name needs a default value (None where there is none)"
            $initial = $instance.GetType().GetProperty($p.Name).GetValue($instance)
            if ($initial -is [switch]) { $entry.defaultValue | Should -Be 'False'; continue }
            $isSet = if ($initial -is [string]) { $initial -ne '' } elseif ($null -eq $initial -or $initial -is [System.Collections.ICollection]) { $false }
                     else { -not $initial.GetType().IsValueType -or $initial -ne [Activator]::CreateInstance($initial.GetType()) }
            if ($isSet) {
                $entry.defaultValue | Should -Be ([string]$initial) -Because "-$($p.Name) of $Name starts as $initial"
            }
        }
    }

    It 'lists under INPUTS what it takes from the pipeline' {
        $inputs = @($help.inputTypes.inputType)
        $names = @($inputs | ForEach-Object { $_.type.name })
        $text = ($inputs | ForEach-Object { $_.description.Text }) -join ' '
        $bound = @((Get-Command $Name).Parameters.Values | Where-Object Name -notin $Common | ForEach-Object {
                foreach ($a in $_.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] }) {
                    if ($a.ValueFromPipeline) { [pscustomobject]@{ Name = $_.Name; Type = $_.ParameterType.FullName; By = 'Value' } }
                    if ($a.ValueFromPipelineByPropertyName) { [pscustomobject]@{ Name = $_.Name; Type = $_.ParameterType.FullName; By = 'PropertyName' } }
                }
            })
        if (-not $bound) { $names | Should -Be @('None'); return }
        foreach ($b in $bound) {
            if ($b.By -eq 'Value') { $names | Should -Contain $b.Type -Because "-$($b.Name) binds $($b.Type) by value" }
            $text | Should -Match "\b$($b.Name)\b" -Because "-$($b.Name) binds from the pipeline"
        }
    }

    It 'has at least two examples that call it' {
        $examples = @($help.examples.example)
        $examples.Count | Should -BeGreaterOrEqual 2
        foreach ($e in $examples) {
            $e.code | Should -Match ([regex]::Escape($Name))
            ($e.remarks.Text -join ' ') | Should -Match '\w{4,}'
        }
    }
}

Describe 'about_Paasta' {
    It 'explains the concepts' {
        $text = Get-Help about_Paasta | Out-String
        foreach ($concept in 'SOA-CONFIGS', 'DEPLOY GROUPS', 'BOUNCE METHODS', 'DRAIN METHODS', 'THE PIPELINE') {
            $text | Should -Match $concept
        }
    }
}

Describe 'about_Paasta, section CONFIGURATION' {
    BeforeAll {
        $text = (Get-Help about_Paasta | Out-String) -split "`r?`n"
        $start = [array]::IndexOf($text, ($text | Where-Object { $_ -match '^\s*CONFIGURATION\s*$' } | Select-Object -First 1))
        $script:Section = if ($start -ge 0) { $text[$start..($text.Count - 1)] | Select-Object -Skip 1 | ForEach-Object -Begin { $done = $false } -Process {
                if ($_ -match '^\s{0,2}[A-Z][A-Z ]+$') { $done = $true }
                if (-not $done) { $_ } } } else { @() }
        # The environment variables as the engine resolves them (Paasta.Core loads in the module's own context).
        $null = Get-PaastaConfiguration -Effective
        $core = [System.Runtime.Loader.AssemblyLoadContext]::All.Assemblies | Where-Object { $_.GetName().Name -eq 'Paasta.Core' } | Select-Object -First 1
        $script:Variables = $core.GetType('Paasta.Settings.SettingNames').GetProperty('EnvironmentVariables').GetValue($null)
        $common = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters
        $script:Settings = (Get-Command Set-PaastaConfiguration).Parameters.Keys | Where-Object { $_ -notin $common -and $_ -ne 'PassThru' }
    }

    It 'exists and states the precedence' {
        $Section.Count | Should -BeGreaterThan 10
        ($Section -join ' ') | Should -Match 'parameter.*environment variable.*settings file.*built-in default'
    }

    It 'lists every setting with the environment variable the code reads' {
        $Settings.Count | Should -Be $Variables.Count
        foreach ($name in $Settings) {
            $Variables.ContainsKey($name) | Should -BeTrue -Because "the engine knows $name's variable"
            $row = $Section | Where-Object { $_ -match "^\s+$name\s+(\S+)" } | Select-Object -First 1
            $row | Should -Not -BeNullOrEmpty -Because "about_Paasta's table needs a row for $name"
            ($row -split '\s+' | Where-Object { $_ })[1] | Should -Be $Variables[$name] -Because "$name is overridden by `$env:$($Variables[$name])"
        }
    }
}

