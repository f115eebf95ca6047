# A stand-in for the veeam-credential-helper binary used by the Pester tests: it records its argv
# and standard input, then answers like the real helper's JSON protocol v1 in the mode named by
# $env:FAKE_HELPER_MODE. The tests run it through a small launcher (sh or cmd) so that the module
# starts it exactly as it starts the real executable.
$ErrorActionPreference = 'Stop'

$log = $env:FAKE_HELPER_LOG
$stdin = [Console]::In.ReadToEnd()
if ($log) {
    Add-Content -LiteralPath (Join-Path $log 'argv.log') -Value ($args -join ' ')
    Add-Content -LiteralPath (Join-Path $log 'stdin.log') -Value $stdin
}

$mode = $env:FAKE_HELPER_MODE
if (-not $mode) {
    $mode = 'ok'
}

function Write-Answer([string]$Text) {
    [Console]::Out.Write($Text + "`n")
}

function Write-HelperError([string]$Code, [string]$Message, [int]$Exit) {
    $answer = @{ error = @{ code = $Code; message = $Message; exit_code = $Exit } }
    Write-Answer (ConvertTo-Json -InputObject $answer -Compress -Depth 5)
    [Console]::Error.WriteLine('veeam-credential-helper: ' + $Message)
    exit $Exit
}

if ($args -contains 'logout') {
    if ($mode -eq 'logout-fail') {
        [Console]::Error.WriteLine('veeam-credential-helper: several profiles (a, b) and no default_profile: choose one with -p')
        exit 2
    }
    [Console]::Error.WriteLine('logged out')
    exit 0
}

$request = @{}
if ($stdin.Trim()) {
    $request = ConvertFrom-Json -InputObject $stdin
}
$profileName = 'm365'
if ($request.PSObject.Properties.Name -contains 'profile' -and $request.profile) {
    $profileName = [string]$request.profile
}
$source = 'cache'
if ($request.PSObject.Properties.Name -contains 'force_refresh' -and $request.force_refresh) {
    $source = 'refresh'
}

switch ($mode) {
    'ok' {
        if ($env:FAKE_HELPER_WARNING) {
            [Console]::Error.WriteLine($env:FAKE_HELPER_WARNING)
        }
        $answer = [ordered]@{
            profile      = $profileName
            product      = 'vb365'
            url          = 'https://vb365.example.com:4443'
            username     = 'corp\svc-backup'
            token_type   = 'Bearer'
            access_token = 'fake-access-token-0123456789'
            expires_at   = '2030-01-02T03:04:05Z'
            source       = $source
        }
        Write-Answer (ConvertTo-Json -InputObject $answer -Compress)
        exit 0
    }
    'reject' { Write-HelperError 'invalid_credentials' ('profile "{0}": server rejected the password grant (HTTP 400): Invalid username or password.' -f $profileName) 3 }
    'unreachable' { Write-HelperError 'server_unavailable' ('profile "{0}": cannot reach https://vb365.example.com:4443: connect: connection refused' -f $profileName) 4 }
    'config' { Write-HelperError 'invalid_configuration' ('unknown profile "{0}" (have: m365)' -f $profileName) 2 }
    'interaction' { Write-HelperError 'interaction_required' ('profile "{0}" needs a password and no terminal can be asked' -f $profileName) 5 }
    'cache' { Write-HelperError 'cache_unavailable' 'token cache unavailable: no passphrase for the encrypted token cache' 6 }
    'stderr-only' {
        [Console]::Error.WriteLine('veeam-credential-helper: something broke before the answer')
        exit 1
    }
    'garbage' {
        Write-Answer 'fake-access-token-0123456789 is not JSON'
        exit 0
    }
    default {
        [Console]::Error.WriteLine('fake-helper: unknown FAKE_HELPER_MODE ' + $mode)
        exit 1
    }
}
