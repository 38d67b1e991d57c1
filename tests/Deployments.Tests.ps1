#Requires -Version 7.4
# The git contract as users drive it: Publish/Start/Stop/Restart/Undo write tags (checked with git ls-remote),
# New-PaastaDeployments turns them into deployments.json, Get-PaastaDeployment reads it back.
BeforeAll {
    Import-Module $env:PAASTA_TEST_MODULE -Force

    function Invoke-Git {
        param([Parameter(Mandatory)] [string] $Directory, [Parameter(ValueFromRemainingArguments)] [string[]] $GitArgs)
        $out = & git -C $Directory -c user.name=test -c user.email=test@example.com @GitArgs 2>&1
        if ($LASTEXITCODE -ne 0) { throw "git $($GitArgs -join ' ') failed: $out" }
        $out
    }

    function Get-LsRemote([string] $Remote) {
        $map = @{}
        foreach ($line in (& git ls-remote $Remote)) {
            $sha, $name = $line -split "`t"
            $map[$name] = $sha
        }
        $map
    }

    # A bare "remote", a clone to commit in, and soa-configs for service 'svc' pointing at the remote.
    function New-TestBed {
        $root = Join-Path $TestDrive ([guid]::NewGuid().ToString('N').Substring(0, 8))
        $remote = Join-Path $root 'remote.git'
        $work = Join-Path $root 'work'
        $soa = Join-Path $root 'soa'
        $null = New-Item -ItemType Directory -Force $root, (Join-Path $soa 'svc')
        $null = & git init -q --bare -b main $remote
        $null = & git init -q -b main $work
        Set-Content (Join-Path $soa 'svc/service.yaml') "description: test`nexternal_link: http://example`ngit_url: $remote`n"
        Set-Content (Join-Path $soa 'svc/deploy.yaml') "pipeline:`n- step: itest`n- step: prod.canary`n- step: prod.main`n- step: never.deployed`n"
        Set-Content (Join-Path $soa 'svc/kubernetes-c1.yaml') "main:`n  deploy_group: prod.main`ncanary:`n  deploy_group: prod.canary`nidle:`n  deploy_group: never.deployed`n"
        [pscustomobject]@{ Root = $root; Remote = $remote; Work = $work; Soa = $soa }
    }

    function New-Commit($Bed, [string] $Message = 'change') {
        Set-Content (Join-Path $Bed.Work 'file.txt') "$Message $([guid]::NewGuid())"
        $null = Invoke-Git $Bed.Work add file.txt
        $null = Invoke-Git $Bed.Work commit -q -m $Message
        $null = Invoke-Git $Bed.Work push -q $Bed.Remote HEAD:refs/heads/main
        (Invoke-Git $Bed.Work rev-parse HEAD).Trim()
    }
}

