#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# Pester 5 tests of the VeeamCredentialHelper module, for machines with PowerShell (5.1 or 7+):
#
#   Invoke-Pester -Path integrations/powershell/tests
#
# The module is exercised through real processes: fake-helper.ps1 (run through a launcher, the way
# the module runs the real executable) answers the JSON protocol in chosen modes, and, when the real
# veeam-credential-helper is available ($env:VEEAM_CREDENTIAL_HELPER_TEST_BIN, or `go` to build it),
# the error paths are also checked against it with a throwaway configuration.

BeforeAll {
    $script:ModuleDir = Join-Path (Split-Path -Parent $PSScriptRoot) 'VeeamCredentialHelper'
    Import-Module (Join-Path $script:ModuleDir 'VeeamCredentialHelper.psd1') -Force

    $script:IsWin = [System.Environment]::OSVersion.Platform -eq [System.PlatformID]::Win32NT
    $script:Shell = (Get-Process -Id $PID).Path
    $script:FakeScript = Join-Path $PSScriptRoot 'fake-helper.ps1'
    $script:Work = Join-Path ([System.IO.Path]::GetTempPath()) ('vch-pester-' + [guid]::NewGuid().ToString('N'))
    New-Item -ItemType Directory -Path $script:Work | Out-Null

    if ($script:IsWin) {
        $script:Fake = Join-Path $script:Work 'fake-helper.cmd'
        Set-Content -LiteralPath $script:Fake -Encoding ASCII -Value (
            '@"{0}" -NoProfile -NonInteractive -ExecutionPolicy Bypass -File "{1}" %*' -f $script:Shell, $script:FakeScript)
    }
    else {
        $script:Fake = Join-Path $script:Work 'fake-helper'
        Set-Content -LiteralPath $script:Fake -Encoding ASCII -Value (
            "#!/bin/sh`nexec '{0}' -NoProfile -NonInteractive -File '{1}' `"`$@`"" -f $script:Shell, $script:FakeScript)
        & chmod 755 $script:Fake
    }

    function script:Reset-FakeLog {
        $dir = Join-Path $script:Work ('log-' + [guid]::NewGuid().ToString('N'))
        New-Item -ItemType Directory -Path $dir | Out-Null
        $env:FAKE_HELPER_LOG = $dir
        return $dir
    }

    function script:Get-FakeArgv([string]$Dir) {
        return @(Get-Content -LiteralPath (Join-Path $Dir 'argv.log'))
    }

    function script:Get-FakeRequest([string]$Dir) {
        return (Get-Content -LiteralPath (Join-Path $Dir 'stdin.log') -Raw) | ConvertFrom-Json
    }

    function script:ConvertFrom-SecureToken([securestring]$Secure) {
        $ptr = [System.Runtime.InteropServices.Marshal]::SecureStringToBSTR($Secure)
        try {
            return [System.Runtime.InteropServices.Marshal]::PtrToStringBSTR($ptr)
        }
        finally {
            [System.Runtime.InteropServices.Marshal]::ZeroFreeBSTR($ptr)
        }
    }
}

AfterAll {
    Remove-Module VeeamCredentialHelper -ErrorAction SilentlyContinue
    Remove-Item -LiteralPath $script:Work -Recurse -Force -ErrorAction SilentlyContinue
    Remove-Item -Path 'Env:FAKE_HELPER_LOG', 'Env:FAKE_HELPER_MODE', 'Env:FAKE_HELPER_WARNING' -ErrorAction SilentlyContinue
}

Describe 'Module manifest' {
    It 'is valid and exports exactly the three commands' {
        $manifest = Test-ModuleManifest -Path (Join-Path $script:ModuleDir 'VeeamCredentialHelper.psd1')
        $manifest.Name | Should -Be 'VeeamCredentialHelper'
        @($manifest.ExportedFunctions.Keys | Sort-Object) |
            Should -Be @('Clear-VeeamCredentialCache', 'Get-VeeamCredentialToken', 'Invoke-VeeamRestMethod')
    }

    It 'has help for every command' {
        foreach ($name in 'Get-VeeamCredentialToken', 'Invoke-VeeamRestMethod', 'Clear-VeeamCredentialCache') {
            (Get-Help $name).Synopsis | Should -Not -BeNullOrEmpty
        }
    }
}

