"""Reliability under faults: transient storage errors retried at the gateway (RetryingStorage over
FlakyStorage over Azurite), the same blob event and results message delivered twice, Azurite
restarted mid-session and workers SIGKILLed at random points — each session still ends completed
with every transaction of its month exactly once, and no upload is left behind.
(`make soak` runs the same scenarios with larger counts.)"""

from __future__ import annotations

import datetime as dt
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from shared.errors import ConflictError, NotFoundError, StorageUnavailableError
from shared.sessions import requests as sessions
from shared.sessions.extract import extract_upload
from shared.sessions.models import now
from shared.sessions.sweep import sweep
from shared.settings import Settings
from shared.storage.azure import AzureStorage
from shared.storage.gateway import CREATE_ONLY
from shared.storage.retrying import RetryingStorage
from tests.azurite import Azurite
from tests.builders.month import build_month
from tests.faults import FlakyStorage
from tests.scenarios import (
    Outcome,
    drain,
    duplicate_run,
    flaky_run,
    kill_run,
    outcome,
    restart_run,
    submit,
)

# Fast pauses: the policy is under test, not the clock.
FAST = {"storage_retry_first_wait_seconds": 0.001, "storage_retry_max_wait_seconds": 0.01}


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A small month (60 transactions): its two PDFs and their truth."""
    folder = tmp_path_factory.mktemp("month")
    return folder, build_month(folder, size="small", seed=31)


def assert_whole(found: Outcome) -> None:
    """Completed, each expected transaction exactly once, nothing else, no upload left."""
    assert (found.status, found.error) == ("completed", None)
    assert (found.missing, found.duplicates, found.unexpected) == (0, 0, 0)
    assert found.uploads_left == 0


# -- the retry policy ------------------------------------------------------------------------------
def test_transient_failures_are_retried_and_logged_masked(
    storage: AzureStorage, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """A third of the calls failing (before or after they ran): every write and read still lands,
    and each retry is logged with card numbers cut to their last four."""
    flaky = FlakyStorage(storage, 0.3, seed=1)
    # Ten tries: at this rate a call fails about 0.4 of the time, and seeded runs of six failures occur.
    gateway = RetryingStorage(flaky, settings.model_copy(update={**FAST, "storage_retry_attempts": 10}))
    with caplog.at_level(logging.WARNING, logger="ccproc.storage"):
        for n in range(20):
            name = f"card-4111111111111111/{n}.json"
            gateway.put_bytes(settings.sessions_container, name, f"{n}".encode())
            assert gateway.get_bytes(settings.sessions_container, name)[0] == f"{n}".encode()
        assert len(list(gateway.list(settings.sessions_container, "card-"))) == 20
    assert flaky.faults >= 5
    assert caplog.text.count("retrying in") == flaky.faults
    assert "card-****1111" in caplog.text
    assert "4111111111111111" not in caplog.text


def test_retries_stop_after_the_configured_attempts(storage: AzureStorage, settings: Settings) -> None:
    """Storage that never answers: the call is tried `storage_retry_attempts` times, then the
    gateway's own error reaches the caller."""
    flaky = FlakyStorage(storage, 1.0, seed=1, only=frozenset({"get_bytes"}))
    gateway = RetryingStorage(flaky, settings.model_copy(update={**FAST, "storage_retry_attempts": 3}))
    with pytest.raises(StorageUnavailableError, match="injected"):
        gateway.get_bytes(settings.sessions_container, "x.json")
    assert flaky.injected == {"get_bytes before": 3}


def test_a_conditional_write_whose_answer_was_lost_is_not_a_conflict(
    storage: AzureStorage, settings: Settings
) -> None:
    """Create-only and If-Match writes that landed but whose answers were lost: the retry's conflict
    is recognised as our own write, and its ETag returned."""
    lose_answer = FlakyStorage(storage, 1.0, seed=1, before=False, after_share=1.0, limit=1)
    gateway = RetryingStorage(lose_answer, settings.model_copy(update=FAST))
    container = settings.sessions_container
    etag = gateway.put_bytes(container, "m.json", b"one", if_match=CREATE_ONLY)
    assert lose_answer.injected == {"put_bytes after": 1}
    assert storage.get_bytes(container, "m.json") == (b"one", etag)
    lose_answer.limit = 2
    newer = gateway.put_bytes(container, "m.json", b"two", if_match=etag)
    assert lose_answer.injected == {"put_bytes after": 2}
    assert storage.get_bytes(container, "m.json") == (b"two", newer)


