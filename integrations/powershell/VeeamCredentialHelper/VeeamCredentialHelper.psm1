# VeeamCredentialHelper: bearer tokens for Veeam REST APIs from veeam-credential-helper.
#
# The module talks to the helper binary over its JSON protocol v1: the request travels on the
# helper's standard input (`get --format json`), never on its command line, and the answer comes
# back as one JSON object on standard output. Exit codes become terminating errors:
#   2 usage or configuration, 3 credentials rejected, 4 server unreachable,
#   5 interaction needed, 6 cache unavailable.

Set-StrictMode -Version 3.0

$script:HelperName = 'veeam-credential-helper'

$script:ExitMeanings = @{
    1 = 'unexpected error in the helper'
    2 = 'usage or configuration error (check the profile and the configuration file)'
    3 = 'the server rejected the credentials'
    4 = 'the server is unreachable, timed out or failed'
    5 = 'interaction needed but not possible (no secret available and no terminal)'
    6 = 'the token cache is unavailable (locked keyring or no cache passphrase)'
}

$script:ExitCategories = @{
    1 = [System.Management.Automation.ErrorCategory]::NotSpecified
    2 = [System.Management.Automation.ErrorCategory]::InvalidArgument
    3 = [System.Management.Automation.ErrorCategory]::AuthenticationError
    4 = [System.Management.Automation.ErrorCategory]::ConnectionError
    5 = [System.Management.Automation.ErrorCategory]::PermissionDenied
    6 = [System.Management.Automation.ErrorCategory]::ResourceUnavailable
}

function Resolve-VeeamHelperBinary {
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [string]$Binary
    )
    if ($Binary) {
        return $Binary
    }
    if ($env:VEEAM_CREDENTIAL_HELPER_BIN) {
        return $env:VEEAM_CREDENTIAL_HELPER_BIN
    }
    $found = Get-Command -Name $script:HelperName -CommandType Application -ErrorAction SilentlyContinue |
        Select-Object -First 1
    if ($found) {
        return $found.Path
    }
    $exception = New-Object System.IO.FileNotFoundException (
        '{0} not found: pass -Binary, set $env:VEEAM_CREDENTIAL_HELPER_BIN, or put it on the PATH' -f $script:HelperName)
    $exception.Data['ExitCode'] = 2
    throw (New-Object System.Management.Automation.ErrorRecord $exception, 'VeeamCredentialHelper.BinaryNotFound',
        ([System.Management.Automation.ErrorCategory]::ObjectNotFound), $script:HelperName)
}

