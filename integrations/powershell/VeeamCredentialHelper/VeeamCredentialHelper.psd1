@{
    RootModule           = 'VeeamCredentialHelper.psm1'
    ModuleVersion        = '1.0.0'
    GUID                 = '7bd1cb2b-9525-47d3-8a8d-346aec758d6e'
    Author               = 'veeam-credential-helper contributors'
    CompanyName          = 'veeam-tools'
    Copyright            = '(c) veeam-credential-helper contributors'
    Description          = 'Bearer tokens for Veeam REST APIs (VB365, Veeam Backup for Microsoft Azure, ...) from veeam-credential-helper: one cached, shared session per identity, the token as a SecureString, and Invoke-RestMethod with the Authorization header.'
    PowerShellVersion    = '5.1'
    CompatiblePSEditions = @('Desktop', 'Core')
    FunctionsToExport    = @(
        'Get-VeeamCredentialToken',
        'Invoke-VeeamRestMethod',
        'Clear-VeeamCredentialCache'
    )
    CmdletsToExport      = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('Veeam', 'VB365', 'Azure', 'OAuth2', 'Token', 'Credential', 'REST')
            ProjectUri   = 'https://github.com/veeam-tools/veeam-credential-helper'
            ReleaseNotes = 'First release: Get-VeeamCredentialToken, Invoke-VeeamRestMethod, Clear-VeeamCredentialCache.'
        }
    }
}
