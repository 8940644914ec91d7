"""Blob trigger: an upload arrived — extract it (`shared.sessions.extract.extract_upload`)."""

from __future__ import annotations

import os

import azure.functions as func
from azurefunctions.extensions.bindings import blob

from functions.runtime import runtime
from shared.sessions.extract import extract_upload

bp = func.Blueprint()

# Event Grid in Azure (fast, no container scans); polling where Event Grid cannot reach (func start
# on Azurite). The binding's source is fixed when the app is indexed, so it is read then.
SOURCE = (
    func.BlobSource.EVENT_GRID
    if os.environ.get("UPLOADS_TRIGGER_SOURCE", "").lower() == "eventgrid"
    else func.BlobSource.LOGS_AND_CONTAINER_SCAN
)


@bp.function_name("extract")
@bp.blob_trigger(
    arg_name="client", path="%UPLOADS_CONTAINER%/{name}", connection="AzureWebJobsStorage", source=SOURCE
)
def extract(client: blob.BlobClient) -> None:
    """Hand the upload's name to the extraction step; the content is streamed from storage there
    (an SDK-type binding: the host does not load a 500 MB blob into the worker's memory)."""
    app = runtime()
    extract_upload(app.storage, app.settings, client.blob_name)
