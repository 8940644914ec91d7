"""How the HTTP API fails: always JSON `{"error": {"code", "message"}}` with a clear status.

The HTTP status of every product error is decided here, and only here (`STATUS`, most specific
class first; the errors themselves, `shared.errors`, know nothing of HTTP):

| raised | status |
|---|---|
| `UnknownSessionError`, `UnknownAliasError`, `MissingReceiptError` | 404 |
| `WrongStateError` | 409 |
| `TooLargeError` (also `StorageQuotaError`: a tenant's stored bytes) | 413 |
| `NotPdfUploadError` | 415 |
| `QuotaError` (more files than a session may hold, more sessions than a tenant may) | 429 |
| any other `PermanentError` (a `RequestError`, `AliasError`, a bad name or page token) | 400 |
| `ConflictError` (a race lost too often) | 409 |
| `NotFoundError` (a blob the session should have) | 404 |
| `TransientError` (`StorageUnavailableError`) | 503 with `Retry-After` |
| unknown route, wrong method | 404, 405 |
| request validation | 422 |
| anything else | 500, logged, no detail in the answer |

Messages pass through `mask_card_numbers` on the way out: a file name or a typed value may hold a
card number, and neither a response nor a log line may carry one.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import (
    CcprocError,
    ConflictError,
    MissingReceiptError,
    NotFoundError,
    NotPdfUploadError,
    PermanentError,
    QuotaError,
    TooLargeError,
    TransientError,
    UnknownAliasError,
    UnknownSessionError,
    WrongStateError,
)
from shared.values import mask_card_numbers

log = logging.getLogger("ccproc.http")
RETRY_AFTER_SECONDS = 10


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """The one shape of every failure."""
    body = {"error": {"code": code, "message": mask_card_numbers(message)}}
    return JSONResponse(body, status_code=status, headers=headers)


# Most specific first: the first class an error is an instance of decides.
STATUS: tuple[tuple[type[CcprocError], int], ...] = (
    (UnknownSessionError, 404),
    (UnknownAliasError, 404),
    (MissingReceiptError, 404),
    (WrongStateError, 409),
    (TooLargeError, 413),
    (NotPdfUploadError, 415),
    (QuotaError, 429),
    (PermanentError, 400),
    (ConflictError, 409),
    (NotFoundError, 404),
    (TransientError, 503),
)


def status_of(exc: CcprocError) -> int:
    """The HTTP status a product error answers with."""
    return next((status for kind, status in STATUS if isinstance(exc, kind)), 500)


async def _product_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CcprocError)
    status = status_of(exc)
    if status < 500:
        return error_response(status, exc.code, exc.message)
    # The detail (host names, container names) is for the log, not for the caller.
    log.warning("%s %s: %s", request.method, mask_card_numbers(request.url.path), mask_card_numbers(str(exc)))
    if status == 503:
        return error_response(
            503,
            exc.code,
            "storage is unavailable right now; try again shortly",
            {"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    return error_response(status, exc.code, "the request failed; the reason has been logged")


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        # Cut: a path can be kilobytes long, and the answer need not carry it back whole.
        return error_response(404, "not_found", f"no route {request.method} {request.url.path[:200]}")
    if exc.status_code == 405:
        return error_response(405, "method_not_allowed", f"{request.method} is not allowed here", exc.headers)
    return error_response(exc.status_code, "http_error", str(exc.detail), exc.headers)


async def _invalid_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    # loc and msg only: pydantic's `input` would echo what was sent back.
    problems = "; ".join(
        f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in exc.errors()
    )
    return error_response(422, "invalid_request", problems or "the request is not valid")


def install_error_handlers(app: FastAPI) -> None:
    """Answer every expected failure as JSON; `CatchAll` takes the unexpected ones."""
    app.add_exception_handler(CcprocError, _product_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)


class CatchAll:
    """ASGI middleware: an unexpected exception is logged (masked, no locals) and answered 500 JSON.

    Starlette's own `Exception` handler re-raises after answering, which would make the Functions
    host replace the answer with its own; this one does not. Once a response has started (a report
    failing mid-stream) nothing can be answered any more: the exception goes on, so the server
    aborts the response instead of ending it as if it were whole.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            # Frames and text both go through the mask; exc_info is not used, and no local values are printed.
            log.error(  # noqa: TRY400 - exc_info would print the unmasked message
                "unexpected %s on %s %s: %s\n%s",
                type(exc).__name__,
                scope.get("method"),
                mask_card_numbers(str(scope.get("path"))),
                mask_card_numbers(str(exc)),
                mask_card_numbers("".join(traceback.format_tb(exc.__traceback__))),
            )
            if started:
                raise
            answer = "an unexpected error occurred; it has been logged"
            await error_response(500, "internal_error", answer)(scope, receive, send)
