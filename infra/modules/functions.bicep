// The serverless deployment: a Flex Consumption Function App (Python 3.11, the app's requirements.txt
// built remotely), scaled to zero when idle. The host and the product's own code reach storage with
// one set of identity-based settings (AzureWebJobsStorage__*), signed in as the user-assigned identity.
param location string
param tags object
param name string
param planName string
param identityId string
param identityClientId string
param blobEndpoint string
param queueEndpoint string
param packageContainer string
@secure()
param insightsConnectionString string
param uploadsContainer string
param sessionsContainer string
param resultsQueue string
param uploadsPoisonQueue string

// Sizes, measured (README "Sizes"): a 5x month (a 957-page statement, a 1 GB, 6,398-page receipts
// report) extracts at ~100 MB resident per file and reconciles at ~220 MB. A 2,048 MB instance holds
// the host, the worker, one extraction in its sandbox (EXTRACT_MEMORY_BYTES of address space) and a
// finalize at once with room to spare; 512 MB would not hold the host and a 5x month's finalize.
var instanceMemoryMB = 2048
var maximumInstanceCount = 40

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  // checkov:skip=CKV_AZURE_225: zone redundancy on Flex Consumption keeps always-ready instances billed at rest; the pipeline's state is in (locally redundant) storage and resumes on any instance
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
  // checkov:skip=CKV_AZURE_212: no always-ready instances: the app scales to zero, so nothing is billed at rest; a cold start costs seconds, an upload waits in storage meanwhile
  // checkov:skip=CKV_AZURE_222: the API and the page are public by design: every route but /api/health and the page needs a key
  // checkov:skip=CKV_AZURE_17: no client certificates: browsers and ccproc submit authenticate with keys (or Entra ID sign-in)
  // checkov:skip=CKV_AZURE_213: Flex Consumption does not probe a health check path; /api/health answers callers and monitors
  name: name
  location: location
  tags: union(tags, {
    'azd-service-name': 'functions'
  })
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
    clientCertEnabled: false
    publicNetworkAccess: 'Enabled'
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      // Every app setting the code reads that this deployment decides; the rest keep the defaults of
      // shared/settings.py, the same under every runtime. tests/test_infra.py checks this list
      // against the settings object, the bindings and the Kubernetes ConfigMap.
      appSettings: [
        // The host's storage connection, identity-based; the product's own calls read the same names.
        {
          name: 'AzureWebJobsStorage__blobServiceUri'
          value: blobEndpoint
        }
        {
          name: 'AzureWebJobsStorage__queueServiceUri'
          value: queueEndpoint
        }
        {
          name: 'AzureWebJobsStorage__credential'
          value: 'managedidentity'
        }
        {
          name: 'AzureWebJobsStorage__clientId'
          value: identityClientId
        }
        {
          name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
          value: insightsConnectionString
        }
        // Pinned here, so the deployed app never polls (Flex Consumption cannot): functions/extract.py
        // refuses to index in Azure without it.
        {
          name: 'UPLOADS_TRIGGER_SOURCE'
          value: 'EventGrid'
        }
        {
          name: 'UPLOADS_CONTAINER'
          value: uploadsContainer
        }
        {
          name: 'SESSIONS_CONTAINER'
          value: sessionsContainer
        }
        {
          name: 'RESULTS_QUEUE'
          value: resultsQueue
        }
        {
          name: 'UPLOADS_POISON_QUEUE'
          value: uploadsPoisonQueue
        }
        {
          name: 'SWEEP_SCHEDULE'
          value: '0 0 3 * * *'
        }
        {
          name: 'MAX_DEQUEUE_COUNT'
          value: '5'
        }
        // pvault.csv's Credit Card Vendor: the card vendor the card invoices are owed to, as accounts
        // payable knows it (the issuer of the WEX statement by default); set it to the vendor's id there.
        {
          name: 'PVAULT_CARD_VENDOR'
          value: 'WEX'
        }
        // The Flex Consumption HTTP request limit is above this; larger files take upload URLs.
        {
          name: 'MAX_UPLOAD_BYTES'
          value: '104857600'
        }
        // One extraction at a time per instance reads its pages in one process (instances scale out instead).
        {
          name: 'EXTRACT_PROCESSES'
          value: '1'
        }
        {
          name: 'EXTRACT_MEMORY_BYTES'
          value: '402653184'
        }
        {
          name: 'EXTRACT_CPU_SECONDS'
          value: '300'
        }
        {
          name: 'EXTRACT_WALL_SECONDS'
          value: '600'
        }
      ]
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${blobEndpoint}${packageContainer}'
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
        name: 'python'
        version: '3.11'
      }
    }
  }
}

output name string = app.name
output defaultHostName string = app.properties.defaultHostName
