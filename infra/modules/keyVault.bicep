// Key Vault for the three integration secrets, RBAC-authorised (no access policies). The Function App reads them
// through Key Vault references in its app settings, so values never appear in app settings or deployment history.
// Secret values are optional parameters: an empty value leaves an existing secret untouched, so re-running
// `azd provision` never blanks a secret set by hand (docs/deploy.md sets them with `az keyvault secret set`).
param location string
param tags object
param keyVaultName string

@secure()
param loopApiKey string = ''

@secure()
param loopWebhookSecret string = ''

@secure()
param fulfilApiKey string = ''

// Secret names in the vault; the Function App's app settings reference these.
var secretNames = {
  loopApiKey: 'loop-api-key'
  loopWebhookSecret: 'loop-webhook-secret'
  fulfilApiKey: 'fulfil-api-key'
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: keyVaultName
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
  }
}

resource loopApiKeySecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(loopApiKey)) {
  parent: vault
  name: secretNames.loopApiKey
  properties: {
    value: loopApiKey
  }
}

resource loopWebhookSecretSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(loopWebhookSecret)) {
  parent: vault
  name: secretNames.loopWebhookSecret
  properties: {
    value: loopWebhookSecret
  }
}

resource fulfilApiKeySecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(fulfilApiKey)) {
  parent: vault
  name: secretNames.fulfilApiKey
  properties: {
    value: fulfilApiKey
  }
}

output keyVaultId string = vault.id
output keyVaultName string = vault.name
output keyVaultUri string = vault.properties.vaultUri
output secretNames object = secretNames