Describe 'Publish-PaastaDeployment' {
    BeforeAll {
        $bed = New-TestBed
        $sha = New-Commit $bed
    }

    It 'marks a short sha for deployment; git ls-remote sees the tag' {
        $result = Publish-PaastaDeployment -PassThru -SoaDir $bed.Soa -Service svc -DeployGroup prod.main -Commit $sha.Substring(0, 7)
        $result.PSObject.TypeNames[0] | Should -Be 'Paasta.Deployments.DeployTagResult'
        $result.Sha | Should -Be $sha
        $result.Tag | Should -Match '^paasta-prod\.main-\d{8}T\d{6}-deploy$'
        (Get-LsRemote $bed.Remote)["refs/tags/$($result.Tag)"] | Should -Be $sha
    }

    It 'carries the image version in the tag' {
        $result = Publish-PaastaDeployment -PassThru -SoaDir $bed.Soa -Service svc -DeployGroup prod.canary -Commit $sha -ImageVersion 1710512553
        $result.Tag | Should -Match '^paasta-prod\.canary\+1710512553-\d{8}T\d{6}-deploy$'
    }

    It 'refuses an unknown short sha with CommitNotFound' {
        $unknown = if ($sha.StartsWith('0000')) { 'ffff' } else { '0000' }
        { Publish-PaastaDeployment -SoaDir $bed.Soa -Service svc -DeployGroup prod.main -Commit $unknown -ErrorAction Stop } |
            Should -Throw -ErrorId 'CommitNotFound,Paasta.Commands.PublishPaastaDeployment'
    }

    It 'refuses an ambiguous short sha with CommitAmbiguous' {
        # Two refs whose objects share a 4-digit prefix: find two blob contents whose git ids collide in
        # their first 4 hex digits (git's blob id is sha1("blob <length>\0<content>")), store and tag them.
        $sha1 = [Security.Cryptography.SHA1]::Create()
        $seen = @{}
        $pair = $null
        for ($i = 0; -not $pair; $i++) {
            $content = "blob $i"
            $id = [Convert]::ToHexString($sha1.ComputeHash([Text.Encoding]::ASCII.GetBytes("blob $($content.Length)`0$content"))).ToLowerInvariant()
            $prefix = $id.Substring(0, 4)
            if ($seen.ContainsKey($prefix)) { $pair = [pscustomobject]@{ Name = $prefix; Group = @($seen[$prefix].Id, $id); Contents = @($seen[$prefix].Content, $content) } }
            else { $seen[$prefix] = @{ Id = $id; Content = $content } }
        }
        foreach ($content in $pair.Contents) {
            [IO.File]::WriteAllText((Join-Path $bed.Root 'blob.txt'), $content)
            (& git -C $bed.Remote hash-object -w (Join-Path $bed.Root 'blob.txt')) | Should -BeIn $pair.Group
        }
        $null = Invoke-Git $bed.Remote update-ref refs/tags/blob-a $pair.Group[0]
        $null = Invoke-Git $bed.Remote update-ref refs/tags/blob-b $pair.Group[1]
        $before = (Get-LsRemote $bed.Remote).Count
        Publish-PaastaDeployment -PassThru -SoaDir $bed.Soa -Service svc -DeployGroup prod.main -Commit $pair.Name -ErrorVariable err -ErrorAction SilentlyContinue |
            Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -Be 'CommitAmbiguous,Paasta.Commands.PublishPaastaDeployment'
        $err[0].Exception.Message | Should -Match $pair.Group[0]
        (Get-LsRemote $bed.Remote).Count | Should -Be $before
    }

    It 'warns when the deploy group is used by no instance' {
        $null = Publish-PaastaDeployment -SoaDir $bed.Soa -Service svc -DeployGroup prod.typo -Commit $sha -WarningVariable warnings -WarningAction SilentlyContinue
        $warnings -join "`n" | Should -Match 'prod\.typo'
    }

    It '-WhatIf writes no tag' {
        $before = Get-LsRemote $bed.Remote
        Publish-PaastaDeployment -PassThru -SoaDir $bed.Soa -Service svc -DeployGroup prod.main -Commit $sha -WhatIf -WarningAction SilentlyContinue | Should -BeNullOrEmpty
        (Get-LsRemote $bed.Remote).Count | Should -Be $before.Count
    }

    It 'says GitRepositoryNotConfigured when service.yaml has no git_url' {
        $other = New-TestBed
        Set-Content (Join-Path $other.Soa 'svc/service.yaml') "description: test`nexternal_link: http://example`n"
        { Publish-PaastaDeployment -SoaDir $other.Soa -Service svc -DeployGroup prod.main -Commit $sha -ErrorAction Stop } |
            Should -Throw -ErrorId 'GitRepositoryNotConfigured,Paasta.Commands.PublishPaastaDeployment'
        # -Repository names it instead.
        $result = Publish-PaastaDeployment -PassThru -SoaDir $other.Soa -Service svc -DeployGroup prod.main -Commit $sha -Repository $bed.Remote -WarningAction SilentlyContinue
        $result.Repository | Should -Be $bed.Remote
    }
}

