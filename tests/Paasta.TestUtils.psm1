# Helpers shared by the Pester suites.

function Get-PwshCommand {
    <# The command line that starts a fresh pwsh like this one: the pwsh apphost, or 'dotnet pwsh.dll'
       when PowerShell runs as a .NET tool (then the process path is dotnet itself). #>
    $process = [Environment]::ProcessPath
    if ((Split-Path -Leaf $process) -match '^dotnet(\.exe)?$') { return @($process, (Join-Path $PSHOME 'pwsh.dll')) }
    return @($process)
}

function Invoke-ChildPwsh {
    <# Runs a script in a new pwsh process (-NoProfile -NonInteractive) and returns its output; sets $LASTEXITCODE. #>
    param([Parameter(Mandatory)] [string] $Command)
    $cmd = @(Get-PwshCommand)
    $rest = @($cmd | Select-Object -Skip 1)
    & $cmd[0] @rest -NoProfile -NonInteractive -Command $Command
}

function Assert-PlatformOrSkip {
    <# Integration tests: under CI=true a missing engine or cluster is a failure, never a silent skip. #>
    param([Parameter(Mandatory)] [bool] $Available, [Parameter(Mandatory)] [string] $What)
    if ($Available) { return $true }
    if ($env:CI -eq 'true') { throw "$What is not available, and CI=true requires it (bring it up with: ./build.ps1 -Task Platform -Action Up)." }
    Set-ItResult -Skipped -Because "$What is not available (run ./build.ps1 -Task Platform -Action Up)"
    return $false
}

# ---------------------------------------------------------------------------------------------------- cluster safety
# The suite talks to the local platform's cluster only: $PlatformState/kubeconfig, context paasta-local
# ($PlatformState is $env:PAASTA_PLATFORM_STATE, else .platform in this checkout). Whatever $env:KUBECONFIG says is
# ignored, unless $env:PAASTA_TEST_KUBE_CONTEXT names the context to use instead (from $env:PAASTA_TEST_KUBECONFIG,
# else $env:KUBECONFIG). The chosen context is copied alone into a kubeconfig of its own, which $env:KUBECONFIG then
# names for the rest of the run: no cmdlet, setting or kubectl call in a test can reach another cluster.

$script:TestCluster = $null
$script:CreatedNamespaces = [System.Collections.Generic.List[string]]::new()

function Get-TestPlatformState {
    <# The local platform's state folder: $env:PAASTA_PLATFORM_STATE, else .platform in this checkout. #>
    if ($env:PAASTA_PLATFORM_STATE) { return $env:PAASTA_PLATFORM_STATE }
    $repo = if ($env:PAASTA_REPO_ROOT) { $env:PAASTA_REPO_ROOT } else { Split-Path $PSScriptRoot }
    Join-Path $repo '.platform'
}

