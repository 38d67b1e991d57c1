#Requires -Version 7.4
# The module as users get it: manifest, exported commands, formatting, completion, settings, isolation.
BeforeAll {
    Import-Module $env:PAASTA_TEST_MODULE -Force
    Import-Module (Join-Path $PSScriptRoot 'Paasta.TestUtils.psm1') -Force
    $script:Examples = Join-Path $env:PAASTA_REPO_ROOT 'examples/soa-configs'
    $script:ModuleDir = Split-Path $env:PAASTA_TEST_MODULE
    # Absolute addresses the manifest and the examples may name: each was opened and answered.
    $script:KnownAddresses = @(
        'https://www.apache.org/licenses/LICENSE-2.0'   # the text of the module's licence (LICENSE)
        'https://example.com/'                           # the domain reserved for examples (RFC 2606)
    )
}

Describe 'Module manifest' {
    It 'passes Test-ModuleManifest' {
        $m = Test-ModuleManifest -Path $env:PAASTA_TEST_MODULE
        $m.Name | Should -Be 'Paasta'
        $m.PowerShellVersion | Should -Be ([version]'7.4')
        $m.CompatiblePSEditions | Should -Be @('Core')
        $m.PrivateData.PSData.Tags | Should -Contain 'PaaSTA'
        $m.PrivateData.PSData.LicenseUri | Should -Not -BeNullOrEmpty
    }

    It 'carries what the Gallery shows: tags without spaces, absolute URIs, release notes for this version' {
        $data = Import-PowerShellDataFile $env:PAASTA_TEST_MODULE
        $psData = $data.PrivateData.PSData
        foreach ($tag in $psData.Tags) { $tag | Should -Not -Match '\s' -Because 'the Gallery splits tags on spaces' }
        $psData.Tags | Should -Contain 'PSEdition_Core'
        foreach ($key in 'ProjectUri', 'LicenseUri', 'IconUri' | Where-Object { $psData.ContainsKey($_) }) {
            [uri]::IsWellFormedUriString($psData[$key], 'Absolute') | Should -BeTrue -Because "$key must be an absolute URI"
            $psData[$key] | Should -BeIn $KnownAddresses -Because "$key must name an address that exists (add it to KnownAddresses only once you have opened it)"
        }
        # Notes start with the version they describe, so a version bump without new notes fails here.
        $psData.ReleaseNotes | Should -Match "^## $([regex]::Escape($data.ModuleVersion))\b"
        foreach ($cmd in 'Sync-PaastaInstance', 'New-PaastaDeployments', 'Invoke-PaastaLocalRun', 'Set-PaastaConfiguration') { $psData.ReleaseNotes | Should -Match $cmd }
    }

    It 'takes its release notes from CHANGELOG.md, the one place they are kept' {
        $data = Import-PowerShellDataFile $env:PAASTA_TEST_MODULE
        $changelog = Get-Content -Raw (Join-Path $env:PAASTA_REPO_ROOT 'CHANGELOG.md')
        $section = [regex]::Match($changelog, "(?ms)^## $([regex]::Escape($data.ModuleVersion))\b.*?(?=^## |\z)").Value.Trim()
        $section | Should -Not -BeNullOrEmpty -Because "CHANGELOG.md needs a '## $($data.ModuleVersion)' section"
        ($data.PrivateData.PSData.ReleaseNotes -replace '\r', '') | Should -Be ($section -replace '\r', '')
        (Get-Content -Raw (Join-Path $env:PAASTA_REPO_ROOT 'Paasta.psd1')) | Should -Not -Match '(?m)^## ' -Because 'the source manifest keeps no copy of the notes'
    }

    It 'lists every cmdlet of the assembly explicitly, without wildcards' {
        $data = Import-PowerShellDataFile $env:PAASTA_TEST_MODULE
        $data.CmdletsToExport | Should -Not -Contain '*'
        $inAssembly = (Get-Module Paasta).ImplementingAssembly.GetExportedTypes() |
            Where-Object { $_.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false) } |
            ForEach-Object { $a = $_.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0]; "$($a.VerbName)-$($a.NounName)" }
        ($data.CmdletsToExport | Sort-Object) | Should -Be ($inAssembly | Sort-Object)
        (Get-Command -Module Paasta -CommandType Cmdlet).Name | Sort-Object | Should -Be ($inAssembly | Sort-Object)
    }

    It 'keeps dependencies out of the module root (they load in their own context)' {
        Get-ChildItem $ModuleDir -Filter *.dll | Select-Object -ExpandProperty Name | Should -Be @('Paasta.dll')
        Test-Path (Join-Path $ModuleDir 'dependencies/YamlDotNet.dll') | Should -BeTrue
    }
}