Describe 'Start-, Stop- and Restart-PaastaInstance' {
    BeforeEach {
        $bed = New-TestBed
        $sha = New-Commit $bed
        $null = Publish-PaastaDeployment -SoaDir $bed.Soa -Service svc -DeployGroup prod.main -Commit $sha
        $null = Publish-PaastaDeployment -SoaDir $bed.Soa -Service svc -DeployGroup prod.canary -Commit $sha
    }

    It 'stops instances piped from Get-PaastaInstance, one result and one tag each' {
        $results = Get-PaastaInstance -SoaDir $bed.Soa -Service svc -Cluster c1 -Instance main, canary | Stop-PaastaInstance -PassThru -Confirm:$false
        $results | Should -HaveCount 2
        $results[0].PSObject.TypeNames[0] | Should -Be 'Paasta.Deployments.InstanceControlResult'
        $results.State | Should -Be @('stop', 'stop')
        $results.Instance | Sort-Object | Should -Be @('canary', 'main')
        $refs = Get-LsRemote $bed.Remote
        foreach ($r in $results) {
            $r.Tag | Should -Match "^paasta-c1\.$($r.Instance)-\d{8}T\d{6}-stop$"
            $r.ForceBounce | Should -Match '^\d{8}T\d{6}$'
            $refs["refs/tags/$($r.Tag)"] | Should -Be $sha
        }
    }

    It '-WhatIf writes no tag' {
        $before = Get-LsRemote $bed.Remote
        Get-PaastaInstance -SoaDir $bed.Soa -Service svc -Cluster c1 -Instance main | Stop-PaastaInstance -PassThru -WhatIf | Should -BeNullOrEmpty
        Restart-PaastaInstance -PassThru -SoaDir $bed.Soa -Service svc -Cluster c1 -Instance main -WhatIf | Should -BeNullOrEmpty
        $after = Get-LsRemote $bed.Remote
        $after.Count | Should -Be $before.Count
        $after.Keys | Where-Object { $_ -match '-(start|stop)$' } | Should -BeNullOrEmpty
    }

    It 'declares ConfirmImpact High for Stop and Medium for Start and Restart' {
        $impact = { param($name) (Get-Command $name).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $true)[0].ConfirmImpact }
        & $impact Stop-PaastaInstance | Should -Be 'High'
        & $impact Undo-PaastaDeployment | Should -Be 'High'
        & $impact Start-PaastaInstance | Should -Be 'Medium'
        & $impact Restart-PaastaInstance | Should -Be 'Medium'
    }

    It 'refuses an instance whose deploy group has no deploy tag (NoDeployTag), and writes nothing' {
        Stop-PaastaInstance -PassThru -SoaDir $bed.Soa -Service svc -Cluster c1 -Instance idle -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue |
            Should -BeNullOrEmpty
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -Be 'NoDeployTag,Paasta.Commands.StopPaastaInstance'
        $err[0].Exception.Message | Should -Match 'never\.deployed'
        (Get-LsRemote $bed.Remote).Keys | Where-Object { $_ -match '-stop$' } | Should -BeNullOrEmpty
    }

    It 'keeps going past an instance it refuses' {
        $results = Get-PaastaInstance -SoaDir $bed.Soa -Service svc -Cluster c1 | Start-PaastaInstance -PassThru -ErrorVariable err -ErrorAction SilentlyContinue
        $results.Instance | Sort-Object | Should -Be @('canary', 'main')
        $err[0].FullyQualifiedErrorId | Should -Be 'NoDeployTag,Paasta.Commands.StartPaastaInstance'
    }

    It 'Stop needs -Cluster and -Instance' {
        { Stop-PaastaInstance -SoaDir $bed.Soa -Service svc -Confirm:$false } |
            Should -Throw -ErrorId 'ExplicitInstanceRequired,Paasta.Commands.StopPaastaInstance'
    }

    It 'reports an unknown instance' {
        Start-PaastaInstance -PassThru -SoaDir $bed.Soa -Service svc -Cluster c1 -Instance nope -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -Be 'InstanceNotFound,Paasta.Commands.StartPaastaInstance'
    }

    It 'stop lasts until a different commit is deployed' {
        $null = Stop-PaastaInstance -SoaDir $bed.Soa -Service svc -Cluster c1 -Instance main -Confirm:$false
        $null = New-PaastaDeployments -SoaDir $bed.Soa -Service svc
        (Get-PaastaDeployment -SoaDir $bed.Soa -Service svc -Instance main).DesiredState | Should -Be 'stop'

        # The same commit again: still stopped.
        $null = Publish-PaastaDeployment -SoaDir $bed.Soa -Service svc -DeployGroup prod.main -Commit $sha -WarningAction SilentlyContinue
        $null = New-PaastaDeployments -SoaDir $bed.Soa -Service svc
        (Get-PaastaDeployment -SoaDir $bed.Soa -Service svc -Instance main).DesiredState | Should -Be 'stop'

        # A different commit: started again, without a force_bounce.
        $next = New-Commit $bed 'next'
        $null = Publish-PaastaDeployment -SoaDir $bed.Soa -Service svc -DeployGroup prod.main -Commit $next
        $null = New-PaastaDeployments -SoaDir $bed.Soa -Service svc
        $main = Get-PaastaDeployment -SoaDir $bed.Soa -Service svc -Instance main
        $main.GitSha | Should -Be $next
        $main.DesiredState | Should -Be 'start'
        $main.ForceBounce | Should -BeNullOrEmpty
    }

    It 'restart changes force_bounce each time' {
        $stop = Stop-PaastaInstance -PassThru -SoaDir $bed.Soa -Service svc -Cluster c1 -Instance main -Confirm:$false
        $restart = Restart-PaastaInstance -PassThru -SoaDir $bed.Soa -Service svc -Cluster c1 -Instance main
        $restart.State | Should -Be 'start'
        $restart.Action | Should -Be 'Restart'
        $restart.ForceBounce | Should -BeGreaterThan $stop.ForceBounce
        $file = New-PaastaDeployments -SoaDir $bed.Soa -Service svc
        $file.Controls['svc:c1.main'].DesiredState | Should -Be 'start'
        $file.Controls['svc:c1.main'].ForceBounce | Should -Be $restart.ForceBounce

        $again = Restart-PaastaInstance -PassThru -SoaDir $bed.Soa -Service svc -Cluster c1 -Instance main
        $again.ForceBounce | Should -BeGreaterThan $restart.ForceBounce
        (New-PaastaDeployments -SoaDir $bed.Soa -Service svc).Controls['svc:c1.main'].ForceBounce | Should -Be $again.ForceBounce
    }
}

