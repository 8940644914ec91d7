"""A file whose extraction fails on every try ends failed with a reason, in both runtimes: the
Kubernetes extract worker after its last try, the Functions app through the host's poison-blob
queue (its message format driven against Azurite), so the session ends instead of waiting."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.functions.queue import QueueMessage
from azure.storage.blob import BlobServiceClient

from functions import runtime
from shared.sessions import requests as sessions
from shared.sessions import store
from shared.sessions.finalize import finalize_session
from shared.sessions.models import FileStatus, SessionStatus
from shared.settings import Settings
from shared.storage.azure import AzureStorage
from shared.workers.loops import ExtractWorker
from tests.azurite import Azurite
from tests.builders.statement import build_statement


class ResultsWriteBroken:
    """The real gateway, but writing an extraction raises an unforeseen error (a bug of ours, on
    every try); everything else goes through."""

    def __init__(self, inner: AzureStorage) -> None:
        self.inner = inner

    def put_bytes(self, container: str, name: str, data: bytes, **kwargs: Any) -> str:
        if "/results/" in name:
            raise RuntimeError("the extraction could not be written (injected)")
        return self.inner.put_bytes(container, name, data, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.fixture
def broken(settings: Settings, storage: AzureStorage) -> Iterator[ResultsWriteBroken]:
    wrapped = ResultsWriteBroken(storage)
    runtime.use(settings, wrapped)  # type: ignore[arg-type]
    yield wrapped
    runtime.reset()


def fail_every_try_under_functions(
    functions: dict[str, Any], azurite: Azurite, settings: Settings, storage: AzureStorage, blob_name: str
) -> None:
    """The host: the blob trigger tried max_dequeue_count times, then its poison message, in the
    host's JSON, on the poison queue, delivered to the poison queue trigger."""
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    client = service.get_container_client(settings.uploads_container).get_blob_client(blob_name)
    for _ in range(settings.max_dequeue_count):
        with pytest.raises(RuntimeError, match="injected"):
            functions["extract"].get_user_function()(client)
    poison = {
        "Type": "BlobTrigger",
        "FunctionId": "Host.Functions.extract",
        "BlobType": "BlockBlob",
        "ContainerName": settings.uploads_container,
        "BlobName": blob_name,
        "ETag": client.get_blob_properties().etag,
    }
    storage.send(settings.uploads_poison_queue, json.dumps(poison))
    (message,) = storage.receive(settings.uploads_poison_queue, visibility_seconds=30)
    functions["extract_gave_up"].get_user_function()(
        QueueMessage(id=message.id, body=message.content.encode(), dequeue_count=1)
    )
    storage.remove(settings.uploads_poison_queue, message)


def fail_every_try_under_kubernetes(broken: ResultsWriteBroken, settings: Settings, folder: Path) -> None:
    """The extract worker: one round per try; after the last it sets the upload aside."""
    worker = ExtractWorker(broken, settings, poll_seconds=0.1, health_file=folder / "health")  # type: ignore[arg-type]
    for _ in range(settings.max_dequeue_count - 1):
        with pytest.raises(RuntimeError, match="injected"):
            worker.work()
    assert worker.work()


@pytest.mark.parametrize("runtime_name", ["functions", "kubernetes"])
def test_a_file_failing_every_try_ends_failed_with_its_reason(  # noqa: PLR0917 — pytest fixtures
    runtime_name: str,
    indexed_functions: dict[str, Any],
    azurite: Azurite,
    settings: Settings,
    storage: AzureStorage,
    broken: ResultsWriteBroken,
    tmp_path: Path,
) -> None:
    """Every try fails unforeseen: the file ends failed, saying every try failed and why, the upload
    is kept aside (not lost), and the session ends failed naming the file — in both runtimes."""
    pdf = tmp_path / "statement.pdf"
    build_statement(pdf, cards=1, per_card=3, seed=4)
    session = sessions.create_session(storage, settings)
    with pdf.open("rb") as body:
        record = sessions.accept_upload(storage, settings, session.id, pdf.name, body=body, length=None)
    (blob_name,) = [info.name for info in storage.list(settings.uploads_container, f"{session.id}/")]
    if runtime_name == "functions":
        fail_every_try_under_functions(indexed_functions, azurite, settings, storage, blob_name)
    else:
        fail_every_try_under_kubernetes(broken, settings, tmp_path)

    failed = store.load_record(storage, settings, session.id, record.id)
    assert failed is not None
    assert failed.status is FileStatus.FAILED
    assert "every try" in (failed.error or "")
    assert list(storage.list(settings.uploads_container)) == []
    assert [i.name for i in storage.list(settings.sessions_container, f"{session.id}/failed/")] == [
        f"{session.id}/failed/{record.id}/{record.name}"
    ]
    sessions.request_processing(storage, settings, session.id)
    while messages := storage.receive(settings.results_queue, visibility_seconds=30, limit=32):
        for message in messages:
            finalize_session(storage, settings, message.content)
            storage.remove(settings.results_queue, message)
    view = sessions.get_session(storage, settings, session.id)
    assert view.status is SessionStatus.FAILED
    assert "statement.pdf" in (view.error or "")
    assert "every try" in (view.error or "")


def test_a_poison_message_for_another_container_is_left_alone(
    settings: Settings, storage: AzureStorage
) -> None:
    """The host's poison queue is shared by every blob trigger of the app: another container's blob
    is none of ours, and a message that is not the host's is refused as such."""
    from shared.errors import BadMessageError
    from shared.sessions.extract import give_up_poisoned_upload

    other = {"FunctionId": "x", "BlobType": "BlockBlob", "ContainerName": "elsewhere", "BlobName": "a/b/c"}
    assert give_up_poisoned_upload(storage, settings, json.dumps(other)) is None
    with pytest.raises(BadMessageError):
        give_up_poisoned_upload(storage, settings, b"not json")


def test_poison_trigger_binds_the_setting(indexed_functions: dict[str, Any]) -> None:
    """The poison queue trigger names its queue by app setting, on the one storage connection."""
    (trigger,) = json.loads(indexed_functions["extract_gave_up"].get_function_json())["bindings"]
    assert (trigger["type"], trigger["queueName"], trigger["connection"]) == (
        "queueTrigger",
        "%UPLOADS_POISON_QUEUE%",
        "AzureWebJobsStorage",
    )
