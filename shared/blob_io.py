"""Streams over request bodies and blobs that the session use cases need."""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterator

from shared.storage import Readable, Storage


def zip_member(
    storage: Storage, container: str, zip_blob: str, name: str, *, missing: Callable[[str], Exception]
) -> Iterator[bytes]:
    """One receipt PDF read out of the receipts ZIP in storage by ranged reads (the PDFs are kept
    only inside the ZIP: a thousand small uploads would cost more than the session's extraction)."""
    member = name.removeprefix("receipts/")
    with zipfile.ZipFile(BlobFile(storage, container, zip_blob)) as archive:
        try:
            data = archive.read(member)
        except KeyError as exc:
            raise missing(f"no receipt {member[:60]!r}") from exc
    return iter([data])


def zip_names(storage: Storage, container: str, zip_blob: str) -> list[str]:
    """The member names of a ZIP in storage, read from its central directory by ranged reads."""
    with zipfile.ZipFile(BlobFile(storage, container, zip_blob)) as archive:
        return archive.namelist()


class BlobFile:
    """A read-only, seekable view of a blob through ranged reads: what `zipfile` needs."""

    def __init__(self, storage: Storage, container: str, name: str) -> None:
        self._storage, self._container, self._name = storage, container, name
        self._size = storage.info(container, name).size
        self._pos = 0

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def read(self, size: int = -1) -> bytes:
        size = self._size - self._pos if size < 0 else min(size, self._size - self._pos)
        if size <= 0:
            return b""
        data = self._storage.read_range(self._container, self._name, self._pos, size)
        self._pos += len(data)
        return data


class CappedBody:
    """The bytes already read for the signature check, then the rest of the body; counts and caps."""

    def __init__(
        self, head: bytes, rest: Readable, limit: int, *, too_large: Callable[[str], Exception]
    ) -> None:
        self._head, self._rest, self._limit, self._too_large = head, rest, limit, too_large
        self.count = 0

    def read(self, size: int = -1, /) -> bytes:
        if size < 0:
            chunk, self._head = self._head + self._rest.read(-1), b""
        elif self._head:
            chunk, self._head = self._head[:size], self._head[size:]
            if len(chunk) < size:
                chunk += self._rest.read(size - len(chunk))
        else:
            chunk = self._rest.read(size)
        self.count += len(chunk)
        if self.count > self._limit:
            raise self._too_large(
                f"the body is larger than {self._limit} bytes: ask for an upload URL instead"
            )
        return chunk
