// Service Bus namespace and the three queues. Standard is the cheapest tier with sessions and duplicate detection.
// Local (SAS) auth is off: the Function App connects with its managed identity (ServiceBusConnection__fullyQualifiedNamespace).
param location string
param tags object
param namespaceName string

@allowed(['Standard', 'Premium'])
param skuName string = 'Standard'

@description('Deliveries before a message is dead-lettered. Each delivery already retries transient HTTP failures in process with backoff, so 10 deliveries ride out tens of minutes of Loop/Fulfil trouble before a human is alerted.')
@minValue(3)
@maxValue(100)
param maxDeliveryCount int = 10

@description('Duplicate detection window for Loop events. Loop retries a failed webhook 5 times with backoff and honours Retry-After up to 30 minutes, so one event can arrive hours apart; operators also replay. One day is the minimum that covers this; two leaves margin (the maximum is seven).')
param loopReturnsDuplicateWindow string = 'P2D'

resource namespace 'Microsoft.ServiceBus/namespaces@2024-01-01' = {
  name: namespaceName
  location: location
  tags: tags
  sku: {
    name: skuName
    tier: skuName
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
  }
}

// Every Loop return event, one session per Loop return id, so one return's events are handled in order by one
// consumer at a time. Duplicate detection drops repeats by MessageId (the webhook dedupe key).
// lockDuration 1 minute: the trigger renews the lock while a handler runs (host.json maxAutoLockRenewalDuration),
// so a short lock only matters when an instance dies mid-message - and then a short lock means a quick redelivery.
resource loopReturns 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: namespace
  name: 'loop-returns'
  properties: {
    requiresSession: true
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: loopReturnsDuplicateWindow
    lockDuration: 'PT1M'
    maxDeliveryCount: maxDeliveryCount
    defaultMessageTimeToLive: 'P14D'
    deadLetteringOnMessageExpiration: true
    enableBatchedOperations: true
  }
}

// Confirmed exchanges waiting to become priority sales orders in Fulfil: a duplicate would create a second order,
// so duplicate detection is on here too. No ordering requirement between exchanges: no sessions.
resource loopExchanges 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: namespace
  name: 'loop-exchanges'
  properties: {
    requiresSession: false
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: 'P1D'
    lockDuration: 'PT1M'
    maxDeliveryCount: maxDeliveryCount
    defaultMessageTimeToLive: 'P14D'
    deadLetteringOnMessageExpiration: true
    enableBatchedOperations: true
  }
}

// Exception records on their way to alerting; the record itself is already in Table Storage, so expiry loses
// only a notification, never the record.
resource exceptions 'Microsoft.ServiceBus/namespaces/queues@2024-01-01' = {
  parent: namespace
  name: 'exceptions'
  properties: {
    requiresSession: false
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: 'P1D'
    lockDuration: 'PT1M'
    maxDeliveryCount: maxDeliveryCount
    defaultMessageTimeToLive: 'P7D'
    deadLetteringOnMessageExpiration: true
    enableBatchedOperations: true
  }
}

output namespaceId string = namespace.id
output namespaceName string = namespace.name
output fullyQualifiedNamespace string = '${namespace.name}.servicebus.windows.net'
output queueNames array = [loopReturns.name, loopExchanges.name, exceptions.name]
