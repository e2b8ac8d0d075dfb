// The Function App's user-assigned identity. It exists (and gets its roles, roleAssignments.bicep) before the site
// is created, so the first start already reads its Key Vault references, host storage and Service Bus; a
// system-assigned identity only exists with the site, and its roles would arrive after the first start.
param location string
param tags object
param identityName string

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: identityName
  location: location
  tags: tags
}

output identityId string = identity.id
output principalId string = identity.properties.principalId
output clientId string = identity.properties.clientId
