// Alerts that route failures to people. One action group (e-mail); every rule below points at it.
//
// Telemetry contract the queries rely on (docs/deploy.md, "Alert signals"); the names are what the code emits:
// - each raise of an exception record logs EventId 4101 (ExceptionService) with the structured property
//   ExceptionCategory (for example ExchangeOrderFailed) and Owner;
// - each reconciliation mismatch logs EventId 4802 (ReconciliationJob) with the property ReconciliationMismatch (its kind);
// - webhook rejections are HTTP 401 requests on /api/loop/webhooks (the request log, no app logging needed).
// The same events are also counted on meter "LoopFulfil" (loopfulfil.exceptions.recorded tagged ExceptionCategory,
// loopfulfil.reconciliation.mismatches tagged ReconciliationMismatch, loopfulfil.webhooks.rejected tagged reason).
// Alerts count the traces only: logs always reach Application Insights, metrics only once an exporter is added, and
// counting both would page at half the threshold.
// Worker logs forwarded by the Functions host carry structured properties as prop__Name; the queries accept both.
param location string
param tags object
param namePrefix string
param appInsightsId string
param serviceBusNamespaceId string

@description('Who is told. Empty: the action group is created without receivers (add them in the portal).')
param alertEmail string = ''

@description('Exception records of one category within 15 minutes that page someone.')
@minValue(1)
param exceptionCategoryThreshold int = 5

@description('401 responses on the webhook within 15 minutes that indicate a wrong or rotated secret, not a stray probe.')
@minValue(1)
param webhook401Threshold int = 10

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: '${namePrefix}-ops'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: take(replace('${namePrefix}ops', '-', ''), 12)
    enabled: true
    emailReceivers: empty(alertEmail) ? [] : [
      {
        name: 'operations'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

// Dead-lettered messages are lost work until someone replays them: alert on any, per queue.
resource deadLetters 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: '${namePrefix}-dead-lettered-messages'
  location: 'global'
  tags: tags
  properties: {
    description: 'A queue has dead-lettered messages: inspect, fix the cause, replay (docs/deploy.md).'
    severity: 1
    enabled: true
    scopes: [serviceBusNamespaceId]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
    autoMitigate: true
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'DeadLettered'
          metricNamespace: 'Microsoft.ServiceBus/namespaces'
          metricName: 'DeadletteredMessages'
          dimensions: [
            {
              name: 'EntityName'
              operator: 'Include'
              values: ['*']
            }
          ]
          operator: 'GreaterThan'
          threshold: 0
          timeAggregation: 'Maximum'
        }
      ]
    }
    actions: [
      {
        actionGroupId: actionGroup.id
      }
    ]
  }
}

var exceptionRecords = '''
traces
| extend Category = tostring(coalesce(customDimensions.ExceptionCategory, customDimensions.prop__ExceptionCategory))
| where isnotempty(Category)
'''

var scheduledRules = [
  {
    name: 'exchange-order-failed'
    description: 'An exchange could not become a Fulfil sales order: the customer waits for a replacement.'
    severity: 1
    query: '${exceptionRecords}| where Category == "ExchangeOrderFailed"\n| summarize Count = count()'
    threshold: 0
    splitByCategory: false
  }
  {
    name: 'exceptions-per-category'
    description: 'Exception records of one category above the threshold in 15 minutes.'
    severity: 2
    query: '${exceptionRecords}| summarize Count = count() by Category'
    threshold: exceptionCategoryThreshold - 1
    splitByCategory: true
  }
  {
    name: 'reconciliation-mismatches'
    description: 'Reconciliation found Loop and Fulfil disagreeing (a missed webhook or a failed posting).'
    severity: 2
    query: '''
traces
| where isnotempty(tostring(coalesce(customDimensions.ReconciliationMismatch, customDimensions.prop__ReconciliationMismatch)))
| summarize Count = count()
'''
    threshold: 0
    splitByCategory: false
  }
  {
    name: 'webhook-401-burst'
    description: 'Loop webhooks are being rejected (signature mismatch): the secret was rotated or mistyped. Loop disables a webhook after repeated failures.'
    severity: 1
    query: '''
requests
| where url has "/api/loop/webhooks" and resultCode == "401"
| summarize Count = count()
'''
    threshold: webhook401Threshold - 1
    splitByCategory: false
  }
]

resource logAlerts 'Microsoft.Insights/scheduledQueryRules@2023-03-15-preview' = [for rule in scheduledRules: {
  name: '${namePrefix}-${rule.name}'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: '${namePrefix} ${rule.name}'
    description: rule.description
    severity: rule.severity
    enabled: true
    scopes: [appInsightsId]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    autoMitigate: true
    criteria: {
      allOf: [
        {
          query: rule.query
          timeAggregation: 'Total'
          metricMeasureColumn: 'Count'
          dimensions: rule.splitByCategory ? [
            {
              name: 'Category'
              operator: 'Include'
              values: ['*']
            }
          ] : []
          operator: 'GreaterThan'
          threshold: rule.threshold
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: [actionGroup.id]
    }
  }
}]

output actionGroupId string = actionGroup.id
