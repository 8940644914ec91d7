"""A request body as a blocking `read(size)`, so a synchronous use case can stream it to storage.

The upload use case (`accept_upload`) and the storage SDK under it are blocking code, so they run
in a worker thread. Each `read` there pulls the next chunks of the ASGI body from the event loop
(`anyio.from_thread.run`, with the loop's token so any thread may call it, the SDK's own upload
threads included). Memory stays at about one read's `size` (a 4 MiB block); nothing goes to disk.

Spooling the body to a temporary file first would also work, but would write every upload to local
disk and only start sending it to storage once the client has finished; this way the signature
check and the session check answer after the first chunk, and storage receives blocks as they come.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio.from_thread
import anyio.lowlevel
from starlette.requests import ClientDisconnect

from shared.sessions import RequestError, TooLargeError


class ClientGoneError(RequestError):
    """The client closed the connection before its body had arrived."""

    code = "client_disconnected"
    status = 400


class BlockingBody:
    """`read(size)` over an async stream of byte chunks; counts, and refuses more than `limit`."""

    def __init__(self, chunks: AsyncIterator[bytes], *, limit: int) -> None:
        """Build it on the event loop (it takes the running loop's token)."""
        self._chunks = chunks
        self._token = anyio.lowlevel.current_token()
        self._limit = limit
        self._buffer = bytearray()
        self._ended = False
        self.count = 0

    async def _next(self) -> bytes | None:
        try:
            return await anext(self._chunks)
        except StopAsyncIteration:
            return None
        except ClientDisconnect as exc:
            raise ClientGoneError("the connection closed before the whole body arrived") from exc

    def read(self, size: int = -1, /) -> bytes:
        """Up to `size` bytes (all that is left when `size` < 0); fewer only at the end. Blocking."""
        while not self._ended and (size < 0 or len(self._buffer) < size):
            chunk = anyio.from_thread.run(self._next, token=self._token)
            if chunk is None:
                self._ended = True
                break
            self.count += len(chunk)
            if self.count > self._limit:
                raise TooLargeError(
                    f"the body is larger than the {self._limit} bytes a direct upload takes: "
                    "ask for an upload URL (POST .../upload-url) instead"
                )
            self._buffer += chunk
        taken = len(self._buffer) if size < 0 else min(size, len(self._buffer))
        data = bytes(self._buffer[:taken])
        del self._buffer[:taken]
        return data
