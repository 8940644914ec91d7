"""Request bodies: a body as a blocking `read(size)`, so a synchronous use case can stream it to
storage, and the size limit every body meets before a route reads it (`BodyLimitMiddleware`).

The upload use case (`accept_upload`) and the storage SDK under it are blocking code, so they run
in a worker thread. Each `read` there pulls the next chunks of the ASGI body from the event loop
(`anyio.from_thread.run`, with the loop's token so any thread may call it, the SDK's own upload
threads included). Memory stays at about one read's `size` (a 4 MiB block); nothing goes to disk.

Spooling the body to a temporary file first would also work, but would write every upload to local
disk and only start sending it to storage once the client has finished; this way the signature
check and the session check answer after the first chunk, and storage receives blocks as they come.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import anyio.from_thread
import anyio.lowlevel
from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import ClientGoneError, TooLargeError
from shared.http.errors import error_response


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


# -- every body's limit, before a route reads it ------------------------------------------------
SMALL_BODY_LIMIT = 64 * 1024  # every route but the upload takes a small JSON body at most
_UPLOAD_PATH = re.compile(r"^/api/sessions/[^/]+/files/[^/]+$")


class BodyLimitMiddleware:
    """ASGI middleware: a body larger than its route takes is answered 413 before the route reads it.

    The upload (`PUT .../files/{name}`) takes `upload_limit`: a larger Content-Length is refused here,
    before a byte of the body is read; a chunked body is counted by the route as it streams
    (`BlockingBody`). Every other route takes at most SMALL_BODY_LIMIT: a larger Content-Length is
    refused at once, and a chunked body is read only that far, so no route ever buffers a big body
    in memory (FastAPI reads a JSON body whole before validating it).
    """

    def __init__(self, app: ASGIApp, *, upload_limit: int) -> None:
        self.app = app
        self._upload_limit = upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        upload = scope["method"] == "PUT" and _UPLOAD_PATH.match(scope["path"]) is not None
        limit = self._upload_limit if upload else SMALL_BODY_LIMIT
        announced = headers.get("content-length")
        if announced is not None:
            if not announced.strip().isdigit():
                problem = "Content-Length must be a whole number of bytes"
                await error_response(400, "bad_content_length", problem)(scope, receive, send)
                return
            if int(announced) > limit:
                await _too_large(limit, upload)(scope, receive, send)
                return
        if upload or (announced in (None, "0") and "transfer-encoding" not in headers):
            await self.app(scope, receive, send)  # no body, or one the route counts as it streams
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client left before its body was whole: nobody to answer
            body += message.get("body", b"")
            if len(body) > limit:
                await _too_large(limit, upload)(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, replay, send)


def _too_large(limit: int, upload: bool) -> Response:
    hint = ": ask for an upload URL (POST .../upload-url) instead" if upload else ""
    message = f"the body is larger than the {limit} bytes this route takes{hint}"
    return error_response(413, "too_large", message)