# Quotes one argument for a Windows command line (CommandLineToArgvW rules). Only used where
# ProcessStartInfo.ArgumentList does not exist (Windows PowerShell 5.1 on .NET Framework).
function ConvertTo-VeeamCommandLineArgument {
    [CmdletBinding()]
    [OutputType([string])]
    param(
        [AllowEmptyString()]
        [string]$Argument
    )
    if ($Argument -ne '' -and $Argument -notmatch '[\s"]') {
        return $Argument
    }
    $builder = New-Object System.Text.StringBuilder
    [void]$builder.Append('"')
    $backslashes = 0
    foreach ($ch in $Argument.ToCharArray()) {
        if ($ch -eq [char]'\') {
            $backslashes++
            continue
        }
        if ($ch -eq [char]'"') {
            [void]$builder.Append([char]'\', (2 * $backslashes + 1))
        }
        elseif ($backslashes -gt 0) {
            [void]$builder.Append([char]'\', $backslashes)
        }
        [void]$builder.Append($ch)
        $backslashes = 0
    }
    if ($backslashes -gt 0) {
        [void]$builder.Append([char]'\', (2 * $backslashes))
    }
    [void]$builder.Append('"')
    return $builder.ToString()
}

# Runs the helper with arguments (never a secret) and the text for its standard input.
# Returns ExitCode, Stdout and Stderr; throws only when the process cannot start.
function Invoke-VeeamHelperProcess {
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true)]
        [string]$Binary,

        [Parameter(Mandatory = $true)]
        [string[]]$ArgumentList,

        [AllowEmptyString()]
        [string]$InputText = ''
    )
    $utf8 = New-Object System.Text.UTF8Encoding $false
    $startInfo = New-Object System.Diagnostics.ProcessStartInfo
    $startInfo.FileName = $Binary
    $startInfo.UseShellExecute = $false
    $startInfo.RedirectStandardInput = $true
    $startInfo.RedirectStandardOutput = $true
    $startInfo.RedirectStandardError = $true
    $startInfo.CreateNoWindow = $true
    $startInfo.StandardOutputEncoding = $utf8
    $startInfo.StandardErrorEncoding = $utf8
    if ($startInfo.PSObject.Properties.Name -contains 'ArgumentList') {
        foreach ($argument in $ArgumentList) {
            $startInfo.ArgumentList.Add($argument)
        }
    }
    else {
        $quoted = foreach ($argument in $ArgumentList) { ConvertTo-VeeamCommandLineArgument -Argument $argument }
        $startInfo.Arguments = $quoted -join ' '
    }

    $process = New-Object System.Diagnostics.Process
    $process.StartInfo = $startInfo
    try {
        [void]$process.Start()
    }
    catch {
        $inner = $_.Exception
        while ($inner.InnerException) { $inner = $inner.InnerException }
        $exception = New-Object System.InvalidOperationException (
            "cannot run '{0}': {1}" -f $Binary, $inner.Message)
        $exception.Data['ExitCode'] = 2
        throw (New-Object System.Management.Automation.ErrorRecord $exception, 'VeeamCredentialHelper.CannotStart',
            ([System.Management.Automation.ErrorCategory]::ObjectNotFound), $Binary)
    }
    try {
        # Read both pipes while writing, so a chatty helper cannot block on a full pipe.
        $stdoutTask = $process.StandardOutput.ReadToEndAsync()
        $stderrTask = $process.StandardError.ReadToEndAsync()
        $bytes = $utf8.GetBytes($InputText)
        try {
            $process.StandardInput.BaseStream.Write($bytes, 0, $bytes.Length)
            $process.StandardInput.BaseStream.Flush()
        }
        catch [System.IO.IOException] {
            # The helper exited before reading its request; its exit code and stderr say why.
            Write-Verbose 'the helper closed its standard input early'
        }
        finally {
            $process.StandardInput.Close()
        }
        $process.WaitForExit()
        return [pscustomobject]@{
            ExitCode = $process.ExitCode
            Stdout   = $stdoutTask.GetAwaiter().GetResult()
            Stderr   = $stderrTask.GetAwaiter().GetResult()
        }
    }
    finally {
        $process.Dispose()
    }
}

