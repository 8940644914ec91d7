#!/bin/sh
# After the Function App's code is deployed: the Event Grid subscription of the uploads container
# for the extract function (infra/eventgrid/subscription.bicep reads the function's system key in
# Azure Resource Manager; the key never passes through this shell). azd runs this with the
# provisioning's outputs in the environment.
set -eu

: "${AZURE_RESOURCE_GROUP:?run by azd after provisioning}"
: "${AZURE_FUNCTION_APP_NAME:?run by azd after provisioning}"

# The host creates the blobs_extension key when it first indexes the extract function: wait for it.
tries=0
until az functionapp keys list -g "$AZURE_RESOURCE_GROUP" -n "$AZURE_FUNCTION_APP_NAME" \
    --query "systemKeys.blobs_extension" -o tsv 2>/dev/null | grep -q .; do
  tries=$((tries + 1))
  if [ "$tries" -ge 30 ]; then
    echo "postdeploy: the extract function's blobs_extension key did not appear in 5 minutes" >&2
    exit 1
  fi
  sleep 10
done

az deployment group create \
  --resource-group "$AZURE_RESOURCE_GROUP" \
  --name eventgrid-subscription \
  --template-file "$(dirname "$0")/../eventgrid/subscription.bicep" \
  --parameters \
    functionAppName="$AZURE_FUNCTION_APP_NAME" \
    systemTopicName="$AZURE_EVENTGRID_SYSTEM_TOPIC" \
    uploadsContainer="$UPLOADS_CONTAINER" \
    storageAccountName="$AZURE_STORAGE_ACCOUNT_NAME" \
    deadLetterContainer="$DEAD_LETTER_CONTAINER" \
  --output none
echo "postdeploy: Event Grid delivers BlobCreated of $UPLOADS_CONTAINER to $AZURE_FUNCTION_APP_NAME's extract function"