Describe 'New-PaastaDeployments' {
    BeforeAll {
        $bed = New-TestBed
        $sha = New-Commit $bed
        $null = Publish-PaastaDeployment -SoaDir $bed.Soa -Service svc -DeployGroup prod.main -Commit $sha
        $path = Join-Path $bed.Soa 'svc/deployments.json'
    }

    It 'writes deployments.json in PaaSTA''s exact format, and only when it changes' {
        $first = New-PaastaDeployments -SoaDir $bed.Soa -Service svc
        $first.PSObject.TypeNames[0] | Should -Be 'Paasta.Deployments.DeploymentsFile'
        $first.Written | Should -BeTrue
        $text = [IO.File]::ReadAllText($path)
        $text | Should -BeExactly ("{""v1"": {""svc:paasta-c1.main"": {""docker_image"": ""services-svc:paasta-$sha"", ""desired_state"": ""start"", ""force_bounce"": null}}, " +
            """v2"": {""deployments"": {""prod.main"": {""docker_image"": ""services-svc:paasta-$sha"", ""git_sha"": ""$sha"", ""image_version"": null}}, " +
            """controls"": {""svc:c1.main"": {""desired_state"": ""start"", ""force_bounce"": null}}}}")
        $stamp = (Get-Item $path).LastWriteTimeUtc
        Start-Sleep -Milliseconds 50
        $second = New-PaastaDeployments -SoaDir $bed.Soa -Service svc
        $second.Changed | Should -BeFalse
        $second.Written | Should -BeFalse
        (Get-Item $path).LastWriteTimeUtc | Should -Be $stamp
    }

    It 'has no singular alias New-PaastaDeployment, which would read as a sibling of Get-, Publish- and Undo-PaastaDeployment' {
        Get-Command New-PaastaDeployment -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        Get-Alias -Definition New-PaastaDeployments -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
    }

    It '-WhatIf computes but does not write' {
        Remove-Item $path
        $result = New-PaastaDeployments -SoaDir $bed.Soa -Service svc -WhatIf
        $result.Changed | Should -BeTrue
        $result.Written | Should -BeFalse
        Test-Path $path | Should -BeFalse
    }

    It 'replaces an invalid old file' {
        Set-Content $path '{"v1": {'
        (New-PaastaDeployments -SoaDir $bed.Soa -Service svc).Written | Should -BeTrue
        { [IO.File]::ReadAllText($path) | ConvertFrom-Json } | Should -Not -Throw
    }

    It 'writes empty deployments for git_url: null' {
        $none = New-TestBed
        Set-Content (Join-Path $none.Soa 'svc/service.yaml') "description: test`nexternal_link: http://example`ngit_url: null`n"
        $null = New-PaastaDeployments -SoaDir $none.Soa -Service svc
        [IO.File]::ReadAllText((Join-Path $none.Soa 'svc/deployments.json')) | Should -BeExactly '{"v1": {}, "v2": {"deployments": {}, "controls": {}}}'
    }

    It 'says GitRepositoryNotConfigured when git_url is absent' {
        $none = New-TestBed
        Set-Content (Join-Path $none.Soa 'svc/service.yaml') "description: test`nexternal_link: http://example`n"
        { New-PaastaDeployments -SoaDir $none.Soa -Service svc -ErrorAction Stop } |
            Should -Throw -ErrorId 'GitRepositoryNotConfigured,Paasta.Commands.NewPaastaDeployments'
    }

    It 'says GitRepositoryNotFound for a repository that is not there' {
        { New-PaastaDeployments -SoaDir $bed.Soa -Service svc -Repository (Join-Path $bed.Root 'missing.git') -ErrorAction Stop } |
            Should -Throw -ErrorId 'GitRepositoryNotFound,Paasta.Commands.NewPaastaDeployments'
    }
}

