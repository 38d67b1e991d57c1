#Requires -Version 7.4
<#
.SYNOPSIS
    Writes en-US/Paasta.dll-Help.xml (MAML) for the built module from the cmdlets' XML doc comments.
.DESCRIPTION
    platyPS is not reachable here, so help is compiled from the source kept next to the code: each cmdlet
    class carries <para type="synopsis">, <para type="description"> and <example> blocks, each parameter a
    <summary>. Everything else comes from the imported module itself, so help cannot drift from the code:
    * SYNTAX is PowerShell's own (Get-Command -Syntax): the same parameter sets, order and type names, with
      -WhatIf and -Confirm where the cmdlet supports them, and switches without a value.
    * INPUTS lists what each cmdlet takes from the pipeline, from the parameters' ValueFromPipeline and
      ValueFromPipelineByPropertyName.
    * Each parameter's default is its C# initialiser (read from a new instance of the cmdlet); where there is
      none, the first sentence of its <summary> that starts "Defaults to", "Default:" or "Omitted:", ends
      "when omitted", or ends with a clause "; default: X", "; defaults to X" or "; X by default"; else None.
    Run in a child pwsh by build.ps1, so the build session never loads the module.
#>
param(
    [Parameter(Mandatory)] [string] $ModuleDir,
    [Parameter(Mandatory)] [string] $DocXml
)
$ErrorActionPreference = 'Stop'
$module = Import-Module (Join-Path $ModuleDir 'Paasta.psd1') -PassThru -Force
[xml] $docs = Get-Content -Raw $DocXml
$members = @{}
foreach ($m in $docs.doc.members.member) { $members[$m.name] = $m }

# Common parameters are listed once, as [<CommonParameters>]; -WhatIf and -Confirm are the cmdlet's own.
$common = [System.Management.Automation.Cmdlet]::CommonParameters
$shouldProcessText = @{
    WhatIf  = 'Shows what the cmdlet would do, without doing it: each change it would make is reported as a "What if:" line.'
    Confirm = 'Asks for confirmation before each change. Cmdlets whose ConfirmImpact is High ask even without -Confirm; -Confirm:$false turns that off.'
}

function Get-Text($node) {
    if ($null -eq $node) { return '' }
    # The XML adapter returns text-only elements as strings and others as nodes.
    $text = if ($node -is [string]) { $node } else { ($node | ForEach-Object { $_.InnerText }) -join ' ' }
    return (($text -replace '\s+', ' ').Trim())
}

function Get-ParameterDoc([Type] $type, [string] $name) {
    if ($shouldProcessText.ContainsKey($name)) { return $shouldProcessText[$name] }
    for ($t = $type; $t; $t = $t.BaseType) {
        $m = $members["P:$($t.FullName).$name"]
        if ($m) { return Get-Text $m.summary }
    }
    return ''
}

function Format-DefaultValue($value) {
    if ($value -is [System.Collections.IDictionary]) { return '@{' + (($value.Keys | ForEach-Object { "$_ = $($value[$_])" }) -join '; ') + '}' }
    if ($value -is [System.Collections.IEnumerable] -and $value -isnot [string]) { return (@($value) | ForEach-Object { [string]$_ }) -join ', ' }
    if ($value -is [System.IFormattable]) { return $value.ToString($null, [cultureinfo]::InvariantCulture) }
    return [string]$value
}

# A sentence of the summary that states the default, by the doc-comment convention above.
function Get-DocumentedDefault([string] $summary) {
    foreach ($sentence in [regex]::Split($summary, '(?<=\.)\s+(?=[A-Z$(])')) {
        $s = $sentence.Trim().TrimEnd('.')
        if ($s -match '^(?:Defaults to|Default:|Default is|Omitted:)\s+(.+)$') { return $Matches[1] }
        if ($s -match '^(.+?) when omitted$') { return $Matches[1] }
        # A closing clause: "...; default: X", "...; default X", "... (default: X)", "...; none by default".
        if ($s -match '[;(]\s*defaults?(?: to)?:?\s+([^)]+)\)?$') { return $Matches[1] }
        if ($s -match ';\s*(\S+) by default$') { return $Matches[1].Substring(0, 1).ToUpperInvariant() + $Matches[1].Substring(1) }
    }
    return $null
}

function Get-DefaultValue($cmdletInstance, $p, [string] $summary) {
    if ($p.Name -in $shouldProcessText.Keys -or $p.ParameterType -eq [System.Management.Automation.SwitchParameter]) { return 'False' }
    $property = $cmdletInstance.GetType().GetProperty($p.Name)
    $value = if ($property) { $property.GetValue($cmdletInstance) } else { $null }
    $isZero = $null -eq $value -or ($value -is [string] -and $value -eq '') -or
        ($value -is [System.Collections.ICollection] -and $value.Count -eq 0) -or
        ($value.GetType().IsValueType -and $value -eq [Activator]::CreateInstance($value.GetType()))
    if (-not $isZero) { return Format-DefaultValue $value }
    $documented = Get-DocumentedDefault $summary
    if ($documented) { return $documented }
    if ($null -ne $value -and $value.GetType().IsValueType) { return Format-DefaultValue $value }
    return 'None'
}

