// The Kubernetes deployment (target 'aks'): a cluster with the KEDA add-on, workload identity (the
// OIDC issuer) and the application routing add-on (ingress-nginx managed by AKS), a container
// registry it pulls from, and the product's identity federated with the service accounts that use
// it — the pods' (ccproc/ccproc) and KEDA's operator (kube-system/keda-operator), which reads the
// blob count and the queue length as the same identity.
param location string
param tags object
param clusterName string
param registryName string
param identityName string
param workspaceId string
@description('The namespace and service account the prod overlay runs the pods as')
param namespace string = 'ccproc'
param serviceAccount string = 'ccproc'

// Sizes (README "Sizes"): the prod overlay asks for at most ~2.7 GiB of memory with every worker
// at its maximum (3 API, 8 extract and 3 finalize replicas at their requests); two 8 GiB nodes hold
// that with the system pods, and the autoscaler adds nodes up to five when extraction fans out.
var nodeSize = 'Standard_D2s_v5'
var acrPull = '7f951dda-4ed3-4680-a7ca-43fe172d538d'

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: identityName
}

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  // checkov:skip=CKV_AZURE_139: the registry is reached over its public endpoint (azd builds and pushes from outside); pulls need the kubelet's AcrPull role
  // checkov:skip=CKV_AZURE_163: image scanning is Microsoft Defender for Containers, a subscription-wide plan decided outside this deployment
  // checkov:skip=CKV_AZURE_166: quarantine needs Premium and a scanner to release images
  // checkov:skip=CKV_AZURE_233: zone redundancy needs Premium
  name: registryName
  location: location
  tags: tags
  sku: {
    name: 'Basic'
  }
  properties: {
    adminUserEnabled: false
    anonymousPullEnabled: false
  }
}

resource cluster 'Microsoft.ContainerService/managedClusters@2024-09-01' = {
  // checkov:skip=CKV_AZURE_6: API server authorized IP ranges depend on where operators work; set them per environment
  // checkov:skip=CKV_AZURE_227: host-based encryption needs a subscription feature registration (EncryptionAtHost) that azd cannot turn on
  // checkov:skip=CKV_AZURE_226: ephemeral OS disks need a VM size with a cache as large as the disk; Standard_D2s_v5 has none
  // checkov:skip=CKV_AZURE_172: no Secrets Store CSI driver: the two Secrets (API keys, TLS) are created with kubectl (k8s-fallback/README.md)
  name: clusterName
  location: location
  tags: union(tags, {
    'azd-service-name': 'aks'
  })
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    dnsPrefix: clusterName
    enableRBAC: true
    disableLocalAccounts: true
    aadProfile: {
      managed: true
      enableAzureRBAC: true
    }
    oidcIssuerProfile: {
      enabled: true
    }
    securityProfile: {
      workloadIdentity: {
        enabled: true
      }
    }
    workloadAutoScalerProfile: {
      keda: {
        enabled: true
      }
    }
    ingressProfile: {
      webAppRouting: {
        enabled: true
      }
    }
    autoUpgradeProfile: {
      upgradeChannel: 'patch'
      nodeOSUpgradeChannel: 'NodeImage'
    }
    networkProfile: {
      networkPlugin: 'azure'
      networkPluginMode: 'overlay'
      networkPolicy: 'cilium'
      networkDataplane: 'cilium'
    }
    addonProfiles: {
      omsagent: {
        enabled: true
        config: {
          logAnalyticsWorkspaceResourceID: workspaceId
        }
      }
      azureKeyvaultSecretsProvider: {
        enabled: false
      }
      kubeDashboard: {
        enabled: false
      }
    }
    agentPoolProfiles: [
      {
        name: 'system'
        mode: 'System'
        osType: 'Linux'
        osSKU: 'AzureLinux'
        vmSize: nodeSize
        count: 2
        minCount: 2
        maxCount: 5
        enableAutoScaling: true
        maxPods: 50
        availabilityZones: [
          '1'
          '2'
          '3'
        ]
      }
    ]
  }
}

// The kubelet pulls the image from the registry.
resource pull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: registry
  name: guid(registry.id, cluster.id, acrPull)
  properties: {
    principalId: cluster.properties.identityProfile.kubeletidentity.objectId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', acrPull)
  }
}

resource pods 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2023-01-31' = {
  parent: identity
  name: 'ccproc-pods'
  properties: {
    issuer: cluster.properties.oidcIssuerProfile.issuerURL
    subject: 'system:serviceaccount:${namespace}:${serviceAccount}'
    audiences: [
      'api://AzureADTokenExchange'
    ]
  }
}

// One federated credential at a time per identity: the second waits for the first.
resource keda 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials@2023-01-31' = {
  parent: identity
  name: 'keda-operator'
  dependsOn: [
    pods
  ]
  properties: {
    issuer: cluster.properties.oidcIssuerProfile.issuerURL
    subject: 'system:serviceaccount:kube-system:keda-operator'
    audiences: [
      'api://AzureADTokenExchange'
    ]
  }
}

output clusterName string = cluster.name
output registryLoginServer string = registry.properties.loginServer