Describe 'Get-PaastaDeployment' {
    BeforeAll {
        $bed = New-TestBed
        $sha = New-Commit $bed
        $null = Publish-PaastaDeployment -SoaDir $bed.Soa -Service svc -DeployGroup prod.main -Commit $sha -ImageVersion 5
    }

    It 'needs deployments.json unless -Live' {
        { Get-PaastaDeployment -SoaDir $bed.Soa -Service svc -ErrorAction Stop } |
            Should -Throw -ErrorId 'DeploymentsFileNotFound,Paasta.Commands.GetPaastaDeployment'
        $live = Get-PaastaDeployment -SoaDir $bed.Soa -Service svc -Live
        $live | Should -HaveCount 3
        ($live | Where-Object Instance -eq main).DeployTag | Should -Match '^paasta-prod\.main\+5-'
        ($live | Where-Object Instance -eq main).DeployedAt | Should -Not -BeNullOrEmpty
        ($live | Where-Object Instance -eq idle).Deployed | Should -BeFalse
    }

    It 'reads the file per instance and per deploy group' {
        $null = New-PaastaDeployments -SoaDir $bed.Soa -Service svc
        $main = Get-PaastaDeployment -SoaDir $bed.Soa -Service svc -Instance main
        $main.PSObject.TypeNames[0] | Should -Be 'Paasta.Deployments.DeploymentInfo'
        $main.GitSha | Should -Be $sha
        $main.ImageVersion | Should -Be '5'
        $main.DockerImage | Should -Be "services-svc:paasta-$sha-5"
        $main.Source | Should -Be 'deployments.json'
        $groups = Get-PaastaDeployment -SoaDir $bed.Soa -Service svc -ByDeployGroup
        $groups | Should -HaveCount 1
        $groups.DeployGroup | Should -Be 'prod.main'
        (Get-PaastaDeployment -SoaDir $bed.Soa -Service svc -Live -ByDeployGroup).GitSha | Should -Be $sha
    }
}

Describe 'Undo-PaastaDeployment' {
    BeforeAll {
        $bed = New-TestBed
        $good = New-Commit $bed 'good'
        $null = Publish-PaastaDeployment -SoaDir $bed.Soa -Service svc -DeployGroup prod.main -Commit $good
        $bad = New-Commit $bed 'bad'
        $null = Publish-PaastaDeployment -SoaDir $bed.Soa -Service svc -DeployGroup prod.main -Commit $bad
    }

    It '-WhatIf writes nothing' {
        $before = (Get-LsRemote $bed.Remote).Count
        Undo-PaastaDeployment -PassThru -SoaDir $bed.Soa -Service svc -DeployGroup prod.main -WhatIf | Should -BeNullOrEmpty
        (Get-LsRemote $bed.Remote).Count | Should -Be $before
    }

    It 'rolls back to the previous version and tags the bad commit' {
        $result = Undo-PaastaDeployment -PassThru -SoaDir $bed.Soa -Service svc -DeployGroup prod.main -Confirm:$false
        $result.PSObject.TypeNames[0] | Should -Be 'Paasta.Deployments.RollbackResult'
        $result.From.Sha | Should -Be $bad
        $result.To.Sha | Should -Be $good
        $refs = Get-LsRemote $bed.Remote
        $refs["refs/tags/$($result.RollbackTag)"] | Should -Be $bad
        $refs["refs/tags/$($result.DeployTag)"] | Should -Be $good
        $result.RollbackTag | Should -Match '^paasta-prod\.main-\d{8}T\d{6}-rollback$'
        (New-PaastaDeployments -SoaDir $bed.Soa -Service svc).Deployments['prod.main'].GitSha | Should -Be $good
    }

    It 'warns when the rolled-back commit is marked again' {
        $null = Publish-PaastaDeployment -SoaDir $bed.Soa -Service svc -DeployGroup prod.main -Commit $bad -WarningVariable warnings -WarningAction SilentlyContinue -WhatIf
        $warnings -join "`n" | Should -Match 'rolled back'
    }

    It 'reports NothingToRollBack when the target is already current' {
        Undo-PaastaDeployment -PassThru -SoaDir $bed.Soa -Service svc -DeployGroup prod.main -Commit $good -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue |
            Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -Be 'NothingToRollBack,Paasta.Commands.UndoPaastaDeployment'
    }

    It 'refuses a version the group never ran unless -Force' {
        $other = New-Commit $bed 'other'
        Undo-PaastaDeployment -PassThru -SoaDir $bed.Soa -Service svc -DeployGroup prod.main -Commit $other -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue |
            Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -Be 'VersionNeverDeployed,Paasta.Commands.UndoPaastaDeployment'
        (Undo-PaastaDeployment -PassThru -SoaDir $bed.Soa -Service svc -DeployGroup prod.main -Commit $other -Force -Confirm:$false).To.Sha | Should -Be $other
    }
}