def test_a_real_conflict_after_a_failed_try_is_still_a_conflict(
    storage: AzureStorage, settings: Settings
) -> None:
    """A try that failed before it ran, then a retry that meets another writer's change: ConflictError,
    so the caller re-reads (the read-back check never mistakes another's write for ours)."""
    container = settings.sessions_container
    stale = storage.put_bytes(container, "m.json", b"read by us")
    storage.put_bytes(container, "m.json", b"written by another")
    flaky = FlakyStorage(storage, 1.0, seed=1, limit=1, only=frozenset({"put_bytes"}))
    gateway = RetryingStorage(flaky, settings.model_copy(update=FAST))
    with pytest.raises(ConflictError):
        gateway.put_bytes(container, "m.json", b"ours", if_match=stale)
    assert flaky.injected == {"put_bytes before": 1}
    assert storage.get_bytes(container, "m.json")[0] == b"written by another"


def test_a_streamed_upload_is_not_retried(storage: AzureStorage, settings: Settings) -> None:
    """put_stream reads its stream once: a failure reaches the caller (who sends again) untried."""
    flaky = FlakyStorage(storage, 1.0, seed=1, limit=1, only=frozenset({"put_stream"}))
    gateway = RetryingStorage(flaky, settings.model_copy(update=FAST))
    with pytest.raises(StorageUnavailableError):
        gateway.put_stream(settings.uploads_container, "a.pdf", iter_bytes(b"%PDF-1.4 body"))
    with pytest.raises(NotFoundError):
        storage.info(settings.uploads_container, "a.pdf")


