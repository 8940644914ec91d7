"""`ccproc worker` as real processes on Azurite: claims keep two extract workers from doing a file
twice, a killed worker's file is taken over, SIGTERM drains, a failing finalize ends in the poison
queue with its session failed, both workers carry a session to completed, and the health probe."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from shared.errors import StorageUnavailableError
from shared.sessions import layout, store
from shared.sessions import requests as sessions
from shared.sessions.extract import extract_upload
from shared.sessions.layout import poison_queue
from shared.sessions.models import FileRecord, FileStatus, SessionStatus
from shared.settings import Settings
from shared.storage.azure import AzureStorage
from shared.workers.loops import ExtractWorker, FinalizeWorker, MaskingFormatter, health_age
from tests.azurite import Azurite
from tests.builders.month import build_month
from tests.builders.statement import build_statement

CCPROC = Path(sys.executable).parent / "ccproc"
POLL = "0.2"
LEASE = 15  # the shortest term a blob lease may have
MAX_TRIES = 2


@pytest.fixture(scope="module")
def big_statement(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1,200-transaction statement: a few seconds of extraction, long enough to act mid-file."""
    path = tmp_path_factory.mktemp("big") / "big.pdf"
    build_statement(path, cards=30, per_card=40, seed=5)
    return path


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The shared per-test names, with few tries before a message is poison."""
    return settings.model_copy(update={"max_dequeue_count": MAX_TRIES})


class Worker:
    """One `ccproc worker` process, its log in a file."""

    def __init__(self, process: subprocess.Popen[bytes], log: Path) -> None:
        self.process, self.log = process, log

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, fragment: str, timeout: float = 20) -> None:
        wait_until(lambda: fragment in self.text(), timeout, f"{fragment!r} in {self.log.name}")

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, then the exit code."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)


class Workers:
    """Starts workers on this test's storage and names; kills any still running when the test ends."""

    def __init__(self, azurite: Azurite, settings: Settings, folder: Path) -> None:
        self.folder = folder
        self.started: list[Worker] = []
        self.env = {
            **os.environ,
            "AzureWebJobsStorage": azurite.connection_string,
            "UPLOADS_CONTAINER": settings.uploads_container,
            "SESSIONS_CONTAINER": settings.sessions_container,
            "RESULTS_QUEUE": settings.results_queue,
            "MAX_DEQUEUE_COUNT": str(settings.max_dequeue_count),
            "EXTRACT_PROCESSES": "1",
            "TEMP_STORAGE_PATH": str(folder),
        }

    def start(self, kind: str, *args: str) -> Worker:
        log = self.folder / f"{kind}-{len(self.started)}.log"
        health = self.folder / f"health-{kind}-{len(self.started)}"
        command = [str(CCPROC), "worker", kind, "--poll-seconds", POLL, "--health-file", str(health), *args]
        with log.open("wb") as out:
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=self.env)
        worker = Worker(process, log)
        self.started.append(worker)
        return worker

    def close(self) -> None:
        for worker in self.started:
            if worker.process.poll() is None:
                worker.process.kill()
                worker.process.wait()


@pytest.fixture
def workers(azurite: Azurite, settings: Settings, tmp_path: Path) -> Iterator[Workers]:
    """Worker processes for this test."""
    started = Workers(azurite, settings, tmp_path)
    try:
        yield started
    finally:
        started.close()


def wait_until(done: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what}")
        time.sleep(0.1)


def upload(storage: AzureStorage, settings: Settings, session_id: str, pdf: Path, name: str) -> FileRecord:
    with pdf.open("rb") as body:
        return sessions.accept_upload(
            storage, settings, session_id, name, body=body, length=pdf.stat().st_size
        )


def record(storage: AzureStorage, settings: Settings, session_id: str, file_id: str) -> FileRecord:
    found = store.load_record(storage, settings, session_id, file_id)
    assert found is not None
    return found


def uploads_left(storage: AzureStorage, settings: Settings) -> list[str]:
    return [info.name for info in storage.list(settings.uploads_container)]


def claims_left(storage: AzureStorage, settings: Settings) -> list[str]:
    return [info.name for info in storage.list(settings.sessions_container, "claims/")]


def results_per_file(storage: AzureStorage, settings: Settings) -> Counter[str]:
    """How many results messages name each file (the queue drained)."""
    counts: Counter[str] = Counter()
    while messages := storage.receive(settings.results_queue, visibility_seconds=30, limit=32):
        for message in messages:
            counts[json.loads(message.content)["file"]] += 1
            storage.remove(settings.results_queue, message)
    return counts


