#Requires -Version 7.4
# Tron jobs as Kubernetes CronJobs on the real local cluster (tools/platform), where kubectl is the oracle.
# Cluster objects carry the label paasta.yelp.com/service=jobhello in namespace tron.
BeforeAll {
    . (Join-Path $PSScriptRoot 'Jobs.TestSetup.ps1')
    if (-not $Up) { return }

    # An image for deploy group local.everything: a commit of a tiny repository, built FROM the platform's
    # busybox and pushed to the local registry, marked for deployment, and deployments.json from the tags.
    $script:Bare = Join-Path $TestDrive 'jobhello.git'
    $work = Join-Path $TestDrive 'work'
    Invoke-Git init -q --bare $Bare | Out-Null
    Invoke-Git clone -q $Bare $work | Out-Null
    "FROM paasta-local/busybox:latest`n" | Set-Content (Join-Path $work 'Dockerfile')
    Invoke-Git -C $work add -A | Out-Null
    Invoke-Git -C $work -c user.name=t -c user.email=t@example.com commit -q -m 'jobs' | Out-Null
    Invoke-Git -C $work push -q origin HEAD:refs/heads/main | Out-Null
    $script:Sha = (Invoke-Git -C $work rev-parse HEAD).Trim()
    $script:Image = "127.0.0.1:5000/services-${Service}:paasta-$Sha"
    $out = & docker build -q -t $Image $work 2>&1
    if ($LASTEXITCODE) { throw "docker build failed: $out" }
    $out = & docker push $Image 2>&1
    if ($LASTEXITCODE) { throw "docker push failed: $out" }
    $null = Publish-PaastaDeployment -SoaDir $Soa -Service $Service -DeployGroup local.everything -Commit $Sha -Repository $Bare -Confirm:$false
    $null = New-PaastaDeployments -SoaDir $Soa -Service $Service -Repository $Bare -Confirm:$false
    $null = & $Kubectl -n $Namespace delete cronjobs,jobs,pods -l $Selector --ignore-not-found --wait=true --timeout=60s 2>&1
    $null = & $Kubectl -n $Namespace delete cronjobs,jobs,pods -l "paasta.yelp.com/service=$OtherService" --ignore-not-found --wait=true --timeout=60s 2>&1
}

AfterAll {
    if ($Up) {
        $null = & $Kubectl -n $Namespace delete cronjobs,jobs,pods -l $Selector --ignore-not-found --wait=false 2>&1
        $null = & $Kubectl -n $Namespace delete cronjobs,jobs,pods -l "paasta.yelp.com/service=$OtherService" --ignore-not-found --wait=false 2>&1
    }
    # Only the tags this run made (the image is the platform's busybox, which stays).
    if ($Up -and (Get-Variable Image -Scope Script -ErrorAction Ignore)) { $null = & docker rmi $Image 2>&1 }
    if ($Up -and (Get-Variable NextImage -Scope Script -ErrorAction Ignore)) { $null = & docker rmi $NextImage 2>&1 }
}

