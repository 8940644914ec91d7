"""The Function App without the host: indexed bindings, and each trigger run on real objects
against Azurite — the whole chain driven the way the host drives it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.functions.queue import QueueMessage
from azure.functions.timer import TimerRequest
from azure.storage.blob import BlobServiceClient
from azurefunctions.extensions.base import meta
from azurefunctions.extensions.bindings import blob

from functions import runtime
from shared.sessions import requests as sessions
from shared.sessions import store
from shared.sessions.models import FileStatus, SessionStatus
from shared.settings import Settings
from shared.storage.azure import AzureStorage
from tests.azurite import Azurite
from tests.builders.month import build_month


@pytest.fixture(scope="module")
def functions(indexed_functions: dict[str, Any]) -> dict[str, Any]:
    """The app's functions as the host indexes them."""
    return indexed_functions


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("month")
    return folder, build_month(folder, size="small", seed=21)


@pytest.fixture
def wired(settings: Settings, storage: AzureStorage) -> Iterator[tuple[Settings, AzureStorage]]:
    """The functions run on this test's settings and Azurite storage."""
    runtime.use(settings, storage)
    yield settings, storage
    runtime._current = None


def bindings(functions: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return json.loads(functions[name].get_function_json())["bindings"]  # type: ignore[no-any-return]


def test_bindings_refer_to_settings_by_name(functions: dict[str, Any]) -> None:
    """Blob path, queue name and schedule are app-setting references; storage is one named connection."""
    (trigger,) = bindings(functions, "extract")
    assert (trigger["type"], trigger["path"], trigger["connection"]) == (
        "blobTrigger",
        "%UPLOADS_CONTAINER%/{name}",
        "AzureWebJobsStorage",
    )
    assert trigger["source"] == "LogsAndContainerScan"
    (queue,) = bindings(functions, "finalize")
    assert (queue["type"], queue["queueName"], queue["connection"]) == (
        "queueTrigger",
        "%RESULTS_QUEUE%",
        "AzureWebJobsStorage",
    )
    (timer,) = bindings(functions, "sweep")
    assert (timer["type"], timer["schedule"]) == ("timerTrigger", "%SWEEP_SCHEDULE%")


def test_blob_trigger_takes_a_client_not_the_bytes(functions: dict[str, Any]) -> None:
    """The extract function is bound to the SDK BlobClient type, which the host binds deferred."""
    user = functions["extract"].get_user_function()
    assert user.__annotations__["client"] in ("blob.BlobClient", blob.BlobClient)
    assert "blobTrigger" in meta._ConverterMeta._bindings
    assert meta._ConverterMeta.check_supported_type(blob.BlobClient)


def upload(settings: Settings, storage: AzureStorage, session_id: str, pdf: Path) -> None:
    with pdf.open("rb") as body:
        sessions.accept_upload(storage, settings, session_id, pdf.name, body=body, length=pdf.stat().st_size)


def run_blob_trigger(functions: dict[str, Any], azurite: Azurite, settings: Settings) -> int:
    """Call the extract function once for every blob in the uploads container, as the host would."""
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    container = service.get_container_client(settings.uploads_container)
    names = [b.name for b in container.list_blobs()]
    for name in names:
        functions["extract"].get_user_function()(container.get_blob_client(name))
    return len(names)


def drain_queue(functions: dict[str, Any], settings: Settings, storage: AzureStorage) -> int:
    """Deliver every results message to the finalize function, as the host would."""
    count = 0
    while messages := storage.receive(settings.results_queue, visibility_seconds=30, limit=32):
        for m in messages:
            body = QueueMessage(id=m.id, body=m.content.encode(), dequeue_count=m.dequeue_count)
            functions["finalize"].get_user_function()(body)
            storage.remove(settings.results_queue, m)
            count += 1
    return count


def test_whole_chain_completes_and_leaves_no_upload(
    functions: dict[str, Any],
    wired: tuple[Settings, AzureStorage],
    azurite: Azurite,
    month: tuple[Path, dict[str, Any]],
) -> None:
    """Upload both PDFs, blob events, process, queue messages: completed with the month's counts."""
    settings, storage = wired
    folder, truth = month
    session = sessions.create_session(storage, settings)
    upload(settings, storage, session.id, folder / "statement.pdf")
    upload(settings, storage, session.id, folder / "receipts.pdf")
    assert run_blob_trigger(functions, azurite, settings) == 2
    sessions.request_processing(storage, settings, session.id)
    drain_queue(functions, settings, storage)

    view = sessions.get_session(storage, settings, session.id)
    assert view.status is SessionStatus.COMPLETED, view.error
    assert view.progress == 1.0
    assert view.summary is not None
    assert view.summary.transactions == len(truth["statement"]["transactions"])
    assert view.summary.expenses == len(truth["receipts"]["receipts"])
    assert sum(view.summary.statuses.values()) == view.summary.transactions
    assert list(storage.list(settings.uploads_container)) == []
    assert set(view.reports) == {"exceptions", "pvault", "transactions", "receipts", "reconciliation"}
    result = sessions.reconciliation(storage, settings, session.id)
    assert len(result.transactions) == len(truth["statement"]["transactions"])
    manifest, _ = store.load_manifest(storage, settings, session.id)
    assert len(manifest.receipt_pdfs) == sum(1 for r in result.transactions if r.expense)
    _, media_type, chunks = sessions.report(
        storage, settings, session.id, f"receipts/{manifest.receipt_pdfs[0]}"
    )
    pdf = b"".join(chunks)
    assert (media_type, pdf[:5]) == ("application/pdf", b"%PDF-")

    # Duplicated events change nothing: the upload is gone, and finalize sees a completed session.
    assert run_blob_trigger(functions, azurite, settings) == 0
    storage.send(settings.results_queue, json.dumps({"session": session.id, "file": None}))
    drain_queue(functions, settings, storage)
    again = sessions.get_session(storage, settings, session.id)
    assert (again.status, again.completed) == (view.status, view.completed)


def test_receipts_update_reprocesses_a_completed_session(
    functions: dict[str, Any],
    wired: tuple[Settings, AzureStorage],
    azurite: Azurite,
    month: tuple[Path, dict[str, Any]],
) -> None:
    """A completed statement-only session takes a receipts report and completes again with matches."""
    settings, storage = wired
    folder, truth = month
    session = sessions.create_session(storage, settings)
    upload(settings, storage, session.id, folder / "statement.pdf")
    run_blob_trigger(functions, azurite, settings)
    sessions.request_processing(storage, settings, session.id)
    drain_queue(functions, settings, storage)
    first = sessions.get_session(storage, settings, session.id)
    assert first.summary is not None
    assert first.summary.statuses["Missing Both"] == first.summary.transactions

    upload(settings, storage, session.id, folder / "receipts.pdf")
    assert sessions.get_session(storage, settings, session.id).status is SessionStatus.PROCESSING
    run_blob_trigger(functions, azurite, settings)
    drain_queue(functions, settings, storage)
    second = sessions.get_session(storage, settings, session.id)
    assert second.status is SessionStatus.COMPLETED
    assert second.summary is not None
    assert second.summary.expenses == len(truth["receipts"]["receipts"])
    assert second.summary.statuses["Missing Both"] < first.summary.statuses["Missing Both"]


def test_a_bad_pdf_fails_its_file_and_session_with_the_reason(
    functions: dict[str, Any], wired: tuple[Settings, AzureStorage], azurite: Azurite, tmp_path: Path
) -> None:
    """A truncated PDF: file failed with its reason, upload moved aside, session failed, nothing retried."""
    settings, storage = wired
    session = sessions.create_session(storage, settings)
    broken = tmp_path / "statement.pdf"
    broken.write_bytes(b"%PDF-1.7\n" + b"0" * 2000)
    upload(settings, storage, session.id, broken)
    run_blob_trigger(functions, azurite, settings)
    (record,) = sessions.get_session(storage, settings, session.id).files
    assert record.status is FileStatus.FAILED
    assert record.error is not None
    assert "truncated" in record.error
    assert [b.name for b in storage.list(settings.sessions_container, f"{session.id}/failed/")] == [
        f"{session.id}/failed/{record.id}/statement.pdf"
    ]
    assert list(storage.list(settings.uploads_container)) == []
    sessions.request_processing(storage, settings, session.id)
    drain_queue(functions, settings, storage)
    view = sessions.get_session(storage, settings, session.id)
    assert view.status is SessionStatus.FAILED
    assert view.error is not None
    assert "statement.pdf" in view.error
    assert "truncated" in view.error


def test_last_try_of_a_failing_finalize_marks_the_session_failed(
    functions: dict[str, Any],
    wired: tuple[Settings, AzureStorage],
    azurite: Azurite,
    month: tuple[Path, dict[str, Any]],
) -> None:
    """A message that keeps failing: the last try marks the session failed, then goes to the poison queue."""
    settings, storage = wired
    folder, _ = month
    session = sessions.create_session(storage, settings)
    upload(settings, storage, session.id, folder / "receipts.pdf")
    run_blob_trigger(functions, azurite, settings)
    sessions.request_processing(storage, settings, session.id)
    # The extraction's result vanishes: finalize cannot match.
    for info in list(storage.list(settings.sessions_container, f"{session.id}/results/")):
        storage.delete(settings.sessions_container, info.name)
    content = json.dumps({"session": session.id, "file": None})
    finalize = functions["finalize"].get_user_function()
    with pytest.raises(Exception, match="not"):
        finalize(QueueMessage(body=content.encode(), dequeue_count=1))
    assert sessions.get_session(storage, settings, session.id).status is SessionStatus.PROCESSING
    with pytest.raises(Exception, match="not"):
        finalize(QueueMessage(body=content.encode(), dequeue_count=settings.max_dequeue_count))
    view = sessions.get_session(storage, settings, session.id)
    assert view.status is SessionStatus.FAILED
    assert view.error is not None
    assert view.error.startswith("finishing the session failed")


def test_timer_sweeps_expired_sessions_and_orphaned_uploads(
    functions: dict[str, Any], wired: tuple[Settings, AzureStorage], month: tuple[Path, dict[str, Any]]
) -> None:
    """The timer function runs the sweep: nothing young is touched; past retention everything goes."""
    settings, storage = wired
    folder, _ = month
    session = sessions.create_session(storage, settings)
    upload(settings, storage, session.id, folder / "statement.pdf")
    functions["sweep"].get_user_function()(TimerRequest())
    assert len(list(storage.list(settings.uploads_container))) == 1

    from shared.sessions.sweep import sweep

    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=settings.orphan_upload_hours + 1)
    counts = sweep(storage, settings, at=later)
    assert counts["orphaned_uploads"] == 1
    view = sessions.get_session(storage, settings, session.id)
    assert view.status is SessionStatus.FAILED
    assert view.files[0].error_code == "orphaned_upload"

    much_later = dt.datetime.now(dt.UTC) + dt.timedelta(days=settings.retention_days + 1)
    assert sweep(storage, settings, at=much_later)["expired_sessions"] == 1
    assert list(storage.list(settings.sessions_container, f"{session.id}/")) == []