def run_ccproc(*args: str) -> int:
    return subprocess.run([str(CCPROC), *args], capture_output=True, check=False, timeout=30).returncode


def test_two_extract_workers_never_do_one_file_twice(
    workers: Workers, storage: AzureStorage, settings: Settings, tmp_path: Path
) -> None:
    """Six uploads, two workers started together: every file extracted once, one message each."""
    session = sessions.create_session(storage, settings)
    files = []
    for i in range(6):
        pdf = tmp_path / f"statement-{i}.pdf"
        build_statement(pdf, cards=8, per_card=10, seed=i)
        files.append(upload(storage, settings, session.id, pdf, pdf.name))
    pair = [workers.start("extract"), workers.start("extract")]

    def all_extracted() -> bool:
        return all(record(storage, settings, session.id, f.id).status is FileStatus.EXTRACTED for f in files)

    wait_until(all_extracted, 30, "every file extracted")
    assert [w.stop() for w in pair] == [0, 0]
    assert uploads_left(storage, settings) == []
    assert claims_left(storage, settings) == []
    assert results_per_file(storage, settings) == Counter({f.id: 1 for f in files})
    logs = pair[0].text() + pair[1].text()
    assert [logs.count(f"{f.name} extracted") for f in files] == [1] * 6


def test_a_killed_worker_loses_nothing(
    workers: Workers, storage: AzureStorage, settings: Settings, big_statement: Path
) -> None:
    """SIGKILL mid-file: the claim holds until its lease lapses, then another worker completes the file."""
    session = sessions.create_session(storage, settings)
    big = upload(storage, settings, session.id, big_statement, "big.pdf")
    first = workers.start("extract", "--lease-seconds", str(LEASE))
    first.wait_for("claimed")
    time.sleep(0.5)
    assert record(storage, settings, session.id, big.id).status is FileStatus.UPLOADED
    first.process.kill()
    assert first.process.wait(timeout=10) == -signal.SIGKILL

    second = workers.start("extract", "--lease-seconds", str(LEASE))
    second.wait_for("worker started")
    time.sleep(2)
    assert "claimed" not in second.text(), "the dead worker's claim was taken before its lease lapsed"
    wait_until(
        lambda: record(storage, settings, session.id, big.id).status is FileStatus.EXTRACTED,
        LEASE + 20,
        "the file extracted by the second worker",
    )
    assert second.stop() == 0
    assert "claimed" in second.text()
    assert uploads_left(storage, settings) == []
    assert claims_left(storage, settings) == []
    assert results_per_file(storage, settings) == Counter({big.id: 1})
    assert record(storage, settings, session.id, big.id).transactions == 1200


def test_sigterm_finishes_the_file_in_hand_and_takes_no_other(
    workers: Workers, storage: AzureStorage, settings: Settings, big_statement: Path
) -> None:
    """SIGTERM while a file is in hand: that file is extracted, the other stays waiting, exit 0."""
    session = sessions.create_session(storage, settings)
    files = [upload(storage, settings, session.id, big_statement, f"big-{i}.pdf") for i in range(2)]
    worker = workers.start("extract")
    worker.wait_for("claimed")
    in_hand = next(f for f in files if f"/{f.id}/" in worker.text())
    other = next(f for f in files if f is not in_hand)
    assert record(storage, settings, session.id, in_hand.id).status is FileStatus.UPLOADED
    assert worker.stop() == 0
    assert record(storage, settings, session.id, in_hand.id).status is FileStatus.EXTRACTED
    assert record(storage, settings, session.id, other.id).status is FileStatus.UPLOADED
    assert uploads_left(storage, settings) == [layout.upload_blob(session.id, other.id, other.name)]
    assert worker.text().count("claimed") == 1
    assert claims_left(storage, settings) == []