Describe 'Sync-PaastaJob, Get-PaastaJob and Start-PaastaJob on the local cluster' -Tag Integration {
    It 'changes nothing under -WhatIf and says what it would create' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        $r = Sync -WhatIf
        @($r.Job) | Should -Be @('every_minute', 'two_steps', 'failing')
        $r.Action | Sort-Object -Unique | Should -Be 'Created'
        $r.WhatIf | Sort-Object -Unique | Should -BeTrue
        (Get-LiveCronJob 'every_minute').Count | Should -Be 0
    }

    It 'creates one CronJob per job with the API the server serves, the translated schedule, labels and actions in requires order' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        $r = Sync
        $r.Action | Sort-Object -Unique | Should -Be 'Created'
        $api = Get-ServedCronJobApi
        $r.ApiVersion | Sort-Object -Unique | Should -Be $api
        ($r | Where-Object Job -eq 'failing').Schedule | Should -Be '0 0 * * *'

        $cj = Get-LiveCronJob 'two_steps'
        $cj.Count | Should -Be 1
        $cj = $cj[0]
        $cj.apiVersion | Should -Be $api
        $cj.spec.schedule | Should -Be '0 3 * * *'
        $cj.spec.suspend | Should -BeFalse
        $cj.spec.concurrencyPolicy | Should -Be 'Forbid'
        $cj.metadata.labels.'paasta.yelp.com/service' | Should -Be $Service
        $cj.metadata.labels.'paasta.yelp.com/job' | Should -Be 'two_steps'
        $cj.metadata.labels.'paasta.yelp.com/cluster' | Should -Be 'local'
        $cj.metadata.labels.'paasta.yelp.com/config_sha' | Should -Be ($r | Where-Object Job -eq 'two_steps').NewConfigSha
        $pod = $cj.spec.jobTemplate.spec.template.spec
        @($pod.initContainers.name) | Should -Be @('first')
        @($pod.containers.name) | Should -Be @('second')
        $pod.containers[0].image | Should -Be $Image
        $pod.restartPolicy | Should -Be 'Never'
        $cj.spec.jobTemplate.spec.backoffLimit | Should -Be 0
        ($pod.containers[0].env | Where-Object name -eq 'PAASTA_SERVICE').value | Should -Be $Service
        $pod.containers[0].resources.limits.memory | Should -Be '64Mi'
    }

    It 'writes nothing when run again' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        $stream = Sync -Verbose 4>&1
        ($stream | Where-Object { $_.PSObject.TypeNames -contains 'Paasta.Jobs.JobSyncResult' }).Action | Sort-Object -Unique | Should -Be 'Unchanged'
        $line = $stream | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] -and $_.Message -match '^Kubernetes API \(.*\): \d+ request\(s\), (\d+) write\(s\)' }
        $line | Should -Not -BeNullOrEmpty
        $null = @($line)[-1].Message -match 'write\(s\)' -and @($line)[-1].Message -match '(\d+) write\(s\)'
        [int]$Matches[1] | Should -Be 0
    }

    It 'runs two actions in requires order (Start-PaastaJob -Wait), proved by their output and container times' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        $run = Start-PaastaJob -Service $Service -Job two_steps -Cluster local -Wait -TimeoutSec 180 -Confirm:$false
        $run.Outcome | Should -Be 'Succeeded'
        @($run.Output.Keys) | Should -Be @('first', 'second')
        $null = $run.Output['first'] -match 'first-start (\d+)\s+first-end (\d+)'
        $firstStart = [long]$Matches[1]; $firstEnd = [long]$Matches[2]
        $null = $run.Output['second'] -match 'second-start (\d+)'
        $secondStart = [long]$Matches[1]
        $firstEnd - $firstStart | Should -BeGreaterOrEqual 2
        $secondStart | Should -BeGreaterOrEqual $firstEnd
        # kubectl's view: the second action's container started only after the first one terminated with 0.
        $pod = (Invoke-Kubectl -n $Namespace get pods -l "job-name=$($run.Name)" -o json | ConvertFrom-Json).items[0]
        $first = $pod.status.initContainerStatuses | Where-Object name -eq 'first'
        $second = $pod.status.containerStatuses | Where-Object name -eq 'second'
        $first.state.terminated.exitCode | Should -Be 0
        [DateTime]$second.state.terminated.startedAt | Should -BeGreaterOrEqual ([DateTime]$first.state.terminated.finishedAt)
        (Invoke-Kubectl -n $Namespace logs $pod.metadata.name -c second) | Should -Match "^second-start $secondStart$"
    }

    It 'fails the run when an action fails: JobRunFailed names the action, and Get-PaastaJob says Failed' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        $run = Start-PaastaJob -Service $Service -Job failing -Cluster local -Wait -TimeoutSec 180 -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
        $run.Outcome | Should -Be 'Failed'
        $run.FailedAction | Should -Be 'explode'
        $run.Output['prepare'] | Should -Match 'preparing'
        $run.Output['explode'] | Should -Match 'about to fail'
        $err[0].FullyQualifiedErrorId | Should -BeLike 'JobRunFailed,*'
        $err[0].CategoryInfo.Category | Should -Be 'InvalidResult'
        $err[0].Exception.Message | Should -Match "action 'explode'"
        $job = Invoke-Kubectl -n $Namespace get job $run.Name -o json | ConvertFrom-Json
        ($job.status.conditions | Where-Object type -eq 'Failed').status | Should -Be 'True'

        $info = Get-PaastaJob -Service $Service -Cluster local -Job failing
        $info.LastRun | Should -Be $run.Name
        $info.LastRunOutcome | Should -Be 'Failed'
        $info.FailedAction | Should -Be 'explode'
    }

    # After the two tests above: the CronJob's first scheduled run (the next whole minute) comes while they run.
    It 'runs the every-minute job on schedule: its pod completes, its output has the date filled in, and Get-PaastaJob reports it' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        $uid = (Get-LiveCronJob 'every_minute')[0].metadata.uid
        $script:scheduled = $null
        Wait-Until {
            $jobs = (Invoke-Kubectl -n $Namespace get jobs -l "$Selector,paasta.yelp.com/job=every_minute" -o json | ConvertFrom-Json).items
            $script:scheduled = $jobs | Where-Object { $_.metadata.ownerReferences.uid -eq $uid -and $_.status.succeeded -ge 1 } | Select-Object -First 1
            [bool]$script:scheduled
        } -Seconds 180 -What 'a scheduled run of every_minute to complete'
        $scheduled.metadata.annotations.'cronjob.kubernetes.io/instantiate' | Should -BeNullOrEmpty
        $pod = (Invoke-Kubectl -n $Namespace get pods -l "job-name=$($scheduled.metadata.name)" -o json | ConvertFrom-Json).items[0]
        $pod.status.phase | Should -Be 'Succeeded'
        $log = (Invoke-Kubectl -n $Namespace logs $pod.metadata.name -c tick) -join "`n"
        $today = [DateTime]::UtcNow
        $log | Should -Match "^tick ($($today.ToString('yyyy-MM-dd'))|$($today.AddDays(-1).ToString('yyyy-MM-dd'))) $Service$"

        $info = Get-PaastaJob -Service $Service -Cluster local -Job every_minute
        $info.Schedule | Should -Be '* * * * *'
        $info.TronSchedule | Should -Be 'cron * * * * *'
        $info.Suspended | Should -BeFalse
        $info.LastScheduleTime | Should -Not -BeNullOrEmpty
        $info.LastScheduleTime | Should -BeGreaterThan ([DateTime]::UtcNow.AddMinutes(-5))
        $info.LastRun | Should -Not -BeNullOrEmpty
        $info.LastRunOutcome | Should -BeIn @('Succeeded', 'Running', 'Pending')
        # The run kubectl saw finished; Get-PaastaJob's last run is it or a later one.
        $runs = (Invoke-Kubectl -n $Namespace get jobs -l "$Selector,paasta.yelp.com/job=every_minute" -o json | ConvertFrom-Json).items
        $runs.metadata.name | Should -Contain $info.LastRun
    }

    It 'refuses a schedule with no cron form with TronScheduleNotTranslatable naming the job, and still syncs the others' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        Add-Content $TronFile @'
