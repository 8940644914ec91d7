"""The pipeline's two background steps as long-running loops: the runtime for Kubernetes and local runs.

Each loop only finds work and calls the same `shared.sessions` step the Functions trigger calls:

* `ExtractWorker` lists the uploads container and runs `extract_upload` on each upload it can
  claim. A claim is a blob lease on `claims/<session>/<file>` in the sessions container, renewed
  while the step runs, so two replicas never extract one file at once, and the file of a worker
  that died mid-step is taken over once the lease lapses (the step is safe to run twice). The claim
  is a blob of its own rather than a lease on the upload because the step deletes the upload, and a
  leased blob cannot be deleted without the lease id; it lives outside `<session>/` so that deleting
  a session is never blocked by a claim in flight.
* `FinalizeWorker` takes one results message at a time under a visibility timeout, extended while
  `finalize_session` runs, and deletes it on success. A failed message reappears when its timeout
  ends; after its last try (`Settings.max_dequeue_count`, the host's `maxDequeueCount`) it moves to
  `<queue>-poison`, the queue the Functions host uses, and the session is marked failed
  (`shared.sessions.finalize.finalize_failed`, the decision the Functions adapter makes).

Both stop taking work once `stop` is set (the CLI sets it on SIGTERM and SIGINT) and finish the item
in hand; both write a health file (a timestamp) each round and while a long item runs, for liveness
probes; storage trouble is logged and retried with backoff and never ends a loop.
"""

from __future__ import annotations

import logging
import os
import random
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import ClassVar

from shared.errors import CcprocError, ConflictError, PermanentError, TransientError
from shared.sessions.extract import extract_upload, give_up_upload
from shared.sessions.finalize import finalize_failed, finalize_session
from shared.sessions.layout import claim_blob, parse_upload_blob, poison_queue
from shared.sessions.models import now
from shared.settings import Settings
from shared.storage.gateway import LEASE_SECONDS_MAX, LEASE_SECONDS_MIN, Message, Storage
from shared.telemetry import metrics
from shared.values import mask_card_numbers

log = logging.getLogger("ccproc.worker")
BACKOFF_MAX_SECONDS = 30.0
# How often, within one lease or visibility term, the holder renews it: two renewals may fail
# (a slow storage answer, a pause) before the term runs out.
RENEWALS_PER_TERM = 3


def default_health_file(settings: Settings, kind: str) -> Path:
    """`<scratch folder>/ccproc/health-<kind>`; the scratch folder is the system's when unset."""
    return (settings.temp_storage_path or Path(tempfile.gettempdir())) / "ccproc" / f"health-{kind}"


