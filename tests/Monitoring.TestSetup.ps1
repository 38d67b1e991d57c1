# Shared by the Monitoring test files (dot-sourced in their BeforeAll): the module, and a stand-in for the Sensu
# client socket (Sensu itself cannot run here) that speaks its TCP protocol: one JSON check result per connection,
# "ok" once it parses, "invalid" otherwise or 500 ms after the last chunk, "pong" for "ping".
Import-Module $env:PAASTA_TEST_MODULE -Force
Import-Module (Join-Path $PSScriptRoot 'Paasta.TestUtils.psm1') -Force

function Start-SensuClientStandIn {
    <# A loopback TCP listener that behaves as the Sensu 1.x client socket; -Silent accepts nothing and answers nothing. #>
    param([switch] $Silent)
    $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
    $listener.Start()
    $received = [Collections.Concurrent.ConcurrentQueue[string]]::new()
    $answers = [Collections.Concurrent.ConcurrentQueue[string]]::new()
    $ps = $null; $handle = $null
    if (-not $Silent) {
        $ps = [powershell]::Create()
        $null = $ps.AddScript({
                param($listener, $received, $answers)
                while ($true) {
                    try { $client = $listener.AcceptTcpClient() } catch { return }
                    try {
                        $stream = $client.GetStream()
                        $stream.ReadTimeout = 500   # the client socket's watchdog
                        $buffer = [byte[]]::new(65536)
                        $bytes = [Collections.Generic.List[byte]]::new()
                        $answer = 'invalid'
                        while ($true) {
                            try { $n = $stream.Read($buffer, 0, $buffer.Length) } catch { break }
                            if ($n -le 0) { break }
                            $bytes.AddRange([byte[]]$buffer[0..($n - 1)])
                            if (@($bytes | Where-Object { $_ -gt 127 }).Count -gt 0) { break }   # 7-bit ASCII only
                            $text = [Text.Encoding]::ASCII.GetString($bytes.ToArray())
                            if ($text.Trim() -eq 'ping') { $answer = 'pong'; break }
                            try { $check = ConvertFrom-Json -InputObject $text -AsHashtable -ErrorAction Stop } catch { continue }
                            # What the client validates before publishing: a mapping, a check name, string output, integer status.
                            $ok = $check -is [Collections.IDictionary] -and $check['name'] -is [string] -and $check['name'] -match '^[\w\.-]+$' -and
                            $check['output'] -is [string] -and ($check['status'] -is [int] -or $check['status'] -is [long])
                            if ($ok) { $received.Enqueue($text); $answer = 'ok' }
                            break
                        }
                        $answers.Enqueue($answer)
                        $reply = [Text.Encoding]::ASCII.GetBytes($answer)
                        $stream.Write($reply, 0, $reply.Length)
                    }
                    catch { }
                    finally { $client.Close() }
                }
            }).AddArgument($listener).AddArgument($received).AddArgument($answers)
        $handle = $ps.BeginInvoke()
    }
    [pscustomobject]@{
        Socket = "127.0.0.1:$($listener.LocalEndpoint.Port)"; Listener = $listener; Received = $received; Answers = $answers
        PowerShell = $ps; Handle = $handle
    }
}

function Stop-SensuClientStandIn($StandIn) {
    $StandIn.Listener.Stop()
    if ($StandIn.PowerShell) {
        try { $null = $StandIn.PowerShell.EndInvoke($StandIn.Handle) } catch { }
        $StandIn.PowerShell.Dispose()
    }
}

function Get-Received($StandIn) {
    # Each event as the stand-in read it off the wire, parsed in key order.
    @($StandIn.Received.ToArray() | ForEach-Object { [pscustomobject]@{ Raw = $_; Json = ($_ | ConvertFrom-Json -AsHashtable) } })
}

function Get-FreePort {
    $l = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
    $l.Start(); $port = $l.LocalEndpoint.Port; $l.Stop()
    $port
}

# The key order pysensu-yelp sends (docs/BEHAVIOUR.md §8.5), then the optional keys present only when set.
$script:SensuKeys = 'name', 'status', 'output', 'handler', 'team', 'runbook', 'tip', 'notification_email', 'interval', 'page',
'realert_every', 'dependencies', 'alert_after', 'ticket', 'project', 'priority', 'source', 'tags', 'ttl', 'issuetype'