monthly:
  schedule: "7th of month at 11:00"
  deploy_group: local.everything
  actions:
    run:
      command: "echo monthly"
'@
        try {
            $r = Sync-PaastaJob -SoaDir $Soa -Service $Service -Cluster local -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
            ($r | Where-Object Job -eq 'monthly').Action | Should -Be 'Failed'
            @($r | Where-Object Job -ne 'monthly' | ForEach-Object Action | Sort-Object -Unique) | Should -Be @('Unchanged')
            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -BeLike 'TronScheduleNotTranslatable,*'
            $err[0].Exception.Message | Should -Match "Job 'monthly'"
            $err[0].Exception.Message | Should -Match '7th of month at 11:00'
            (Get-LiveCronJob 'monthly').Count | Should -Be 0
        }
        finally { $TronText | Set-Content $TronFile }
    }

    It 'suspends the CronJob of a job with enabled: false' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        ($TronText -replace '(?m)^(every_minute:\r?\n)', "`$1  enabled: false`n") | Set-Content $TronFile
        $r = Sync
        $changed = $r | Where-Object Job -eq 'every_minute'
        $changed.Action | Should -Be 'Updated'
        $changed.Suspended | Should -BeTrue
        (Get-LiveCronJob 'every_minute')[0].spec.suspend | Should -BeTrue
        (Get-PaastaJob -Service $Service -Cluster local -Job every_minute).Suspended | Should -BeTrue
        @($r | Where-Object Job -ne 'every_minute' | ForEach-Object Action | Sort-Object -Unique) | Should -Be @('Unchanged')
    }

    It 'deletes the CronJob of a job removed from soa-configs' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        ($TronText -replace '(?ms)^failing:.*\z', '') -replace '(?m)^(every_minute:\r?\n)', "`$1  enabled: false`n" | Set-Content $TronFile
        $r = Sync
        $gone = $r | Where-Object Job -eq 'failing'
        $gone.Action | Should -Be 'Deleted'
        (Get-LiveCronJob 'failing').Count | Should -Be 0
        (Get-LiveCronJob 'two_steps').Count | Should -Be 1
        @(Get-PaastaJob -Service $Service -Cluster local).Job | Sort-Object | Should -Be @('every_minute', 'two_steps')
    }

    It 'gives allow_overlap: true concurrencyPolicy Allow on the live CronJob, and Forbid again without it' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        Set-Tron ($Quiet -replace '(?m)^(two_steps:\r?\n)', "`$1  allow_overlap: true`n")
        $r = Sync
        ($r | Where-Object Job -eq 'two_steps').Action | Should -Be 'Updated'
        (Get-LiveCronJob 'two_steps')[0].spec.concurrencyPolicy | Should -Be 'Allow'
        (Get-PaastaJob -Service $Service -Cluster local -Job two_steps).ConcurrencyPolicy | Should -Be 'Allow'
        Set-Tron $Quiet
        $null = Sync
        (Get-LiveCronJob 'two_steps')[0].spec.concurrencyPolicy | Should -Be 'Forbid'
    }

    It 'stops waiting after -TimeoutSec with JobRunTimedOut, and the run keeps going' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        Set-Tron ($Quiet + @'
slow:
  schedule: "daily 05:00:00"
  deploy_group: local.everything
  actions:
    nap:
      command: "sleep 120"
      cpus: 0.05
      mem: 64
      disk: 64
'@)
        (Sync | Where-Object Job -eq 'slow').Action | Should -Be 'Created'
        $run = Start-PaastaJob -Service $Service -Job slow -Cluster local -Wait -TimeoutSec 1 -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
        try {
            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -BeLike 'JobRunTimedOut,*'
            $err[0].CategoryInfo.Category | Should -Be 'OperationTimeout'
            $err[0].Exception.Message | Should -Match "run $($run.Name) did not finish within 1 s"
            $run.Outcome | Should -BeIn @('Pending', 'Running')
            # kubectl's view: the Job is still there, neither complete nor failed.
            $job = Invoke-Kubectl -n $Namespace get job $run.Name -o json | ConvertFrom-Json
            @($job.status.conditions | Where-Object { $_.type -in 'Complete', 'Failed' -and $_.status -eq 'True' }).Count | Should -Be 0
        }
        finally { if ($run) { $null = & $Kubectl -n $Namespace delete job $run.Name --ignore-not-found --wait=false 2>&1 } }
    }

    It 'shows in the -WhatIf message the fields a replacement would change, and changes nothing' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        Set-Tron $Quiet
        $null = Sync
        $before = (Get-LiveCronJob 'failing')[0]
        Set-Tron ($Quiet -replace 'echo preparing', 'echo preparing again')
        $r = Sync -WhatIf | Where-Object Job -eq 'failing'
        $r.Action | Should -Be 'Updated'
        $r.WhatIf | Should -BeTrue
        $line = "spec.jobTemplate.spec.template.spec.initContainers[prepare].command[2]: 'echo preparing' -> 'echo preparing again'"
        $r.Changes | Should -Contain $line
        # What the host prints for -WhatIf (only a child process's output shows it).
        $out = (Invoke-ChildPwsh -Command "Import-Module '$env:PAASTA_TEST_MODULE'; Sync-PaastaJob -SoaDir '$Soa' -Service $Service -Cluster local -Job failing -WhatIf | Out-Null") -join "`n"
        $out | Should -Match "What if: Performing the operation `"Replace CronJob tron/$Service-failing`" on target `"$Service.failing on local: Updated"
        $out | Should -Match ([regex]::Escape($line))
        $after = (Get-LiveCronJob 'failing')[0]
        $after.metadata.resourceVersion | Should -Be $before.metadata.resourceVersion
        Set-Tron $Quiet
    }

    It 'refuses a non-UTC time_zone inherited from MASTER.yaml where CronJobs have no time zone, and leaves those CronJobs as they are' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        Set-Tron $Quiet
        $null = Sync
        $before = @{}; foreach ($j in 'two_steps', 'failing') { $before[$j] = (Get-LiveCronJob $j)[0] }
        $masterFile = Join-Path $Soa 'tron/local/MASTER.yaml'
        $masterText = Get-Content -Raw $masterFile
        # every_minute keeps UTC of its own; the others inherit Europe/Paris from MASTER.
        Set-Tron ($Quiet -replace '(?m)^(every_minute:\r?\n)', "`$1  time_zone: UTC`n")
        ($masterText -replace 'time_zone: UTC', 'time_zone: Europe/Paris') | Set-Content $masterFile
        try {
            $r = Sync-PaastaJob -SoaDir $Soa -Service $Service -Cluster local -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
            $server = (Invoke-Kubectl version -o json | ConvertFrom-Json).serverVersion
            $zones = (Get-ServedCronJobApi) -eq 'batch/v1' -and [int]$server.major -ge 1 -and [int]($server.minor -replace '\D') -ge 25
            ($r | Where-Object Job -eq 'every_minute').Action | Should -Be 'Unchanged'
            if ($zones) {
                # The server keeps spec.timeZone: the zone is written, not refused.
                $err.Count | Should -Be 0
                (Get-LiveCronJob 'two_steps')[0].spec.timeZone | Should -Be 'Europe/Paris'
            }
            else {
                @($r | Where-Object Job -in 'two_steps', 'failing' | ForEach-Object Action | Sort-Object -Unique) | Should -Be @('Failed')
                $err.Count | Should -Be 2
                foreach ($e in $err) {
                    $e.FullyQualifiedErrorId | Should -BeLike 'JobTimeZoneNotSupported,*'
                    $e.CategoryInfo.Category | Should -Be 'ResourceUnavailable'
                    $e.Exception.Message | Should -Match 'Europe/Paris'
                    $e.Exception.Message | Should -Match 'MASTER\.yaml'
                }
                foreach ($j in 'two_steps', 'failing') {
                    $live = (Get-LiveCronJob $j)[0]
                    $live.metadata.uid | Should -Be $before[$j].metadata.uid
                    $live.metadata.resourceVersion | Should -Be $before[$j].metadata.resourceVersion
                    $live.spec.PSObject.Properties.Name | Should -Not -Contain 'timeZone'
                }
            }
        }
        finally {
            $masterText | Set-Content -NoNewline $masterFile
            Set-Tron $Quiet
            $null = Sync -ErrorAction SilentlyContinue
        }
    }

    It 'keeps the CronJob of a job still in soa-configs whose image cannot be looked up, and deletes only the removed job''s' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        Set-Tron $Quiet
        $null = Sync
        $uids = @{}; foreach ($j in 'every_minute', 'two_steps', 'failing') { $uids[$j] = (Get-LiveCronJob $j)[0].metadata.uid }
        $serviceYaml = Join-Path $Dir 'service.yaml'
        $serviceText = Get-Content -Raw $serviceYaml
        $saved = $env:PAASTA_DOCKER_REGISTRY, $env:PAASTA_CONFIG
        try {
            # No registry anywhere: the two remaining jobs' image lookups fail; 'failing' leaves the file.
            $env:PAASTA_DOCKER_REGISTRY = $null
            $env:PAASTA_CONFIG = Join-Path $TestDrive 'no-settings.json'
            ($serviceText -replace '(?m)^docker_registry:.*\r?\n', '') | Set-Content -NoNewline $serviceYaml
            Set-Tron ($Quiet -replace '(?ms)^failing:.*\z', '')
            $r = Sync-PaastaJob -SoaDir $Soa -Service $Service -Cluster local -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
            @($r | Where-Object Job -in 'every_minute', 'two_steps' | ForEach-Object Action | Sort-Object -Unique) | Should -Be @('Failed')
            ($r | Where-Object Job -eq 'failing').Action | Should -Be 'Deleted'
            @($err | Where-Object { $_.FullyQualifiedErrorId -like 'RegistryNotConfigured,*' }).Count | Should -Be 2
            foreach ($j in 'every_minute', 'two_steps') { (Get-LiveCronJob $j)[0].metadata.uid | Should -Be $uids[$j] }
            (Get-LiveCronJob 'failing').Count | Should -Be 0
        }
        finally {
            $env:PAASTA_DOCKER_REGISTRY, $env:PAASTA_CONFIG = $saved
            $serviceText | Set-Content -NoNewline $serviceYaml
            Set-Tron $Quiet
            $null = Sync
        }
    }

    It 'refuses to replace or prune the CronJob of another service that has the same name (jobhello-x job y vs jobhello job x-y)' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        # jobhello-x lives in its own soa dir (the planner goes by the cluster's objects, not by one soa dir).
        $dir = New-Item -ItemType Directory (Join-Path $OtherSoa $OtherService) -Force
        Copy-Item (Join-Path $Script:Dir '*') $dir -Exclude 'tron-*.yaml'
        @'