Describe 'README' {
    BeforeAll { $script:Readme = Get-Content (Join-Path $env:PAASTA_REPO_ROOT 'README.md') }

    It 'starts with installing the module as a Gallery user would' {
        $first = $Readme | Where-Object { $_ -match '^## ' } | Select-Object -First 1
        $first | Should -Be '## Installation'
        $section = ($Readme -join "`n") -replace '(?s)^.*?## Installation(.*?)\n## .*$', '$1'
        $install = $section.IndexOf('Install-PSResource Paasta')
        $install | Should -BeGreaterThan -1
        $section.IndexOf('Import-Module Paasta') | Should -BeGreaterThan $install
    }

    It 'tours the installed module, not the build output, and keeps the main job and the test command' {
        ($Readme -join "`n") | Should -Not -Match 'Import-Module \./out/'
        ($Readme -join "`n") | Should -Match ([regex]::Escape('./build.ps1 -Task Demo'))
        ($Readme -join "`n") | Should -Match ([regex]::Escape('./build.ps1 -Task Test'))
    }
}

Describe 'Links in the examples' {
    It 'name files of this repository or addresses that exist (runbook goes into Sensu events and Tron monitoring)' {
        $checked = 0
        foreach ($file in Get-ChildItem (Join-Path $env:PAASTA_REPO_ROOT 'examples/soa-configs') -Recurse -Include service.yaml, monitoring.yaml) {
            foreach ($line in Get-Content $file) {
                if ($line -notmatch '^\s*(external_link|runbook):\s*(\S+)') { continue }
                $key, $value = $Matches[1], $Matches[2]
                $checked++
                if ([uri]::IsWellFormedUriString($value, 'Absolute')) {
                    $value | Should -BeIn $KnownAddresses -Because "$($file.FullName) $key names an address that must exist"
                } else {
                    Join-Path $env:PAASTA_REPO_ROOT $value | Should -Exist -Because "$($file.FullName) $key names a file of this repository"
                }
            }
        }
        $checked | Should -BeGreaterOrEqual 3
    }
}