# Turns a failed helper run into a terminating error: the helper's own one-line message (from
# the JSON error object, else the last line of stderr) and what the exit code means. Stdout is
# never quoted: it may hold a credential.
function New-VeeamHelperErrorRecord {
    [CmdletBinding()]
    [OutputType([System.Management.Automation.ErrorRecord])]
    param(
        [Parameter(Mandatory = $true)]
        [psobject]$Run,

        [string]$ProfileName
    )
    $exitCode = [int]$Run.ExitCode
    $code = ''
    $message = ''
    try {
        $answer = $Run.Stdout | ConvertFrom-Json -ErrorAction Stop
        if ($answer -and $answer.PSObject.Properties.Name -contains 'error' -and $answer.error) {
            $err = $answer.error
            if ($err.PSObject.Properties.Name -contains 'message') { $message = [string]$err.message }
            if ($err.PSObject.Properties.Name -contains 'code') { $code = [string]$err.code }
            if ($err.PSObject.Properties.Name -contains 'exit_code' -and $err.exit_code) { $exitCode = [int]$err.exit_code }
        }
    }
    catch {
        Write-Verbose 'the helper answered no JSON error object'
    }
    if (-not $message) {
        $lines = @(($Run.Stderr -split "`r?`n") | Where-Object { $_.Trim() -ne '' })
        if ($lines.Count -gt 0) {
            $message = $lines[$lines.Count - 1]
        }
        else {
            $message = 'no answer'
        }
    }
    $message = ($message -replace '\s+', ' ').Trim()
    if ($message.Length -gt 300) {
        $message = $message.Substring(0, 297) + '...'
    }
    if ($ProfileName -and -not $message.Contains($ProfileName)) {
        $message = "profile '{0}': {1}" -f $ProfileName, $message
    }
    $meaning = $script:ExitMeanings[$exitCode]
    if (-not $meaning) {
        $meaning = 'unexpected exit code'
    }
    $text = '{0}: {1} (exit {2}: {3})' -f $script:HelperName, $message, $exitCode, $meaning
    $category = $script:ExitCategories[$exitCode]
    if ($null -eq $category) {
        $category = [System.Management.Automation.ErrorCategory]::NotSpecified
    }
    switch ($exitCode) {
        3 { $exception = New-Object System.Security.Authentication.AuthenticationException $text }
        4 { $exception = New-Object System.Net.WebException $text }
        6 { $exception = New-Object System.IO.IOException $text }
        default { $exception = New-Object System.InvalidOperationException $text }
    }
    $exception.Data['ExitCode'] = $exitCode
    $exception.Data['ErrorCode'] = $code
    if (-not $code) {
        $code = 'exit{0}' -f $exitCode
    }
    return New-Object System.Management.Automation.ErrorRecord $exception, ('VeeamCredentialHelper.{0}' -f $code),
        $category, $ProfileName
}

# Seconds from a TimeSpan, a number of seconds, or a string: '300', '90s', '5m', '1h30m', '00:05:00'.
function ConvertTo-VeeamSeconds {
    [CmdletBinding()]
    [OutputType([int])]
    param(
        [Parameter(Mandatory = $true)]
        [object]$Value
    )
    if ($Value -is [TimeSpan]) {
        $seconds = $Value.TotalSeconds
    }
    elseif ($Value -is [int] -or $Value -is [long] -or $Value -is [double] -or $Value -is [decimal]) {
        $seconds = [double]$Value
    }
    else {
        $text = ([string]$Value).Trim()
        $span = [TimeSpan]::Zero
        if ($text -match '^\d+$') {
            $seconds = [double]$text
        }
        elseif ($text -ne '' -and $text -match '^(?:(?<h>\d+)h)?(?:(?<m>\d+)m)?(?:(?<s>\d+)s)?$') {
            $seconds = 0.0
            if ($Matches['h']) { $seconds += 3600 * [double]$Matches['h'] }
            if ($Matches['m']) { $seconds += 60 * [double]$Matches['m'] }
            if ($Matches['s']) { $seconds += [double]$Matches['s'] }
        }
        elseif ([TimeSpan]::TryParse($text, [ref]$span)) {
            $seconds = $span.TotalSeconds
        }
        else {
            throw ("-MinValid '{0}' is not a duration: use a TimeSpan, seconds, or a string like 90s, 5m, 1h30m" -f $text)
        }
    }
    if ($seconds -lt 0) {
        throw '-MinValid must not be negative'
    }
    return [int][Math]::Ceiling($seconds)
}

function ConvertTo-VeeamDateTime {
    [CmdletBinding()]
    [OutputType([datetime])]
    param(
        [object]$Value
    )
    if ($null -eq $Value -or '' -eq $Value) {
        return $null
    }
    if ($Value -is [datetime]) {
        # PowerShell 7's ConvertFrom-Json already turned the RFC 3339 string into a DateTime.
        return $Value.ToUniversalTime().ToLocalTime()
    }
    $parsed = [DateTimeOffset]::Parse([string]$Value, [System.Globalization.CultureInfo]::InvariantCulture)
    return $parsed.UtcDateTime.ToLocalTime()
}

