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