Describe 'Get-VeeamCredentialToken' {
    BeforeEach {
        $env:FAKE_HELPER_MODE = 'ok'
        Remove-Item Env:FAKE_HELPER_WARNING -ErrorAction SilentlyContinue
        $script:Log = Reset-FakeLog
    }

    It 'returns the token as a SecureString with the expiry and profile' {
        $t = Get-VeeamCredentialToken -Profile m365 -Binary $script:Fake
        $t.Token | Should -BeOfType [securestring]
        ConvertFrom-SecureToken $t.Token | Should -Be 'fake-access-token-0123456789'
        $t.Profile | Should -Be 'm365'
        $t.Source | Should -Be 'cache'
        $t.ExpiresAt | Should -BeOfType [datetime]
        $t.ExpiresAt.ToUniversalTime() | Should -Be ([datetime]::new(2030, 1, 2, 3, 4, 5, [System.DateTimeKind]::Utc))
        $t.PSObject.TypeNames | Should -Contain 'VeeamCredentialHelper.Token'
        ($t | Out-String) | Should -Not -Match 'fake-access-token'
    }

    It 'sends the request as JSON on stdin and never a secret in argv' {
        Get-VeeamCredentialToken -Profile m365 -MinValid '5m' -ForceRefresh -Binary $script:Fake | Out-Null
        Get-FakeArgv $script:Log | Should -Be @('get --format json')
        $request = Get-FakeRequest $script:Log
        $request.profile | Should -Be 'm365'
        $request.min_valid_seconds | Should -Be 300
        $request.force_refresh | Should -BeTrue
    }

    It 'accepts -MinValid as <Value>' -TestCases @(
        @{ Value = 90; Seconds = 90 }
        @{ Value = '1h30m'; Seconds = 5400 }
        @{ Value = [TimeSpan]::FromMinutes(2); Seconds = 120 }
        @{ Value = '00:10:00'; Seconds = 600 }
    ) {
        param($Value, $Seconds)
        Get-VeeamCredentialToken -MinValid $Value -Binary $script:Fake | Out-Null
        (Get-FakeRequest $script:Log).min_valid_seconds | Should -Be $Seconds
    }

    It 'rejects a malformed -MinValid before running the helper' {
        { Get-VeeamCredentialToken -MinValid 'soon' -Binary $script:Fake } | Should -Throw -ErrorId 'VeeamCredentialHelper.InvalidMinValid*'
        Test-Path (Join-Path $script:Log 'argv.log') | Should -BeFalse
    }

    It 'passes --config on the command line' {
        Get-VeeamCredentialToken -Config 'C:\with space\config.toml' -Binary $script:Fake | Out-Null
        Get-FakeArgv $script:Log | Should -Be @('--config C:\with space\config.toml get --format json')
    }

    It 'omits the profile when none is given so the helper picks its default' {
        Get-VeeamCredentialToken -Binary $script:Fake | Out-Null
        (Get-FakeRequest $script:Log).PSObject.Properties.Name | Should -Not -Contain 'profile'
    }

    It '-AsHeader gives a hashtable for Invoke-RestMethod -Headers' {
        $h = Get-VeeamCredentialToken -Profile m365 -AsHeader -Binary $script:Fake
        $h | Should -BeOfType [hashtable]
        $h['Authorization'] | Should -Be 'Bearer fake-access-token-0123456789'
    }

    It 'finds the helper through $env:VEEAM_CREDENTIAL_HELPER_BIN' {
        $env:VEEAM_CREDENTIAL_HELPER_BIN = $script:Fake
        try {
            (Get-VeeamCredentialToken -Profile m365).Profile | Should -Be 'm365'
        }
        finally {
            Remove-Item Env:VEEAM_CREDENTIAL_HELPER_BIN
        }
    }

    It 'forwards the helper''s stderr lines as warnings on success' {
        $env:FAKE_HELPER_WARNING = 'veeam-credential-helper: warning: insecure_skip_verify is set'
        $t = Get-VeeamCredentialToken -Binary $script:Fake -WarningVariable w -WarningAction SilentlyContinue
        $t.Profile | Should -Be 'm365'
        ($w -join "`n") | Should -Match 'insecure_skip_verify'
    }

    It 'maps exit <Exit> (<Mode>) to a terminating error with the helper''s message' -TestCases @(
        @{ Mode = 'config'; Exit = 2; Category = 'InvalidArgument'; Text = 'unknown profile' }
        @{ Mode = 'reject'; Exit = 3; Category = 'AuthenticationError'; Text = 'rejected the password grant' }
        @{ Mode = 'unreachable'; Exit = 4; Category = 'ConnectionError'; Text = 'cannot reach' }
        @{ Mode = 'interaction'; Exit = 5; Category = 'PermissionDenied'; Text = 'needs a password' }
        @{ Mode = 'cache'; Exit = 6; Category = 'ResourceUnavailable'; Text = 'no passphrase' }
        @{ Mode = 'stderr-only'; Exit = 1; Category = 'NotSpecified'; Text = 'something broke' }
    ) {
        param($Mode, $Exit, $Category, $Text)
        $env:FAKE_HELPER_MODE = $Mode
        $err = $null
        try {
            Get-VeeamCredentialToken -Profile m365 -Binary $script:Fake
        }
        catch {
            $err = $_
        }
        $err | Should -Not -BeNullOrEmpty
        $err.Exception.Message | Should -Match ([regex]::Escape($Text))
        $err.Exception.Message | Should -Match ('\(exit {0}: ' -f $Exit)
        $err.Exception.Message | Should -Not -Match "`n"
        $err.Exception.Data['ExitCode'] | Should -Be $Exit
        $err.CategoryInfo.Category | Should -Be $Category
    }

    It 'never quotes stdout when the answer is not JSON' {
        $env:FAKE_HELPER_MODE = 'garbage'
        { Get-VeeamCredentialToken -Binary $script:Fake } | Should -Throw
        try { Get-VeeamCredentialToken -Binary $script:Fake } catch { $_.Exception.Message | Should -Not -Match 'fake-access-token' }
    }

    It 'says clearly when the helper cannot be started' {
        $missing = Join-Path $script:Work 'no-such-helper'
        { Get-VeeamCredentialToken -Binary $missing } | Should -Throw -ExpectedMessage "*cannot run*no-such-helper*"
    }
}

