// Alerts that route failures to people. One action group (e-mail); every rule below points at it.
//
// Telemetry contract the log alerts rely on (docs/deploy.md, "Alert signals"). The worker exports meter "LoopFulfil"
// with OpenTelemetry and the Azure Monitor exporter (LoopFulfil.Functions/Telemetry); each counter arrives in the
// customMetrics table under its instrument name, one row per export interval with the count in valueSum, and its tags
// in customDimensions under their own names:
// - loopfulfil.exceptions.recorded: every raise of an exception record, tagged ExceptionCategory and Owner;
// - loopfulfil.reconciliation.mismatches: every difference reconciliation finds, tagged ReconciliationMismatch, Owner, mode;
// - loopfulfil.webhooks.rejected: every refused Loop delivery, tagged reason (missing_signature, invalid_signature, …).
// Metrics, not traces: the host samples the logs it forwards (host.json) and the exporter may drop logs of sampled
// traces, while metrics are never sampled. TelemetryContractTests reads each query below from the compiled ARM JSON
// and checks every metric name, dimension and value it filters on against what the code emits.
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

var scheduledRules = [
  {
    name: 'exchange-order-failed'
    description: 'An exchange could not become a Fulfil sales order: the customer waits for a replacement.'
    severity: 1
    query: '''
customMetrics
| where name == "loopfulfil.exceptions.recorded"
| extend Category = tostring(customDimensions.ExceptionCategory)
| where Category == "ExchangeOrderFailed"
| summarize Count = sum(valueSum)
'''
    threshold: 0
    splitByCategory: false
  }
  {
    name: 'exceptions-per-category'
    description: 'Exception records of one category above the threshold in 15 minutes.'
    severity: 2
    query: '''
customMetrics
| where name == "loopfulfil.exceptions.recorded"
| extend Category = tostring(customDimensions.ExceptionCategory)
| summarize Count = sum(valueSum) by Category
'''
    threshold: exceptionCategoryThreshold - 1
    splitByCategory: true
  }
  {
    name: 'reconciliation-mismatches'
    description: 'Reconciliation found Loop and Fulfil disagreeing (a missed webhook or a failed posting).'
    severity: 2
    query: '''
customMetrics
| where name == "loopfulfil.reconciliation.mismatches"
| extend Kind = tostring(customDimensions.ReconciliationMismatch)
| summarize Count = sum(valueSum)
'''
    threshold: 0
    splitByCategory: false
  }
  {
    name: 'webhook-401-burst'
    description: 'Loop webhooks are being rejected (signature missing or wrong): the secret was rotated or mistyped. Loop disables a webhook after repeated failures.'
    severity: 1
    query: '''
customMetrics
| where name == "loopfulfil.webhooks.rejected"
| extend Reason = tostring(customDimensions.reason)
| where Reason in ("missing_signature", "invalid_signature")
| summarize Count = sum(valueSum)
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