y:
  schedule: "daily 04:00:00"
  enabled: false
  deploy_group: local.everything
  actions:
    run:
      command: "echo other service"
      cpus: 0.05
      mem: 64
      disk: 64
'@ | Set-Content (Join-Path $dir 'tron-local.yaml')
        $other = Sync-PaastaJob -SoaDir $OtherSoa -Service $OtherService -Cluster local -Confirm:$false
        $other.Action | Should -Be 'Created'
        $other.Name | Should -Be "$Service-x-y"
        $theirs = Invoke-Kubectl -n $Namespace get cronjob "$Service-x-y" -o json | ConvertFrom-Json

        Set-Tron ($Quiet + @'
x-y:
  schedule: "daily 04:00:00"
  enabled: false
  deploy_group: local.everything
  actions:
    run:
      command: "echo would overwrite"
      cpus: 0.05
      mem: 64
      disk: 64
'@)
        try {
            $r = Sync-PaastaJob -SoaDir $Soa -Service $Service -Cluster local -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
            ($r | Where-Object Job -eq 'x-y').Action | Should -Be 'Failed'
            @($r | Where-Object Job -ne 'x-y' | ForEach-Object Action | Sort-Object -Unique) | Should -Be @('Unchanged')
            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -BeLike 'CronJobNameConflict,*'
            $err[0].CategoryInfo.Category | Should -Be 'InvalidOperation'
            $err[0].Exception.Message | Should -Match "service $OtherService job y on cluster local"
            $live = Invoke-Kubectl -n $Namespace get cronjob "$Service-x-y" -o json | ConvertFrom-Json
            $live.metadata.resourceVersion | Should -Be $theirs.metadata.resourceVersion
            $live.metadata.labels.'paasta.yelp.com/service' | Should -Be $OtherService
        }
        finally { Set-Tron $Quiet }

        # jobhello's full sync without x-y prunes only its own CronJobs.
        Set-Tron $Quiet
        $r = Sync
        @($r | Where-Object Action -eq 'Deleted').Count | Should -Be 0
        (Invoke-Kubectl -n $Namespace get cronjob "$Service-x-y" -o json | ConvertFrom-Json).metadata.uid | Should -Be $theirs.metadata.uid
    }

    It 'binds Service from Get-PaastaService''s Name and from Get-PaastaJob''s Service, and Job and Cluster by property name' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        # Another service's CronJob is in the namespace (the test above), so an unbound -Service would show it.
        (Get-PaastaJob -Cluster local).Service | Should -Contain $OtherService
        $mine = Get-PaastaService -SoaDir $Soa -Name $Service | Get-PaastaJob -Cluster local
        @($mine.Service | Sort-Object -Unique) | Should -Be @($Service)
        @($mine.Job | Sort-Object) | Should -Be @('every_minute', 'failing', 'two_steps')

        # JobInfo has Service and Name (the CronJob's): Service must win.
        Get-PaastaJob -Service $Service -Cluster local -Job two_steps | Start-PaastaJob -WhatIf -ErrorVariable err -ErrorAction SilentlyContinue
        $err.Count | Should -Be 0

        # Piped jobs sync only themselves (no pruning); piped clusters override the configured one.
        $one = Get-PaastaJob -Service $Service -Cluster local -Job two_steps | Sync-PaastaJob -SoaDir $Soa -WhatIf
        @($one.Job) | Should -Be @('two_steps')
        $one.Action | Should -Be 'Unchanged'
        # Tron instances (job.action) stand for their jobs, each synced once whatever its number of actions.
        $fromInstances = Get-PaastaInstance -SoaDir $Soa -Service $Service -InstanceType tron -Cluster local | Sync-PaastaJob -WhatIf -ErrorVariable err3 -ErrorAction SilentlyContinue
        $err3.Count | Should -Be 0
        @($fromInstances.Job | Sort-Object) | Should -Be @('every_minute', 'failing', 'two_steps')
        $saved = $env:PAASTA_CLUSTER
        try {
            $env:PAASTA_CLUSTER = 'elsewhere'
            $all = [pscustomobject]@{ Name = $Service; Cluster = 'local' } | Sync-PaastaJob -SoaDir $Soa -WhatIf
            @($all.Cluster | Sort-Object -Unique) | Should -Be @('local')
            @($all.Job | Sort-Object) | Should -Be @('every_minute', 'failing', 'two_steps')
        }
        finally { $env:PAASTA_CLUSTER = $saved }
    }

    It 'suspends the CronJob of a stopped job (Stop-PaastaInstance on one action, New-PaastaDeployments, Sync-PaastaJob), shows it in Get-PaastaJob, and resumes it after the next deploy' {
        if (-not (Assert-PlatformOrSkip $Up 'The local Kubernetes cluster')) { return }
        # Last in this file: it deploys a second commit, which every CronJob of jobhello then runs.
        Set-Tron $Quiet
        $null = Sync
        (Get-LiveCronJob 'two_steps')[0].spec.suspend | Should -BeFalse

        Stop-PaastaInstance -SoaDir $Soa -Service $Service -Cluster local -Instance two_steps.first -Repository $Bare -Confirm:$false
        $null = New-PaastaDeployments -SoaDir $Soa -Service $Service -Repository $Bare -Confirm:$false
        (Get-Content -Raw (Join-Path $Dir 'deployments.json') | ConvertFrom-Json -AsHashtable).v2.controls["${Service}:local.two_steps.first"].desired_state | Should -Be 'stop'
        $r = Sync
        $stopped = $r | Where-Object Job -eq 'two_steps'
        $stopped.Action | Should -Be 'Updated'
        $stopped.Suspended | Should -BeTrue
        $stopped.StoppedActions | Should -Be @('first')
        $stopped.Changes | Should -Contain 'suspend (stopped: first; until the next deploy)'
        @($r | Where-Object Job -ne 'two_steps' | ForEach-Object Action | Sort-Object -Unique) | Should -Be @('Unchanged')
        # kubectl's view, and Get-PaastaJob's.
        $live = (Get-LiveCronJob 'two_steps')[0]
        $live.spec.suspend | Should -BeTrue
        $live.metadata.annotations.'paasta.yelp.com/stopped_actions' | Should -Be 'first'
        $info = Get-PaastaJob -Service $Service -Cluster local -Job two_steps
        ($info.Suspended, $info.Stopped) | Should -Be @($true, $true)
        $info.StoppedActions | Should -Be @('first')
        (Sync | Where-Object Job -eq 'two_steps').Action | Should -Be 'Unchanged'

        # The next deploy: a new commit of the service, built, pushed and marked for the deploy group.
        $work = Join-Path $TestDrive 'work-next'
        Invoke-Git clone -q -b main $Bare $work | Out-Null
        "FROM paasta-local/busybox:latest`nLABEL deploy=next`n" | Set-Content (Join-Path $work 'Dockerfile')
        Invoke-Git -C $work add -A | Out-Null
        Invoke-Git -C $work -c user.name=t -c user.email=t@example.com commit -q -m 'next deploy' | Out-Null
        Invoke-Git -C $work push -q origin HEAD:refs/heads/main | Out-Null
        $next = (Invoke-Git -C $work rev-parse HEAD).Trim()
        $script:NextImage = "127.0.0.1:5000/services-${Service}:paasta-$next"
        $out = & docker build -q -t $NextImage $work 2>&1
        if ($LASTEXITCODE) { throw "docker build failed: $out" }
        $out = & docker push $NextImage 2>&1
        if ($LASTEXITCODE) { throw "docker push failed: $out" }
        $null = Publish-PaastaDeployment -SoaDir $Soa -Service $Service -DeployGroup local.everything -Commit $next -Repository $Bare -Confirm:$false
        $null = New-PaastaDeployments -SoaDir $Soa -Service $Service -Repository $Bare -Confirm:$false
        $resumed = Sync | Where-Object Job -eq 'two_steps'
        $resumed.Action | Should -Be 'Updated'
        $resumed.Suspended | Should -BeFalse
        $resumed.Changes | Should -Contain 'resume (enabled)'
        $live = (Get-LiveCronJob 'two_steps')[0]
        $live.spec.suspend | Should -BeFalse
        $live.metadata.annotations.PSObject.Properties.Name | Should -Not -Contain 'paasta.yelp.com/stopped_actions'
        $live.spec.jobTemplate.spec.template.spec.containers[0].image | Should -Be $NextImage
        (Get-PaastaJob -Service $Service -Cluster local -Job two_steps).Stopped | Should -BeFalse
    }
}