Describe 'Invoke-VeeamRestMethod' {
    BeforeEach {
        $env:FAKE_HELPER_MODE = 'ok'
        $script:Log = Reset-FakeLog
    }

    It 'calls Invoke-RestMethod with the bearer header and the other parameters' {
        Mock -ModuleName VeeamCredentialHelper Invoke-RestMethod { return @{ Seen = $Headers['Authorization']; Method = "$Method"; Body = $Body; Extra = $Headers['X-Extra'] } }
        $r = Invoke-VeeamRestMethod -Profile m365 -Uri 'https://vb365.example.com:4443/v8/Jobs' -Method Post -Body '{}' -Headers @{ 'X-Extra' = '1'; Authorization = 'Basic nope' } -Binary $script:Fake
        $r.Seen | Should -Be 'Bearer fake-access-token-0123456789'
        $r.Method | Should -Be 'Post'
        $r.Body | Should -Be '{}'
        $r.Extra | Should -Be '1'
    }

    It 'renews the token once after a 401' {
        $script:calls = 0
        Mock -ModuleName VeeamCredentialHelper Get-VeeamHttpStatusCode { return 401 }
        Mock -ModuleName VeeamCredentialHelper Invoke-RestMethod {
            $script:calls++
            if ($script:calls -eq 1) { throw 'HTTP 401' }
            return 'second'
        }
        Invoke-VeeamRestMethod -Uri 'https://vb365.example.com:4443/v8/Jobs' -Binary $script:Fake | Should -Be 'second'
        $requests = @(Get-Content -LiteralPath (Join-Path $script:Log 'stdin.log') | Where-Object { $_.Trim() } | ForEach-Object { $_ | ConvertFrom-Json })
        $requests.Count | Should -Be 2
        $requests[1].force_refresh | Should -BeTrue
    }

    It 'fails with the helper''s error before any HTTP call' {
        $env:FAKE_HELPER_MODE = 'reject'
        Mock -ModuleName VeeamCredentialHelper Invoke-RestMethod { 'should not run' }
        { Invoke-VeeamRestMethod -Uri 'https://vb365.example.com:4443/v8/Jobs' -Binary $script:Fake } | Should -Throw -ExpectedMessage '*exit 3*'
        Should -Invoke -ModuleName VeeamCredentialHelper Invoke-RestMethod -Times 0 -Exactly
    }
}

Describe 'Clear-VeeamCredentialCache' {
    BeforeEach {
        $env:FAKE_HELPER_MODE = 'ok'
        $script:Log = Reset-FakeLog
    }

    It 'runs logout for one profile' {
        Clear-VeeamCredentialCache -Profile m365 -Binary $script:Fake
        Get-FakeArgv $script:Log | Should -Be @('logout -p m365')
    }

    It 'runs logout --all --forget-password' {
        Clear-VeeamCredentialCache -All -ForgetPassword -Binary $script:Fake
        Get-FakeArgv $script:Log | Should -Be @('logout --all --forget-password')
    }

    It 'does nothing with -WhatIf' {
        Clear-VeeamCredentialCache -All -Binary $script:Fake -WhatIf
        Test-Path (Join-Path $script:Log 'argv.log') | Should -BeFalse
    }

    It 'turns a failed logout into a terminating error' {
        $env:FAKE_HELPER_MODE = 'logout-fail'
        { Clear-VeeamCredentialCache -Binary $script:Fake } | Should -Throw -ExpectedMessage '*choose one with -p*(exit 2:*'
    }
}