def test_a_poison_message_fails_its_session_with_the_reason(
    workers: Workers, storage: AzureStorage, settings: Settings, tmp_path: Path
) -> None:
    """A finalize that fails every try: after the last, the message is in the poison queue and the
    session failed with the reason."""
    folder = tmp_path / "month"
    build_month(folder, size="small", seed=4)
    session = sessions.create_session(storage, settings)
    upload(storage, settings, session.id, folder / "receipts.pdf", "receipts.pdf")
    for name in uploads_left(storage, settings):
        extract_upload(storage, settings, name)
    results_per_file(storage, settings)  # one message left: the one asking for processing
    sessions.request_processing(storage, settings, session.id)
    # The extraction's result vanishes: every finalize try fails to match.
    for info in list(storage.list(settings.sessions_container, f"{session.id}/results/")):
        storage.delete(settings.sessions_container, info.name)

    worker = workers.start("finalize", "--visibility-seconds", "1")
    poison = poison_queue(settings.results_queue)
    wait_until(lambda: storage.peek_count(poison) == 1, 30, "the message in the poison queue")
    assert worker.stop() == 0
    view = sessions.get_session(storage, settings, session.id)
    assert view.status is SessionStatus.FAILED
    assert view.error is not None
    assert view.error.startswith("finishing the session failed")
    assert "results" in view.error
    assert "not found" in view.error
    assert storage.peek_count(settings.results_queue) == 0
    poisoned = storage.receive(poison, visibility_seconds=30, limit=32)
    assert {json.loads(m.content)["session"] for m in poisoned} == {session.id}
    log = worker.text()
    assert f"try 1 of {MAX_TRIES} failed" in log
    assert f"moved to {poison}" in log


def test_both_workers_complete_a_session(
    workers: Workers, storage: AzureStorage, settings: Settings, tmp_path: Path
) -> None:
    """Statement and receipts uploaded, processing asked for: the two workers complete the session."""
    folder = tmp_path / "month"
    truth = build_month(folder, size="small", seed=21)
    extract, finalize = workers.start("extract"), workers.start("finalize")
    session = sessions.create_session(storage, settings)
    upload(storage, settings, session.id, folder / "statement.pdf", "statement.pdf")
    upload(storage, settings, session.id, folder / "receipts.pdf", "receipts.pdf")
    sessions.request_processing(storage, settings, session.id)

    def completed() -> bool:
        view = sessions.get_session(storage, settings, session.id)
        assert view.status is not SessionStatus.FAILED, view.error
        return view.status is SessionStatus.COMPLETED

    wait_until(completed, 40, "the session completed")
    view = sessions.get_session(storage, settings, session.id)
    assert view.summary is not None
    assert view.summary.transactions == len(truth["statement"]["transactions"])
    assert view.summary.expenses == len(truth["receipts"]["receipts"])
    assert uploads_left(storage, settings) == []
    assert claims_left(storage, settings) == []
    for worker in (extract, finalize):
        health = str(workers.folder / f"health-{worker.log.stem}")
        assert run_ccproc("worker", "health", "--file", health, "--max-age", "10") == 0
    assert [extract.stop(), finalize.stop()] == [0, 0]
    wait_until(lambda: storage.peek_count(settings.results_queue) == 0, 10, "the results queue empty")


def test_health_probe_tells_fresh_from_stale(tmp_path: Path) -> None:
    """`ccproc worker health` exits 0 for a fresh health file, 1 for a stale or missing one."""
    fresh, stale = tmp_path / "fresh", tmp_path / "stale"
    fresh.write_text(f"{time.time():.3f}\n")
    stale.write_text(f"{time.time() - 120:.3f}\n")
    assert run_ccproc("worker", "health", "--file", str(fresh), "--max-age", "30") == 0
    assert run_ccproc("worker", "health", "--file", str(stale), "--max-age", "30") == 1
    assert run_ccproc("worker", "health", "--file", str(tmp_path / "missing"), "--max-age", "30") == 1


class FlakyListing:
    """The real gateway, except that its first `failures` listings find storage unreachable."""

    def __init__(self, storage: AzureStorage, failures: int) -> None:
        self._storage, self.failures = storage, failures

    def __getattr__(self, name: str) -> Any:
        return getattr(self._storage, name)

    def list(self, container: str, prefix: str = "") -> Iterator[Any]:
        if self.failures:
            self.failures -= 1
            raise StorageUnavailableError(f"container {container}: storage unreachable")
        return self._storage.list(container, prefix)


