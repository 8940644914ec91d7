"""The reliability scenarios of tests/test_faults.py, small there and larger in `make soak`: a
session's outcome measured against its month's truth, worker processes to kill, Azurite to restart,
the steps driven as the Functions host drives them, over FlakyStorage or with duplicated events."""

from __future__ import annotations

import datetime as dt
import os
import random
import secrets
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.errors import TransientError
from shared.sessions import requests as sessions
from shared.sessions import store
from shared.sessions.extract import extract_upload, give_up_upload
from shared.sessions.finalize import finalize_failed, finalize_session
from shared.sessions.models import SessionStatus, now
from shared.sessions.sweep import sweep
from shared.settings import Settings
from shared.storage.azure import AzureStorage
from shared.storage.retrying import RetryingStorage
from shared.workers.loops import ExtractWorker, FinalizeWorker, Worker
from tests.azurite import Azurite
from tests.faults import FlakyStorage


# -- checking a session's outcome ------------------------------------------------------------------
@dataclass
class Outcome:
    """How one session ended, measured against the truth of its month."""

    session: str
    status: str
    error: str | None = None
    expected: int = 0
    missing: int = 0  # truth transactions absent from a completed session (all of them if unfinished)
    duplicates: int = 0  # transactions seen more than once
    unexpected: int = 0  # transactions the truth does not have
    uploads_left: int = 0
    seconds: float = 0.0
    swept: bool = False  # finished only once the daily sweep had run
    recovery: float | None = None  # storage back → the workers' next change to the session (restarts)

    @property
    def finished(self) -> bool:
        return self.status in ("completed", "failed")

    @property
    def failed_with_reason(self) -> bool:
        return self.status == "failed" and bool(self.error)

    @property
    def lost(self) -> int:
        """Expected transactions missing from a completed session, plus 1 for a session never finished."""
        return self.missing + (0 if self.finished else 1)


def outcome(storage: Any, settings: Settings, session_id: str, truth: dict[str, Any]) -> Outcome:
    """The session's status, and each truth transaction counted in its result (when completed)."""
    manifest, _ = store.load_manifest(storage, settings, session_id)
    expected = set(truth["statuses"])
    found = Outcome(session_id, manifest.status.value, manifest.error, expected=len(expected))
    found.uploads_left = sum(1 for _ in storage.list(settings.uploads_container, f"{session_id}/"))
    if manifest.status is SessionStatus.COMPLETED:
        result = sessions.reconciliation(storage, settings, session_id)
        seen = Counter(t.transaction.transaction_number for t in result.transactions)
        found.missing = len(expected - set(seen))
        found.duplicates = sum(n - 1 for n in seen.values() if n > 1)
        found.unexpected = len(set(seen) - expected)
    elif manifest.status is not SessionStatus.FAILED:
        found.missing = len(expected)
    return found


def fresh_settings(scratch: Path, **changes: Any) -> Settings:
    """Container and queue names of their own, so runs sharing one Azurite never meet."""
    tag = secrets.token_hex(4)
    return Settings(
        uploads_container=f"uploads-{tag}",
        sessions_container=f"sessions-{tag}",
        results_queue=f"results-{tag}",
        temp_storage_path=scratch,
        extract_processes=1,
        **changes,
    )


def submit(storage: Any, settings: Settings, month: Path) -> str:
    """A session with the month's statement and receipts uploaded and processing requested."""
    session = sessions.create_session(storage, settings)
    for name in ("statement.pdf", "receipts.pdf"):
        pdf = month / name
        with pdf.open("rb") as body:
            # Scenarios send the same month again and again: twins of other sessions on purpose.
            length = pdf.stat().st_size
            sessions.accept_upload(
                storage, settings, session.id, name, body=body, length=length, allow_duplicate=True
            )
    sessions.request_processing(storage, settings, session.id)
    return session.id


def finished(storage: Any, settings: Settings, session_id: str) -> bool:
    """The session is completed or failed."""
    manifest, _ = store.load_manifest(storage, settings, session_id)
    return manifest.status in (SessionStatus.COMPLETED, SessionStatus.FAILED)


