"""API keys, for a runtime where no host checks keys before the app (Kubernetes behind uvicorn)."""

from __future__ import annotations

import hmac

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.http.errors import error_response

# Both names: clients written for the Functions host send its `x-functions-key` unchanged.
KEY_HEADERS = ("x-api-key", "x-functions-key")


class ApiKeyMiddleware:
    """ASGI middleware: every request but `open_paths` (and paths under `open_prefixes`) carries one of
    `keys`, or is answered 401.

    It checks every path, unknown ones and the OpenAPI document included, so a caller without a key
    learns nothing about which routes exist.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        keys: frozenset[str],
        open_paths: frozenset[str],
        open_prefixes: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self._keys = [key.encode() for key in keys]
        self._open_paths = open_paths
        self._open_prefixes = open_prefixes

    def _known(self, given: str) -> bool:
        candidate = given.encode()
        # Every key is compared (no early exit), each in constant time.
        found = False
        for key in self._keys:
            found |= hmac.compare_digest(key, candidate)
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        if scope["type"] != "http" or path in self._open_paths or path.startswith(self._open_prefixes):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if any(self._known(value) for name in KEY_HEADERS for value in headers.getlist(name)):
            await self.app(scope, receive, send)
            return
        response = error_response(401, "unauthorized", f"send a valid API key in the {KEY_HEADERS[0]} header")
        await response(scope, receive, send)
