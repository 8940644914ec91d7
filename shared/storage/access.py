"""Which storage account the product reaches, and how it signs in, read from the settings.

One set of settings serves the Functions host and the product's own calls. In order:

1. `AzureWebJobsStorage`, a connection string (Azurite, `ccproc dev`, a dev cluster's Secret).
2. The host's identity-based connection: `AzureWebJobsStorage__blobServiceUri` and
   `__queueServiceUri` (or `__accountName`, from which both follow), signed in with
   `__credential=managedidentity` and `__clientId` as the host does: a user-assigned managed identity.
3. `AZURE_STORAGE_ACCOUNT_URL` (the blob endpoint; the queue endpoint beside it), the workload's
   identity found by `DefaultAzureCredential` (workload identity on AKS, a developer's login).

Nothing here makes a request or imports an Azure SDK: the choice is data (`StorageAccess`);
`shared.storage.azure` makes the credential and the clients from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from shared.settings import Settings

CredentialKind = Literal["connection-string", "managed-identity", "default"]
PUBLIC_SUFFIX = "core.windows.net"


@dataclass(frozen=True)
class StorageAccess:
    """The account's endpoints and the way to sign in to them."""

    credential: CredentialKind
    connection_string: str = ""
    blob_url: str = ""
    queue_url: str = ""
    client_id: str | None = None


def storage_access(settings: Settings) -> StorageAccess:
    """The storage the settings name (see the module docstring for the order); ValueError when none."""
    if settings.storage_connection:
        return StorageAccess("connection-string", connection_string=settings.storage_connection)
    name = settings.storage_account_name
    blob = settings.azure_storage_account_url or (f"https://{name}.blob.{PUBLIC_SUFFIX}" if name else "")
    if not blob:
        raise ValueError(
            "no storage named: set AzureWebJobsStorage (a connection string), "
            "AzureWebJobsStorage__blobServiceUri and __queueServiceUri (or __accountName), "
            "or AZURE_STORAGE_ACCOUNT_URL"
        )
    blob = blob.rstrip("/")
    queue = settings.storage_queue_url or (f"https://{name}.queue.{PUBLIC_SUFFIX}" if name else "")
    if not queue:
        if ".blob." not in blob:
            raise ValueError(
                f"the queue endpoint of {blob} cannot be told from its name: "
                "set AzureWebJobsStorage__queueServiceUri"
            )
        queue = blob.replace(".blob.", ".queue.", 1)
    client_id = settings.storage_client_id or None
    if settings.storage_credential:
        if settings.storage_credential.lower() != "managedidentity":
            raise ValueError(
                f"AzureWebJobsStorage__credential is {settings.storage_credential!r}: "
                "'managedidentity' is the one value the Functions host knows"
            )
        return StorageAccess(
            "managed-identity", blob_url=blob, queue_url=queue.rstrip("/"), client_id=client_id
        )
    return StorageAccess("default", blob_url=blob, queue_url=queue.rstrip("/"), client_id=client_id)