def wait_finished(
    storage: Any, settings: Settings, session_id: str, timeout: float, *, poll: float = 0.2
) -> bool:
    """Wait until the session is completed or failed; False when it is not within `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            manifest, _ = store.load_manifest(storage, settings, session_id)
        except TransientError:
            manifest = None  # storage is being restarted: look again
        if manifest is not None and manifest.status in (SessionStatus.COMPLETED, SessionStatus.FAILED):
            return True
        time.sleep(poll)
    return False


# -- the steps driven in this process, as the Functions host drives them -------------------------
def run_steps(plain: Any, steps: Any, settings: Settings, session_id: str, *, rounds: int = 200) -> None:
    """Blob events for every upload, then every results message to finalize, until the session ends.

    `steps` is the gateway the steps get (faults and retries); `plain` the host's own view of blobs
    and queues. A step that raises is delivered again, as the host does: an upload up to
    `max_dequeue_count` times and then given up, a message until `finalize_failed` poisons it.
    """
    tries: Counter[str] = Counter()
    for _ in range(rounds):
        for info in list(plain.list(settings.uploads_container, f"{session_id}/")):
            try:
                extract_upload(steps, settings, info.name)
            except Exception as exc:  # noqa: BLE001 — the host retries any failure
                tries[info.name] += 1
                if tries[info.name] >= settings.max_dequeue_count:
                    give_up_upload(steps, settings, info.name, str(exc))
        for message in plain.receive(settings.results_queue, visibility_seconds=60, limit=32):
            try:
                finalize_session(steps, settings, message.content)
            except Exception as exc:  # noqa: BLE001 — a failed try; the message comes back
                if not finalize_failed(
                    steps, settings, message.content, exc, dequeue_count=message.dequeue_count
                ):
                    plain.extend(settings.results_queue, message, visibility_seconds=0)
                    continue
            plain.remove(settings.results_queue, message)
        manifest, _ = store.load_manifest(plain, settings, session_id)
        if manifest.status in (SessionStatus.COMPLETED, SessionStatus.FAILED) and not plain.peek_count(
            settings.results_queue
        ):
            return


def client_retry(call: Any, attempts: int = 10) -> Any:
    """A client repeating a request that failed on storage trouble (an HTTP 503), as callers do."""
    for attempt in range(attempts):
        try:
            return call()
        except TransientError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.05 * 2**attempt)
    raise AssertionError("unreachable")


# -- real worker processes -----------------------------------------------------------------------
CCPROC = str(Path(sys.executable).with_name("ccproc"))


class WorkerProcesses:
    """`ccproc worker` processes on one storage account and one set of names; each log in a file."""

    def __init__(self, connection: str, settings: Settings, folder: Path, *, lease: int = 15) -> None:
        self.folder, self.lease = folder, lease
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        self.started = 0
        self.env = {
            **os.environ,
            "AzureWebJobsStorage": connection,
            "UPLOADS_CONTAINER": settings.uploads_container,
            "SESSIONS_CONTAINER": settings.sessions_container,
            "RESULTS_QUEUE": settings.results_queue,
            "EXTRACT_PROCESSES": "1",
            "TEMP_STORAGE_PATH": str(folder),
        }

    def start(self, kind: str) -> subprocess.Popen[bytes]:
        self.started += 1
        extra = ["--lease-seconds", str(self.lease)] if kind == "extract" else ["--visibility-seconds", "5"]
        command = [
            CCPROC, "worker", kind, "--poll-seconds", "0.2",
            "--health-file", str(self.folder / f"health-{kind}-{self.started}"), *extra,
        ]  # fmt: skip
        with (self.folder / f"{kind}-{self.started}.log").open("wb") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=self.env)
        self.running[kind] = process
        return process

    def kill(self, kind: str) -> None:
        """SIGKILL: no cleanup, no release of a claim, a message left hidden."""
        process = self.running.pop(kind)
        process.kill()
        process.wait()

    def close(self) -> None:
        """SIGTERM to each (they finish the item in hand), SIGKILL to one that does not exit."""
        for process in self.running.values():
            process.terminate()
        for process in self.running.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.running.clear()

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.folder.glob("*.log")))


# -- scenarios (small in the tests, larger in `make soak`) ---------------------------------------
def client_submit(gateway: Any, settings: Settings, month: Path) -> str:
    """`submit` as a client does it through an API whose storage fails now and then: each request
    that fails is sent again (a failed upload again as a new file)."""
    session_id: str = client_retry(lambda: sessions.create_session(gateway, settings).id)
    for name in ("statement.pdf", "receipts.pdf"):
        pdf = month / name

        def send(pdf: Path = pdf, name: str = name) -> None:
            with pdf.open("rb") as body:
                sessions.accept_upload(
                    gateway,
                    settings,
                    session_id,
                    name,
                    body=body,
                    length=pdf.stat().st_size,
                    allow_duplicate=True,
                )

        client_retry(send)
    client_retry(lambda: sessions.request_processing(gateway, settings, session_id))
    return session_id


def sweep_a_day_later(gateway: Any, settings: Settings) -> None:
    """The daily sweep, as it runs once the orphan time has passed: what is left waiting (a file
    record written by an upload request that then failed) is its to settle."""
    sweep(gateway, settings, at=now() + dt.timedelta(hours=settings.orphan_upload_hours + 1))


def flaky_run(
    connection: str,
    scratch: Path,
    month: Path,
    truth: dict[str, Any],
    *,
    rate: float,
    seed: int,
    workers: bool = False,
) -> tuple[Outcome, int]:
    """One session over FlakyStorage under RetryingStorage, driven through the steps as the Functions
    host drives them or, with `workers`, by an extract and a finalize worker (threads, so their
    leases, receives and extensions fail too); (outcome, faults injected)."""
    settings = fresh_settings(
        scratch, storage_retry_first_wait_seconds=0.01, storage_retry_max_wait_seconds=0.1
    )
    plain = AzureStorage(connection)
    flaky = FlakyStorage(AzureStorage(connection), rate, seed)
    gateway = RetryingStorage(flaky, settings)
    loops: list[Worker] = []
    if workers:
        health = scratch / f"health-{secrets.token_hex(3)}"
        loops = [
            ExtractWorker(gateway, settings, lease_seconds=15, poll_seconds=0.2, health_file=health),
            FinalizeWorker(gateway, settings, visibility_seconds=5, poll_seconds=0.2, health_file=health),
        ]
    threads = [threading.Thread(target=loop.run, daemon=True) for loop in loops]
    for thread in threads:
        thread.start()
    try:
        started = time.monotonic()
        session_id = client_submit(gateway, settings, month)

        def settle() -> None:
            if workers:
                wait_finished(plain, settings, session_id, timeout=90)
            else:
                run_steps(plain, gateway, settings, session_id)

        settle()
        swept = not finished(plain, settings, session_id)
        if swept:
            sweep_a_day_later(gateway, settings)
            settle()
        for loop in loops:
            loop.stop.set()
        for thread in threads:
            thread.join(timeout=60)
        found = outcome(plain, settings, session_id, truth)
        found.swept = swept
        found.seconds = time.monotonic() - started
        return found, flaky.faults
    finally:
        for loop in loops:
            loop.stop.set()
        plain.close()
        gateway.close()


def kill_run(
    connection: str, scratch: Path, month: Path, truth: dict[str, Any], *, seed: int, window: float
) -> tuple[Outcome, str]:
    """Real workers; one of them SIGKILLed at a random point within `window` s of the session's start
    and started again; (outcome, what was killed when)."""
    chooser = random.Random(seed)
    settings = fresh_settings(scratch)
    storage = AzureStorage(connection)
    workers = WorkerProcesses(connection, settings, scratch)
    try:
        for kind in ("extract", "finalize"):
            workers.start(kind)
        started = time.monotonic()
        session_id = submit(storage, settings, month)
        victim, delay = chooser.choice(["extract", "finalize"]), chooser.uniform(0, window)
        time.sleep(max(0.0, started + delay - time.monotonic()))
        late = " (after the session ended)" if finished(storage, settings, session_id) else ""
        workers.kill(victim)
        workers.start(victim)
        wait_finished(storage, settings, session_id, timeout=60 + workers.lease)
        found = outcome(storage, settings, session_id, truth)
        found.seconds = time.monotonic() - started
        return found, f"{victim} at {delay:.1f} s{late}"
    finally:
        workers.close()
        storage.close()


def _state(storage: Any, settings: Settings, session_id: str) -> frozenset[tuple[str, str]]:
    """The session's blobs and their ETags: what any step's progress changes."""
    return frozenset((i.name, i.etag) for i in storage.list(settings.sessions_container, f"{session_id}/"))


def _resumed(
    storage: Any, settings: Settings, session_id: str, before: frozenset[tuple[str, str]]
) -> float | None:
    """When the workers next changed the session after storage came back (None: they never had to)."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if _state(storage, settings, session_id) != before:
                return time.monotonic()
        except TransientError:
            pass  # the test's own client may still be reconnecting
        time.sleep(0.1)
    return None


