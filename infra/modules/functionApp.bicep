// Flex Consumption plan + .NET 10 isolated Function App running as the user-assigned identity (identity.bicep,
// whose roles exist before this site), and THE app-settings block.
// Every setting the app reads lives in `appSettings` below, once. LoopFulfil options use the environment form
// Section__Property; LoopFulfil.Tests/Configuration/SettingsDriftTests.cs fails when an Options property has no
// entry here (or in local.settings.sample.json). Secrets are Key Vault references, never values.
param location string
param tags object
param planName string
param functionAppName string
@description('Resource id of the user-assigned identity the app runs as.')
param identityId string
@description('Client id of that identity: the extensions, the Azure SDKs and Key Vault references pick it by this.')
param identityClientId string
param storageAccountName string
param blobEndpoint string
param deploymentContainerName string
param serviceBusFullyQualifiedNamespace string
param appInsightsConnectionString string
param keyVaultUri string
param secretNames object

@description('Fulfil REST v2 base address, e.g. https://acme.fulfil.io/api/v2/')
param fulfilBaseUrl string
@description('Fulfil company id (context).')
param fulfilCompanyId string
@description('Fulfil warehouse (stock.location id) that receives returns.')
param fulfilWarehouseId string
@description('Account code debited for refunds and store credit (returns clearing).')
param fulfilReturnsClearingAccountCode string
@description('Account code credited for store credit / gift cards (liability).')
param fulfilGiftCardLiabilityAccountCode string
@description('Fulfil account.journal id for LoopFulfil journal entries.')
param fulfilJournalId string
@description('Fulfil sale.channel id for exchange orders (empty: Fulfil default).')
param fulfilExchangeChannelId string

@description('Six-field NCRONTAB of the SKU recheck job. One value, two app settings: the option and the timer binding (docs/configuration.md).')
param skuRecheckSchedule string = '0 */15 * * * *'

@description('Six-field NCRONTAB schedule of the daily reconciliation (UTC); it reconciles the previous day.')
param reconciliationSchedule string = '0 0 2 * * *'

@description('Six-field NCRONTAB of the catch-up sweep (every 15-60 minutes): enqueues returns Loop changed since the last successful sweep.')
param catchUpSchedule string = '0 */15 * * * *'

@description('Six-field NCRONTAB (UTC) of the privacy retention job: reduces settled returns\' payloads after the retention period and prunes claim-checked bodies.')
param privacyRetentionSchedule string = '0 20 3 * * *'

@description('Days after a return is settled (and a resolved exception) before its stored payloads lose personal data (docs/privacy.md).')
@minValue(1)
@maxValue(3650)
param retainPayloadsDays int = 90

@description('Six-field NCRONTAB (UTC) of the refund posting batch in Scheduled mode.')
param refundsPostingSchedule string = '0 0 * * * *'

