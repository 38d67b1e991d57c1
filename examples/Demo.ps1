#Requires -Version 7.4
# The README's main job: a short tour of Paasta over examples/soa-configs and, where the local platform
# runs (Linux, root), the deploy path of the hello service on it: build the image, push it to the local
# registry, mark it for deployment with a git tag, generate deployments.json.
param(
    [Parameter(Mandatory)] [string] $ModuleManifest,
    # Where the platform demo keeps its scratch repo and soa-configs copy.
    [string] $WorkDir,
    [switch] $Platform
)
$ErrorActionPreference = 'Stop'
Import-Module $ModuleManifest -Force
$repo = Split-Path $PSScriptRoot
$soa = Join-Path $PSScriptRoot 'soa-configs'

function Show([string] $Title, [scriptblock] $Block) {
    Write-Host "`nPS> $($Block.ToString().Trim())" -ForegroundColor Cyan
    Write-Host "    # $Title" -ForegroundColor DarkGray
    & $Block | Out-String -Width 150 | Out-Host
}

function Invoke-Tool([string] $File, [string[]] $Arguments) {
    Write-Host "`n$ $File $($Arguments -join ' ')" -ForegroundColor Cyan
    & $File @Arguments | Out-Host
    if ($LASTEXITCODE -ne 0) { throw "$File $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

Show 'Every service, with team, clusters and deploy groups' { Get-PaastaService -SoaDir $soa }
Show 'Every instance, merged and defaulted exactly as PaaSTA does' { Get-PaastaInstance -SoaDir $soa }
Show 'Where each value of hello.main came from' {
    (Get-PaastaInstance -SoaDir $soa -Service hello -Instance main).Sources.Values | Where-Object Origin -ne Default
}
Show 'Validation: schemas plus the rules that span files' { Test-PaastaConfig -SoaDir $soa -Verbose 4>&1 }

if (-not $Platform) {
    Write-Host "`n(The deploy part of the demo needs the local platform: Linux, root and apt. Skipped.)" -ForegroundColor Yellow
    return
}

# --- The deploy path on the local platform ---------------------------------------------------------------
if (-not $WorkDir) { $WorkDir = Join-Path $repo '.platform/demo' }
if (Test-Path $WorkDir) { Remove-Item -Recurse -Force $WorkDir }
$null = New-Item -ItemType Directory -Force $WorkDir
$demoSoa = Join-Path $WorkDir 'soa-configs'
Copy-Item -Recurse $soa $demoSoa
$bare = Join-Path $WorkDir 'hello.git'
$work = Join-Path $WorkDir 'hello'

Write-Host "`n--- hello's own repository: a bare 'remote' holding the deploy tags, and a clone with the code" -ForegroundColor Green
Invoke-Tool git @('init', '-q', '--bare', $bare)
Invoke-Tool git @('clone', '-q', $bare, $work)
Copy-Item -Recurse (Join-Path $repo 'examples/services/hello/*') $work
Invoke-Tool git @('-C', $work, 'add', '-A')
Invoke-Tool git @('-C', $work, '-c', 'user.name=demo', '-c', 'user.email=demo@example.com', 'commit', '-q', '-m', 'hello: first version')
Invoke-Tool git @('-C', $work, 'push', '-q', 'origin', 'HEAD:refs/heads/main')
$sha = (& git -C $work rev-parse HEAD).Trim()

Write-Host "`n--- cook-image and push-to-registry: the image is named after the commit (services-hello:paasta-<sha>)" -ForegroundColor Green
$image = "127.0.0.1:5000/services-hello:paasta-$sha"
Invoke-Tool make @('-C', $work, 'test')
Invoke-Tool make @('-C', $work, 'cook-image', "DOCKER_TAG=$image")
Invoke-Tool docker @('push', $image)

Show 'mark-for-deployment: a git tag paasta-<deploy group>-<UTC time>-deploy on hello''s repository' {
    Publish-PaastaDeployment -SoaDir $demoSoa -Service hello -DeployGroup local.everything -Commit $sha.Substring(0, 8) -Repository $bare -Confirm:$false -PassThru
}
Show 'The tag, as git itself sees it' { git ls-remote --tags $bare }
Show 'generate_deployments_for_service: deployments.json, written atomically' {
    New-PaastaDeployments -SoaDir $demoSoa -Service hello -Repository $bare -Confirm:$false
}
Show 'What runs where' { Get-PaastaDeployment -SoaDir $demoSoa -Service hello }
Show 'Stop hello.main on cluster local: a stop tag at the deployed commit' {
    Get-PaastaInstance -SoaDir $demoSoa -Service hello -Cluster local -Instance main | Stop-PaastaInstance -Repository $bare -Confirm:$false -PassThru
}
Show 'Regenerated: main is stopped, canary still runs' {
    New-PaastaDeployments -SoaDir $demoSoa -Service hello -Repository $bare -Confirm:$false | Out-Null
    Get-PaastaDeployment -SoaDir $demoSoa -Service hello
}
Show 'deployments.json, byte-compatible with PaaSTA' { Get-Content (Join-Path $demoSoa 'hello/deployments.json') }
Write-Host "`nThe platform stays up (./build.ps1 -Task Platform -Action Down stops it). Scratch files: $WorkDir" -ForegroundColor Green
