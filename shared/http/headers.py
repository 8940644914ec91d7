"""Protective headers on every answer of the HTTP app, and HEAD wherever GET answers.

One ASGI middleware (`ProtectiveHeaders`, outermost in `shared.http.app.build_app`), so uvicorn
(`ccproc api`) and the Functions host (`func.AsgiMiddleware`) send the same headers from the same
code; the few answers the Functions adapters give before the app use `protective_headers` directly.

- every answer: `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`;
- an HTML answer: the page's policy (`page_policy`): only its own scripts, styles and images, no inline
  code, no framing, and requests to itself and to the blob endpoint it uploads large files to;
- the API's Swagger UI (`/api/docs`): a narrow policy of its own (`docs_policy`), as it needs its CDN;
- a PDF answered inline (a receipt PDF asked for with `?inline=1`, shown beside its transaction in the
  page's frame): `INLINE_PDF_POLICY`, which lets the page's own origin frame it and nothing else;
- any other answer: `default-src 'none'; frame-ancestors 'none'` (JSON and files render nothing);
- under `/api/` (session data): `Cache-Control: no-store`. The page's files keep their validators.
"""

from __future__ import annotations

import base64
import hashlib
import re
import urllib.parse
from collections.abc import Mapping

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.settings import Settings

API_PREFIX = "/api/"
NOSNIFF = ("X-Content-Type-Options", "nosniff")
NO_REFERRER = ("Referrer-Policy", "no-referrer")
NO_STORE = ("Cache-Control", "no-store")
# Answers that are not HTML load nothing and may not be framed.
DATA_POLICY = "default-src 'none'; frame-ancestors 'none'"
# A PDF shown inline loads nothing either, and only a page of this origin may frame it (no other site can
# show a receipt in a frame of its own). Tried in Debian's Chromium 156 (tests/test_receipt_view.py):
# its PDF viewer draws the PDF under `default-src 'none'` (no `object-src 'self'` needed, unlike the
# viewer's embed in some older versions), framed directly or from a blob: URL of the page; only
# `frame-ancestors 'none'` stops it ("127.0.0.1 is blocked"). No X-Frame-Options is sent on any answer:
# `frame-ancestors` says it, and a DENY beside it would block the frame in browsers that still read it.
INLINE_PDF_POLICY = "default-src 'none'; frame-ancestors 'self'"
# The blob endpoint of the development account when a connection string says UseDevelopmentStorage.
DEVELOPMENT_BLOB_ORIGIN = "http://127.0.0.1:10000"
_HOST = re.compile(r"^[a-z0-9.-]+$|^\[[0-9a-f:.]+\]$")
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def page_policy(upload_origin: str | None) -> str:
    """The page's Content-Security-Policy: nothing inline, nothing from elsewhere but the PUTs of
    upload-URL uploads to `upload_origin` (see `storage_origin`). It frames its own origin (a receipt
    PDF served inline) and `blob:` URLs (the same PDF fetched with an access key in a header); plugins
    stay off (`object-src 'none'`): Chromium's PDF viewer in a frame is not one the page embeds."""
    connect = " ".join(["'self'", *([upload_origin] if upload_origin else [])])
    return "; ".join(
        [
            "default-src 'self'",
            f"connect-src {connect}",
            "frame-src 'self' blob:",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def docs_policy(html: str) -> str:
    """The policy of the API's Swagger UI page `html` (`/api/docs`): its CDN's script and styles,
    its one inline bootstrap script by hash, and inline styles (Swagger UI sets them as it renders;
    the page shows the API document only)."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src https://cdn.jsdelivr.net {hashes}",
            "style-src https://cdn.jsdelivr.net 'unsafe-inline'",
            "img-src data: https://fastapi.tiangolo.com",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


def storage_origin(settings: Settings) -> str | None:
    """The origin of the blob endpoint the settings connect to (where upload URLs point), read as the
    Azure SDK reads a connection string; None when the settings name no storage or a malformed one."""
    if settings.storage_connection:
        endpoint = _blob_endpoint(settings.storage_connection)
    else:
        endpoint = settings.azure_storage_account_url or None
    return _origin(endpoint) if endpoint else None


def _blob_endpoint(connection: str) -> str | None:
    pairs = [part.split("=", 1) for part in connection.rstrip(";").split(";")]
    if any(len(pair) != 2 for pair in pairs):  # each part a key and its value
        return None
    fields = {key.strip().upper(): value.strip() for key, value in pairs}
    if fields.get("USEDEVELOPMENTSTORAGE", "").lower() == "true":
        return DEVELOPMENT_BLOB_ORIGIN
    if fields.get("BLOBENDPOINT"):
        return fields["BLOBENDPOINT"]
    if not fields.get("ACCOUNTNAME"):
        return None
    protocol = fields.get("DEFAULTENDPOINTSPROTOCOL") or "https"
    suffix = fields.get("ENDPOINTSUFFIX") or "core.windows.net"
    return f"{protocol}://{fields['ACCOUNTNAME']}.blob.{suffix}"


def _origin(url: str) -> str | None:
    """`scheme://host[:port]` of an http(s) URL, or None: it goes into a header, so nothing else."""
    try:
        parts = urllib.parse.urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "")
    host = f"[{host}]" if ":" in host else host
    if scheme not in ("http", "https") or not _HOST.match(host):
        return None
    return f"{scheme}://{host}" + (f":{port}" if port is not None else "")


def protective_headers(
    path: str, content_type: str, *, html_policy: str | None = None, disposition: str = ""
) -> list[tuple[str, str]]:
    """The headers an answer at `path` of `content_type` (and `Content-Disposition`) carries; an HTML
    answer needs its policy."""
    headers = [NOSNIFF, NO_REFERRER]
    if content_type.lower().startswith("text/html"):
        if html_policy is None:
            raise ValueError(f"an HTML answer at {path[:80]!r} needs its Content-Security-Policy")
        headers.append(("Content-Security-Policy", html_policy))
    elif content_type.lower().startswith("application/pdf") and disposition.lower().startswith("inline"):
        headers.append(("Content-Security-Policy", INLINE_PDF_POLICY))
    else:
        headers.append(("Content-Security-Policy", DATA_POLICY))
    if path.startswith(API_PREFIX):
        headers.append(NO_STORE)
    return headers


class ProtectiveHeaders:
    """ASGI middleware: `protective_headers` on every answer, and HEAD answered as GET without its body
    (FastAPI's GET routes do not answer HEAD; the page's files do, and now every GET does alike)."""

    def __init__(self, app: ASGIApp, *, page: str, html_policies: Mapping[str, str] | None = None) -> None:
        """`page`: the policy of HTML answers; `html_policies`: another one for the HTML at some paths."""
        self.app = app
        self.page = page
        self.html_policies = dict(html_policies or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        head = scope["method"] == "HEAD"
        if head:
            scope = {**scope, "method": "GET"}
        path: str = scope["path"]
        policy = self.html_policies.get(path, self.page)

        async def guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in protective_headers(
                    path,
                    headers.get("content-type", ""),
                    html_policy=policy,
                    disposition=headers.get("content-disposition", ""),
                ):
                    headers[name] = value
            elif head and message["type"] == "http.response.body":
                message = {**message, "body": b""}
            elif head and message["type"] == "http.response.pathsend":
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        await self.app(scope, receive, guarded)