def restart_run(
    scratch: Path, month: Path, truth: dict[str, Any], *, seed: int, down: float = 3.0
) -> tuple[Outcome, str]:
    """Real workers on an Azurite keeping its data on disk; Azurite stopped at a random point of the
    session and started again `down` s later on the same ports; (outcome, when it went down)."""
    chooser = random.Random(seed)
    azurite = Azurite(data=scratch / "azurite").start()
    settings = fresh_settings(scratch)
    storage = AzureStorage(azurite.connection_string)
    workers = WorkerProcesses(azurite.connection_string, settings, scratch)
    try:
        for kind in ("extract", "finalize"):
            workers.start(kind)
        started = time.monotonic()
        session_id = submit(storage, settings, month)
        delay = chooser.uniform(0.2, 2.0)
        time.sleep(delay)
        late = " (after the session ended)" if finished(storage, settings, session_id) else ""
        blob_port, queue_port = azurite.blob_port, azurite.queue_port
        before = _state(storage, settings, session_id)
        azurite.stop()
        time.sleep(down)
        azurite = Azurite(data=scratch / "azurite", blob_port=blob_port, queue_port=queue_port).start()
        back = time.monotonic()
        resumed = None if late else _resumed(storage, settings, session_id, before)
        wait_finished(storage, settings, session_id, timeout=90)
        found = outcome(storage, settings, session_id, truth)
        found.seconds = time.monotonic() - started
        found.recovery = None if resumed is None else resumed - back
        return found, f"down at {delay:.1f} s for {down:.0f} s{late}"
    finally:
        workers.close()
        storage.close()
        azurite.stop()