class iter_bytes:  # noqa: N801 — reads like the function it stands for
    """A one-pass stream (a request body): `read` only, no seeking back."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def read(self, size: int = -1, /) -> bytes:
        chunk, self._data = (self._data, b"") if size < 0 else (self._data[:size], self._data[size:])
        return chunk


# -- the pipeline under faults ------------------------------------------------------------------
def test_a_session_completes_through_flaky_storage(
    azurite: Azurite, tmp_path: Path, month: tuple[Path, dict[str, Any]]
) -> None:
    """Upload, extract and finalize with a fifth of all storage calls failing (some after they ran),
    driven as the Functions host drives the steps and by the two workers: completed, every
    transaction exactly once, no upload left."""
    folder, truth = month
    faults = 0
    for seed, workers in ((1, False), (2, False), (3, True)):
        found, injected = flaky_run(
            azurite.connection_string, tmp_path, folder, truth, rate=0.2, seed=seed, workers=workers
        )
        assert_whole(found)
        faults += injected
    assert faults >= 15


def test_duplicate_events_and_messages_change_nothing(
    azurite: Azurite, tmp_path: Path, month: tuple[Path, dict[str, Any]]
) -> None:
    """Each blob event twice (in turn, and racing from two threads) and a results message
    redelivered: the repeats change no blob and send no message; both sessions whole."""
    folder, truth = month
    outcomes, changed = duplicate_run(azurite.connection_string, tmp_path, folder, truth)
    assert changed == []
    for found in outcomes:
        assert_whole(found)


def test_a_results_message_lost_with_its_step_is_sent_again(
    storage: AzureStorage, settings: Settings, month: tuple[Path, dict[str, Any]]
) -> None:
    """Regression (a session stuck in processing): extraction saved the file's record, then the
    results message could not be sent (storage gone past every retry) and the step died. The
    redelivered blob event found the record done and only deleted the upload, so no message ever
    said the file was done. The redelivery now sends it, and the session completes."""
    folder, truth = month
    session_id = submit(storage, settings, folder)
    drain(storage, settings)  # the request to process, seen before any file is done
    attempts = 3
    no_send = FlakyStorage(storage, 1.0, seed=1, only=frozenset({"send"}), limit=attempts)
    gateway = RetryingStorage(
        no_send, settings.model_copy(update={**FAST, "storage_retry_attempts": attempts})
    )
    first, last = [info.name for info in storage.list(settings.uploads_container)]
    extract_upload(storage, settings, first)
    drain(storage, settings)  # its message, seen while the other file is not done
    with pytest.raises(StorageUnavailableError):
        extract_upload(gateway, settings, last)
    assert storage.peek_count(settings.results_queue) == 0
    extract_upload(gateway, settings, last)  # the host delivers the failed event again
    drain(storage, settings)
    assert_whole(outcome(storage, settings, session_id, truth))


def test_a_record_left_by_a_failed_upload_does_not_hold_its_session(
    storage: AzureStorage, settings: Settings, month: tuple[Path, dict[str, Any]]
) -> None:
    """Regression (a session stuck in processing for ever): an upload request wrote its file's
    record, then storage failed for the upload and for the clean-up delete; the client was told it
    failed and sent the file again. The record stayed `uploaded` with no upload to finish it, so the
    session waited for ever. The daily sweep now removes such a record a day on, and the session
    completes with the files the client knows about."""
    folder, truth = month
    session_id = sessions.create_session(storage, settings).id
    attempts = 2
    failing = FlakyStorage(storage, 1.0, seed=1, only=frozenset({"put_stream", "delete"}), limit=1 + attempts)
    gateway = RetryingStorage(
        failing, settings.model_copy(update={**FAST, "storage_retry_attempts": attempts})
    )
    pdf = folder / "receipts.pdf"
    length = pdf.stat().st_size
    with pdf.open("rb") as body, pytest.raises(StorageUnavailableError):
        sessions.accept_upload(
            gateway, settings, session_id, pdf.name, body=body, length=length, allow_duplicate=True
        )
    assert failing.injected == {"put_stream before": 1, "delete before": attempts}
    submit_files(storage, settings, session_id, folder)
    for info in list(storage.list(settings.uploads_container)):
        extract_upload(storage, settings, info.name)
    drain(storage, settings)
    assert sessions.get_session(storage, settings, session_id).status.value == "processing"
    sweep(storage, settings, at=now() + dt.timedelta(hours=settings.orphan_upload_hours + 1))
    drain(storage, settings)
    assert_whole(outcome(storage, settings, session_id, truth))


def submit_files(storage: AzureStorage, settings: Settings, session_id: str, folder: Path) -> None:
    """Both PDFs of the month uploaded, and processing requested."""
    for name in ("statement.pdf", "receipts.pdf"):
        with (folder / name).open("rb") as body:
            # Every test here sends the same month: a twin of another session on purpose.
            sessions.accept_upload(
                storage,
                settings,
                session_id,
                name,
                body=body,
                length=(folder / name).stat().st_size,
                allow_duplicate=True,
            )
    sessions.request_processing(storage, settings, session_id)


def test_azurite_restarted_mid_session(tmp_path: Path, month: tuple[Path, dict[str, Any]]) -> None:
    """Real workers; Azurite stopped at a random point of the session and started again on the same
    ports with its data: the session completes, each transaction once, no upload left."""
    folder, truth = month
    found, when = restart_run(tmp_path, folder, truth, seed=5, down=3.0)
    assert "after the session ended" not in when
    assert found.status == "completed", when
    assert_whole(found)


def test_workers_killed_at_random_points(
    azurite: Azurite, tmp_path: Path, month: tuple[Path, dict[str, Any]]
) -> None:
    """Three sessions, each with one worker SIGKILLed at a random point and started again: the new
    one takes over (after the claim's lease or the message's visibility lapses); all whole."""
    folder, truth = month

    def run(seed: int) -> tuple[Outcome, str]:
        scratch = tmp_path / f"run-{seed}"
        scratch.mkdir()
        return kill_run(azurite.connection_string, scratch, folder, truth, seed=seed, window=4.0)

    with ThreadPoolExecutor(max_workers=3) as pool:  # side by side: most of a run is a lease lapsing
        results = list(pool.map(run, (11, 12, 13)))
    for found, what in results:
        assert found.status == "completed", what
        assert_whole(found)
    # The kills fall within the session's usual few seconds: at least one lands mid-session.
    assert any("after the session ended" not in what for _, what in results), results


def test_every_runtime_gets_the_retrying_gateway() -> None:
    """`storage_from_settings` (used by the API, the workers and the Functions app) wraps the Azure
    gateway in RetryingStorage."""
    from shared.storage.azure import AzureStorage, storage_from_settings

    gateway = storage_from_settings(Settings(storage_connection="UseDevelopmentStorage=true"))
    assert isinstance(gateway, RetryingStorage)
    assert isinstance(gateway.inner, AzureStorage)
    gateway.close()


def test_a_session_created_through_a_lost_answer_exists_once(
    storage: AzureStorage, settings: Settings
) -> None:
    """A create-only session manifest written through a lost answer still creates one session."""
    lose_answer = FlakyStorage(storage, 1.0, seed=1, before=False, after_share=1.0, limit=1)
    gateway = RetryingStorage(lose_answer, settings.model_copy(update=FAST))
    view = sessions.create_session(gateway, settings)
    assert lose_answer.faults == 1
    assert [s.id for s in sessions.list_sessions(storage, settings).sessions] == [view.id]
