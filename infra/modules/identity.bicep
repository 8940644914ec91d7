// The one identity the product signs in with: the Function App's host and code (AzureWebJobsStorage__*),
// or, federated with the ccproc ServiceAccount, every pod on AKS. Its roles are on the storage account
// only (storage.bicep).
param location string
param tags object
param name string

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output name string = identity.name
output clientId string = identity.properties.clientId
output principalId string = identity.properties.principalId
