@{
    RootModule           = 'VeeamCredentialHelper.psm1'
    ModuleVersion        = '1.0.0'
    GUID                 = '7bd1cb2b-9525-47d3-8a8d-346aec758d6e'
    Author               = 'veeam-credential-helper contributors'
    CompanyName          = 'veeam-tools'
    Copyright            = '(c) veeam-credential-helper contributors'
    Description          = 'Bearer tokens for Veeam REST APIs from veeam-credential-helper: Veeam Backup for Microsoft 365 (vb365), for Microsoft Azure (vbazure), Backup & Replication (vbr), Backup for AWS (vbaws), for Google Cloud (vbgcp), Veeam ONE (vone) and Service Provider Console (vspc). One cached, shared session per identity, the token as a SecureString, and Invoke-RestMethod with the Authorization header.'
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
            Tags         = @('Veeam', 'VB365', 'VBAzure', 'VBR', 'VBAWS', 'VBGCP', 'VeeamONE', 'VSPC', 'OAuth2', 'Token', 'Credential', 'REST')
            ProjectUri   = 'https://github.com/veeam-tools/veeam-credential-helper'
            ReleaseNotes = 'First release: Get-VeeamCredentialToken, Invoke-VeeamRestMethod, Clear-VeeamCredentialCache.'
        }
    }
}