# The parameters of one set in the order and with the type names Get-Command -Syntax shows.
function Get-SyntaxParameters($set) {
    foreach ($m in [regex]::Matches($set.ToString(), '-(?<name>\w+)\]?(?: <(?<type>[^>]+)>)?')) {
        [pscustomobject]@{ Name = $m.Groups['name'].Value; Type = $m.Groups['type'].Value }
    }
}

$maml = 'http://schemas.microsoft.com/maml/2004/10'
$command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
$dev = 'http://schemas.microsoft.com/maml/dev/2004/10'
$settings = [System.Xml.XmlWriterSettings]@{ Indent = $true; Encoding = [System.Text.UTF8Encoding]::new($false) }
$outDir = New-Item -ItemType Directory -Force (Join-Path $ModuleDir 'en-US')
$writer = [System.Xml.XmlWriter]::Create((Join-Path $outDir 'Paasta.dll-Help.xml'), $settings)

function Para([string] $text) { $writer.WriteStartElement('maml', 'para', $maml); $writer.WriteString($text); $writer.WriteEndElement() }
function Description([string] $text) { $writer.WriteStartElement('maml', 'description', $maml); Para $text; $writer.WriteEndElement() }
function DevType([string] $name) { $writer.WriteStartElement('dev', 'type', $dev); $writer.WriteElementString('name', $maml, $name); $writer.WriteEndElement() }

function Write-Parameter {
    param($p, [Type] $type, [string] $typeName, [string] $position, [bool] $required, [string] $pipeline, [bool] $inSyntax, [string] $default)
    $isSwitch = $p.ParameterType -eq [System.Management.Automation.SwitchParameter]
    $writer.WriteStartElement('command', 'parameter', $command)
    $writer.WriteAttributeString('required', $required.ToString().ToLowerInvariant())
    $globbing = [bool]($p.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] })
    $writer.WriteAttributeString('globbing', $globbing.ToString().ToLowerInvariant())
    $writer.WriteAttributeString('pipelineInput', $pipeline)
    $writer.WriteAttributeString('position', $position)
    $writer.WriteAttributeString('aliases', ($(if ($p.Aliases.Count) { $p.Aliases -join ', ' } else { 'none' })))
    $writer.WriteElementString('name', $maml, $p.Name)
    Description (Get-ParameterDoc $type $p.Name)
    # A switch takes no value: in SYNTAX it has no parameterValue at all (so help shows [-PassThru]).
    if (-not ($isSwitch -and $inSyntax)) {
        $writer.WriteStartElement('command', 'parameterValue', $command)
        $writer.WriteAttributeString('required', (-not $isSwitch).ToString().ToLowerInvariant())
        $writer.WriteString($typeName)
        $writer.WriteEndElement()
    }
    DevType $typeName
    if (-not $inSyntax) { $writer.WriteElementString('defaultValue', $dev, $default) }
    $writer.WriteEndElement()
}

function Get-PipelineText($attributes) {
    $kinds = @()
    if ($attributes | Where-Object ValueFromPipeline) { $kinds += 'ByValue' }
    if ($attributes | Where-Object ValueFromPipelineByPropertyName) { $kinds += 'ByPropertyName' }
    if ($kinds) { "True ($($kinds -join ', '))" } else { 'False' }
}

function Get-ParameterAttributes($p) { @($p.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] }) }

