#Requires -Version 7.4
# Drain methods as users drive them (issue 6): custom methods from scriptblocks and compiled types, the built-ins
# through Invoke-PaastaDrainMethod, and the safety rule that a failing or hanging drain method never says "safe".
# hacheck and http are exercised against HTTP stand-ins in the xunit tests (tests/Paasta.Core.Tests/Drain).
BeforeAll {
    Import-Module $env:PAASTA_TEST_MODULE -Force
    $script:Suffix = [guid]::NewGuid().ToString('N').Substring(0, 6)
    function Get-UniqueName([string] $Stem) { "$Stem-$Suffix-$([guid]::NewGuid().ToString('N').Substring(0, 4))" }
    function New-Task([string] $Id = "pod-$([guid]::NewGuid().ToString('N').Substring(0, 8))") { @{ Id = $Id; Host = '127.0.0.1'; Port = 8888; Service = 'hello'; Instance = 'main' } }
}

AfterAll {
    Get-PaastaDrainMethod | Where-Object { $_.Name -like "*-$Suffix-*" } | Unregister-PaastaDrainMethod -Confirm:$false
}

Describe 'Register-PaastaDrainMethod with scriptblocks' {
    BeforeAll {
        $script:Log = Join-Path $TestDrive 'calls.log'
        $script:Name = Get-UniqueName 'recording'
        # The blocks run in their own runspaces: they learn where to log from drain_method_params ($args[1].Params).
        Register-PaastaDrainMethod -Name $Name -Description 'records calls' -Drain {
            param($Task, $Context)
            Add-Content -LiteralPath $Context.Params['log'] -Value "drain $($Task.Id) $($_.Id) $($args.Count) $($Task.GetType().FullName) $($Context.Service).$($Context.Instance) $($Task.Port)"
        } -IsSafeToKill {
            (Get-Content -LiteralPath $args[1].Params['log']) -contains "safe $($args[0].Id)"
        } -StopDraining {
            Add-Content -LiteralPath $args[1].Params['log'] -Value "undrain $($_.Id)"
        }
    }

    It 'lists the method with its source and definition' {
        $info = Get-PaastaDrainMethod -Name $Name
        $info.Name | Should -Be $Name
        $info.Source | Should -Be 'ScriptBlock'
        $info.Definition | Should -Be 'Drain, IsSafeToKill, StopDraining'
        $info.Description | Should -Be 'records calls'
        $info.PSObject.TypeNames[0] | Should -Be 'Paasta.Drain.DrainMethodInfo'
        (Get-PaastaDrainMethod | Where-Object Source -eq BuiltIn).Name | Should -Be @('hacheck', 'http', 'noop')
        (Get-PaastaDrainMethod -IncludeTestMethods | Where-Object ForTesting).Name | Should -Be @('crashy_drain', 'test')
        (Get-PaastaDrainMethod -Name test).ForTesting | Should -BeTrue
    }

    It 'gives the blocks a typed task as $_, $args[0] and the first parameter, and the context second' {
        $task = New-Task 'pod-typed'
        $r = Invoke-PaastaDrainMethod -Name $Name -Parameters @{ log = $Log } -Task $task -Action Drain
        $r.Succeeded | Should -BeTrue
        $r.PSObject.TypeNames[0] | Should -Be 'Paasta.Drain.DrainResult'
        Get-Content $Log | Should -Contain 'drain pod-typed pod-typed 0 Paasta.Drain.DrainTask hello.main 8888'
    }

    It 'is safe to kill only when its IsSafeToKill block says so' {
        $task = New-Task 'pod-safe'
        (Invoke-PaastaDrainMethod -Name $Name -Parameters @{ log = $Log } -Task $task -Action IsSafeToKill).SafeToKill | Should -BeFalse
        Add-Content $Log 'safe pod-safe'
        $r = Invoke-PaastaDrainMethod -Name $Name -Parameters @{ log = $Log } -Task $task -Action IsSafeToKill
        $r.Answer | Should -BeTrue
        $r.SafeToKill | Should -BeTrue
    }

    It 'without an IsDraining block, counts a task as draining from its drain to its StopDraining' {
        $task = New-Task
        $p = @{ Name = $Name; Parameters = @{ log = $Log }; Task = $task }
        (Invoke-PaastaDrainMethod @p -Action IsDraining).Answer | Should -BeFalse
        $null = Invoke-PaastaDrainMethod @p -Action Drain
        (Invoke-PaastaDrainMethod @p -Action IsDraining).Answer | Should -BeTrue
        $null = Invoke-PaastaDrainMethod @p -Action StopDraining
        Get-Content $Log | Should -Contain "undrain $($task.Id)"
        (Invoke-PaastaDrainMethod @p -Action IsDraining).Answer | Should -BeFalse
    }

    It 'changes nothing under -WhatIf' {
        $task = New-Task
        Invoke-PaastaDrainMethod -Name $Name -Parameters @{ log = $Log } -Task $task -Action Drain -WhatIf | Should -BeNullOrEmpty
        Get-Content $Log | Where-Object { $_ -like "drain $($task.Id) *" } | Should -BeNullOrEmpty
    }

    It 'can be called from engine threads while the registering session waits (no deadlock)' {
        # The engine's types live in the module's own load context (loaded by now): reach them as .NET code would.
        $Core = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'Paasta.Core' } | Select-Object -First 1
        $registry = $Core.GetType('Paasta.Drain.DrainMethodRegistry').GetProperty('Default').GetValue($null)
        $context = [Activator]::CreateInstance($Core.GetType('Paasta.Drain.DrainContext'))
        $guard = $registry.CreateGuarded($Name, $context, [timespan]::FromSeconds(20))
        $taskType = $Core.GetType('Paasta.Drain.DrainTask')
        $tasks = 1..6 | ForEach-Object {
            $t = [Activator]::CreateInstance($taskType)
            $taskType.GetProperty('Id').SetValue($t, "pod-thread-$_")
            $guard.IsDrainingAsync($t, [Threading.CancellationToken]::None)
        }
        # This thread blocks here, as Sync-PaastaInstance's does while the bounce engine drains.
        $results = @($tasks | ForEach-Object { $_.GetAwaiter().GetResult() })
        $results.Count | Should -Be 6
        $results | ForEach-Object { $_.Succeeded | Should -BeTrue; $_.Answer | Should -BeFalse }
    }
}