class HealthFile:
    """A file holding the time of the last sign of life, for a liveness probe to read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def beat(self) -> None:
        """Write the time now (a whole new file, renamed into place, so a reader never sees half)."""
        try:
            with self._lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                partial = self.path.with_name(f".{self.path.name}.{os.getpid()}")
                partial.write_text(f"{time.time():.3f}\n")
                partial.replace(self.path)
        except OSError as exc:
            log.warning("health file %s not written: %s", self.path, exc)


def health_age(path: Path) -> float | None:
    """Seconds since the health file's last beat; None when it is missing or unreadable."""
    try:
        return time.time() - float(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


class MaskingFormatter(logging.Formatter):
    """Log lines (tracebacks included) with any card-number-like digit run cut to its last four."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_card_numbers(super().format(record))


class _Keeper:
    """A background thread calling `tick` every `every` seconds while a block runs (lease renewal,
    visibility extension), beating the health file as it goes. A `ConflictError` from `tick` means
    the hold is lost: it is logged once and the thread stops; other errors are logged and retried."""

    def __init__(self, what: str, every: float, tick: Callable[[], None], beat: Callable[[], None]) -> None:
        self._what, self._every, self._tick, self._beat = what, every, tick, beat
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"keep {what}", daemon=True)

    def __enter__(self) -> _Keeper:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._done.wait(self._every):
            self._beat()
            try:
                self._tick()
            except ConflictError:
                log.warning("%s: lost (its term ran out); another worker may take the item over", self._what)
                return
            except Exception as exc:  # noqa: BLE001 — the next tick retries; the step must go on
                log.warning("%s: not renewed, retrying: %s", self._what, mask_card_numbers(str(exc)))


class Worker:
    """The loop both workers share: rounds of `work()` until stopped, health beats, backoff."""

    kind: ClassVar[str]

    def __init__(
        self, storage: Storage, settings: Settings, *, poll_seconds: float, health_file: Path | None
    ) -> None:
        self.storage, self.settings, self.poll_seconds = storage, settings, poll_seconds
        self.health = HealthFile(health_file or default_health_file(settings, self.kind))
        self.stop = threading.Event()

    def work(self) -> bool:
        """One round: handle what there is; True when something was handled."""
        raise NotImplementedError

    def run(self, *, once: bool = False) -> None:
        """Rounds until `stop` is set (or, with `once`, until a round finds nothing to do)."""
        failures = 0
        while not self.stop.is_set():
            self.health.beat()
            try:
                busy = self.work()
            except TransientError as exc:
                failures += 1
                delay = self._backoff(failures)
                log.warning("%s: storage unavailable, retrying in %.1f s: %s", self.kind, delay, exc)
                self.stop.wait(delay)
                continue
            except Exception:
                failures += 1
                delay = self._backoff(failures)
                log.exception("%s: the round failed; retrying in %.1f s", self.kind, delay)
                self.stop.wait(delay)
                continue
            failures = 0
            if not busy:
                if once:
                    break
                self.stop.wait(self.poll_seconds)
        self.health.beat()
        log.info(
            "%s: %s", self.kind, "stopped when asked, no item left in hand" if self.stop.is_set() else "done"
        )

    def _backoff(self, failures: int) -> float:
        ceiling = min(BACKOFF_MAX_SECONDS, max(self.poll_seconds, 0.5) * 2 ** min(failures, 10))
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 — jitter, not secrecy


class ExtractWorker(Worker):
    """Extracts uploads one at a time, each under a claim that other replicas respect."""

    kind = "extract"

    def __init__(
        self,
        storage: Storage,
        settings: Settings,
        *,
        lease_seconds: int = 30,
        poll_seconds: float = 1,
        health_file: Path | None = None,
    ) -> None:
        if not LEASE_SECONDS_MIN <= lease_seconds <= LEASE_SECONDS_MAX:
            raise ValueError(
                f"a lease lasts {LEASE_SECONDS_MIN} to {LEASE_SECONDS_MAX} s, not {lease_seconds}"
            )
        super().__init__(storage, settings, poll_seconds=poll_seconds, health_file=health_file)
        self.lease_seconds = lease_seconds
        self._ignored: set[str] = set()
        self._failures: dict[str, int] = {}

    def work(self) -> bool:
        """The first upload listed now that no other worker holds."""
        listed = list(self.storage.list(self.settings.uploads_container))
        oldest = min((info.last_modified for info in listed), default=None)
        metrics.uploads_oldest_age.set((now() - oldest).total_seconds() if oldest else 0)
        for info in listed:
            if self.stop.is_set():
                break
            if self._take(info.name):
                # Listed afresh for the next one: after a whole file, other replicas have taken or
                # finished most of this listing, and claiming a file already done costs a claim, a
                # record read and two deletes, where a listing is one request.
                return True
        return False

    def _take(self, blob_name: str) -> bool:
        try:
            session_id, file_id, _ = parse_upload_blob(blob_name)
        except PermanentError:
            if blob_name not in self._ignored:  # said once, not every round
                self._ignored.add(blob_name)
                log.warning(
                    "extract: %s is not an upload of a session; left alone", mask_card_numbers(blob_name)
                )
            return False
        container, claim = self.settings.sessions_container, claim_blob(session_id, file_id)
        lease = self.storage.acquire_lease(container, claim, self.lease_seconds)
        if lease is None:
            return False  # another worker has it in hand
        log.info("extract: claimed %s", blob_name)
        keeper = _Keeper(
            f"claim on {blob_name}",
            self.lease_seconds / RENEWALS_PER_TERM,
            lambda: self.storage.renew_lease(container, claim, lease),
            self.health.beat,
        )
        try:
            with keeper:
                extract_upload(self.storage, self.settings, blob_name)
        except TransientError:
            raise
        except Exception as exc:
            # An unforeseen failure: retried by later rounds, but not for ever (the Functions host
            # gives up after its tries too); the file then fails with the reason.
            self._failures[blob_name] = tries = self._failures.get(blob_name, 0) + 1
            if tries < self.settings.max_dequeue_count:
                raise
            log.exception("extract: %s failed %d times; setting it aside", blob_name, tries)
            give_up_upload(self.storage, self.settings, blob_name, f"{type(exc).__name__}: {exc}")
            self._failures.pop(blob_name, None)
        finally:
            self._release(container, claim, lease)
        return True

    def _release(self, container: str, claim: str, lease: str) -> None:
        """Drop the claim and its blob; a lapsed claim (taken over, or to be) is left to its holder."""
        try:
            self.storage.release_lease(container, claim, lease, delete=True)
        except ConflictError:
            log.warning("extract: %s had lapsed before the step ended", claim)
        except TransientError as exc:
            log.warning("extract: %s not released (it will lapse): %s", claim, exc)


class FinalizeWorker(Worker):
    """Finishes sessions from the results queue, one message at a time."""

    kind = "finalize"

    def __init__(
        self,
        storage: Storage,
        settings: Settings,
        *,
        visibility_seconds: int = 30,
        poll_seconds: float = 1,
        health_file: Path | None = None,
    ) -> None:
        if visibility_seconds < 1:
            raise ValueError(f"a message stays hidden at least 1 s, not {visibility_seconds}")
        super().__init__(storage, settings, poll_seconds=poll_seconds, health_file=health_file)
        self.visibility_seconds = visibility_seconds
        self.queue = settings.results_queue

    def work(self) -> bool:
        """Take one message and finish its session (or give it up after its last try)."""
        received = self.storage.receive(self.queue, visibility_seconds=self.visibility_seconds)
        if not received:
            metrics.results_queue_oldest_age.set(0)
            return False
        message = received[0]
        if message.inserted is not None:
            metrics.results_queue_oldest_age.set((now() - message.inserted).total_seconds())
        if message.dequeue_count > self.settings.max_dequeue_count:
            # Every try was used up without an answer: the worker holding it died each time.
            finalize_failed(
                self.storage, self.settings, message.content, None, dequeue_count=message.dequeue_count
            )
            self._poison(message, f"no try finished in {message.dequeue_count}")
            return True
        holder = _HeldMessage(self.storage, self.queue, message, self.visibility_seconds)
        keeper = _Keeper(
            f"message {message.id}",
            self.visibility_seconds / RENEWALS_PER_TERM,
            holder.extend,
            self.health.beat,
        )
        try:
            with keeper:
                finalize_session(self.storage, self.settings, message.content)
        except Exception as exc:  # noqa: BLE001 — any failure uses up one try; `_failed` logs it
            self._failed(holder.message, exc)
            return True
        self._remove(holder.message, "done")
        return True

    def _failed(self, message: Message, exc: Exception) -> None:
        tries = f"try {message.dequeue_count} of {self.settings.max_dequeue_count}"
        if finalize_failed(
            self.storage, self.settings, message.content, exc, dequeue_count=message.dequeue_count
        ):
            # A product error says what went wrong in its message; anything else needs its traceback.
            trace = None if isinstance(exc, CcprocError) else exc
            log.error("finalize: %s failed, the last: %s", tries, mask_card_numbers(str(exc)), exc_info=trace)
            self._poison(message, "last try failed")
        else:
            log.warning(
                "finalize: %s failed, back on the queue within %d s: %s",
                tries,
                self.visibility_seconds,
                mask_card_numbers(str(exc)),
            )
        if isinstance(exc, TransientError):
            raise exc  # the loop backs off before the next round

    def _poison(self, message: Message, why: str) -> None:
        # Copied before it is deleted: a crash in between leaves a duplicate, never a lost message.
        self.storage.send(poison_queue(self.queue), message.content)
        self._remove(message, "poisoned")
        log.error("finalize: message %s moved to %s (%s)", message.id, poison_queue(self.queue), why)

    def _remove(self, message: Message, what: str) -> None:
        try:
            self.storage.remove(self.queue, message)
        except TransientError:
            raise
        except Exception as exc:  # noqa: BLE001 — a message no longer ours (its receipt changed) is not an error of ours
            log.warning(
                "finalize: message %s (%s) could not be deleted, it may run again: %s",
                message.id,
                what,
                mask_card_numbers(str(exc)).splitlines()[0],
            )


class _HeldMessage:
    """A received message and its latest pop receipt, moved forward by each extension."""

    def __init__(self, storage: Storage, queue: str, message: Message, visibility_seconds: int) -> None:
        self._storage, self._queue, self._seconds = storage, queue, visibility_seconds
        self.message = message

    def extend(self) -> None:
        try:
            self.message = self._storage.extend(self._queue, self.message, visibility_seconds=self._seconds)
        except (ConflictError, TransientError):
            raise
        except Exception as exc:
            # A stale pop receipt comes back as the SDK's own 400 error: the message is no longer ours.
            raise ConflictError(f"message {self.message.id}: {str(exc).splitlines()[0]}") from exc