Describe 'Output types and formatting' {
    BeforeAll {
        function Test-Leaf([type] $t) {
            $t = [Nullable]::GetUnderlyingType($t) ?? $t
            $t.IsPrimitive -or $t.IsEnum -or $t -in [string], [datetime], [datetimeoffset], [timespan], [guid], [uri], [decimal]
        }
        # ConvertTo-Json writes a value it cuts as its ToString(): readable when the type declares its own.
        function Test-Readable([type] $t) { $t.GetMethod('ToString', [type[]]@()).DeclaringType -notin [object], [ValueType] }
        function New-Sample([type] $t) {
            if ($t.GetConstructor([type]::EmptyTypes)) { [Activator]::CreateInstance($t) } else { [System.Runtime.CompilerServices.RuntimeHelpers]::GetUninitializedObject($t) }
        }
        # Every property of every type reachable from the cmdlets' [OutputType], with its path and the depth
        # ConvertTo-Json gives its value (the output object is depth 0, its properties' values depth 1).
        # -ObjectDepth: the deepest object whose properties are walked (2: what ConvertTo-Json writes by default).
        function Get-OutputTypeProperty([int] $ObjectDepth = 2) {
            $queue = [System.Collections.Generic.Queue[object]]::new()
            foreach ($cmd in Get-Command -Module Paasta -CommandType Cmdlet) { foreach ($o in $cmd.OutputType | Where-Object Type) { $queue.Enqueue(@($o.Type, $o.Type.Name, 0)) } }
            $seen = @{}
            while ($queue.Count) {
                $type, $path, $depth = $queue.Dequeue()
                if ($type.Namespace -notlike 'Paasta*' -or $seen.ContainsKey("$($type.FullName)@$depth") -or $depth -gt $ObjectDepth) { continue }
                $seen["$($type.FullName)@$depth"] = $true
                foreach ($p in $type.GetProperties([System.Reflection.BindingFlags]'Public, Instance') | Where-Object { -not $_.GetIndexParameters() }) {
                    [pscustomobject]@{ Type = $type; Property = $p; Path = "$path.$($p.Name)"; Depth = $depth + 1 }
                    $t = [Nullable]::GetUnderlyingType($p.PropertyType) ?? $p.PropertyType
                    if ($t.Namespace -like 'Paasta*' -and -not $t.IsEnum) { $queue.Enqueue(@($t, "$path.$($p.Name)", ($depth + 1))) }
                    elseif ($t.IsArray -or ($t.IsGenericType -and [System.Collections.IEnumerable].IsAssignableFrom($t))) {
                        $element = if ($t.IsArray) { $t.GetElementType() } else { $t.GetGenericArguments()[-1] }
                        if ($element.Namespace -like 'Paasta*' -and -not $element.IsEnum) { $queue.Enqueue(@($element, "$path.$($p.Name)[]", ($depth + 2))) }
                    }
                }
            }
        }
    }

    It 'every exported cmdlet declares OutputType and every Paasta output type has a view' {
        $views = (Get-FormatData -TypeName 'Paasta.*').TypeNames
        foreach ($cmd in Get-Command -Module Paasta -CommandType Cmdlet) {
            $cmd.OutputType | Should -Not -BeNullOrEmpty -Because "$($cmd.Name) must declare [OutputType]"
            foreach ($t in $cmd.OutputType.Name | Where-Object { $_ -like 'Paasta.*' }) {
                $views | Should -Contain $t -Because "$($cmd.Name) emits $t"
            }
        }
    }

    It 'gives every table view columns that fit 120 characters, each at least as wide as its label' {
        $checked = 0
        foreach ($definition in Get-FormatData -TypeName 'Paasta.*') {
            foreach ($view in $definition.FormatViewDefinition | Where-Object { $_.Control -is [System.Management.Automation.TableControl] }) {
                $checked++
                $headers = @($view.Control.Headers)
                # A column without a width takes what is left: it needs room for its label and a short value.
                $needed = ($headers | ForEach-Object { if ($_.Width -gt 0) { $_.Width } else { [math]::Max(12, $_.Label.Length) } } | Measure-Object -Sum).Sum + $headers.Count - 1
                $needed | Should -BeLessOrEqual 120 -Because "$($view.Name) needs $needed columns"
                foreach ($h in $headers | Where-Object Width -gt 0) { $h.Width | Should -BeGreaterOrEqual $h.Label.Length -Because "$($view.Name)'s $($h.Label) column" }
            }
        }
        $checked | Should -BeGreaterThan 25
    }

    It 'renders every table view at width 120 with no column dropped and no value cut' {
        $assemblies = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -in 'Paasta', 'Paasta.Core' }
        $rendered = 0
        foreach ($definition in Get-FormatData -TypeName 'Paasta.*') {
            $view = $definition.FormatViewDefinition | Where-Object { $_.Control -is [System.Management.Automation.TableControl] } | Select-Object -First 1
            if (-not $view) { continue }
            $type = $assemblies | ForEach-Object { $_.GetType($definition.TypeNames[0]) } | Where-Object { $_ } | Select-Object -First 1
            $type | Should -Not -BeNullOrEmpty -Because "$($definition.TypeNames[0]) has a view, so it must be a type of the module"
            $sample = if ($type.GetConstructor([type]::EmptyTypes)) { [Activator]::CreateInstance($type) } else { [System.Runtime.CompilerServices.RuntimeHelpers]::GetUninitializedObject($type) }
            # Each string column shown by property gets a value exactly as wide as its column (12 for the last, free one).
            $headers = @($view.Control.Headers)
            $columns = @($view.Control.Rows[0].Columns)
            for ($i = 0; $i -lt $columns.Count; $i++) {
                $entry = $columns[$i].DisplayEntry
                if ($entry.ValueType -ne 'Property') { continue }
                $property = $type.GetProperty($entry.Value)
                if (-not $property -or $property.PropertyType -ne [string] -or -not $property.SetMethod) { continue }
                $width = if ($headers[$i].Width -gt 0) { $headers[$i].Width } else { 12 }
                $property.SetValue($sample, ('v' * $width))
            }
            $text = $sample | Format-Table | Out-String -Width 120
            $headerLine = ($text -split "`r?`n" | Where-Object { $_ -match '^-{2,}' } | Select-Object -First 1)
            $headerLine | Should -Not -BeNullOrEmpty -Because "$($view.Name) renders a table"
            $labels = ($text -split "`r?`n")[([array]::IndexOf(($text -split "`r?`n"), $headerLine) - 1)]
            foreach ($h in $headers) { $labels | Should -Match ([regex]::Escape($h.Label)) -Because "$($view.Name) shows its $($h.Label) column at width 120" }
            $text | Should -Not -Match '…' -Because "no value of $($view.Name) is cut at width 120"
            $rendered++
        }
        $rendered | Should -BeGreaterThan 25
    }

    It 'writes every enum of every output type by name in ConvertTo-Json' {
        $enumProperties = @(Get-OutputTypeProperty -ObjectDepth 6 | Where-Object { ([Nullable]::GetUnderlyingType($_.Property.PropertyType) ?? $_.Property.PropertyType).IsEnum })
        $enumProperties.Count | Should -BeGreaterThan 10 -Because 'the walk over [OutputType] reaches the result types (the scan itself works)'
        foreach ($e in $enumProperties) {
            $enum = [Nullable]::GetUnderlyingType($e.Property.PropertyType) ?? $e.Property.PropertyType
            # The mechanism (docs/OUTPUT.md): PowerShell writes 64-bit enums by name.
            [Enum]::GetUnderlyingType($enum) | Should -Be ([long]) -Because "$($e.Path) is a $($enum.Name), which must be declared ': long'"
            if (-not $e.Property.SetMethod) { continue }
            $sample = New-Sample $e.Type
            $value = [Enum]::GetValues($enum) | Select-Object -Last 1
            $e.Property.SetValue($sample, $value)
            $json = $sample | ConvertTo-Json -Depth 1 -Compress -WarningAction SilentlyContinue | ConvertFrom-Json
            $json.($e.Property.Name) | Should -BeOfType [string] -Because "ConvertTo-Json must write $($e.Path) by name"
            $json.($e.Property.Name) | Should -Be ([string]$value)
        }
    }

    It 'keeps what users need within ConvertTo-Json''s default -Depth 2 (what is cut is written as readable text)' {
        # Values nested deeper than 2 are written as their ToString(). Allowed to be cut, and why:
        $rawYaml = 'raw YAML as read; every value Paasta uses is a typed property of the same object'
        $allowed = @{
            'InstanceConfig.Config'            = $rawYaml
            'InstanceConfig.DrainMethodParams' = $rawYaml
            'InstanceConfig.Monitoring.All'    = $rawYaml
            'ServiceConfig.Metadata'           = $rawYaml
        }
        $cut = @(foreach ($e in Get-OutputTypeProperty) {
                if ($allowed.Keys | Where-Object { $e.Path -eq $_ -or $e.Path.StartsWith("$_.") -or $e.Path.StartsWith("$_[") }) { continue }
                $t = [Nullable]::GetUnderlyingType($e.Property.PropertyType) ?? $e.Property.PropertyType
                if (Test-Leaf $t) { continue }
                $element = if ($t.IsArray) { $t.GetElementType() } elseif ($t.IsGenericType -and [System.Collections.IEnumerable].IsAssignableFrom($t)) { $t.GetGenericArguments()[-1] } else { $null }
                if ($element) {
                    # A collection cut as a whole is written as its elements' texts; else its elements sit one deeper.
                    if (($e.Depth -ge 3 -or $e.Depth + 1 -ge 3) -and -not (Test-Leaf $element) -and -not (Test-Readable $element)) { "$($e.Path) ($($element.Name) elements)" }
                } elseif ($e.Depth -ge 3 -and -not (Test-Readable $t)) { "$($e.Path) ($($t.Name))" }
            })
        $cut | Should -BeNullOrEmpty -Because 'a value cut at -Depth 2 must say what it holds: give its type a ToString() (records have one) or list it above with the reason'
    }

    It 'renders instances as a grouped table that fits one screen' {
        $text = Get-PaastaInstance -SoaDir $Examples -Service hello -InstanceType kubernetes | Out-String -Width 120
        $text | Should -Match 'Service: hello'
        $text | Should -Match 'main\s+kubernetes\s+local\.everything\s+3'
    }
}