@description('Upper bound on instances. Caps total concurrency towards Fulfil and Loop (300 requests/min per key) as well as cost.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 10

@allowed([512, 2048, 4096])
param instanceMemoryMB int = 2048

@description('azd deploys the service whose azd-service-name tag matches azure.yaml.')
param azdServiceName string = 'functions'

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
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityId
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
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
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
    AzureWebJobsStorage__clientId: identityClientId

    // Service Bus triggers and the sender (Connection = "ServiceBusConnection") by the same identity.
    ServiceBusConnection__fullyQualifiedNamespace: serviceBusFullyQualifiedNamespace
    ServiceBusConnection__credential: 'managedidentity'
    ServiceBusConnection__clientId: identityClientId

    // Azure SDK clients built with DefaultAzureCredential (e.g. LoopFulfil's own storage) pick the identity by this.
    AZURE_CLIENT_ID: identityClientId

    // Telemetry, sent with the app's identity (local auth is off on the component).
    APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'

    // LoopFulfil options (Section__Property).
    Health__StorageProbeTimeout: '00:00:05'
    // LoopFulfil's own tables, large bodies (blobs) and the local queue adapter, by identity: endpoints set, connection string empty.
    Storage__ConnectionString: ''
    Storage__TableEndpoint: 'https://${storageAccountName}.table.${environment().suffixes.storage}'
    Storage__QueueEndpoint: 'https://${storageAccountName}.queue.${environment().suffixes.storage}'
    Storage__BlobEndpoint: 'https://${storageAccountName}.blob.${environment().suffixes.storage}'
    // The user-assigned identity (its client id) for LoopFulfil's tables, queues and blobs.
    Storage__ClientId: identityClientId
    Storage__TablePrefix: ''
    Webhooks__MaxBodyBytes: '4194304'
    Webhooks__RetryAfterSeconds: '60'
    Webhooks__StorageTimeoutSeconds: '10'
    // During a secret rotation, point this at the new secret's Key Vault reference, then swap and clear it.
    Webhooks__SecondarySecret: ''
    Exceptions__DefaultOwner: 'operations'
    Returns__ReturnOrderReferencePrefix: 'LOOP-'
    Returns__SkuCacheSeconds: '60'
    Returns__FetchMissingSnapshotFromLoop: 'true'
    Returns__StepLeaseDuration: '00:05:00'
    Returns__ConfirmProcessedWithLoop: 'true'
    Exceptions__FlagReturnInLoop: 'true'
    Exceptions__SkuRecheckSchedule: skuRecheckSchedule
    // The Functions timer binding reads a flat name (%SkuRecheckSchedule%): ':' and '__' names do not resolve there.
    SkuRecheckSchedule: skuRecheckSchedule
    // Outcomes: where inspected goods go, how refunds are posted, what is written back to Loop.
    Inspection__ReceivedLabelStatuses: 'delivered'
    Inspection__ReceiveOnRestockRequested: 'true'
    Inspection__ReceiveOnClose: 'false'
    Inspection__ProcessPassedReturnsInLoop: 'true'
    Refunds__PostingMode: 'Realtime'
    Refunds__PostingSchedule: refundsPostingSchedule
    RefundsPostingSchedule: refundsPostingSchedule
    Refunds__PostingParallelism: '4'
    Refunds__CreditNoteSource: 'Detect'
    Refunds__StoreCreditDocument: 'Journal'
    Refunds__AmountTolerance: '0.00'
    Refunds__TaxRoundingUnit: '0.01'
    Refunds__RoundingAccountCode: ''
    Refunds__CompanyCurrency: 'USD'
    // Finance fills these in before handling fees or upsells can post (AmountMismatch until then).
    Refunds__HandlingFeeAccountCode: ''
    Refunds__GiftCardBonusAccountCode: ''
    WriteBack__Note: 'true'
    WriteBack__ExchangeOrders: 'true'
    WriteBack__OrderRefunds: 'true'
    // Daily reconciliation of the previous UTC day (the report: GET /api/ops/reconciliation/latest.html, master key).
    Reconciliation__Schedule: reconciliationSchedule
    ReconciliationSchedule: reconciliationSchedule
    Reconciliation__RestockSla: '3.00:00:00'
    Reconciliation__SelfHeal: 'true'
    Reconciliation__RaiseExceptions: 'true'
    Reconciliation__HistoryDays: '30'
    Reconciliation__OldestExceptionsShown: '10'
    Reconciliation__FulfilBatchSize: '25'
    // Catch-up sweep from a watermark in Table storage; flat name for the timer binding (%CatchUpSchedule%).
    CatchUp__Schedule: catchUpSchedule
    CatchUpSchedule: catchUpSchedule
    CatchUp__Overlap: '00:10:00'
    CatchUp__InitialLookback: '00:00:00'
    CatchUp__Enabled: 'true'
    // Retention of personal data (docs/privacy.md); flat name for the timer binding (%PrivacyRetentionSchedule%).
    Privacy__RetainPayloadsDays: string(retainPayloadsDays)
    Privacy__RetentionSchedule: privacyRetentionSchedule
    PrivacyRetentionSchedule: privacyRetentionSchedule
    Privacy__RetentionPageSize: '100'
    Privacy__RetentionMaxPagesPerRun: '50'
    Privacy__RetentionEnabled: 'true'
    // Backoff of transient failures (scheduled messages), then a DeadLettered exception record.
    Redelivery__MaxAttempts: '12'
    Redelivery__BaseDelay: '00:00:10'
    Redelivery__MaxDelay: '00:30:00'

    // Merchant-specific Fulfil settings come from parameters; the rest are defaults worth tuning per merchant.
    Fulfil__BaseUrl: fulfilBaseUrl
    Fulfil__AuthMode: 'ApiKey'
    Fulfil__CompanyId: fulfilCompanyId
    Fulfil__WarehouseId: fulfilWarehouseId
    Fulfil__QuarantineLocationCode: 'QUAR'
    Fulfil__SellableLocationCode: 'STOR'
    Fulfil__DamagedLocationCode: 'DMG'
    Fulfil__ReturnsClearingAccountCode: fulfilReturnsClearingAccountCode
    Fulfil__GiftCardLiabilityAccountCode: fulfilGiftCardLiabilityAccountCode
    Fulfil__JournalId: fulfilJournalId
    Fulfil__SaleLookup: 'OrderName'
    Fulfil__ExchangeChannelId: fulfilExchangeChannelId
    Fulfil__ExchangePriority: '1'
    Fulfil__ExchangeShipToReturnAddress: 'true'
    Fulfil__AddressNameField: 'name'
    Fulfil__AddressSubdivisionLookup: 'true'
    Fulfil__PageSize: '500'
    Fulfil__JournalReferenceField: 'description'
    Fulfil__CreditNoteReferenceField: 'reference'
    Fulfil__GiftCardModel: 'gift_card.gift_card'
    Fulfil__GiftCardReferenceField: 'comment'
    Fulfil__MoveUnitField: 'uom'
    Fulfil__ReturnShipmentsField: 'shipment_returns'
    Fulfil__ReturnOriginSaleField: 'origin_sale'
    Fulfil__ReturnOriginLineField: 'origin_line'
    Fulfil__MoveOriginField: 'origin'
    // Commerce data push (Fulfil → Loop). RunBudget stays under the host's function timeout; the next run resumes.
    CommerceSync__Enabled: 'true'
    CommerceSync__ReturnWindowDays: '90'
    CommerceSync__MaxConcurrency: '16'
    CommerceSync__RunBudget: '00:09:00'
    // Loop writes per run (0 = no limit): caps a run's share of Loop's rate limit in work, not time.
    CommerceSync__RunWriteBudget: '0'
    // Go-live audit (loopfulfil audit, docs/go-live.md); the CLI reads the same names.
    Audit__LookbackDays: '30'
    Audit__WebhookUrl: ''
    // Shadow mode (docs/go-live.md): Shadow plans and records every Fulfil and Loop write instead of sending it.
    Integration__Mode: 'Live'
    CommerceSync__IncrementalSchedule: '0 */15 * * * *'
    CommerceSync__FullPassSchedule: '0 0 3 * * *'
    // Flat names for the timer bindings (%CommerceSyncIncrementalSchedule%), as for SkuRecheckSchedule.
    CommerceSyncIncrementalSchedule: '0 */15 * * * *'
    CommerceSyncFullPassSchedule: '0 0 3 * * *'
    CommerceSync__PageSize: '200'
    CommerceSync__TableName: 'commercemap'
    CommerceSync__Channel: 'fulfil'
    CommerceSync__CurrencyCode: 'USD'
    // Loop requires an address on each location; Fulfil warehouse addresses are not read.
    CommerceSync__WarehouseAddress1: ''
    CommerceSync__WarehouseCity: ''
    CommerceSync__WarehouseRegion: ''
    CommerceSync__WarehousePostalCode: ''
    CommerceSync__WarehouseCountryCode: 'US'
    CommerceSync__InventoryWatermarkOverlap: '00:05:00'
    Loop__BaseUrl: 'https://api.loopreturns.com/api/'
    Loop__ApiVersion: '2026-10'
    Loop__RequestsPerMinute: '300'
    Loop__RateLimitWindow: '00:01:00'
    Loop__RateLimitWindowPadding: '00:00:01'
    // Instances scale out on Service Bus and share one Loop key: the limit is coordinated through Table Storage.
    Loop__SharedRateLimit: 'true'
    Loop__SharedRateLimitTable: 'LoopRateLimit'
    Loop__SharedRateLimitMaxBlock: '10'
    Loop__SharedRateLimitBlockHold: '00:00:01'
    // The storage-outage fallback gives each instance 1/N of the limit; N is the most instances there can be.
    Loop__SharedRateLimitExpectedInstances: string(maximumInstanceCount)
    Loop__TimeoutSeconds: '30'
    Loop__ReturnsPageSize: '250'
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

    // LoopFulfil secrets: Key Vault references resolved by the platform with the app's identity.
    Loop__ApiKey: '@Microsoft.KeyVault(SecretUri=${secretUri}${secretNames.loopApiKey}/)'
    Webhooks__Secret: '@Microsoft.KeyVault(SecretUri=${secretUri}${secretNames.loopWebhookSecret}/)'
    Fulfil__ApiKey: '@Microsoft.KeyVault(SecretUri=${secretUri}${secretNames.fulfilApiKey}/)'
  }
}

output functionAppId string = site.id
output functionAppName string = site.name
output defaultHostName string = site.properties.defaultHostName