Describe 'Action cmdlets return results only with -PassThru (house style 2.8)' {
    BeforeAll {
        $bed = New-TestBed
        $sha = New-Commit $bed
    }

    It 'Publish, Start, Stop, Restart and Undo write their tags but return nothing by default' {
        Publish-PaastaDeployment -SoaDir $bed.Soa -Service svc -DeployGroup prod.main -Commit $sha | Should -BeNullOrEmpty
        Start-PaastaInstance -SoaDir $bed.Soa -Service svc -Cluster c1 -Instance main | Should -BeNullOrEmpty
        Stop-PaastaInstance -SoaDir $bed.Soa -Service svc -Cluster c1 -Instance main -Confirm:$false | Should -BeNullOrEmpty
        Restart-PaastaInstance -SoaDir $bed.Soa -Service svc -Cluster c1 -Instance main | Should -BeNullOrEmpty
        $next = New-Commit $bed 'next'
        Publish-PaastaDeployment -SoaDir $bed.Soa -Service svc -DeployGroup prod.main -Commit $next | Should -BeNullOrEmpty
        Undo-PaastaDeployment -SoaDir $bed.Soa -Service svc -DeployGroup prod.main -Confirm:$false | Should -BeNullOrEmpty
        $names = (Get-LsRemote $bed.Remote).Keys
        @($names -match '^refs/tags/paasta-prod\.main-\d{8}T\d{6}-deploy$').Count | Should -Be 3
        @($names -match '^refs/tags/paasta-c1\.main-\d{8}T\d{6}-start$').Count | Should -Be 2
        @($names -match '^refs/tags/paasta-c1\.main-\d{8}T\d{6}-stop$').Count | Should -Be 1
        @($names -match '^refs/tags/paasta-prod\.main-\d{8}T\d{6}-rollback$').Count | Should -Be 1
    }

    It 'New-PaastaDeployments returns the file it made, so it has no -PassThru' {
        (Get-Command New-PaastaDeployments).Parameters.Keys | Should -Not -Contain 'PassThru'
        (New-PaastaDeployments -SoaDir $bed.Soa -Service svc).PSObject.TypeNames[0] | Should -Be 'Paasta.Deployments.DeploymentsFile'
    }

    It 'declares every result type it can return under -PassThru' {
        foreach ($pair in @(@('Publish-PaastaDeployment', 'Paasta.Deployments.DeployTagResult'), @('Start-PaastaInstance', 'Paasta.Deployments.InstanceControlResult'),
                @('Stop-PaastaInstance', 'Paasta.Deployments.InstanceControlResult'), @('Restart-PaastaInstance', 'Paasta.Deployments.InstanceControlResult'),
                @('Undo-PaastaDeployment', 'Paasta.Deployments.RollbackResult'))) {
            $cmd = Get-Command $pair[0]
            $cmd.Parameters.Keys | Should -Contain 'PassThru'
            $cmd.OutputType.Name | Should -Contain $pair[1]
        }
    }
}