Describe 'With the real veeam-credential-helper' {
    BeforeAll {
        $script:Real = $env:VEEAM_CREDENTIAL_HELPER_TEST_BIN
        if (-not $script:Real -and (Get-Command go -ErrorAction SilentlyContinue)) {
            $script:Real = Join-Path $script:Work 'veeam-credential-helper'
            if ($script:IsWin) { $script:Real += '.exe' }
            $repo = Split-Path -Parent (Split-Path -Parent (Split-Path -Parent $PSScriptRoot))
            Push-Location $repo
            try {
                # The front execs veeam-credential-helper-engine from its own directory: build all of cmd/ there.
                & go build -o ($script:Work + [IO.Path]::DirectorySeparatorChar) ./cmd/...
                if ($LASTEXITCODE -ne 0) { $script:Real = $null }
            }
            finally {
                Pop-Location
            }
        }
        $script:RealConfig = Join-Path $script:Work 'config.toml'
        $cacheDir = Join-Path $script:Work 'cache'
        # Port 1 on loopback refuses connections: an unreachable server without any network.
        $toml = @(
            '[profiles.down]'
            'product = "vb365"'
            'url = "https://127.0.0.1:1"'
            'username = ''corp\svc-backup'''
            'password_env = "VCH_PESTER_PASSWORD"'
            'timeout = "5s"'
            ''
            '[profiles.nosecret]'
            'product = "vb365"'
            'url = "https://127.0.0.1:1"'
            'username = ''corp\other'''
            'password_env = "VCH_PESTER_UNSET"'
            ''
            '[cache]'
            'backend = "file"'
            ('dir = ''{0}''' -f $cacheDir)
        ) -join "`n"
        Set-Content -LiteralPath $script:RealConfig -Value $toml -Encoding ASCII
    }

    BeforeEach {
        $env:VEEAM_CREDENTIAL_HELPER_PASSPHRASE = 'pester-passphrase'
        $env:VCH_PESTER_PASSWORD = 'pester-password-secret'
        Remove-Item Env:VCH_PESTER_UNSET -ErrorAction SilentlyContinue
    }

    AfterAll {
        Remove-Item -Path 'Env:VEEAM_CREDENTIAL_HELPER_PASSPHRASE', 'Env:VCH_PESTER_PASSWORD' -ErrorAction SilentlyContinue
    }

    It 'maps <Name> to exit <Exit>' -TestCases @(
        @{ Name = 'an unknown profile'; Profile = 'nope'; Exit = 2; NoPassphrase = $false }
        @{ Name = 'an unreachable server'; Profile = 'down'; Exit = 4; NoPassphrase = $false }
        @{ Name = 'a missing password'; Profile = 'nosecret'; Exit = 5; NoPassphrase = $false }
        @{ Name = 'a cache without passphrase'; Profile = 'down'; Exit = 6; NoPassphrase = $true }
    ) {
        param($Name, $Profile, $Exit, $NoPassphrase)
        if (-not $script:Real) {
            Set-ItResult -Skipped -Because 'no real helper: set VEEAM_CREDENTIAL_HELPER_TEST_BIN or install go'
            return
        }
        if ($NoPassphrase) { Remove-Item Env:VEEAM_CREDENTIAL_HELPER_PASSPHRASE }
        $err = $null
        try {
            Get-VeeamCredentialToken -Profile $Profile -Config $script:RealConfig -Binary $script:Real
        }
        catch {
            $err = $_
        }
        $err | Should -Not -BeNullOrEmpty
        $err.Exception.Data['ExitCode'] | Should -Be $Exit
        $err.Exception.Message | Should -Match ('\(exit {0}: ' -f $Exit)
        $err.Exception.Message | Should -Not -Match 'pester-password-secret'
        $err.Exception.Message | Should -Not -Match 'pester-passphrase'
    }

    It 'logs out every profile' {
        if (-not $script:Real) {
            Set-ItResult -Skipped -Because 'no real helper: set VEEAM_CREDENTIAL_HELPER_TEST_BIN or install go'
            return
        }
        { Clear-VeeamCredentialCache -All -Config $script:RealConfig -Binary $script:Real } | Should -Not -Throw
    }
}