function Use-TestCluster {
    <# The cluster the tests may use (see above), set up once per import: Up, KubeConfig, Context, Kubectl,
       OwnPlatform (this checkout's own platform, which a test may restart), Reason (why not Up). #>
    if ($script:TestCluster) { return $script:TestCluster }
    $state = Get-TestPlatformState
    $named = $env:PAASTA_TEST_KUBE_CONTEXT
    $firstKubeConfig = if ($env:KUBECONFIG) { @($env:KUBECONFIG -split [IO.Path]::PathSeparator | Where-Object { $_ })[0] }
    $source = if (-not $named) { Join-Path $state 'kubeconfig' }
        elseif ($env:PAASTA_TEST_KUBECONFIG) { $env:PAASTA_TEST_KUBECONFIG }
        elseif ($firstKubeConfig) { $firstKubeConfig }
        else { Join-Path $state 'kubeconfig' }
    $context = if ($named) { $named } else { 'paasta-local' }
    $kubectl = if (Test-Path (Join-Path $state 'bin/kubectl')) { Join-Path $state 'bin/kubectl' } else { (Get-Command kubectl -ErrorAction Ignore).Source }
    $result = [pscustomobject]@{
        Up = $false; KubeConfig = $null; Context = $context; Source = $source; Kubectl = $kubectl
        OwnPlatform = $false; Reason = $null
    }
    if (-not $named -and $firstKubeConfig -and $firstKubeConfig -ne $source) {
        Write-Warning "The tests ignore `$env:KUBECONFIG ($firstKubeConfig): they use the local platform's $source, context $context. Name another context in `$env:PAASTA_TEST_KUBE_CONTEXT to test against it."
    }
    if (-not (Test-Path $source)) { $result.Reason = "no kubeconfig at $source" }
    elseif (-not $kubectl) { $result.Reason = 'no kubectl' }
    else {
        $contexts = @(& $kubectl --kubeconfig $source config get-contexts -o name 2>$null)
        if ($contexts -notcontains $context) { $result.Reason = "$source has no context $context" }
        else {
            # The context alone, in a folder of its own with kubectl next to it (as the platform lays it out).
            $dir = Join-Path ([IO.Path]::GetTempPath()) "paasta-test-cluster-$PID"
            $null = New-Item -ItemType Directory -Force (Join-Path $dir 'bin')
            $file = Join-Path $dir 'kubeconfig'
            $yaml = & $kubectl --kubeconfig $source config view --minify --flatten --raw --context $context 2>&1
            if ($LASTEXITCODE) { $result.Reason = "kubectl config view failed: $yaml" }
            else {
                [IO.File]::WriteAllText($file, ($yaml -join "`n") + "`n")
                if (-not $IsWindows) { & chmod 600 $file }
                $link = Join-Path $dir 'bin/kubectl'
                if (-not (Test-Path $link)) { $null = New-Item -ItemType SymbolicLink -Path $link -Target $kubectl }
                $env:KUBECONFIG = $file
                Remove-Item Env:PAASTA_KUBE_CONTEXT, Env:PAASTA_CLUSTER_CONTEXT -ErrorAction Ignore
                $result.KubeConfig = $file
                # Only this checkout's own platform may be restarted by a test: a shared one serves other runs too.
                $repo = if ($env:PAASTA_REPO_ROOT) { $env:PAASTA_REPO_ROOT } else { Split-Path $PSScriptRoot }
                $own = Join-Path $repo '.platform'
                $result.OwnPlatform = -not $named -and (Test-Path (Join-Path $state 'run/kube-apiserver.pid')) -and (Test-Path $own) -and
                    ((Resolve-Path $state).Path.TrimEnd('/') -eq (Resolve-Path $own).Path.TrimEnd('/'))
                $ready = & $kubectl --kubeconfig $file get --raw /readyz 2>$null
                $result.Up = $LASTEXITCODE -eq 0 -and $ready -eq 'ok'
                if (-not $result.Up) { $result.Reason = "the API server of context $context does not answer /readyz" }
            }
        }
    }
    $script:TestCluster = $result
    $result
}

function Get-TestKubectl {
    <# kubectl: the local platform's, else the one on PATH; $null when there is none. #>
    (Use-TestCluster).Kubectl
}

function Test-KubernetesUp {
    <# True when the test cluster (Use-TestCluster) answers /readyz with ok. #>
    (Use-TestCluster).Up
}

function New-TestName {
    <# A name no other run uses: the prefix and six hex digits (lower case, no dash, valid as a service name). #>
    param([Parameter(Mandatory)] [string] $Prefix)
    $Prefix + [guid]::NewGuid().ToString('n').Substring(0, 6)
}

function Register-TestNamespace {
    <# Declares a namespace this run is about to have created (by Sync or kubectl). It must not exist yet: a test
       deletes only namespaces it registered, so never one it did not create. #>
    param([Parameter(Mandatory)] [string] $Name)
    $kubectl = Get-TestKubectl
    $null = & $kubectl get namespace $Name -o name 2>$null
    if ($LASTEXITCODE -eq 0) { throw "Namespace $Name exists already: the test will neither use nor delete a namespace it did not create." }
    $script:CreatedNamespaces.Add($Name)
}

function Remove-TestNamespace {
    <# Deletes a namespace registered with Register-TestNamespace; refuses any other. #>
    param([Parameter(Mandatory)] [string] $Name, [switch] $Wait)
    if (-not $script:CreatedNamespaces.Contains($Name)) { throw "Refusing to delete namespace ${Name}: this test run did not create it." }
    $kubectl = Get-TestKubectl
    $null = & $kubectl delete namespace $Name --ignore-not-found "--wait=$(([bool]$Wait).ToString().ToLowerInvariant())" 2>&1
    $null = $script:CreatedNamespaces.Remove($Name)
}

function Invoke-Kubectl {
    <# kubectl on the test cluster (Use-TestCluster) with the test's arguments; throws with its output when it fails. #>
    $cluster = Use-TestCluster
    if (-not $cluster.KubeConfig) { throw "No test cluster: $($cluster.Reason)" }
    $out = & $cluster.Kubectl --kubeconfig $cluster.KubeConfig @args 2>&1
    if ($LASTEXITCODE) { throw "kubectl $args failed: $out" }
    $out
}

function Invoke-Git {
    <# git with the test's arguments; throws with its output when it fails. #>
    $out = & git @args 2>&1
    if ($LASTEXITCODE) { throw "git $args failed: $out" }
    $out
}

# The hello example's soa-configs copied as service $Service into $Soa, for Kubernetes only (its adhoc and tron files
# left out); returns the path of its kubernetes-local.yaml.
function Copy-HelloService([string] $Soa, [string] $Service) {
    $repo = if ($env:PAASTA_REPO_ROOT) { $env:PAASTA_REPO_ROOT } else { (Resolve-Path (Join-Path $PSScriptRoot '..')).Path }
    Copy-Item -Recurse (Join-Path $repo 'examples/soa-configs/hello') (Join-Path $Soa $Service)
    Remove-Item (Join-Path $Soa "$Service/adhoc-local.yaml"), (Join-Path $Soa "$Service/tron-local.yaml")
    Join-Path $Soa "$Service/kubernetes-local.yaml"
}

function New-TestImageCommit {
    <# Commits everything in the clone $Work and pushes it to its origin's main, then builds the commit's image with the
       service's Makefile (make cook-image) as 127.0.0.1:5000/services-$Service:paasta-<sha> and pushes it to the local
       registry. Returns the sha; the image name is <registry>/services-$Service:paasta-<sha>. #>
    param([Parameter(Mandatory)] [string] $Work, [Parameter(Mandatory)] [string] $Service, [Parameter(Mandatory)] [string] $Message)
    Invoke-Git -C $Work add -A | Out-Null
    Invoke-Git -C $Work -c user.name=t -c user.email=t@example.com commit -q --allow-empty -m $Message | Out-Null
    Invoke-Git -C $Work push -q origin HEAD:refs/heads/main | Out-Null
    $sha = (Invoke-Git -C $Work rev-parse HEAD).Trim()
    $image = "127.0.0.1:5000/services-${Service}:paasta-$sha"
    $out = & make -C $Work cook-image "DOCKER_TAG=$image" 2>&1
    if ($LASTEXITCODE) { throw "make cook-image failed: $out" }
    $out = & docker push $image 2>&1
    if ($LASTEXITCODE) { throw "docker push failed: $out" }
    $sha
}

function Get-KubeApiCounts {
    <# The last "Kubernetes API (server): N request(s), M write(s)." line of a -Verbose run's stream, as Requests and Writes. #>
    param([object[]] $Stream)
    $pattern = '^Kubernetes API(?: \([^)]*\))?: (\d+) request\(s\), (\d+) write\(s\)'
    $line = $Stream | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -match $pattern } | Select-Object -Last 1
    if (-not $line) { throw 'no API count in the verbose stream' }
    $null = $line.Message -match $pattern
    [pscustomobject]@{ Requests = [int]$Matches[1]; Writes = [int]$Matches[2] }
}

Export-ModuleMember -Function Copy-HelloService, Get-PwshCommand, Invoke-ChildPwsh, Assert-PlatformOrSkip, Get-TestPlatformState, Use-TestCluster, Get-TestKubectl, Test-KubernetesUp,
    New-TestName, Register-TestNamespace, Remove-TestNamespace, Invoke-Kubectl, Invoke-Git, New-TestImageCommit, Get-KubeApiCounts