Describe 'Pipeline binding of the deployment cmdlets' {
    BeforeAll {
        $bed = New-TestBed
        $sha = New-Commit $bed
        $null = Publish-PaastaDeployment -SoaDir $bed.Soa -Service svc -DeployGroup prod.main -Commit $sha
        $null = Publish-PaastaDeployment -SoaDir $bed.Soa -Service svc -DeployGroup prod.canary -Commit $sha
    }

    It 'Get-PaastaDeployment takes -DeployGroup by property name' {
        $rows = [pscustomobject]@{ Service = 'svc'; DeployGroup = 'prod.canary' } | Get-PaastaDeployment -SoaDir $bed.Soa -Live
        $rows.Instance | Should -Be @('canary')
        # Each group's -ByDeployGroup row narrows the per-instance view to its own instances.
        $perGroup = Get-PaastaDeployment -SoaDir $bed.Soa -Service svc -Live -ByDeployGroup | Get-PaastaDeployment -SoaDir $bed.Soa -Live
        $perGroup.Instance | Sort-Object | Should -Be @('canary', 'main')
    }

    It 'Get-PaastaService output binds -Service through its Name' {
        $result = Get-PaastaService -SoaDir $bed.Soa -Name svc | Publish-PaastaDeployment -SoaDir $bed.Soa -DeployGroup prod.main -Commit $sha -PassThru -WarningAction SilentlyContinue
        $result.Service | Should -Be 'svc'
        $started = Get-PaastaService -SoaDir $bed.Soa -Name svc | Start-PaastaInstance -SoaDir $bed.Soa -Cluster c1 -Instance canary -PassThru
        $started.Instance | Should -Be 'canary'
    }
}

Describe 'New-PaastaDeployments -Verbose says which tag won' {
    BeforeAll {
        # Hand-made tags with known timestamps: prod.main has three deploy tags (the newest wins, whatever
        # the commit order); prod.canary has two with the same timestamp (the name that sorts first wins: '+'
        # before '-'); c1.main has a stop tag on the winning commit and a start tag on an older one.
        $bed = New-TestBed
        $old = New-Commit $bed 'old'
        $new = New-Commit $bed 'new'
        $tags = @(
            "create refs/tags/paasta-prod.main-20240101T000000-deploy $old"
            "create refs/tags/paasta-prod.main+7-20240201T000000-deploy $old"
            "create refs/tags/paasta-prod.main-20240301T000000-deploy $new"
            "create refs/tags/paasta-prod.canary-20240301T000000-deploy $new"
            "create refs/tags/paasta-prod.canary+b-20240301T000000-deploy $old"
            "create refs/tags/paasta-c1.main-20240302T000000-stop $new"
            "create refs/tags/paasta-c1.main-20240102T000000-start $old"
        )
        $tags | & git -C $bed.Remote update-ref --stdin
        if ($LASTEXITCODE) { throw 'git update-ref failed' }
        $file = New-PaastaDeployments -SoaDir $bed.Soa -Service svc -Verbose 4>&1 | Tee-Object -Variable all | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }
        $verbose = @($all | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message)
    }

    It 'explains each deploy group: the newest timestamp wins' {
        $verbose | Should -Contain "Deploy group 'prod.main': paasta-prod.main-20240301T000000-deploy wins (newest timestamp 20240301T000000 of 3 deploy tags; next newest paasta-prod.main+7-20240201T000000-deploy): commit $new."
    }

    It 'explains a tie: the name that sorts first wins' {
        $verbose | Should -Contain "Deploy group 'prod.canary': paasta-prod.canary+b-20240301T000000-deploy wins (newest timestamp 20240301T000000 of 2 deploy tags, shared with paasta-prod.canary-20240301T000000-deploy; the name that sorts first wins): commit $old, image version b."
    }

    It 'names the instances a never-deployed group leaves out' {
        $verbose | Should -Contain "Deploy group 'never.deployed': no deploy tag, so c1.idle is left out of deployments.json."
    }

    It 'explains each instance: only start/stop tags on the deployed commit count' {
        $verbose | Should -Contain "c1.main: desired_state stop, force_bounce 20240302T000000, from paasta-c1.main-20240302T000000-stop (newest of 1 start/stop tag on $($new.Substring(0, 8)); 1 on other commits ignored)."
        $verbose | Should -Contain "c1.canary: desired_state start, no force_bounce (no start/stop tag on $($old.Substring(0, 8)))."
    }

    It 'says what the file then holds' {
        $file.Deployments['prod.main'].GitSha | Should -Be $new
        $file.Deployments['prod.canary'].GitSha | Should -Be $old
        $file.Deployments['prod.canary'].ImageVersion | Should -Be 'b'
        $file.Controls['svc:c1.main'].DesiredState | Should -Be 'stop'
        $file.Controls['svc:c1.main'].ForceBounce | Should -Be '20240302T000000'
        $file.Controls['svc:c1.canary'].DesiredState | Should -Be 'start'
    }
}

