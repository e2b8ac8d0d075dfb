// LoopFulfil in one resource group: Function App (Flex Consumption, .NET 10 isolated), Storage, Service Bus,
// Key Vault, Log Analytics + Application Insights, data-plane roles and alerts. `azd up` deploys it
// (azure.yaml); docs/deploy.md goes from nothing to a working Loop webhook.
targetScope = 'subscription'

@minLength(1)
@maxLength(40)
@description('azd environment name (e.g. prod); prefixes resource names and tags everything.')
param environmentName string

@minLength(1)
@description('Region for every resource. It must offer Flex Consumption: az functionapp list-flexconsumption-locations.')
param location string

@description('Resource group; default rg-<environmentName>.')
param resourceGroupName string = ''

@description('Optional name overrides; empty means derived from environmentName plus a stable hash.')
param functionAppName string = ''
param storageAccountName string = ''
param serviceBusNamespaceName string = ''
param keyVaultName string = ''
param appInsightsName string = ''
param logAnalyticsName string = ''

@allowed(['Standard', 'Premium'])
param serviceBusSku string = 'Standard'

@allowed(['Standard_LRS', 'Standard_ZRS', 'Standard_GRS', 'Standard_GZRS'])
param storageSku string = 'Standard_LRS'

@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 10

@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('Object id of whoever deploys (azd passes AZURE_PRINCIPAL_ID): may then set the Key Vault secrets.')
param principalId string = ''

@description('Kind of the deployer principal (azd passes AZURE_PRINCIPAL_TYPE: User for a person, ServicePrincipal for a pipeline).')
@allowed(['User', 'ServicePrincipal'])
param principalType string = 'User'

@description('E-mail address for alerts; empty creates the action group without receivers.')
param alertEmail string = ''

// Optional: secret values at deploy time (pipelines). Left empty, secrets are set afterwards with
// `az keyvault secret set` and redeploying never overwrites them.
@secure()
param loopApiKey string = ''

@secure()
param loopWebhookSecret string = ''

@secure()
param fulfilApiKey string = ''

// Merchant values without defaults: `azd up` asks for each (and keeps the answers in the azd environment);
// a pipeline sets them with `azd env set-config infra.parameters.<name> <value>` or a parameters file.
// Their app settings pass the same options validation as the app's start-up (LoopFulfil.Tests ArmTemplateTests).
@minLength(8)
@description('Fulfil REST v2 base address, e.g. https://acme.fulfil.io/api/v2/')
param fulfilBaseUrl string
@description('Fulfil company id (context).')
param fulfilCompanyId string = '1'
@minLength(1)
@description('Fulfil warehouse (stock.location id) that receives returns.')
param fulfilWarehouseId string
@minLength(1)
@description('Account code debited for refunds and store credit (returns clearing).')
param fulfilReturnsClearingAccountCode string
@minLength(1)
@description('Account code credited for store credit / gift cards (liability).')
param fulfilGiftCardLiabilityAccountCode string
@minLength(1)
@description('Fulfil account.journal id for LoopFulfil journal entries.')
param fulfilJournalId string
@description('Fulfil sale.channel id for exchange orders (empty: Fulfil default).')
param fulfilExchangeChannelId string = ''

var token = toLower(uniqueString(subscription().id, environmentName, location))
var prefix = toLower(take(replace(environmentName, '_', '-'), 20))
var compact = toLower(take(replace(replace(environmentName, '-', ''), '_', ''), 8))
var tags = {
  'azd-env-name': environmentName
  application: 'loopfulfil'
}
var names = {
  resourceGroup: empty(resourceGroupName) ? 'rg-${environmentName}' : resourceGroupName
  functionApp: empty(functionAppName) ? 'func-${prefix}-${token}' : functionAppName
  identity: 'id-${prefix}-${token}'
  plan: 'plan-${prefix}-${token}'
  storage: empty(storageAccountName) ? take('st${compact}${token}', 24) : storageAccountName
  serviceBus: empty(serviceBusNamespaceName) ? 'sb-${prefix}-${token}' : serviceBusNamespaceName
  keyVault: empty(keyVaultName) ? take('kv-${compact}-${token}', 24) : keyVaultName
  appInsights: empty(appInsightsName) ? 'appi-${prefix}-${token}' : appInsightsName
  logAnalytics: empty(logAnalyticsName) ? 'log-${prefix}-${token}' : logAnalyticsName
  deploymentContainer: 'app-package-${token}'
}

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: names.resourceGroup
  location: location
  tags: tags
}

