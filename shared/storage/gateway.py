"""The storage gateway: the one door to blobs and queues. Use cases see only `Storage`.

`AzureStorage` (in `shared/storage/azure.py`) is the real thing, run against Azurite in tests.
Writers that may race name an ETag (`if_match`) or create-only (`if_match="*new*"`), and a lost race
raises `ConflictError` for the caller to re-read and retry.
"""

from __future__ import annotations

import builtins
import datetime as dt
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

CREATE_ONLY = "*new*"
# The terms a blob lease may have (Azure Storage refuses others, and so does Azurite).
LEASE_SECONDS_MIN, LEASE_SECONDS_MAX = 15, 60


class Readable(Protocol):
    """Anything with `read(size)`: a file, a request body, a wrapper that counts."""

    def read(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True)
class BlobInfo:
    """What a listing tells about one blob."""

    name: str
    size: int
    etag: str
    last_modified: dt.datetime
    metadata: dict[str, str]


@dataclass(frozen=True)
class Message:
    """A queue message as received: its text, and what deleting or extending it needs."""

    id: str
    pop_receipt: str
    content: str
    dequeue_count: int
    inserted: dt.datetime | None = None  # when it was first sent (the queue's age, for metrics)


class Storage(Protocol):
    """Blobs and queues, as the use cases need them (`list` is a method here: `builtins.list` is the type)."""

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
        """Write a whole blob; returns its new ETag. `if_match`: an ETag or CREATE_ONLY."""
        ...

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
        """Write a blob from a stream, in blocks, never holding it whole; returns its ETag."""
        ...

    def put_file(
        self, container: str, name: str, path: Path, *, content_type: str = "application/octet-stream"
    ) -> str:
        """Upload a local file in blocks; returns its ETag."""
        ...

    def get_bytes(self, container: str, name: str) -> tuple[bytes, str]:
        """A small blob's bytes and ETag; NotFoundError when absent."""
        ...

    def download_to(self, container: str, name: str, path: Path) -> int:
        """Stream a blob into a local file (scratch space); returns the bytes written."""
        ...

    def open_read(self, container: str, name: str) -> Iterator[bytes]:
        """A blob's content as chunks, for streaming it to an HTTP client."""
        ...

    def read_range(self, container: str, name: str, offset: int, length: int) -> bytes:
        """`length` bytes of a blob from `offset` (fewer at its end)."""
        ...

    def info(self, container: str, name: str) -> BlobInfo:
        """Size, ETag, time and metadata of one blob; NotFoundError when absent."""
        ...

    def list(self, container: str, prefix: str = "") -> Iterator[BlobInfo]:
        """Blobs whose names start with `prefix`."""
        ...

    def list_page(
        self, container: str, prefix: str, *, limit: int, token: str | None = None
    ) -> tuple[builtins.list[BlobInfo], str | None]:
        """At most `limit` blobs whose names start with `prefix`, in name order, from where `token`
        (the token an earlier page gave) left off; and the token of the next page, None after the last.
        BadPageTokenError for a token storage does not take."""
        ...

    def delete(self, container: str, name: str) -> bool:
        """Delete one blob; False when it was already gone."""
        ...

    def copy(self, source_container: str, source_name: str, container: str, name: str) -> None:
        """Server-side copy of a blob (waits until the copy is complete)."""
        ...

    def upload_url(self, container: str, name: str, *, minutes: int) -> str:
        """A URL allowing one PUT (create/write only) of this one blob for `minutes`."""
        ...

    # -- leases -------------------------------------------------------------------------------
    def acquire_lease(self, container: str, name: str, seconds: int) -> str | None:
        """Lease a blob for `seconds` (LEASE_SECONDS_MIN to LEASE_SECONDS_MAX), creating it empty
        when absent; the lease id, or None while another holder's lease is active."""
        ...

    def renew_lease(self, container: str, name: str, lease_id: str) -> None:
        """Hold a lease for another full term; ConflictError when it is no longer this holder's
        (it lapsed and was taken, was released, or its blob is gone)."""
        ...

    def release_lease(self, container: str, name: str, lease_id: str, *, delete: bool = False) -> None:
        """End a held lease now, and with `delete` remove its blob in the same call; ConflictError
        when it is no longer this holder's."""
        ...

    # -- queues -------------------------------------------------------------------------------
    def send(self, queue: str, content: str) -> None:
        """Put a message on a queue."""
        ...

    def receive(self, queue: str, *, visibility_seconds: int, limit: int = 1) -> builtins.list[Message]:
        """Take up to `limit` messages, invisible to others for `visibility_seconds`."""
        ...

    def extend(self, queue: str, message: Message, *, visibility_seconds: int) -> Message:
        """Keep a message hidden longer (returns it with its new pop receipt)."""
        ...

    def remove(self, queue: str, message: Message) -> None:
        """Delete a handled message."""
        ...

    def peek_count(self, queue: str) -> int:
        """Approximate number of messages on a queue."""
        ...


def back_off(attempt: int) -> None:
    """A short random pause after a lost race, growing with the attempts, so writers spread out."""
    time.sleep(random.uniform(0, min(0.5, 0.01 * 2**attempt)))  # noqa: S311 — jitter, not secrecy