function Get-VeeamCredentialToken {
    <#
    .SYNOPSIS
    Gets a bearer token for a Veeam REST API from veeam-credential-helper.

    .DESCRIPTION
    Asks the veeam-credential-helper binary for the access token of a profile in its configuration
    (vb365, vbazure, vbr, vbaws, vbgcp, vone or vspc). The helper answers from its encrypted cache, refreshes the token, or runs the profile's grant,
    so every script and tool on the machine shares one server session per identity. The request
    travels as JSON on the helper's standard input; no secret is ever on a command line.

    Returns an object with Token (a SecureString), ExpiresAt (local time), Profile, Product, Url,
    Username, TokenType and Source (cache, refresh or grant); ExpiresAt is $null for a key that never
    expires (vspc with grant = "api-key"). With -AsHeader, returns a hashtable
    @{ Authorization = 'Bearer ...' } for Invoke-RestMethod -Headers.

    Failures are terminating errors naming the helper's message and exit code: 2 configuration,
    3 credentials rejected, 4 server unreachable, 5 interaction needed, 6 cache unavailable. The
    exit code is also in $_.Exception.Data['ExitCode'].

    .PARAMETER Profile
    Profile name. Default: $env:VEEAM_PROFILE, then default_profile, then the only profile.

    .PARAMETER MinValid
    The token must stay valid at least this long: a TimeSpan, seconds, or a string like '5m'.

    .PARAMETER ForceRefresh
    Renew the token even when the cached one is still good.

    .PARAMETER Config
    The helper's configuration file. Default: $env:VEEAM_CREDENTIAL_HELPER_CONFIG, then the
    helper's default location.

    .PARAMETER Binary
    Path of the helper executable. Default: $env:VEEAM_CREDENTIAL_HELPER_BIN, then the PATH.

    .PARAMETER AsHeader
    Return @{ Authorization = 'Bearer <token>' } instead of the token object.

    .EXAMPLE
    $headers = Get-VeeamCredentialToken -Profile m365 -AsHeader
    Invoke-RestMethod -Uri https://vb365.example.com:4443/v8/Organizations -Headers $headers

    .EXAMPLE
    $t = Get-VeeamCredentialToken -Profile azure -MinValid 10m
    "valid until $($t.ExpiresAt)"
    #>
    [CmdletBinding()]
    [OutputType('VeeamCredentialHelper.Token')]
    [OutputType([hashtable])]
    param(
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = $true)]
        [Alias('ProfileName')]
        [string]$Profile,

        [object]$MinValid,

        [switch]$ForceRefresh,

        [string]$Config,

        [string]$Binary,

        [switch]$AsHeader
    )
    process {
        $request = [ordered]@{}
        if ($Profile) {
            $request['profile'] = $Profile
        }
        if ($PSBoundParameters.ContainsKey('MinValid') -and $null -ne $MinValid) {
            try {
                $request['min_valid_seconds'] = ConvertTo-VeeamSeconds -Value $MinValid
            }
            catch {
                $exception = New-Object System.ArgumentException ([string]$_.Exception.Message), 'MinValid'
                $PSCmdlet.ThrowTerminatingError((New-Object System.Management.Automation.ErrorRecord $exception,
                        'VeeamCredentialHelper.InvalidMinValid', ([System.Management.Automation.ErrorCategory]::InvalidArgument), $MinValid))
            }
        }
        if ($ForceRefresh) {
            $request['force_refresh'] = $true
        }

        try {
            $exe = Resolve-VeeamHelperBinary -Binary $Binary
            $arguments = @()
            if ($Config) {
                $arguments += @('--config', $Config)
            }
            $arguments += @('get', '--format', 'json')
            $requestJson = ConvertTo-Json -InputObject $request -Compress
            Write-Verbose ('{0} {1}' -f $exe, ($arguments -join ' '))
            $run = Invoke-VeeamHelperProcess -Binary $exe -ArgumentList $arguments -InputText $requestJson
        }
        catch {
            $PSCmdlet.ThrowTerminatingError($_)
        }

        $answer = $null
        if ($run.ExitCode -eq 0) {
            try {
                $answer = $run.Stdout | ConvertFrom-Json -ErrorAction Stop
            }
            catch {
                $answer = $null
            }
        }
        if ($run.ExitCode -ne 0 -or $null -eq $answer -or
            $answer.PSObject.Properties.Name -contains 'error' -or
            -not ($answer.PSObject.Properties.Name -contains 'access_token') -or -not $answer.access_token) {
            if ($run.ExitCode -eq 0) {
                # Exit 0 without a usable answer: say so without quoting stdout.
                $run = [pscustomobject]@{ ExitCode = 1; Stdout = ''; Stderr = 'the helper answered no access token' }
            }
            $PSCmdlet.ThrowTerminatingError((New-VeeamHelperErrorRecord -Run $run -ProfileName $Profile))
        }
        foreach ($line in ($run.Stderr -split "`r?`n")) {
            if ($line.Trim() -ne '') {
                Write-Warning $line
            }
        }

        $tokenType = 'Bearer'
        if ($answer.PSObject.Properties.Name -contains 'token_type' -and $answer.token_type) {
            $tokenType = [string]$answer.token_type
        }
        if ($AsHeader) {
            return @{ Authorization = ('{0} {1}' -f $tokenType, [string]$answer.access_token) }
        }

        $secure = ConvertTo-SecureString -String ([string]$answer.access_token) -AsPlainText -Force
        $secure.MakeReadOnly()
        $fields = @{}
        foreach ($name in @('profile', 'product', 'url', 'username', 'source', 'expires_at')) {
            $fields[$name] = $null
            if ($answer.PSObject.Properties.Name -contains $name) {
                $fields[$name] = $answer.$name
            }
        }
        $answer = $null
        [pscustomobject]@{
            PSTypeName = 'VeeamCredentialHelper.Token'
            Profile    = [string]$fields['profile']
            Product    = [string]$fields['product']
            Url        = [string]$fields['url']
            Username   = [string]$fields['username']
            TokenType  = $tokenType
            Token      = $secure
            ExpiresAt  = ConvertTo-VeeamDateTime -Value $fields['expires_at']
            Source     = [string]$fields['source']
        }
    }
}

