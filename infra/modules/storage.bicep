// The storage account of the pipeline (and of the Functions host): uploads, sessions and their
// reports, the results queue and both poison queues. Keyless: shared-key access is off, so every
// caller signs in with Microsoft Entra ID; HTTPS and TLS 1.2 only.
param location string
param tags object
param name string
param containers array
param queues array
@description('Origins of the web page, allowed to PUT a file to an upload URL')
param corsOrigins array
@description('The product\'s identity, given exactly the data roles its code needs')
param principalId string

// Built-in roles (their ids are the same in every tenant). What each storage call of the code needs,
// and that these two cover it and no more, is checked by tests/test_infra.py:
//   Storage Blob Data Contributor: read, write, delete and list blobs, take leases, create the
//     containers the code creates on first use, and lend user-delegation keys (upload URLs).
//   Storage Queue Data Contributor: send, receive, update and delete messages, create queues.
// Not Storage Blob Data Owner: its extra rights set ACLs and owners (hierarchical namespaces only),
// which nothing here uses.
var blobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
var queueDataContributor = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
var roles = [
  blobDataContributor
  queueDataContributor
]

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    // checkov:skip=CKV_AZURE_206: locally redundant: sessions are working copies (the originals stay with finance staff) kept RETENTION_DAYS; ZRS costs about a quarter more
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowSharedKeyAccess: false
    allowBlobPublicAccess: false
    supportsHttpsTrafficOnly: true
    minimumTlsVersion: 'TLS1_2'
    defaultToOAuthAuthentication: true
    allowCrossTenantReplication: false
    // checkov:skip=CKV_AZURE_59: browsers PUT large files straight to upload URLs, and a Flex Consumption app without a virtual network reaches storage over its public endpoint; every request still needs an Entra token or a user-delegation SAS
    publicNetworkAccess: 'Enabled'
    // checkov:skip=CKV_AZURE_35: the same: a default-deny firewall would refuse the browsers' uploads and the app's own calls
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
    encryption: {
      keySource: 'Microsoft.Storage'
      requireInfrastructureEncryption: true
      services: {
        blob: {
          enabled: true
          keyType: 'Account'
        }
        queue: {
          enabled: true
          keyType: 'Account'
        }
      }
    }
  }
}

resource blobs 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    // The web page PUTs files over 100 MB to an upload URL, block by block, from its own origin.
    cors: {
      corsRules: [
        {
          allowedOrigins: corsOrigins
          allowedMethods: [
            'PUT'
            'OPTIONS'
          ]
          allowedHeaders: [
            'content-type'
            'x-ms-blob-type'
            'x-ms-blob-content-type'
            'x-ms-meta-*'
            'x-ms-version'
            'x-ms-client-request-id'
          ]
          exposedHeaders: [
            'etag'
            'x-ms-request-id'
          ]
          maxAgeInSeconds: 3600
        }
      ]
    }
  }
}

resource blobContainers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [for container in containers: {
  parent: blobs
  name: container
  properties: {
    publicAccess: 'None'
  }
}]

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource storageQueues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [for queue in queues: {
  parent: queueService
  name: queue
}]

resource assignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in roles: {
  scope: account
  name: guid(account.id, principalId, role)
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
  }
}]

output name string = account.name
output id string = account.id
output blobEndpoint string = account.properties.primaryEndpoints.blob
output queueEndpoint string = account.properties.primaryEndpoints.queue
