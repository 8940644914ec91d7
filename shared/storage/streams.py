"""Streams the session use cases and steps read: request bodies, files still being written."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import BinaryIO

from shared.errors import AbandonedError
from shared.storage.gateway import Readable


class NumberedFiles:
    """The numbered PDFs (`0.pdf`, `1.pdf`, …) another process is still cutting into a folder, read
    end to end as one stream while they come; `placed` says where each went. A number whose file
    never comes (its cut failed) is passed over once a later one is there, or once `finished` is
    set; a read raises `AbandonedError` once `abandoned` is set."""

    _POLL_SECONDS = 0.02

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._number, self._offset = 0, 0
        self._current: BinaryIO | None = None
        self.placed: dict[int, tuple[int, int]] = {}  # number: (offset, length)
        self.finished, self.abandoned = threading.Event(), threading.Event()

    def read(self, size: int = -1, /) -> bytes:
        """`size` bytes (all the rest with -1), fewer only at the end: a reader that concatenates
        short reads (the SDK does, into each block) would copy each block many times."""
        parts: list[bytes] = []
        wanted = size if size >= 0 else None
        while wanted is None or wanted > 0:
            if self.abandoned.is_set():
                raise AbandonedError
            if self._current is None:
                finished = self.finished.is_set()  # before looking: whatever came by then is read
                if not self._next_file():
                    if finished:
                        break
                    self.abandoned.wait(self._POLL_SECONDS)
                    continue
            assert self._current is not None
            data = self._current.read(wanted if wanted is not None else -1)
            if not data:
                self._current.close()
                self._current = None
                continue
            parts.append(data)
            self._offset += len(data)
            if wanted is not None:
                wanted -= len(data)
        return b"".join(parts)

    def _next_file(self) -> bool:
        """Open the next numbered file if it is there (passing over numbers that never came)."""
        while True:
            path = self._folder / f"{self._number}.pdf"
            try:
                self._current = path.open("rb")
            except FileNotFoundError:
                if not self._later_exists():
                    return False
                self._number += 1  # its cut failed; a later one is there
                continue
            self.placed[self._number] = (self._offset, path.stat().st_size)
            self._number += 1
            return True

    def _later_exists(self) -> bool:
        with suppress(FileNotFoundError), os.scandir(self._folder) as entries:
            for entry in entries:
                stem = entry.name.removesuffix(".pdf")
                if stem.isdigit() and int(stem) > self._number:
                    return True
        return False

    def close(self) -> None:
        if self._current is not None:
            self._current.close()


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
