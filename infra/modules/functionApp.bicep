// Flex Consumption plan + .NET 10 isolated Function App with a system-assigned identity, and THE app-settings block.
// Every setting the app reads lives in `appSettings` below, once. LoopFulfil options use the environment form
// Section__Property; LoopFulfil.Tests/Configuration/SettingsDriftTests.cs fails when an Options property has no
// entry here (or in local.settings.sample.json). Secrets are Key Vault references, never values.
param location string
param tags object
param planName string
param functionAppName string
param storageAccountName string
param blobEndpoint string
param deploymentContainerName string
param serviceBusFullyQualifiedNamespace string
param appInsightsConnectionString string
param keyVaultUri string
param secretNames object

@description('Upper bound on instances. Caps total concurrency towards Fulfil and Loop (300 requests/min per key) as well as cost.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 10

@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('azd deploys the service whose azd-service-name tag matches azure.yaml.')
param azdServiceName string = 'functions'

// Merchant-specific settings (main.bicep passes them from azd environment variables).
@description('Fulfil REST v2 base URL, e.g. https://acme.fulfil.io/api/v2.')
param fulfilBaseUrl string
param fulfilCompanyId int = 1
param fulfilWarehouseId int = 0
param fulfilJournalId int = 0
param fulfilReturnsClearingAccountCode string = ''
param fulfilGiftCardLiabilityAccountCode string = ''

@description('Flag a return in Loop (needs review) with a note when an exception record is raised for it.')
param flagReturnInLoop bool = false

@description('Six-field NCRONTAB of the SKU recheck. One value, two settings: the option and the timer binding (see docs/configuration.md).')
param skuRecheckSchedule string = '0 */15 * * * *'

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: functionAppName
  location: location
  tags: union(tags, { 'azd-service-name': azdServiceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: 'SystemAssigned'
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${blobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'SystemAssignedIdentity'
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
  }
}

var secretUri = '${keyVaultUri}secrets/'

// Flex Consumption sets the runtime in functionAppConfig: FUNCTIONS_WORKER_RUNTIME / FUNCTIONS_EXTENSION_VERSION
// are rejected here. To add a setting: one line in this block (and in local.settings.sample.json).
resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: {
    // Host storage by identity: account name only, no connection string, no key.
    AzureWebJobsStorage__accountName: storageAccountName
    AzureWebJobsStorage__credential: 'managedidentity'

    // Service Bus triggers and the SDK sender (Connection = "ServiceBusConnection") by identity.
    ServiceBusConnection__fullyQualifiedNamespace: serviceBusFullyQualifiedNamespace

    // Telemetry, sent with the app's identity (local auth is off on the component).
    APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD'

    // LoopFulfil options (Section__Property).
    Health__StorageProbeTimeout: '00:00:05'
    // LoopFulfil's own tables and the local queue adapter, by identity: endpoints set, connection string empty.
    Storage__ConnectionString: ''
    Storage__TableEndpoint: 'https://${storageAccountName}.table.${environment().suffixes.storage}'
    Storage__QueueEndpoint: 'https://${storageAccountName}.queue.${environment().suffixes.storage}'
    Storage__TablePrefix: ''

    // LoopFulfil secrets: Key Vault references resolved by the platform with the app's identity.
    Loop__ApiKey: '@Microsoft.KeyVault(SecretUri=${secretUri}${secretNames.loopApiKey}/)'
    Webhooks__Secret: '@Microsoft.KeyVault(SecretUri=${secretUri}${secretNames.loopWebhookSecret}/)'
    Fulfil__ApiKey: '@Microsoft.KeyVault(SecretUri=${secretUri}${secretNames.fulfilApiKey}/)'

    // Webhook ingress (WebhookOptions). SecondarySecret only during a secret rotation.
    Webhooks__SecondarySecret: ''
    Webhooks__MaxBodyBytes: '1048576'
    Webhooks__RetryAfterSeconds: '60'

    // Exception records (ExceptionOptions); owners default per category, override with Exceptions__Owners__<Category>.
    Exceptions__DefaultOwner: 'operations'
    Exceptions__FlagReturnInLoop: string(flagReturnInLoop)
    Exceptions__SkuRecheckSchedule: skuRecheckSchedule
    // The SKU recheck timer's binding reads this flat name (Functions: %SkuRecheckSchedule%), same value.
    SkuRecheckSchedule: skuRecheckSchedule

    // Loop API client (LoopOptions).
    Loop__BaseUrl: 'https://api.loopreturns.com/api/'
    Loop__ApiVersion: '2026-10'
    Loop__RequestsPerMinute: '300'
    Loop__RateLimitWindow: '00:01:00'
    Loop__TimeoutSeconds: '30'
    Loop__ReturnsPageSize: '250'

    // Fulfil API client (FulfilOptions). Fields marked inferred in docs are configurable here.
    Fulfil__BaseUrl: fulfilBaseUrl
    Fulfil__AuthMode: 'ApiKey'
    Fulfil__CompanyId: string(fulfilCompanyId)
    Fulfil__WarehouseId: string(fulfilWarehouseId)
    Fulfil__QuarantineLocationCode: 'QUAR'
    Fulfil__SellableLocationCode: 'STOR'
    Fulfil__DamagedLocationCode: 'DMG'
    Fulfil__ReturnsClearingAccountCode: fulfilReturnsClearingAccountCode
    Fulfil__GiftCardLiabilityAccountCode: fulfilGiftCardLiabilityAccountCode
    Fulfil__JournalId: string(fulfilJournalId)
    Fulfil__SaleLookup: 'OrderName'
    Fulfil__ExchangeChannelId: ''
    Fulfil__ExchangePriority: '1'
    Fulfil__PageSize: '500'
    Fulfil__ReturnOrderDestinationField: 'return_location'
    Fulfil__JournalReferenceField: 'description'
    Fulfil__CreditNoteReferenceField: 'reference'
    Fulfil__MoveUnitField: 'uom'
    Fulfil__ReturnShipmentsField: 'shipment_returns'

    // Returns pipeline (ReturnsOptions).
    Returns__ReturnOrderReferencePrefix: 'LOOP-'
    Returns__SkuCacheSeconds: '60'
    Returns__FetchMissingSnapshotFromLoop: 'true'

    // Retries, timeouts and circuit breaker of the Loop and Fulfil clients (HttpResilienceOptions).
    HttpResilience__MaxRetryAttempts: '4'
    HttpResilience__BaseDelay: '00:00:00.500'
    HttpResilience__MaxDelay: '00:00:30'
    HttpResilience__UseJitter: 'true'
    HttpResilience__MaxRetryAfter: '00:01:00'
    HttpResilience__AttemptTimeout: '00:00:30'
    HttpResilience__TotalTimeout: '00:03:00'
    HttpResilience__CircuitBreakerEnabled: 'true'
    HttpResilience__CircuitBreakerFailureRatio: '0.5'
    HttpResilience__CircuitBreakerMinimumThroughput: '20'
    HttpResilience__CircuitBreakerSamplingDuration: '00:00:30'
    HttpResilience__CircuitBreakerBreakDuration: '00:00:30'
  }
}

output functionAppId string = site.id
output functionAppName string = site.name
output principalId string = site.identity.principalId
output defaultHostName string = site.properties.defaultHostName
