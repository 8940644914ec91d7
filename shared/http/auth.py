"""Who is calling: API keys (for a runtime where no host checks keys, Kubernetes behind uvicorn) and
the tenant ("owner") each request acts for.

A session belongs to the owner that created it. The owner is derived here, at the edge, and handed
to the use cases explicitly (`caller_owner` puts it into the request's state, a route reads it):

| runtime | the owner |
|---|---|
| uvicorn with keys (`ccproc api`) | the key the request was let in with |
| Functions host (it checked the key) | the principal id (when trusted), else `x-functions-key` or `?code=` |
| keyless (`ccproc dev`), no key sent | None: the one local owner |

A key is never stored: its owner id is the first 16 hex digits of a SHA-256 over the key (with a
prefix of ours), stable and not reversible. The principal id header is only trusted when the
platform's authentication module is on (it then strips the header from outside requests); anyone
could send it otherwise.
"""

from __future__ import annotations

import hashlib
import hmac
import urllib.parse

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.http.errors import error_response

# Both names: clients written for the Functions host send its `x-functions-key` unchanged.
KEY_HEADERS = ("x-api-key", "x-functions-key")
PRINCIPAL_HEADER = "x-ms-client-principal-id"
KEY_QUERY = "code"  # the Functions host also takes its key as `?code=`
OWNER_STATE = "ccproc.owner"  # where the request's owner waits in the ASGI scope's state
_OWNER_DIGITS = 16


def owner_of(kind: str, secret: str) -> str:
    """A stable, non-reversible, blob-safe owner id for a key (`kind="key"`) or a principal (`"user"`)."""
    digest = hashlib.sha256(f"ccproc {kind}\0{secret}".encode()).hexdigest()
    return f"{kind}-{digest[:_OWNER_DIGITS]}"


class ApiKeyMiddleware:
    """ASGI middleware: finds who is calling and puts their owner id into the scope's state.

    With `keys`, every request but `open_paths` (and paths under `open_prefixes`) carries one of them,
    or is answered 401; it checks every path, unknown ones and the OpenAPI document included, so a
    caller without a key learns nothing about which routes exist. With `host_checks_keys` (the
    Functions host checked the key) a request without any key is answered 401 the same way: it did
    not come through the keyed function (the anonymous page function hands the app requests too), so
    it must not become the keyless local owner. With neither (a local API) nothing is refused here.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        keys: frozenset[str] | None,
        open_paths: frozenset[str],
        open_prefixes: tuple[str, ...] = (),
        host_checks_keys: bool = False,
        trust_principal: bool = False,
    ) -> None:
        self.app = app
        self._keys = None if keys is None else [key.encode() for key in keys]
        self._key_required = keys is not None or host_checks_keys
        self._open_paths = open_paths
        self._open_prefixes = open_prefixes
        self._trust_principal = trust_principal

    def _known(self, given: str) -> bool:
        assert self._keys is not None
        candidate = given.encode()
        # Every key is compared (no early exit), each in constant time.
        found = False
        for key in self._keys:
            found |= hmac.compare_digest(key, candidate)
        return found

    def _key(self, scope: Scope, headers: Headers) -> str | None:
        """The key the request is let in with: a known one when the app has keys, else the one the
        Functions host checked (its header, then its query parameter), else any key header."""
        if self._keys is not None:
            given = (value for name in KEY_HEADERS for value in headers.getlist(name))
            return next((value for value in given if self._known(value)), None)
        query: dict[str, list[str]] = urllib.parse.parse_qs(scope.get("query_string", b"").decode("latin-1"))
        value: str
        for value in (
            *headers.getlist("x-functions-key"),
            *query.get(KEY_QUERY, ()),
            *headers.getlist("x-api-key"),
        ):
            if value:
                return value
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        headers = Headers(scope=scope)
        key = self._key(scope, headers)
        if key is None and self._key_required:
            if path in self._open_paths or path.startswith(self._open_prefixes):
                await self.app(scope, receive, send)  # no owner: these touch no session
                return
            message = f"send a valid API key in the {KEY_HEADERS[0]} header"
            await error_response(401, "unauthorized", message)(scope, receive, send)
            return
        principal = headers.get(PRINCIPAL_HEADER) if self._trust_principal else None
        if principal:
            owner: str | None = owner_of("user", principal)
        else:
            owner = owner_of("key", key) if key else None
        if scope.get("state") is None:
            scope["state"] = {}
        scope["state"][OWNER_STATE] = owner
        await self.app(scope, receive, send)