Describe 'A failing scriptblock drain method never says safe' {
    It 'reports a throwing IsSafeToKill as an error result, not safe' {
        $name = Get-UniqueName 'throwing'
        Register-PaastaDrainMethod -Name $name -Drain { } -IsSafeToKill { throw 'hacheck is on fire' }
        $r = Invoke-PaastaDrainMethod -Name $name -Task (New-Task) -Action IsSafeToKill -ErrorVariable err -ErrorAction SilentlyContinue
        $r.Succeeded | Should -BeFalse
        $r.SafeToKill | Should -BeFalse
        $r.Answer | Should -BeNullOrEmpty
        $r.ErrorId | Should -Be 'DrainScriptBlockFailed'
        $err[0].FullyQualifiedErrorId | Should -Be 'DrainScriptBlockFailed,Paasta.Commands.InvokePaastaDrainMethod'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidOperation'
        $err[0].Exception.Message | Should -Match 'hacheck is on fire'
    }

    It 'fails a Drain whose block writes an error, even though it goes on' {
        $name = Get-UniqueName 'writes-error'
        Register-PaastaDrainMethod -Name $name -Drain { Write-Error 'load balancer refused'; 'carried on' } -IsSafeToKill { $true }
        $r = Invoke-PaastaDrainMethod -Name $name -Task (New-Task) -Action Drain -ErrorVariable err -ErrorAction SilentlyContinue
        $r.Succeeded | Should -BeFalse
        $err[0].Exception.Message | Should -Match 'load balancer refused'
        $err[0].Exception.Message | Should -Not -Match 'ErrorActionPreference'
    }

    It 'refuses an answer that is not $true or $false' {
        $name = Get-UniqueName 'stringly'
        Register-PaastaDrainMethod -Name $name -Drain { } -IsSafeToKill { 'yes' }
        $r = Invoke-PaastaDrainMethod -Name $name -Task (New-Task) -Action IsSafeToKill -ErrorVariable err -ErrorAction SilentlyContinue
        $r.SafeToKill | Should -BeFalse
        $r.ErrorId | Should -Be 'DrainScriptResultInvalid'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidData'
    }

    It 'times out a block that hangs, stops it, and does not say safe' {
        $name = Get-UniqueName 'hanging'
        $marker = Join-Path $TestDrive 'finished.txt'
        Register-PaastaDrainMethod -Name $name -Drain { } -IsSafeToKill { Start-Sleep -Seconds 4; Set-Content $args[1].Params['marker'] 'ran on'; $true }
        $watch = [Diagnostics.Stopwatch]::StartNew()
        $r = Invoke-PaastaDrainMethod -Name $name -Parameters @{ marker = $marker } -Task (New-Task) -Action IsSafeToKill -TimeoutSec 1 -ErrorVariable err -ErrorAction SilentlyContinue
        $watch.Elapsed.TotalSeconds | Should -BeLessThan 3.5
        $r.SafeToKill | Should -BeFalse
        $r.ErrorId | Should -Be 'DrainMethodTimedOut'
        $err[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
        Start-Sleep -Seconds 4.5
        Test-Path $marker | Should -BeFalse -Because 'the timed-out pipeline is stopped, not left running'
    }

    It 'reports crashy_drain as DrainMethodFailed, not safe' {
        $r = Invoke-PaastaDrainMethod -Name crashy_drain -Task (New-Task) -Action IsSafeToKill -ErrorVariable err -ErrorAction SilentlyContinue
        $r.SafeToKill | Should -BeFalse
        $err[0].FullyQualifiedErrorId | Should -Be 'DrainMethodFailed,Paasta.Commands.InvokePaastaDrainMethod'
    }
}

Describe 'Register-PaastaDrainMethod with a .NET type' {
    It 'registers a compiled class and builds it with the context' {
        $coreDll = Join-Path (Get-Module Paasta).ModuleBase 'dependencies/Paasta.Core.dll'
        $typeName = "DrainTests$Suffix.AlwaysSafe"
        if (-not ($typeName -as [type])) {
            Add-Type -IgnoreWarnings -CompilerOptions '-nowarn:CS1701' -ReferencedAssemblies $coreDll, System.Runtime, System.Threading.Tasks, System.Collections -TypeDefinition @"
using System.Threading; using System.Threading.Tasks; using Paasta; using Paasta.Drain;
namespace DrainTests$Suffix {
    public sealed class AlwaysSafe : IDrainMethod {
        private readonly DrainContext _context;
        public AlwaysSafe(DrainContext context) { _context = context; }
        public Task DrainAsync(DrainTask task, CancellationToken c) => Task.CompletedTask;
        public Task StopDrainingAsync(DrainTask task, CancellationToken c) => Task.CompletedTask;
        public Task<bool> IsDrainingAsync(DrainTask task, CancellationToken c) => Task.FromResult(_context.Service == "hello");
        public Task<bool> IsSafeToKillAsync(DrainTask task, CancellationToken c) => Task.FromResult(true);
    }
}
"@
        }
        $name = Get-UniqueName 'typed'
        $info = Register-PaastaDrainMethod -Name $name -Type ($typeName -as [type]) -PassThru
        $info.Source | Should -Be 'Type'
        $info.Definition | Should -Be $typeName
        (Invoke-PaastaDrainMethod -Name $name -Task (New-Task) -Action IsSafeToKill).SafeToKill | Should -BeTrue
        (Invoke-PaastaDrainMethod -Name $name -Service other -Task (New-Task) -Action IsDraining).Answer | Should -BeFalse
        (Invoke-PaastaDrainMethod -Name $name -Task (New-Task) -Action IsDraining).Answer | Should -BeTrue
    }

    It 'refuses a type that is not a drain method' {
        { Register-PaastaDrainMethod -Name (Get-UniqueName 'string') -Type ([string]) } |
            Should -Throw -ErrorId 'DrainMethodTypeInvalid,Paasta.Commands.RegisterPaastaDrainMethod'
    }

    It 'refuses a PowerShell class' {
        $type = Invoke-Expression 'class DrainTestsNotCompiled { }; [DrainTestsNotCompiled]'
        { Register-PaastaDrainMethod -Name (Get-UniqueName 'psclass') -Type $type } |
            Should -Throw -ErrorId 'DrainMethodTypeInvalid,Paasta.Commands.RegisterPaastaDrainMethod'
    }
}

Describe 'Names: conflicts, built-ins, listing and removal' {
    It 'refuses a taken name unless -Force, and never a built-in' {
        $name = Get-UniqueName 'taken'
        Register-PaastaDrainMethod -Name $name -Drain { } -IsSafeToKill { $false }
        { Register-PaastaDrainMethod -Name $name -Drain { } -IsSafeToKill { $true } } |
            Should -Throw -ErrorId 'DrainMethodAlreadyRegistered,Paasta.Commands.RegisterPaastaDrainMethod'
        Register-PaastaDrainMethod -Name $name -Drain { } -IsSafeToKill { $true } -Force
        (Invoke-PaastaDrainMethod -Name $name -Task (New-Task) -Action IsSafeToKill).SafeToKill | Should -BeTrue
        { Register-PaastaDrainMethod -Name hacheck -Drain { } -IsSafeToKill { $true } -Force } |
            Should -Throw -ErrorId 'DrainMethodBuiltIn,Paasta.Commands.RegisterPaastaDrainMethod'
        { Register-PaastaDrainMethod -Name 'not a name' -Drain { } -IsSafeToKill { $true } } |
            Should -Throw -ErrorId 'DrainMethodNameInvalid,Paasta.Commands.RegisterPaastaDrainMethod'
    }

    It 'filters with wildcards and reports an unknown name' {
        (Get-PaastaDrainMethod 'hach*', 'htt*').Name | Should -Be @('hacheck', 'http')
        Get-PaastaDrainMethod 'nope' -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -Be 'DrainMethodNotFound,Paasta.Commands.GetPaastaDrainMethod'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'unregisters only with confirmation, from the pipeline, and never a built-in' {
        $name = Get-UniqueName 'removable'
        Register-PaastaDrainMethod -Name $name -Drain { } -IsSafeToKill { $true }
        Unregister-PaastaDrainMethod -Name $name -WhatIf
        Get-PaastaDrainMethod $name | Should -Not -BeNullOrEmpty
        $removed = Get-PaastaDrainMethod $name | Unregister-PaastaDrainMethod -Confirm:$false -PassThru
        $removed.Name | Should -Be $name
        Get-PaastaDrainMethod $name -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        Invoke-PaastaDrainMethod -Name $name -Task (New-Task) -Action IsSafeToKill -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -Be 'DrainMethodNotFound,Paasta.Commands.InvokePaastaDrainMethod'
        Unregister-PaastaDrainMethod -Name noop -Confirm:$false -ErrorVariable err2 -ErrorAction SilentlyContinue
        $err2[0].FullyQualifiedErrorId | Should -Be 'DrainMethodBuiltIn,Paasta.Commands.UnregisterPaastaDrainMethod'
        Get-PaastaDrainMethod noop | Should -Not -BeNullOrEmpty
    }
}

Describe 'Invoke-PaastaDrainMethod with the built-ins and instances' {
    It 'drives the test method: drained, not safe until its delay has passed' {
        $task = New-Task
        $p = @{ Name = 'test'; Parameters = @{ delay = 1 }; Task = $task }
        $null = Invoke-PaastaDrainMethod @p -Action Drain
        (Invoke-PaastaDrainMethod @p -Action IsDraining).Answer | Should -BeTrue
        (Invoke-PaastaDrainMethod @p -Action IsSafeToKill).SafeToKill | Should -BeFalse
        Start-Sleep -Milliseconds 1100
        (Invoke-PaastaDrainMethod @p -Action IsSafeToKill).SafeToKill | Should -BeTrue
    }

    It 'uses an instance''s drain_method and drain_method_params, and its container_port for a task without one' {
        $soa = Join-Path $TestDrive 'soa'
        $svc = New-Item -ItemType Directory -Force (Join-Path $soa 'drainy')
        Set-Content (Join-Path $svc 'service.yaml') "description: x`nexternal_link: http://x"
        Set-Content (Join-Path $svc 'monitoring.yaml') 'team: t'
        Set-Content (Join-Path $svc 'deploy.yaml') "pipeline:`n- step: local.main"
        Set-Content (Join-Path $svc 'kubernetes-local.yaml') "main: {deploy_group: local.main, container_port: 9123, drain_method: test, drain_method_params: {delay: 0}}"
        $instance = Get-PaastaInstance -SoaDir $soa -Service drainy -Instance main
        $task = @{ Id = "pod-$Suffix-instance"; IP = '10.1.1.1' }
        $drained = Invoke-PaastaDrainMethod -InstanceConfig $instance -Task $task -Action Drain
        $drained.Method | Should -Be 'test'
        $drained.Task.Port | Should -Be 9123
        (Invoke-PaastaDrainMethod -InstanceConfig $instance -Task $task -Action IsSafeToKill).SafeToKill | Should -BeTrue
    }

    It 'is noop and always safe for a plain instance' {
        $instance = Get-PaastaInstance -SoaDir (Join-Path $env:PAASTA_REPO_ROOT 'examples/soa-configs') -Service hello -Cluster local -Instance main
        $instance.DrainMethod | Should -Be 'noop'
        (Invoke-PaastaDrainMethod -InstanceConfig $instance -Task (New-Task) -Action IsSafeToKill).SafeToKill | Should -BeTrue
    }

    It 'reports bad drain_method_params before calling anything' {
        Invoke-PaastaDrainMethod -Name hacheck -Parameters @{ delay = -1 } -Task (New-Task) -Action Drain -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -Be 'DrainMethodParamsInvalid,Paasta.Commands.InvokePaastaDrainMethod'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidData'
    }

    It 'takes tasks from hashtables, pod objects and kubectl JSON' {
        $fromStatus = [pscustomobject]@{ Name = 'pod-status'; Namespace = 'paastasvc-hello'; IP = '10.2.0.4'; Node = 'n1'; Service = 'hello'; Instance = 'main' }
        $fromKubectl = '{"metadata":{"name":"pod-kubectl","namespace":"paastasvc-hello","labels":{"paasta.yelp.com/service":"hello","paasta.yelp.com/instance":"canary"}},
            "spec":{"nodeName":"n2","containers":[{"name":"c","ports":[{"containerPort":8888}]}]},"status":{"podIP":"10.2.0.5","hostIP":"172.18.0.2"}}' | ConvertFrom-Json
        $results = $fromStatus, $fromKubectl, @{ Id = 'pod-hash'; Host = '10.2.0.6'; Ports = 1, 2 } | Invoke-PaastaDrainMethod -Name noop -Action IsDraining
        $results.Task.Id | Should -Be @('pod-status', 'pod-kubectl', 'pod-hash')
        $results[0].Task.Host | Should -Be '10.2.0.4'
        $results[0].Task.NodeName | Should -Be 'n1'
        $results[1].Task.Host | Should -Be '10.2.0.5'
        $results[1].Task.Port | Should -Be 8888
        $results[1].Task.Instance | Should -Be 'canary'
        $results[1].Task.Labels['paasta.yelp.com/service'] | Should -Be 'hello'
        $results[2].Task.Ports | Should -Be @(1, 2)
        { Invoke-PaastaDrainMethod -Name noop -Action IsDraining -Task @{ Host = '10.0.0.1' } } |
            Should -Throw -ErrorId 'ParameterArgumentTransformationError,Paasta.Commands.InvokePaastaDrainMethod'
    }

    It 'shows results as a table' {
        $text = Invoke-PaastaDrainMethod -Name crashy_drain -Task (New-Task 'pod-table') -Action Drain -ErrorAction SilentlyContinue | Out-String -Width 150
        $text | Should -Match 'Drain\s+crashy_drain\s+pod-table\s+False\s+False\s+DrainMethodFailed'
    }
}