function Get-VeeamHttpStatusCode {
    [CmdletBinding()]
    [OutputType([int])]
    param(
        [System.Exception]$Exception
    )
    if ($null -eq $Exception) {
        return 0
    }
    if ($Exception.PSObject.Properties.Name -contains 'Response' -and $null -ne $Exception.Response) {
        $response = $Exception.Response
        if ($response.PSObject.Properties.Name -contains 'StatusCode') {
            return [int]$response.StatusCode
        }
    }
    return 0
}

function Invoke-VeeamRestMethod {
    <#
    .SYNOPSIS
    Invoke-RestMethod with a bearer token from veeam-credential-helper.

    .DESCRIPTION
    Gets the profile's token (see Get-VeeamCredentialToken), adds the Authorization header and
    calls Invoke-RestMethod with the other parameters. When the server answers 401 the token is
    renewed once (-ForceRefresh) and the call repeated, unless -NoRetry is given.

    .PARAMETER Uri
    The REST resource.

    .PARAMETER Method
    HTTP method (default Get).

    .PARAMETER Body
    Request body, passed to Invoke-RestMethod as it is (for JSON: -Body ($o | ConvertTo-Json) -ContentType application/json).

    .PARAMETER ContentType
    Content type of the body, passed to Invoke-RestMethod.

    .PARAMETER Headers
    More headers; Authorization is set by this command.

    .PARAMETER TimeoutSec
    Timeout of the REST call in seconds, passed to Invoke-RestMethod. The token request has its own
    budget: the profile's timeout in the helper's configuration.

    .PARAMETER InFile
    Send the body from this file, passed to Invoke-RestMethod.

    .PARAMETER OutFile
    Save the response body in this file, passed to Invoke-RestMethod.

    .PARAMETER Profile
    Profile name. Default: $env:VEEAM_PROFILE, then default_profile, then the only profile.

    .PARAMETER MinValid
    The token must stay valid at least this long: a TimeSpan, seconds, or a string like '5m'.

    .PARAMETER Config
    The helper's configuration file. Default: $env:VEEAM_CREDENTIAL_HELPER_CONFIG, then the
    helper's default location.

    .PARAMETER Binary
    Path of the helper executable. Default: $env:VEEAM_CREDENTIAL_HELPER_BIN, then the PATH.

    .PARAMETER NoRetry
    Do not renew the token and repeat the call when the server answers 401.

    .PARAMETER RestMethodParameters
    Any other Invoke-RestMethod parameters, splatted as they are (for example @{ SkipCertificateCheck = $true }).

    .EXAMPLE
    Invoke-VeeamRestMethod -Profile m365 -Uri https://vb365.example.com:4443/v8/Organizations

    .EXAMPLE
    $body = @{ name = 'Daily' } | ConvertTo-Json
    Invoke-VeeamRestMethod -Profile azure -Method Post -Uri https://vbazure.example.com/api/v8/policies -Body $body -ContentType application/json
    #>
    [CmdletBinding()]
    param(
        [Parameter(Mandatory = $true, Position = 0)]
        [Uri]$Uri,

        [Microsoft.PowerShell.Commands.WebRequestMethod]$Method = [Microsoft.PowerShell.Commands.WebRequestMethod]::Get,

        [object]$Body,

        [string]$ContentType,

        [System.Collections.IDictionary]$Headers,

        [int]$TimeoutSec,

        [string]$InFile,

        [string]$OutFile,

        [Alias('ProfileName')]
        [string]$Profile,

        [object]$MinValid,

        [string]$Config,

        [string]$Binary,

        [switch]$NoRetry,

        [hashtable]$RestMethodParameters
    )
    $tokenParameters = @{}
    foreach ($name in @('Profile', 'MinValid', 'Config', 'Binary')) {
        if ($PSBoundParameters.ContainsKey($name)) {
            $tokenParameters[$name] = $PSBoundParameters[$name]
        }
    }

    $call = @{}
    if ($RestMethodParameters) {
        foreach ($key in $RestMethodParameters.Keys) {
            $call[$key] = $RestMethodParameters[$key]
        }
    }
    foreach ($name in @('Body', 'ContentType', 'TimeoutSec', 'InFile', 'OutFile')) {
        if ($PSBoundParameters.ContainsKey($name)) {
            $call[$name] = $PSBoundParameters[$name]
        }
    }
    $call['Uri'] = $Uri
    $call['Method'] = $Method
    $call['ErrorAction'] = 'Stop'

    $attempt = 0
    while ($true) {
        $attempt++
        try {
            if ($attempt -gt 1) {
                $authorization = Get-VeeamCredentialToken @tokenParameters -ForceRefresh -AsHeader -ErrorAction Stop
            }
            else {
                $authorization = Get-VeeamCredentialToken @tokenParameters -AsHeader -ErrorAction Stop
            }
        }
        catch {
            $PSCmdlet.ThrowTerminatingError($_)
        }
        $allHeaders = @{}
        if ($Headers) {
            foreach ($key in $Headers.Keys) {
                if ([string]$key -ne 'Authorization') {
                    $allHeaders[$key] = $Headers[$key]
                }
            }
        }
        $allHeaders['Authorization'] = $authorization['Authorization']
        $call['Headers'] = $allHeaders
        try {
            return Invoke-RestMethod @call
        }
        catch {
            $status = Get-VeeamHttpStatusCode -Exception $_.Exception
            if ($status -eq 401 -and $attempt -eq 1 -and -not $NoRetry) {
                Write-Verbose 'the server answered 401: renewing the token once'
                continue
            }
            $PSCmdlet.ThrowTerminatingError($_)
        }
        finally {
            $allHeaders = $null
            $authorization = $null
        }
    }
}

