// Everything `azd up` creates, in one resource group per azd environment: the storage account the
// pipeline keeps its files and messages in, the identity the product signs in with, monitoring,
// and where the product runs — a Flex Consumption Function App (target 'functions', the default)
// or an AKS cluster with KEDA and a container registry (target 'aks'). `CCPROC_TARGET` picks it
// (main.parameters.json); the outputs DEPLOY_FUNCTIONS / DEPLOY_AKS tell azure.yaml which service
// to deploy.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment: names and tags every resource')
param environmentName string

@minLength(1)
@description('Azure region of every resource')
param location string

@allowed([
  'functions'
  'aks'
])
@description('Where the product runs: the Flex Consumption Function App, or AKS with KEDA')
param target string = 'functions'

@description('Origin of a web page served elsewhere that uploads through upload URLs (CORS); the app\'s own origin is always allowed')
param extraPageOrigin string = ''

@description('Host name the AKS Ingress answers on (target aks); its TLS certificate is the Secret ccproc-tls')
param aksHostName string = ''

var tags = {
  'azd-env-name': environmentName
}
var token = toLower(uniqueString(subscription().id, environmentName, location))
// The names the settings give the pipeline's containers and queues (shared/settings.py defaults):
// the storage module creates them, the app settings and the Kubernetes ConfigMap name them.
var uploadsContainer = 'uploads'
var sessionsContainer = 'sessions'
var resultsQueue = 'results'
// The Functions host's own names: the blob trigger's poison queue, and finalize's (queue + '-poison').
var uploadsPoisonQueue = 'webjobs-blobtrigger-poison'
var resultsPoisonQueue = '${resultsQueue}-poison'
var deadLetterContainer = 'eventgrid-deadletter'
var packageContainer = 'app-package-${token}'
var functionAppName = 'func-ccproc-${token}'
var appOrigins = target == 'functions' ? ['https://${functionAppName}.azurewebsites.net'] : []
var aksOrigins = target == 'aks' && !empty(aksHostName) ? ['https://${aksHostName}'] : []
var extraOrigins = empty(extraPageOrigin) ? [] : [extraPageOrigin]
var pageOrigins = concat(appOrigins, aksOrigins, extraOrigins)

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-ccproc-${environmentName}'
  location: location
  tags: tags
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    location: location
    tags: tags
    workspaceName: 'log-ccproc-${token}'
    insightsName: 'appi-ccproc-${token}'
  }
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    location: location
    tags: tags
    name: 'id-ccproc-${token}'
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    location: location
    tags: tags
    name: 'stccproc${token}'
    containers: [
      uploadsContainer
      sessionsContainer
      deadLetterContainer
      packageContainer
    ]
    queues: [
      resultsQueue
      resultsPoisonQueue
      uploadsPoisonQueue
    ]
    corsOrigins: pageOrigins
    principalId: identity.outputs.principalId
  }
}

module functions 'modules/functions.bicep' = if (target == 'functions') {
  name: 'functions'
  scope: rg
  params: {
    location: location
    tags: tags
    name: functionAppName
    planName: 'plan-ccproc-${token}'
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    blobEndpoint: storage.outputs.blobEndpoint
    queueEndpoint: storage.outputs.queueEndpoint
    packageContainer: packageContainer
    insightsConnectionString: monitoring.outputs.insightsConnectionString
    uploadsContainer: uploadsContainer
    sessionsContainer: sessionsContainer
    resultsQueue: resultsQueue
    uploadsPoisonQueue: uploadsPoisonQueue
  }
}

module eventGridTopic 'modules/eventgrid-topic.bicep' = if (target == 'functions') {
  name: 'eventgrid-topic'
  scope: rg
  params: {
    location: location
    tags: tags
    name: 'evgt-ccproc-${token}'
    storageAccountName: storage.outputs.name
    deadLetterContainer: deadLetterContainer
  }
}

module aks 'modules/aks.bicep' = if (target == 'aks') {
  name: 'aks'
  scope: rg
  params: {
    location: location
    tags: tags
    clusterName: 'aks-ccproc-${token}'
    registryName: 'crccproc${token}'
    identityName: identity.outputs.name
    workspaceId: monitoring.outputs.workspaceId
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output CCPROC_TARGET string = target
// azure.yaml deploys the service whose condition is true.
output DEPLOY_FUNCTIONS bool = target == 'functions'
output DEPLOY_AKS bool = target == 'aks'
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name
output AZURE_STORAGE_BLOB_ENDPOINT string = storage.outputs.blobEndpoint
output AZURE_CLIENT_ID string = identity.outputs.clientId
output UPLOADS_CONTAINER string = uploadsContainer
output DEAD_LETTER_CONTAINER string = deadLetterContainer
output AZURE_FUNCTION_APP_NAME string = target == 'functions' ? functionAppName : ''
output AZURE_EVENTGRID_SYSTEM_TOPIC string = target == 'functions' ? 'evgt-ccproc-${token}' : ''
output AZURE_AKS_CLUSTER_NAME string = target == 'aks' ? aks.outputs.clusterName : ''
output AZURE_CONTAINER_REGISTRY_ENDPOINT string = target == 'aks' ? aks.outputs.registryLoginServer : ''
output AKS_HOST_NAME string = aksHostName