Describe 'deployments.json is never half-written' {
    BeforeAll {
        # A big service: 2,000 instances over 200 deploy groups, and two repositories that deploy different
        # commits to every group, so each New-PaastaDeployments call (alternating between them) rewrites the file.
        $bed = New-TestBed
        $shaA = New-Commit $bed 'a'
        $shaB = New-Commit $bed 'b'
        $remoteB = Join-Path $bed.Root 'remote-b.git'
        $null = & git clone -q --bare $bed.Remote $remoteB
        $lines = foreach ($i in 0..1999) { "inst$($i):`n  deploy_group: group$($i % 200)" }
        Set-Content (Join-Path $bed.Soa 'svc/kubernetes-c1.yaml') ($lines -join "`n")
        foreach ($pair in @(@($bed.Remote, $shaA), @($remoteB, $shaB))) {
            $updates = foreach ($g in 0..199) { "create refs/tags/paasta-group$g-20240101T000000-deploy $($pair[1])" }
            $updates | & git -C $pair[0] update-ref --stdin
        }
        $path = Join-Path $bed.Soa 'svc/deployments.json'
        $marker = Join-Path $bed.Root 'child-started'
        $script = Join-Path $bed.Root 'writer.ps1'
        Set-Content $script @"
Import-Module '$($env:PAASTA_TEST_MODULE)'
`$i = 0
while (`$true) {
    `$repo = if (`$i % 2) { '$remoteB' } else { '$($bed.Remote)' }
    `$null = New-PaastaDeployments -SoaDir '$($bed.Soa)' -Service svc -Repository `$repo -ErrorAction Stop
    if (`$i -eq 1) { Set-Content '$marker' 'ok' }
    `$i++
}
"@
        # This pwsh, whether installed or run as a dotnet tool (then the host is dotnet and pwsh.dll its first argument).
        $pwsh = [Environment]::ProcessPath
        $pwshArgs = @()
        if ([IO.Path]::GetFileNameWithoutExtension($pwsh) -eq 'dotnet') { $pwshArgs = @([Environment]::GetCommandLineArgs()[0]) }
    }

    It 'parses after every kill, and every read in between parses' {
        $reads = 0
        $seen = [Collections.Generic.HashSet[string]]::new()
        foreach ($round in 1..5) {
            Remove-Item $marker -ErrorAction Ignore
            $child = Start-Process -FilePath $pwsh -ArgumentList ($pwshArgs + @('-NoProfile', '-NonInteractive', '-File', $script)) -PassThru `
                -RedirectStandardOutput (Join-Path $bed.Root "out$round.txt") -RedirectStandardError (Join-Path $bed.Root "err$round.txt")
            try {
                $deadline = [DateTime]::UtcNow.AddSeconds(60)
                while (-not (Test-Path $marker)) {
                    if ($child.HasExited) { throw "writer exited early: $(Get-Content -Raw (Join-Path $bed.Root "err$round.txt"))" }
                    if ([DateTime]::UtcNow -gt $deadline) { throw 'writer did not start' }
                    Start-Sleep -Milliseconds 50
                }
                # Read while it writes; then kill it at a random moment.
                $until = [DateTime]::UtcNow.AddMilliseconds((Get-Random -Minimum 300 -Maximum 1500))
                while ([DateTime]::UtcNow -lt $until) {
                    $doc = [IO.File]::ReadAllText($path) | ConvertFrom-Json -AsHashtable
                    $doc.v2.controls.Count | Should -Be 2000
                    $null = $seen.Add($doc.v2.deployments['group7'].git_sha)
                    $reads++
                }
            }
            finally {
                if (-not $child.HasExited) { Stop-Process -Id $child.Id -Force }
                $child.WaitForExit()
            }
            $doc = [IO.File]::ReadAllText($path) | ConvertFrom-Json -AsHashtable
            $doc.v2.deployments.Count | Should -Be 200
            $doc.v2.controls.Count | Should -Be 2000
            $doc.v2.deployments['group7'].git_sha | Should -BeIn @($shaA, $shaB)
        }
        $reads | Should -BeGreaterThan 5
        # The file really was being rewritten (alternating between the two repositories) while it was read.
        $seen.Count | Should -Be 2
    }
}