module monitoring 'modules/monitoring.bicep' = {
  scope: rg
  name: 'monitoring'
  params: {
    location: location
    tags: tags
    logAnalyticsName: names.logAnalytics
    appInsightsName: names.appInsights
  }
}

module storage 'modules/storage.bicep' = {
  scope: rg
  name: 'storage'
  params: {
    location: location
    tags: tags
    storageAccountName: names.storage
    skuName: storageSku
    deploymentContainerName: names.deploymentContainer
  }
}

module serviceBus 'modules/serviceBus.bicep' = {
  scope: rg
  name: 'serviceBus'
  params: {
    location: location
    tags: tags
    namespaceName: names.serviceBus
    skuName: serviceBusSku
  }
}

module keyVault 'modules/keyVault.bicep' = {
  scope: rg
  name: 'keyVault'
  params: {
    location: location
    tags: tags
    keyVaultName: names.keyVault
    loopApiKey: loopApiKey
    loopWebhookSecret: loopWebhookSecret
    fulfilApiKey: fulfilApiKey
  }
}

module identity 'modules/identity.bicep' = {
  scope: rg
  name: 'identity'
  params: {
    location: location
    tags: tags
    identityName: names.identity
  }
}

// Granted before the site exists (functionApp depends on it), so the first start is already authorised.
module roles 'modules/roleAssignments.bicep' = {
  scope: rg
  name: 'roleAssignments'
  params: {
    principalId: identity.outputs.principalId
    storageAccountName: storage.outputs.storageAccountName
    serviceBusNamespaceName: serviceBus.outputs.namespaceName
    keyVaultName: keyVault.outputs.keyVaultName
    appInsightsName: monitoring.outputs.appInsightsName
    deployerPrincipalId: principalId
    deployerPrincipalType: principalType
  }
}

module functionApp 'modules/functionApp.bicep' = {
  scope: rg
  name: 'functionApp'
  params: {
    location: location
    tags: tags
    planName: names.plan
    functionAppName: names.functionApp
    identityId: identity.outputs.identityId
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.storageAccountName
    blobEndpoint: storage.outputs.blobEndpoint
    deploymentContainerName: names.deploymentContainer
    serviceBusFullyQualifiedNamespace: serviceBus.outputs.fullyQualifiedNamespace
    appInsightsConnectionString: monitoring.outputs.appInsightsConnectionString
    keyVaultUri: keyVault.outputs.keyVaultUri
    secretNames: keyVault.outputs.secretNames
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    fulfilBaseUrl: fulfilBaseUrl
    fulfilCompanyId: fulfilCompanyId
    fulfilWarehouseId: fulfilWarehouseId
    fulfilReturnsClearingAccountCode: fulfilReturnsClearingAccountCode
    fulfilGiftCardLiabilityAccountCode: fulfilGiftCardLiabilityAccountCode
    fulfilJournalId: fulfilJournalId
    fulfilExchangeChannelId: fulfilExchangeChannelId
  }
  dependsOn: [roles]
}

module alerts 'modules/alerts.bicep' = {
  scope: rg
  name: 'alerts'
  params: {
    location: location
    tags: tags
    namePrefix: prefix
    appInsightsId: monitoring.outputs.appInsightsId
    serviceBusNamespaceId: serviceBus.outputs.namespaceId
    alertEmail: alertEmail
  }
}

output AZURE_LOCATION string = location
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.functionAppName
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.keyVaultName
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.storageAccountName
output AZURE_STORAGE_TABLE_ENDPOINT string = storage.outputs.tableEndpoint
output AZURE_SERVICE_BUS_NAMESPACE string = serviceBus.outputs.fullyQualifiedNamespace
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.appInsightsName
output FUNCTION_APP_URL string = 'https://${functionApp.outputs.defaultHostName}'
output HEALTH_URL string = 'https://${functionApp.outputs.defaultHostName}/api/health'
output LOOP_WEBHOOK_URL string = 'https://${functionApp.outputs.defaultHostName}/api/loop/webhooks'