Describe 'Get-PaastaService and Get-PaastaInstance' {
    It 'shows merged values with their sources' {
        $main = Get-PaastaInstance -SoaDir $Examples -Service hello -Cluster local -Instance main
        $main.Instances | Should -Be 3
        $main.Cpus | Should -Be 0.1
        $main.Mem | Should -Be 64
        $main.Env['GREETING'] | Should -Be 'hello from main'
        $main.Monitoring.Team | Should -Be 'platform'
        $main.SourceOf('cpus').Origin | Should -Be 'Template'
        $main.SourceOf('instances').Origin | Should -Be 'InstanceFile'
        $main.SourceOf('monitoring.team').Origin | Should -Be 'MonitoringYaml'
        $main.SourceOf('bounce_method').Origin | Should -Be 'Default'
    }

    It 'filters with wildcards and binds services from the pipeline' {
        $names = Get-PaastaService -SoaDir $Examples -Name 'hel*' | Get-PaastaInstance -InstanceType tron | ForEach-Object Instance
        $names | Should -Be @('nightly_report.collect', 'nightly_report.publish')
        (Get-PaastaInstance -SoaDir $Examples -Instance 'ca*').Count | Should -Be 2
    }

    It 'reports an unknown service as ServiceNotFound and a path as InvalidServiceName' {
        Get-PaastaInstance -SoaDir $Examples -Service nope -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -Be 'ServiceNotFound,Paasta.Commands.GetPaastaInstance'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        Get-PaastaInstance -SoaDir $Examples -Service '../etc' -ErrorVariable err2 -ErrorAction SilentlyContinue
        $err2[0].FullyQualifiedErrorId | Should -Be 'InvalidServiceName,Paasta.Commands.GetPaastaInstance'
        $err2[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
    }

    It 'reports a missing soa dir clearly' {
        Get-PaastaService -SoaDir (Join-Path $TestDrive 'nowhere') -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -Be 'SoaDirNotFound,Paasta.Commands.GetPaastaService'
    }

    It 'validates the examples without errors' {
        Test-PaastaConfig -SoaDir $Examples -Quiet | Should -BeTrue
        Test-PaastaConfig -SoaDir $Examples | Where-Object Severity -eq Error | Should -BeNullOrEmpty
    }
}

Describe 'Tab completion from soa-configs' {
    BeforeAll {
        function Complete([string] $line) { (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText }
    }
    It 'completes services' { Complete "Get-PaastaInstance -SoaDir $Examples -Service he" | Should -Be @('hello') }
    It 'completes clusters of the named service' { Complete "Get-PaastaInstance -SoaDir $Examples -Service example_service -Cluster " | Should -Be @('pnw-prod') }
    It 'completes instances of the named service' { Complete "Get-PaastaInstance -SoaDir $Examples -Service hello -Instance ca" | Should -Be @('canary') }
    # Instance types: see Conventions.Tests.ps1, which also calls the completer itself (-InstanceType's
    # ValidateSet would answer for a completer that answers nothing).
}

Describe 'Per-user configuration' {
    BeforeEach {
        $script:savedConfig = $env:PAASTA_CONFIG
        $script:savedSoa = $env:PAASTA_SOA_DIR
        $env:PAASTA_CONFIG = Join-Path $TestDrive "settings-$(New-Guid).json"
        $env:PAASTA_SOA_DIR = $null
    }
    AfterEach { $env:PAASTA_CONFIG = $savedConfig; $env:PAASTA_SOA_DIR = $savedSoa }

    It 'saves defaults that cmdlets then use' {
        Set-PaastaConfiguration -SoaDir $Examples -Cluster local -Confirm:$false
        (Get-PaastaConfiguration).SoaDir | Should -Be $Examples
        (Get-PaastaService).Name | Should -Contain 'hello'
        Test-Path $env:PAASTA_CONFIG | Should -BeTrue
    }

    It 'lets the environment override the file' {
        Set-PaastaConfiguration -SoaDir '/does/not/exist' -Confirm:$false
        $env:PAASTA_SOA_DIR = $Examples
        (Get-PaastaConfiguration -Effective).SoaDir | Should -Be $Examples
        (Get-PaastaService).Name | Should -Contain 'hello'
    }

    It 'changes nothing under -WhatIf' {
        Set-PaastaConfiguration -SoaDir $Examples -WhatIf
        Test-Path $env:PAASTA_CONFIG | Should -BeFalse
    }
}

Describe 'Lazy loading of the heavy dependencies' {
    BeforeAll {
        $script:Heavy = 'KubernetesClient', 'Docker.DotNet', 'LibGit2Sharp'
        # Every assembly of every load context (the module's own "Paasta" one included), as Name@Context.
        $probe = '[System.Runtime.Loader.AssemblyLoadContext]::All | ForEach-Object { $c = $_.Name; $_.Assemblies | ForEach-Object { "$($_.GetName().Name)@$c" } }'
        $script:Loaded = @{}
        # A fresh pwsh means fresh caches too: with the user's cache, pwsh's startup JIT profile
        # (StartupProfileData-NonInteractive) pre-compiles in the background what an earlier process ran,
        # which loads Paasta.Core whatever this process does.
        $savedCache = $env:XDG_CACHE_HOME
        $env:XDG_CACHE_HOME = (New-Item -ItemType Directory (Join-Path $TestDrive 'fresh-cache')).FullName
        try {
            $out = Invoke-ChildPwsh -Command @"
`$ErrorActionPreference = 'Stop'
function Loaded { ($probe) -join ',' }
Import-Module '$env:PAASTA_TEST_MODULE'
'import=' + (Loaded)
`$null = Get-PaastaInstance -SoaDir '$Examples' -Service hello
'oneservice=' + (Loaded)
`$null = Get-PaastaService -SoaDir '$Examples'
'service=' + (Loaded)
`$null = Get-PaastaInstance -SoaDir '$Examples'
'instance=' + (Loaded)
"@
        }
        finally { $env:XDG_CACHE_HOME = $savedCache }
        $LASTEXITCODE | Should -Be 0
        foreach ($line in $out | Where-Object { $_ -match '^(import|service|oneservice|instance)=' }) {
            $stage, $list = $line -split '=', 2
            $Loaded[$stage] = @($list -split ',')
        }
        function Names([string] $Stage) { $Loaded[$Stage] | ForEach-Object { ($_ -split '@')[0] } }
    }

    It 'ships the dependencies it checks for (the names are real)' {
        foreach ($name in $Heavy + 'YamlDotNet') { Test-Path (Join-Path $ModuleDir "dependencies/$name.dll") | Should -BeTrue -Because "$name is a dependency" }
        $Loaded.Keys | Sort-Object | Should -Be @('import', 'instance', 'oneservice', 'service')
    }

    It 'loads none of them, nor YamlDotNet or Paasta.Core, on Import-Module' {
        $names = Names 'import'
        $names | Should -Contain 'Paasta'
        foreach ($name in $Heavy + 'YamlDotNet', 'Paasta.Core') { $names | Should -Not -Contain $name -Because "$name should load only when a cmdlet needs it" }
    }

    It 'still loads no Kubernetes, Docker or git client for Get-PaastaService and Get-PaastaInstance' {
        foreach ($stage in 'service', 'instance') {
            $names = Names $stage
            foreach ($name in $Heavy) { $names | Should -Not -Contain $name -Because "$stage needs no $name" }
        }
        # The probe sees the module's own load context: what reading soa-configs needs is there.
        $Loaded['service'] | Should -Contain 'YamlDotNet@Paasta'
        $Loaded['service'] | Should -Contain 'Paasta.Core@Paasta'
    }

    It 'reads one named service on the calling thread, without starting PLINQ (what a one-shot runbook pays for)' {
        Names 'oneservice' | Should -Not -Contain 'System.Linq.Parallel'
        Names 'instance' | Should -Contain 'System.Linq.Parallel' -Because 'several services still load in parallel (and the probe would see it)'
    }
}

Describe 'Ahead-of-time code (ReadyToRun)' {
    BeforeAll {
        # Name and target framework of an assembly, whether it carries IL, and whether it carries ReadyToRun code.
        function Get-ImageInfo([string] $Path) {
            $stream = [IO.File]::OpenRead($Path)
            try {
                $pe = [Reflection.PortableExecutable.PEReader]::new($stream)
                $meta = [Reflection.Metadata.PEReaderExtensions]::GetMetadataReader($pe)
                $runtime = foreach ($h in $meta.AssemblyReferences) {
                    $r = $meta.GetAssemblyReference($h)
                    if ($meta.GetString($r.Name) -in 'System.Runtime', 'netstandard') { $r.Version; break }
                }
                # The ReadyToRun header's flags (READYTORUN_HEADER: signature, version, then CoreHeader.Flags).
                $native = $pe.PEHeaders.CorHeader.ManagedNativeHeaderDirectory
                $offset = 0
                $flags = if ($native.Size -gt 0 -and $pe.PEHeaders.TryGetDirectoryOffset($native, [ref] $offset)) {
                    $header = [byte[]]::new(12)
                    $null = $stream.Seek($offset, 'Begin'); $null = $stream.Read($header, 0, 12)
                    [BitConverter]::ToUInt32($header, 8)
                }
                [pscustomobject]@{
                    Name           = Split-Path -Leaf $Path
                    R2RFlags       = $flags
                    HasIL          = [bool]($meta.MethodDefinitions | ForEach-Object { $meta.GetMethodDefinition($_).RelativeVirtualAddress } |
                            Where-Object { $_ -gt 0 } | Select-Object -First 1 | Where-Object { [Reflection.Metadata.PEReaderExtensions]::GetMethodBody($pe, $_).Size -gt 0 })
                    ReadyToRun     = $pe.PEHeaders.CorHeader.ManagedNativeHeaderDirectory.Size -gt 0
                    RuntimeVersion = $runtime
                }
            }
            finally { $stream.Dispose() }
        }
        $script:Images = @(Get-ChildItem $ModuleDir -Filter *.dll) + @(Get-ChildItem (Join-Path $ModuleDir 'dependencies') -Filter *.dll) |
            ForEach-Object { Get-ImageInfo $_.FullName }
    }

    It 'ships every assembly as a ReadyToRun image that keeps its IL and its net8.0 references (PowerShell 7.4 still loads it)' {
        $Images.Count | Should -BeGreaterThan 5
        foreach ($i in $Images) {
            $i.ReadyToRun | Should -BeTrue -Because "$($i.Name) should carry precompiled code"
            $i.HasIL | Should -BeTrue -Because "$($i.Name) must keep its IL for other runtimes and platforms"
            $i.RuntimeVersion.Major | Should -BeLessOrEqual 8 -Because "$($i.Name) must not require a runtime newer than PowerShell 7.4's"
        }
    }

    It 'compiles cross-module code into the dependency images only (READYTORUN_FLAG_UNRELATED_R2R_CODE), never into Paasta.dll' {
        # Paasta.dll loads in PowerShell's default context, where code from other modules could load Paasta.Core
        # before the module's resolver exists (tools/readytorun/ReadyToRun.csproj).
        $unrelated = 0x80
        foreach ($i in $Images) {
            $expected = $i.Name -ne 'Paasta.dll'
            [bool]($i.R2RFlags -band $unrelated) | Should -Be $expected -Because "$($i.Name) has R2R flags 0x$('{0:X}' -f $i.R2RFlags)"
        }
    }

    # The images hold code for .NET 10 (PowerShell 7.6) on linux-x64; elsewhere the runtime ignores it and JIT-compiles the IL.
    It 'has its precompiled code accepted by this runtime: Get-PaastaInstance in a new pwsh JIT-compiles (almost) no Paasta method' -Skip:(
        -not ($IsLinux -and [Environment]::Version.Major -eq 10 -and [Runtime.InteropServices.RuntimeInformation]::OSArchitecture -eq 'X64')) {
        # The runtime lists every method it JIT-compiles (a release-build switch). ReadyToRun code that the runtime
        # rejects (compiled for another major version, say) shows as hundreds of Paasta methods at Tier0.
        $jitLog = Join-Path $TestDrive 'jit.txt'
        $saved = @{}
        foreach ($name in 'DOTNET_JitStdOutFile', 'DOTNET_JitDisasmSummary', 'XDG_CACHE_HOME') { $saved[$name] = [Environment]::GetEnvironmentVariable($name) }
        $env:DOTNET_JitStdOutFile = $jitLog
        $env:DOTNET_JitDisasmSummary = '1'
        $env:XDG_CACHE_HOME = (New-Item -ItemType Directory (Join-Path $TestDrive 'r2r-cache')).FullName
        try {
            # The runtime writes this log from several threads, and now and then corrupts its own native heap as the
            # process ends ("free(): invalid pointer", exit 134 or 139): 3 of 30 runs with this module and 2 of 30 with
            # the one before it, 0 of 30 without the log. Such a run is tried again, three times at most.
            for ($attempt = 1; $attempt -le 3; $attempt++) {
                Remove-Item $jitLog -ErrorAction Ignore
                $null = Invoke-ChildPwsh -Command "Import-Module '$env:PAASTA_TEST_MODULE'; `$null = Get-PaastaInstance -SoaDir '$Examples'"
                if ($LASTEXITCODE -notin 134, 139) { break }
            }
        }
        finally { foreach ($name in $saved.Keys) { [Environment]::SetEnvironmentVariable($name, $saved[$name]) } }
        $LASTEXITCODE | Should -Be 0
        $compiled = @(Get-Content $jitLog | Where-Object { $_ -match 'JIT compiled Paasta\.' })
        $atTier0 = @($compiled | Where-Object { $_ -match '\[(Instrumented )?Tier0' })
        $atTier0.Count | Should -BeLessThan 20 -Because "Paasta's code should run from its ReadyToRun images, not the JIT: $($atTier0 | Select-Object -First 5)"
        (Get-Content $jitLog | Measure-Object).Count | Should -BeGreaterThan 100 -Because 'the JIT log must have been written (pwsh itself JIT-compiles)'
    }
}

Describe 'Dependency isolation' {
    It 'works in a session where another YamlDotNet version is already loaded' {
        $nuget = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path $HOME '.nuget/packages' }
        $otherYaml = Join-Path $nuget 'yamldotnet/13.7.1/lib/net7.0/YamlDotNet.dll'
        Test-Path $otherYaml | Should -BeTrue -Because 'tools/restore/Tools.csproj restores YamlDotNet 13.7.1 for this test'
        $script = @"
`$ErrorActionPreference = 'Stop'
Add-Type -Path '$otherYaml'
Import-Module '$env:PAASTA_TEST_MODULE'
`$i = Get-PaastaInstance -SoaDir '$Examples' -Service hello -Instance main
`$versions = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { `$_.GetName().Name -eq 'YamlDotNet' } | ForEach-Object { `$_.GetName().Version.Major }
"`$(`$i.Instances);`$((`$versions | Sort-Object) -join ',')"
"@
        $out = Invoke-ChildPwsh -Command $script
        $LASTEXITCODE | Should -Be 0
        $out | Select-Object -Last 1 | Should -Be '3;13,18'
    }
}

Describe 'Common parameters in a session that cannot ask' {
    # pwsh -NonInteractive, as a runbook runs it. -Debug alone makes PowerShell ask before each verbose message, and
    # there the question fails the command; Paasta writes those messages to the debug stream instead.
    It '-Debug alone shows the verbose messages as debug lines, and the command succeeds' {
        $out = Invoke-ChildPwsh -Command "Import-Module '$env:PAASTA_TEST_MODULE'; Test-PaastaConfig -SoaDir '$Examples' -Service hello -Debug *>&1 | ForEach-Object { `$_.GetType().Name + ': ' + `$_ }; 'succeeded: ' + `$?"
        $LASTEXITCODE | Should -Be 0
        $out | Should -Contain 'DebugRecord: hello: 0 error(s), 0 warning(s)'
        $out | Should -Not -Match '^(ErrorRecord|VerboseRecord):'
        $out | Should -Contain 'succeeded: True'
    }

    It '-Debug with -Verbose keeps the verbose stream' {
        $out = Invoke-ChildPwsh -Command "Import-Module '$env:PAASTA_TEST_MODULE'; Test-PaastaConfig -SoaDir '$Examples' -Service hello -Debug -Verbose *>&1 | ForEach-Object { `$_.GetType().Name + ': ' + `$_ }"
        $out | Should -Contain 'VerboseRecord: hello: 0 error(s), 0 warning(s)'
        $out | Should -Not -Match '^ErrorRecord:'
    }
}
