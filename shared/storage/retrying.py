"""`RetryingStorage`: any `Storage`, with calls that fail transiently retried (tenacity: exponential
backoff, full jitter, bounded in attempts and in time by the settings), each retry logged.

What a retry may do differs per method, because a transient error does not say whether the call
reached storage (a connection reset after the request was sent: the answer was lost, not the write).

Retried as they are — reading, or writing the same thing again, ends in the same state:
    get_bytes, info, read_range, peek_count, upload_url, download_to (rewrites its file from the
    start), list (the whole listing is read under the retry, so a failure half-way restarts it
    rather than repeating or skipping names), open_read (only the request that opens the blob: the
    chunks go to an HTTP client as they come and cannot be taken back), put_file (reopens the file),
    copy (the same source onto the same target), renew_lease (the same lease id again).

Retried, with a lost answer tolerated by the callers:
    put_bytes with `if_match` (an ETag or CREATE_ONLY): if the first try landed, the retry answers
        `ConflictError` (the ETag moved on, or the blob now exists). After a try whose outcome is
        unknown, such a conflict is checked by reading the blob back: holding exactly our bytes, it
        is our write, and its ETag is returned; otherwise the conflict is real and raised.
    delete: a lost answer makes the retry say False ("already gone") for a blob this call removed.
    acquire_lease: a lost answer makes the retry see "held by someone" (None): the claim is skipped
        and lapses after one lease term, so the item waits at most that long.
    release_lease: a lost answer makes the retry answer ConflictError, which callers already take as
        "no longer ours".
    send: a lost answer sends the message twice. Every results message is safe to handle twice
        (finalize does nothing more once a session is done), and a message never sent would leave a
        session waiting forever, so a duplicate is the lesser risk.
    receive: a lost answer hides messages nobody saw until their visibility ends; they come back.
    remove: a lost answer makes the retry find no message; callers log it and go on.

Not retried:
    put_stream — the stream is consumed by the first try and cannot be read again; the caller's
        caller repeats the whole step (an HTTP client re-sends, a finalize message comes back).
    extend — a lost answer changed the pop receipt, so a retry with the old one could only fail;
        the caller (the worker's keeper) retries by itself a third of a term later with the receipt
        it holds.
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)

from shared.errors import ConflictError, NotFoundError, TransientError
from shared.settings import Settings
from shared.storage.gateway import BlobInfo, Message, Readable, Storage
from shared.values import mask_card_numbers

log = logging.getLogger("ccproc.storage")
T = TypeVar("T")


class RetryingStorage:
    """`storage`, with transient failures retried as the module docstring lays out per method."""

    def __init__(self, storage: Storage, settings: Settings, *, deadline: float | None = None) -> None:
        """`deadline`: no new try of a call after this many seconds (default `storage_retry_seconds`)."""
        self.inner = storage
        self._attempts = settings.storage_retry_attempts
        self._seconds = settings.storage_retry_seconds if deadline is None else deadline
        self._first_wait = settings.storage_retry_first_wait_seconds
        self._max_wait = settings.storage_retry_max_wait_seconds

    def _retrying(self, what: str) -> Retrying:
        """A fresh policy for one call (tenacity keeps per-call state on the object)."""

        def logged(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            pause = state.next_action.sleep if state.next_action else 0.0
            # Masked as a whole: blob names carry file names, which people type card numbers into.
            log.warning(
                mask_card_numbers(
                    f"storage: {what} failed (try {state.attempt_number} of {self._attempts}), "
                    f"retrying in {pause:.2f} s: {error}"
                )
            )

        return Retrying(
            retry=retry_if_exception_type(TransientError),
            stop=stop_after_attempt(self._attempts) | stop_after_delay(self._seconds),
            wait=wait_random_exponential(multiplier=self._first_wait, max=self._max_wait),
            before_sleep=logged,
            reraise=True,  # the caller sees the gateway's own error, never tenacity's RetryError
        )

    def _call(self, what: str, call: Callable[[], T]) -> T:
        for attempt in self._retrying(what):
            with attempt:
                return call()
        raise AssertionError("unreachable: tenacity re-raises the last error")  # pragma: no cover

    def close(self) -> None:
        """Close the wrapped gateway's connections, when it has any."""
        close = getattr(self.inner, "close", None)
        if close is not None:
            close()

    # -- blobs --------------------------------------------------------------------------------
    def put_bytes(
        self,
        container: str,
        name: str,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        if_match: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> str:
        """Write a whole blob; a conditional write whose earlier try may have landed is checked."""
        uncertain = False

        def write() -> str:
            nonlocal uncertain
            try:
                return self.inner.put_bytes(
                    container, name, data, content_type=content_type, if_match=if_match, metadata=metadata
                )
            except TransientError:
                uncertain = True
                raise
            except ConflictError:
                if not uncertain or if_match is None:
                    raise
                mine = self._ours(container, name, data)
                if mine is None:
                    raise
                log.info(
                    "storage: %s/%s was written by an earlier try (its answer was lost)", container, name
                )
                return mine

        return self._call(f"write {container}/{name}", write)

    def _ours(self, container: str, name: str, data: bytes) -> str | None:
        """The blob's ETag when it holds exactly `data` (our own write), else None."""
        try:
            found, etag = self.inner.get_bytes(container, name)
        except NotFoundError:
            return None
        return etag if found == data else None

    def put_stream(
        self,
        container: str,
        name: str,
        stream: Readable,
        *,
        length: int | None = None,
        content_type: str = "application/octet-stream",
        metadata: dict[str, str] | None = None,
    ) -> str:
        """Not retried: a stream read once cannot be read again (see the module docstring)."""
        return self.inner.put_stream(
            container, name, stream, length=length, content_type=content_type, metadata=metadata
        )

    def put_file(
        self, container: str, name: str, path: Path, *, content_type: str = "application/octet-stream"
    ) -> str:
        """Upload a local file; each try reads it from the start."""
        return self._call(
            f"upload {container}/{name}",
            lambda: self.inner.put_file(container, name, path, content_type=content_type),
        )

    def get_bytes(self, container: str, name: str) -> tuple[bytes, str]:
        """A small blob's bytes and ETag."""
        return self._call(f"read {container}/{name}", lambda: self.inner.get_bytes(container, name))

    def download_to(self, container: str, name: str, path: Path) -> int:
        """Stream a blob into a local file; each try rewrites the file from the start."""
        return self._call(
            f"download {container}/{name}", lambda: self.inner.download_to(container, name, path)
        )

    def open_read(self, container: str, name: str) -> Iterator[bytes]:
        """The opening request is retried; chunks already handed out cannot be."""
        return self._call(f"open {container}/{name}", lambda: self.inner.open_read(container, name))

    def read_range(self, container: str, name: str, offset: int, length: int) -> bytes:
        """`length` bytes of a blob from `offset`."""
        return self._call(
            f"read {container}/{name}", lambda: self.inner.read_range(container, name, offset, length)
        )

    def info(self, container: str, name: str) -> BlobInfo:
        """Size, ETag, time and metadata of one blob."""
        return self._call(f"info {container}/{name}", lambda: self.inner.info(container, name))

    def list(self, container: str, prefix: str = "") -> Iterator[BlobInfo]:
        """The whole listing, read under the retry (a listing is names, small next to the blobs)."""
        found = self._call(
            f"list {container}/{prefix}", lambda: builtins.list(self.inner.list(container, prefix))
        )
        return iter(found)

    def list_page(
        self, container: str, prefix: str, *, limit: int, token: str | None = None
    ) -> tuple[builtins.list[BlobInfo], str | None]:
        """One page of a listing, read under the retry."""
        return self._call(
            f"list {container}/{prefix}",
            lambda: self.inner.list_page(container, prefix, limit=limit, token=token),
        )

    def delete(self, container: str, name: str) -> bool:
        """Delete one blob; after a lost answer the retry may say False for a blob it removed."""
        return self._call(f"delete {container}/{name}", lambda: self.inner.delete(container, name))

    def copy(self, source_container: str, source_name: str, container: str, name: str) -> None:
        """Server-side copy; a repeat copies the same source onto the same target."""
        self._call(
            f"copy {source_container}/{source_name}",
            lambda: self.inner.copy(source_container, source_name, container, name),
        )

    def upload_url(self, container: str, name: str, *, minutes: int) -> str:
        """A write-only URL for one blob (signing; at most a delegation key is fetched)."""
        return self._call(
            f"upload URL {container}/{name}",
            lambda: self.inner.upload_url(container, name, minutes=minutes),
        )

    # -- leases -------------------------------------------------------------------------------
    def acquire_lease(self, container: str, name: str, seconds: int) -> str | None:
        """Lease a blob; a lost answer reads as "held" and the lease lapses after one term."""
        return self._call(
            f"lease {container}/{name}", lambda: self.inner.acquire_lease(container, name, seconds)
        )

    def renew_lease(self, container: str, name: str, lease_id: str) -> None:
        """Renew a held lease (the same id, so a repeat is harmless)."""
        self._call(f"renew {container}/{name}", lambda: self.inner.renew_lease(container, name, lease_id))

    def release_lease(self, container: str, name: str, lease_id: str, *, delete: bool = False) -> None:
        """End a held lease; after a lost answer the retry answers ConflictError ("not ours")."""
        self._call(
            f"release {container}/{name}",
            lambda: self.inner.release_lease(container, name, lease_id, delete=delete),
        )

    # -- queues -------------------------------------------------------------------------------
    def send(self, queue: str, content: str) -> None:
        """Put a message on a queue; a lost answer may send it twice (handled twice, harmlessly)."""
        self._call(f"send to {queue}", lambda: self.inner.send(queue, content))

    def receive(self, queue: str, *, visibility_seconds: int, limit: int = 1) -> builtins.list[Message]:
        """Take messages; ones taken by a try whose answer was lost come back after their visibility."""
        return self._call(
            f"receive from {queue}",
            lambda: self.inner.receive(queue, visibility_seconds=visibility_seconds, limit=limit),
        )

    def extend(self, queue: str, message: Message, *, visibility_seconds: int) -> Message:
        """Not retried: a retry would carry a pop receipt a lost answer made stale (see above)."""
        return self.inner.extend(queue, message, visibility_seconds=visibility_seconds)

    def remove(self, queue: str, message: Message) -> None:
        """Delete a handled message."""
        self._call(f"remove from {queue}", lambda: self.inner.remove(queue, message))

    def peek_count(self, queue: str) -> int:
        """Approximate number of messages on a queue."""
        return self._call(f"count {queue}", lambda: self.inner.peek_count(queue))