def snapshot(storage: Any, settings: Settings, session_id: str) -> dict[str, bytes]:
    """Every blob of a session, by name (claims live elsewhere), and the messages waiting."""
    blobs = {
        info.name: storage.get_bytes(settings.sessions_container, info.name)[0]
        for info in storage.list(settings.sessions_container, f"{session_id}/")
    }
    blobs["<uploads>"] = repr(sorted(i.name for i in storage.list(settings.uploads_container))).encode()
    blobs["<messages>"] = str(storage.peek_count(settings.results_queue)).encode()
    return blobs


def drain(storage: Any, settings: Settings) -> list[str]:
    """Every results message to finalize, as the queue trigger would; the messages handled."""
    handled = []
    while messages := storage.receive(settings.results_queue, visibility_seconds=60, limit=32):
        for message in messages:
            finalize_session(storage, settings, message.content)
            storage.remove(settings.results_queue, message)
            handled.append(message.content)
    return handled


def duplicate_run(
    connection: str, scratch: Path, month: Path, truth: dict[str, Any]
) -> tuple[list[Outcome], list[str]]:
    """Each blob event delivered twice (one after the other, and at once from two threads) and the
    last results message delivered again; (outcomes, what a repeat changed — empty when nothing)."""
    settings = fresh_settings(scratch)
    storage = AzureStorage(connection)
    changed: list[str] = []
    try:
        # One after the other: the second delivery finds the file done and changes nothing.
        first = submit(storage, settings, month)
        for info in list(storage.list(settings.uploads_container, f"{first}/")):
            extract_upload(storage, settings, info.name)
            before = snapshot(storage, settings, first)
            extract_upload(storage, settings, info.name)
            if snapshot(storage, settings, first) != before:
                changed.append(f"a second event for {info.name} changed the session")
        # At once: two deliveries race (two Functions instances); the file still counts once.
        second = submit(storage, settings, month)
        for info in list(storage.list(settings.uploads_container, f"{second}/")):
            gate = threading.Barrier(2)
            errors: list[BaseException] = []

            def deliver(name: str = info.name, gate: threading.Barrier = gate, errors: list = errors) -> None:
                gate.wait()
                try:
                    extract_upload(storage, settings, name)
                except Exception as exc:  # noqa: BLE001 — collected: the assertion names it
                    errors.append(exc)

            pair = [threading.Thread(target=deliver) for _ in range(2)]
            for thread in pair:
                thread.start()
            for thread in pair:
                thread.join()
            changed += [f"a concurrent event for {info.name} raised {e!r}" for e in errors]
        handled = drain(storage, settings)
        # The last results message again (a redelivery after a lost delete): nothing changes.
        for session_id in (first, second):
            before = snapshot(storage, settings, session_id)
            last = next(m for m in reversed(handled) if session_id in m)
            finalize_session(storage, settings, last)
            if snapshot(storage, settings, session_id) != before:
                changed.append(f"a redelivered results message changed session {session_id}")
        return [outcome(storage, settings, s, truth) for s in (first, second)], changed
    finally:
        storage.close()
