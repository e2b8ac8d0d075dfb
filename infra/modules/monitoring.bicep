// Log Analytics workspace + workspace-based Application Insights. Local (key) auth is disabled on ingestion: the
// Function App sends telemetry with its managed identity (APPLICATIONINSIGHTS_AUTHENTICATION_STRING=Authorization=AAD).
param location string
param tags object
param logAnalyticsName string
param appInsightsName string

@description('Days to keep logs; 30 is free with the workspace, longer is billed.')
@minValue(30)
param retentionInDays int = 30

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    DisableLocalAuth: true
  }
}

output appInsightsId string = appInsights.id
output appInsightsName string = appInsights.name
output appInsightsConnectionString string = appInsights.properties.ConnectionString
output workspaceId string = workspace.id