$writer.WriteStartDocument()
$writer.WriteStartElement('helpItems', 'http://msh')
$writer.WriteAttributeString('schema', 'maml')
foreach ($cmd in Get-Command -Module Paasta -CommandType Cmdlet | Sort-Object Name) {
    $type = $cmd.ImplementingType
    $doc = $members["T:$($type.FullName)"]
    if (-not $doc) { throw "$($cmd.Name) ($($type.FullName)) has no XML doc comment: add a synopsis, description and examples." }
    $synopsis = Get-Text ($doc.summary.para | Where-Object type -eq 'synopsis')
    $description = Get-Text ($doc.summary.para | Where-Object type -eq 'description')
    $instance = [Activator]::CreateInstance($type)
    $typeNames = @{}

    $writer.WriteStartElement('command', 'command', $command)
    $writer.WriteAttributeString('xmlns', 'maml', $null, $maml)
    $writer.WriteAttributeString('xmlns', 'dev', $null, $dev)
    $writer.WriteStartElement('command', 'details', $command)
    $writer.WriteElementString('name', $command, $cmd.Name)
    $writer.WriteElementString('verb', $command, $cmd.Verb)
    $writer.WriteElementString('noun', $command, $cmd.Noun)
    Description $synopsis
    $writer.WriteEndElement()
    Description $description

    $writer.WriteStartElement('command', 'syntax', $command)
    foreach ($set in $cmd.ParameterSets) {
        $writer.WriteStartElement('command', 'syntaxItem', $command)
        $writer.WriteElementString('name', $maml, $cmd.Name)
        foreach ($shown in Get-SyntaxParameters $set) {
            $p = $set.Parameters | Where-Object Name -eq $shown.Name
            if (-not $p -or $p.Name -in $common) { continue }
            $typeName = if ($shown.Type) { $shown.Type } else { 'switch' }
            $typeNames[$p.Name] = $typeName
            $position = if ($p.Position -ge 0) { [string]$p.Position } else { 'named' }
            $pipeline = Get-PipelineText @($p)
            Write-Parameter $cmd.Parameters[$p.Name] $type $typeName $position $p.IsMandatory $pipeline $true ''
        }
        $writer.WriteEndElement()
    }
    $writer.WriteEndElement()

    $writer.WriteStartElement('command', 'parameters', $command)
    foreach ($p in $cmd.Parameters.Values | Where-Object Name -notin $common | Sort-Object Name) {
        $attributes = Get-ParameterAttributes $p
        $positions = @($attributes | Where-Object Position -ge 0 | ForEach-Object Position | Sort-Object -Unique)
        $position = if ($positions.Count -eq 1) { [string]$positions[0] } elseif ($positions.Count) { $positions -join ', ' } else { 'named' }
        $mandatory = [bool]($attributes | Where-Object Mandatory)
        $typeName = if ($typeNames.ContainsKey($p.Name)) { $typeNames[$p.Name] } else { $p.ParameterType.Name }
        $default = Get-DefaultValue $instance $p (Get-ParameterDoc $type $p.Name)
        Write-Parameter $p $type $typeName $position $mandatory (Get-PipelineText $attributes) $false $default
    }
    $writer.WriteEndElement()

    # INPUTS: what the pipeline can bind, by value (per type) and by property name (per property).
    $byValue = [ordered]@{}
    $byName = [System.Collections.Generic.List[string]]::new()
    foreach ($p in $cmd.Parameters.Values | Where-Object Name -notin $common) {
        $attributes = Get-ParameterAttributes $p
        if ($attributes | Where-Object ValueFromPipeline) {
            $key = $p.ParameterType.FullName
            if (-not $byValue.Contains($key)) { $byValue[$key] = [System.Collections.Generic.List[string]]::new() }
            $byValue[$key].Add("-$($p.Name)")
        }
        if ($attributes | Where-Object ValueFromPipelineByPropertyName) {
            $byName.Add($(if ($p.Aliases.Count) { "$($p.Name) (or $($p.Aliases -join ', '))" } else { $p.Name }))
        }
    }
    $writer.WriteStartElement('command', 'inputTypes', $command)
    foreach ($key in $byValue.Keys) {
        $writer.WriteStartElement('command', 'inputType', $command)
        DevType $key
        Description "Piped objects of this type bind to $($byValue[$key] -join ', ') by value."
        $writer.WriteEndElement()
    }
    if ($byName.Count) {
        $writer.WriteStartElement('command', 'inputType', $command)
        DevType 'System.Management.Automation.PSObject'
        Description "Any piped object binds by property name, through properties named $($byName -join ', ')."
        $writer.WriteEndElement()
    }
    if (-not $byValue.Count -and -not $byName.Count) {
        $writer.WriteStartElement('command', 'inputType', $command)
        DevType 'None'
        Description "$($cmd.Name) takes no input from the pipeline."
        $writer.WriteEndElement()
    }
    $writer.WriteEndElement()

    $writer.WriteStartElement('command', 'returnValues', $command)
    foreach ($o in $cmd.OutputType) {
        $writer.WriteStartElement('command', 'returnValue', $command)
        DevType $o.Name
        Description ''
        $writer.WriteEndElement()
    }
    $writer.WriteEndElement()

    $writer.WriteStartElement('command', 'examples', $command)
    $n = 0
    foreach ($ex in $doc.example) {
        $n++
        $writer.WriteStartElement('command', 'example', $command)
        $writer.WriteElementString('title', $maml, "-------------------------- Example $n --------------------------")
        $writer.WriteElementString('code', $dev, ($ex.code.Trim()))
        $writer.WriteStartElement('dev', 'remarks', $dev); Para (Get-Text $ex.para); $writer.WriteEndElement()
        $writer.WriteEndElement()
    }
    $writer.WriteEndElement()

    $writer.WriteStartElement('command', 'relatedLinks', $command)
    $writer.WriteStartElement('maml', 'navigationLink', $maml); $writer.WriteElementString('linkText', $maml, 'about_Paasta'); $writer.WriteEndElement()
    $writer.WriteEndElement()
    $writer.WriteEndElement()
}
$writer.WriteEndElement()
$writer.WriteEndDocument()
$writer.Dispose()

Copy-Item (Join-Path $PSScriptRoot '../../docs/en-US/about_*.help.txt') $outDir
Write-Host "==> Help written: $(Join-Path $outDir 'Paasta.dll-Help.xml')"
