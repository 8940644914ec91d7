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
import logging
import math
import secrets
import threading
import time
import urllib.parse
from collections import OrderedDict, deque

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.http.errors import error_response

# Both names: clients written for the Functions host send its `x-functions-key` unchanged.
KEY_HEADERS = ("x-api-key", "x-functions-key")
PRINCIPAL_HEADER = "x-ms-client-principal-id"
KEY_QUERY = "code"  # the Functions host also takes its key as `?code=`
OWNER_STATE = "ccproc.owner"  # where the request's owner waits in the ASGI scope's state
_OWNER_DIGITS = 16
log = logging.getLogger("ccproc.http")
# Key strength: long and varied enough that the digest stored as a tenant id cannot be guessed.
MIN_KEY_LENGTH, MIN_KEY_DISTINCT = 32, 12
# Failed key attempts a client may make in FAILURE_WINDOW seconds before it is answered 429.
FAILURE_BURST, FAILURE_WINDOW = 10, 60.0
_CLIENTS_TRACKED = 10_000


def new_key() -> str:
    """A key strong enough for `weak_key_reason`: 43 URL-safe characters from 32 random bytes."""
    return secrets.token_urlsafe(32)


def weak_key_reason(key: str) -> str | None:
    """Why `key` is too weak to be an API key, or None."""
    if len(key) < MIN_KEY_LENGTH:
        return f"an API key has at least {MIN_KEY_LENGTH} characters"
    if len(set(key)) < MIN_KEY_DISTINCT:
        return f"an API key has at least {MIN_KEY_DISTINCT} different characters"
    return None


class FailureThrottle:
    """Failed key attempts per client in a sliding window; past the burst, how long to wait."""

    def __init__(self, burst: int = FAILURE_BURST, window: float = FAILURE_WINDOW) -> None:
        self.burst, self.window = burst, window
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float]:
        times = self._failures.setdefault(client, deque())
        self._failures.move_to_end(client)
        while times and times[0] <= now - self.window:
            times.popleft()
        while len(self._failures) > _CLIENTS_TRACKED:
            self._failures.popitem(last=False)  # the longest quiet client goes first
        return times

    def wait(self, client: str) -> float:
        """Seconds until `client` may try a key again (0: now)."""
        now = time.monotonic()
        with self._lock:
            times = self._recent(client, now)
            return max(0.0, times[0] + self.window - now) if len(times) >= self.burst else 0.0

    def failed(self, client: str) -> None:
        """Record a failed attempt of `client`."""
        with self._lock:
            self._recent(client, time.monotonic()).append(time.monotonic())


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
        failure_burst: int = FAILURE_BURST,
    ) -> None:
        self.app = app
        self._keys = None if keys is None else [key.encode() for key in keys]
        self._key_required = keys is not None or host_checks_keys
        self._open_paths = open_paths
        self._open_prefixes = open_prefixes
        self._trust_principal = trust_principal
        self._throttle = FailureThrottle(burst=failure_burst)

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
            client = (scope.get("client") or ("unknown", 0))[0]
            guessed = any(headers.getlist(name) for name in KEY_HEADERS)  # a key sent, and wrong
            wait = self._throttle.wait(client) if guessed else 0.0
            if wait:
                # Guessing keys: slowed down (the key tried is never logged).
                log.warning("too many failed API keys from %s: refused for %.0f s", client, wait)
                retry = {"Retry-After": str(math.ceil(wait))}
                answer = error_response(
                    429, "too_many_attempts", "too many wrong keys: try again later", retry
                )
                await answer(scope, receive, send)
                return
            if guessed:
                self._throttle.failed(client)
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