function Clear-VeeamCredentialCache {
    <#
    .SYNOPSIS
    Logs out: revokes the server session (best effort) and deletes the cached tokens.

    .DESCRIPTION
    Runs veeam-credential-helper logout for one profile (-Profile, or the helper's default profile)
    or for every profile (-All). -ForgetPassword also deletes the secret stored by the helper's login.
    Supports -WhatIf and -Confirm. Failures are terminating errors, as for Get-VeeamCredentialToken.

    .PARAMETER Profile
    Profile name. Default: $env:VEEAM_PROFILE, then default_profile, then the only profile.

    .PARAMETER All
    Log out of every profile in the configuration.

    .PARAMETER ForgetPassword
    Also delete the password (or assertion, or API key) stored in the keyring by the helper's login.

    .PARAMETER Config
    The helper's configuration file. Default: $env:VEEAM_CREDENTIAL_HELPER_CONFIG, then the
    helper's default location.

    .PARAMETER Binary
    Path of the helper executable. Default: $env:VEEAM_CREDENTIAL_HELPER_BIN, then the PATH.

    .EXAMPLE
    Clear-VeeamCredentialCache -Profile m365

    .EXAMPLE
    Clear-VeeamCredentialCache -All -ForgetPassword
    #>
    [CmdletBinding(SupportsShouldProcess = $true, ConfirmImpact = 'Low', DefaultParameterSetName = 'Profile')]
    param(
        [Parameter(ParameterSetName = 'Profile', Position = 0, ValueFromPipelineByPropertyName = $true)]
        [Alias('ProfileName')]
        [string]$Profile,

        [Parameter(ParameterSetName = 'All', Mandatory = $true)]
        [switch]$All,

        [switch]$ForgetPassword,

        [string]$Config,

        [string]$Binary
    )
    process {
        $arguments = @()
        if ($Config) {
            $arguments += @('--config', $Config)
        }
        $arguments += 'logout'
        if ($All) {
            $arguments += '--all'
            $target = 'every profile'
        }
        elseif ($Profile) {
            $arguments += @('-p', $Profile)
            $target = "profile '{0}'" -f $Profile
        }
        else {
            $target = 'the default profile'
        }
        if ($ForgetPassword) {
            $arguments += '--forget-password'
        }
        if (-not $PSCmdlet.ShouldProcess($target, 'Revoke the session and delete cached tokens')) {
            return
        }
        try {
            $exe = Resolve-VeeamHelperBinary -Binary $Binary
            Write-Verbose ('{0} {1}' -f $exe, ($arguments -join ' '))
            $run = Invoke-VeeamHelperProcess -Binary $exe -ArgumentList $arguments -InputText ''
        }
        catch {
            $PSCmdlet.ThrowTerminatingError($_)
        }
        if ($run.ExitCode -ne 0) {
            $PSCmdlet.ThrowTerminatingError((New-VeeamHelperErrorRecord -Run $run -ProfileName $Profile))
        }
        foreach ($line in (($run.Stdout + "`n" + $run.Stderr) -split "`r?`n")) {
            if ($line.Trim() -ne '') {
                Write-Verbose $line
            }
        }
    }
}

Export-ModuleMember -Function 'Get-VeeamCredentialToken', 'Invoke-VeeamRestMethod', 'Clear-VeeamCredentialCache'