def test_storage_trouble_is_retried_not_fatal(
    storage: AzureStorage, settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A listing that finds storage unreachable is logged and retried after a pause; the file is done."""
    session = sessions.create_session(storage, settings)
    pdf = tmp_path / "statement.pdf"
    build_statement(pdf, seed=2)
    upload(storage, settings, session.id, pdf, pdf.name)
    health = tmp_path / "health"
    worker = ExtractWorker(FlakyListing(storage, failures=1), settings, poll_seconds=0.05, health_file=health)  # type: ignore[arg-type]
    with caplog.at_level(logging.INFO, logger="ccproc"):
        worker.run(once=True)
    assert "extract: storage unavailable, retrying in" in caplog.text
    assert [r.status for r in store.load_records(storage, settings, session.id)] == [FileStatus.EXTRACTED]
    assert uploads_left(storage, settings) == []
    age = health_age(health)
    assert age is not None
    assert age < 5


def test_a_message_whose_tries_all_died_goes_to_poison(storage: AzureStorage, settings: Settings) -> None:
    """A message back after every try was used up by workers that died: not run again, poisoned, and
    its session failed saying so (what the Functions host does with such a message, plus the reason)."""
    session = sessions.create_session(storage, settings)
    storage.put_bytes(
        settings.sessions_container,
        layout.record_blob(session.id, "0123456789abcdef"),
        FileRecord(id="0123456789abcdef", name="x.pdf", status=FileStatus.UPLOADED)
        .model_dump_json()
        .encode(),
    )
    sessions.request_processing(storage, settings, session.id)
    for _ in range(MAX_TRIES):  # taken by a worker that dies: it comes back at once here
        (message,) = storage.receive(settings.results_queue, visibility_seconds=30)
        storage.extend(settings.results_queue, message, visibility_seconds=0)
    FinalizeWorker(storage, settings, visibility_seconds=5, poll_seconds=0.05).run(once=True)
    view = sessions.get_session(storage, settings, session.id)
    assert view.status is SessionStatus.FAILED
    assert view.error == f"finishing the session was tried {MAX_TRIES + 1} times and never finished"
    assert storage.peek_count(poison_queue(settings.results_queue)) == 1
    assert storage.peek_count(settings.results_queue) == 0


def _raise_with_a_card_number() -> None:
    raise ValueError("bad row 4111 1111 1111 1111")


def test_worker_log_lines_mask_card_numbers() -> None:
    """A card number in a worker's log line, traceback included, is cut to its last four."""
    try:
        _raise_with_a_card_number()
    except ValueError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "ccproc", logging.ERROR, __file__, 1, "card %s", ("4111111111111111",), exc_info
    )
    line = MaskingFormatter("%(message)s").format(record)
    assert "ValueError: bad row ****1111" in line
    assert line.startswith("card ****1111")
    assert "4111 1111 1111 1111" not in line
    assert "4111111111111111" not in line


def test_cli_refuses_a_lease_azure_would_refuse() -> None:
    """`--lease-seconds` outside 15-60 is a usage error, not a failure at the first claim."""
    assert run_ccproc("worker", "extract", "--lease-seconds", "5") == 2


class BrokenDownload:
    """The real gateway, except that fetching an upload always fails in a way nobody planned for."""

    def __init__(self, storage: AzureStorage) -> None:
        self._storage = storage

    def __getattr__(self, name: str) -> Any:
        return getattr(self._storage, name)

    def download_to(self, container: str, name: str, path: Path) -> int:
        raise RuntimeError("the scratch disk went away")


def test_an_upload_failing_unexpectedly_is_set_aside_after_its_tries(
    storage: AzureStorage, settings: Settings, tmp_path: Path
) -> None:
    """Unforeseen failures are retried, but after MAX_DEQUEUE_COUNT tries the file fails with the reason."""
    session = sessions.create_session(storage, settings)
    pdf = tmp_path / "statement.pdf"
    build_statement(pdf, seed=3)
    upload(storage, settings, session.id, pdf, pdf.name)
    worker = ExtractWorker(BrokenDownload(storage), settings, poll_seconds=0.01, health_file=tmp_path / "h")  # type: ignore[arg-type]
    for _ in range(settings.max_dequeue_count - 1):
        with pytest.raises(RuntimeError, match="scratch disk"):
            worker.work()
        assert store.load_records(storage, settings, session.id)[0].status is FileStatus.UPLOADED
    assert worker.work()
    (record,) = store.load_records(storage, settings, session.id)
    assert (record.status, record.error_code) == (FileStatus.FAILED, "extraction_failed")
    assert record.error is not None
    assert "scratch disk" in record.error
    assert uploads_left(storage, settings) == []
