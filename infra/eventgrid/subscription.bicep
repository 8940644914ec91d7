// The Event Grid subscription the blob trigger needs (UPLOADS_TRIGGER_SOURCE=EventGrid): BlobCreated
// events of the uploads container, delivered to the extract function's blob-extension endpoint with
// the host's blobs_extension system key. Deployed after the code (infra/hooks/postdeploy.sh), since
// the key exists only once the host has indexed the function; the key never leaves Azure Resource
// Manager (read here with listKeys, not passed through the shell).
param functionAppName string
param systemTopicName string
param uploadsContainer string
param storageAccountName string
param deadLetterContainer string

resource app 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource topic 'Microsoft.EventGrid/systemTopics@2022-06-15' existing = {
  name: systemTopicName
}

var blobsExtensionKey = listKeys('${app.id}/host/default', '2024-04-01').systemKeys.blobs_extension
var endpoint = 'https://${app.properties.defaultHostName}/runtime/webhooks/blobs?functionName=Host.Functions.extract&code=${blobsExtensionKey}'

resource subscription 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2022-06-15' = {
  parent: topic
  name: 'extract-uploads'
  properties: {
    destination: {
      endpointType: 'WebHook'
      properties: {
        endpointUrl: endpoint
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    eventDeliverySchema: 'EventGridSchema'
    filter: {
      includedEventTypes: [
        'Microsoft.Storage.BlobCreated'
      ]
      // Only the uploads container: the pipeline's own writes (sessions, reports) raise no event.
      subjectBeginsWith: '/blobServices/default/containers/${uploadsContainer}/'
    }
    // Event Grid retries with backoff for a day (the host answers 429/503 while it scales out);
    // what still fails lands in the dead-letter container, and the sweep fails its file.
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
    deadLetterWithResourceIdentity: {
      identity: {
        type: 'SystemAssigned'
      }
      deadLetterDestination: {
        endpointType: 'StorageBlob'
        properties: {
          resourceId: account.id
          blobContainerName: deadLetterContainer
        }
      }
    }
  }
}
