"""Blob trigger: an upload arrived — extract it (`shared.sessions.extract.extract_upload`)."""

from __future__ import annotations

import os
from typing import Mapping  # noqa: UP035 — adapters import typing, not collections (test_architecture)

import azure.functions as func
from azurefunctions.extensions.bindings import blob

from functions.runtime import runtime
from shared.sessions.extract import extract_upload

bp = func.Blueprint()

SOURCES = {
    "eventgrid": func.BlobSource.EVENT_GRID,
    "logsandcontainerscan": func.BlobSource.LOGS_AND_CONTAINER_SCAN,
}


def trigger_source(environ: Mapping[str, str]) -> func.BlobSource:
    """Where the blob trigger hears of uploads: `UPLOADS_TRIGGER_SOURCE`, `EventGrid` in Azure (fast,
    no container scans; infra/ sets it) or `LogsAndContainerScan` where Event Grid cannot reach
    (func start on Azurite).

    Unset, it polls only outside Azure: a deployed app (the platform sets WEBSITE_SITE_NAME) without
    it refuses to index instead of polling — polling is not available on Flex Consumption, so a
    forgotten setting would leave uploads unread with no error anywhere. Polling on Flex is refused too.
    """
    value = environ.get("UPLOADS_TRIGGER_SOURCE", "")
    in_azure = bool(environ.get("WEBSITE_SITE_NAME"))
    if not value:
        if in_azure:
            raise RuntimeError(
                "UPLOADS_TRIGGER_SOURCE is not set: a deployed app takes uploads from Event Grid "
                "(UPLOADS_TRIGGER_SOURCE=EventGrid and the BlobCreated subscription, as infra/ makes them)"
            )
        return func.BlobSource.LOGS_AND_CONTAINER_SCAN
    source = SOURCES.get(value.lower())
    if source is None:
        raise RuntimeError(f"UPLOADS_TRIGGER_SOURCE is {value!r}: EventGrid or LogsAndContainerScan")
    if source is func.BlobSource.LOGS_AND_CONTAINER_SCAN and environ.get("WEBSITE_SKU") == "FlexConsumption":
        raise RuntimeError(
            "UPLOADS_TRIGGER_SOURCE=LogsAndContainerScan: Flex Consumption does not poll blobs"
        )
    return source


# The binding's source is fixed when the app is indexed, so it is read then.
SOURCE = trigger_source(os.environ)


@bp.function_name("extract")
@bp.blob_trigger(
    arg_name="client", path="%UPLOADS_CONTAINER%/{name}", connection="AzureWebJobsStorage", source=SOURCE
)
def extract(client: blob.BlobClient) -> None:
    """Hand the upload's name to the extraction step; the content is streamed from storage there
    (an SDK-type binding: the host does not load a 500 MB blob into the worker's memory)."""
    app = runtime()
    extract_upload(app.storage, app.settings, client.blob_name)
