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

