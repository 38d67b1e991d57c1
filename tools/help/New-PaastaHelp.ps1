#Requires -Version 7.4
<#
.SYNOPSIS
    Writes en-US/Paasta.dll-Help.xml (MAML) for the built module from the cmdlets' XML doc comments.
.DESCRIPTION
    platyPS is not reachable here, so help is compiled from the source kept next to the code: each cmdlet
    class carries <para type="synopsis">, <para type="description"> and <example> blocks, each parameter a
    <summary>. Parameter metadata (type, position, pipeline input, wildcards) comes from the imported
    module itself. Run in a child pwsh by build.ps1, so the build session never loads the module.
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

$common = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters

function Get-Text($node) {
    if ($null -eq $node) { return '' }
    # The XML adapter returns text-only elements as strings and others as nodes.
    $text = if ($node -is [string]) { $node } else { ($node | ForEach-Object { $_.InnerText }) -join ' ' }
    return (($text -replace '\s+', ' ').Trim())
}

function Get-ParameterDoc([Type] $type, [string] $name) {
    for ($t = $type; $t; $t = $t.BaseType) {
        $m = $members["P:$($t.FullName).$name"]
        if ($m) { return Get-Text $m.summary }
    }
    return ''
}

$maml = 'http://schemas.microsoft.com/maml/2004/10'
$command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
$dev = 'http://schemas.microsoft.com/maml/dev/2004/10'
$settings = [System.Xml.XmlWriterSettings]@{ Indent = $true; Encoding = [System.Text.UTF8Encoding]::new($false) }
$outDir = New-Item -ItemType Directory -Force (Join-Path $ModuleDir 'en-US')
$writer = [System.Xml.XmlWriter]::Create((Join-Path $outDir 'Paasta.dll-Help.xml'), $settings)

function Para([string] $text) { $writer.WriteStartElement('maml', 'para', $maml); $writer.WriteString($text); $writer.WriteEndElement() }
function Description([string] $text) { $writer.WriteStartElement('maml', 'description', $maml); Para $text; $writer.WriteEndElement() }

function Write-Parameter($p, [Type] $type, [string] $position, [bool] $required, [string] $pipeline) {
    $writer.WriteStartElement('command', 'parameter', $command)
    $writer.WriteAttributeString('required', $required.ToString().ToLowerInvariant())
    $globbing = [bool]($p.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] })
    $writer.WriteAttributeString('globbing', $globbing.ToString().ToLowerInvariant())
    $writer.WriteAttributeString('pipelineInput', $pipeline)
    $writer.WriteAttributeString('position', $position)
    $writer.WriteAttributeString('aliases', ($(if ($p.Aliases.Count) { $p.Aliases -join ', ' } else { 'none' })))
    $writer.WriteElementString('name', $maml, $p.Name)
    Description (Get-ParameterDoc $type $p.Name)
    $typeName = if ($p.ParameterType -eq [System.Management.Automation.SwitchParameter]) { 'SwitchParameter' } else { $p.ParameterType.Name }
    $writer.WriteStartElement('command', 'parameterValue', $command)
    $writer.WriteAttributeString('required', ($p.ParameterType -ne [System.Management.Automation.SwitchParameter]).ToString().ToLowerInvariant())
    $writer.WriteString($typeName)
    $writer.WriteEndElement()
    $writer.WriteStartElement('dev', 'type', $dev); $writer.WriteElementString('name', $maml, $typeName); $writer.WriteEndElement()
    $writer.WriteEndElement()
}

function Get-PipelineText($attr) {
    $kinds = @()
    if ($attr.ValueFromPipeline) { $kinds += 'ByValue' }
    if ($attr.ValueFromPipelineByPropertyName) { $kinds += 'ByPropertyName' }
    if ($kinds) { "True ($($kinds -join ', '))" } else { 'False' }
}

$writer.WriteStartDocument()
$writer.WriteStartElement('helpItems', 'http://msh')
$writer.WriteAttributeString('schema', 'maml')
foreach ($cmd in Get-Command -Module Paasta -CommandType Cmdlet | Sort-Object Name) {
    $type = $cmd.ImplementingType
    $doc = $members["T:$($type.FullName)"]
    if (-not $doc) { throw "$($cmd.Name) ($($type.FullName)) has no XML doc comment: add a synopsis, description and examples." }
    $synopsis = Get-Text ($doc.summary.para | Where-Object type -eq 'synopsis')
    $description = Get-Text ($doc.summary.para | Where-Object type -eq 'description')

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
        foreach ($p in $set.Parameters | Where-Object Name -notin $common) {
            $position = if ($p.Position -ge 0) { [string]$p.Position } else { 'named' }
            $pipeline = Get-PipelineText $p
            Write-Parameter $cmd.Parameters[$p.Name] $type $position $p.IsMandatory $pipeline
        }
        $writer.WriteEndElement()
    }
    $writer.WriteEndElement()

    $writer.WriteStartElement('command', 'parameters', $command)
    foreach ($p in $cmd.Parameters.Values | Where-Object Name -notin $common | Sort-Object Name) {
        $attr = $p.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] } | Select-Object -First 1
        $position = if ($attr.Position -ge 0) { [string]$attr.Position } else { 'named' }
        Write-Parameter $p $type $position $attr.Mandatory (Get-PipelineText $attr)
    }
    $writer.WriteEndElement()

    $writer.WriteStartElement('command', 'returnValues', $command)
    foreach ($o in $cmd.OutputType) {
        $writer.WriteStartElement('command', 'returnValue', $command)
        $writer.WriteStartElement('dev', 'type', $dev); $writer.WriteElementString('name', $maml, $o.Name); $writer.WriteEndElement()
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
