"""The HTTP API as one ASGI app: the Functions host (`func.AsgiMiddleware`) and uvicorn serve this table.

Every route is under `/api`; each calls one use case of `shared.sessions.requests` (or the alias store) and
turns its result into JSON. Blocking use cases run in the thread pool (plain `def` routes); the
upload route is async only to hand its body stream to a worker thread (`shared.http.body`).
Failures are answered by `shared.http.errors`; API keys and the caller's owner (the tenant a
session belongs to) by `shared.http.auth`; bodies too large for their route by `shared.http.body`.
Every session route passes the caller's owner to its use case: another owner's session is a 404.
Protective headers (a Content-Security-Policy, nosniff, no-referrer, no-store on `/api/`) and HEAD
wherever GET answers come from `shared.http.headers`, around everything else.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, cast

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from shared.errors import BadContentLengthError, DuplicateFileError
from shared.http.aliases_api import router as aliases_router
from shared.http.auth import ApiKeyMiddleware
from shared.http.body import BlockingBody, BodyLimitMiddleware
from shared.http.deps import IdempotencyKey, Once, OwnerDep, SettingsDep, StorageDep, masked_json
from shared.http.errors import CatchAll, install_error_handlers
from shared.http.followup_api import router as followup_router
from shared.http.headers import ProtectiveHeaders, docs_policy, page_policy, storage_origin
from shared.http.models import (
    Deleted,
    Health,
    Limits,
    NewSession,
    Rename,
    SessionList,
    UploadUrl,
)
from shared.http.tracing import RequestSpans
from shared.report import REPORTS
from shared.sessions.followup import current_workbook
from shared.sessions.models import FileView, SessionView
from shared.sessions.requests import (
    accept_upload,
    changes,
    create_session,
    delete_session,
    file_view,
    get_session,
    list_sessions,
    remove_file,
    report,
    request_processing,
    upload_url,
)
from shared.sessions.review import Review, reconcile_again, rename_session, review
from shared.sessions.timeline import Timeline, session_timeline
from shared.settings import Settings
from shared.storage.gateway import Storage
from shared.values import mask_card_numbers

HEALTH_PATH = "/api/health"
DOCS_PATH = "/api/docs"
WEB = Path(__file__).resolve().parent / "web"  # the page finance staff use, served at `/`
WEB_PREFIX = "/web/"
_PLAIN_FILE_NAME = re.compile(r"^[A-Za-z0-9._ -]+$")


def _content_length(request: Request) -> int | None:
    value = request.headers.get("content-length")
    if value is None:
        return None
    if not value.strip().isdigit():
        raise BadContentLengthError("Content-Length must be a whole number of bytes")
    return int(value)


def _attachment(file_name: str, *, inline: bool = False) -> str:
    """A Content-Disposition naming the file's last path part; RFC 6266 form when not plain ASCII.
    `inline`: shown where it is opened (a PDF in the page's frame) rather than saved."""
    name = file_name.rsplit("/", 1)[-1]
    kind = "inline" if inline else "attachment"
    if _PLAIN_FILE_NAME.match(name):
        return f'{kind}; filename="{name}"'
    return f"{kind}; filename*=UTF-8''{urllib.parse.quote(name)}"


async def _duplicate_file(_request: Request, exc: Exception) -> JSONResponse:
    """409 naming the caller's session that already holds the file (`error.session`), so a client
    can offer it; the caller's own session only, so nothing of another tenant is ever named."""
    assert isinstance(exc, DuplicateFileError)
    session = {"id": exc.session_id, "name": mask_card_numbers(exc.session_name or "") or None}
    body = {"error": {"code": exc.code, "message": mask_card_numbers(exc.message), "session": session}}
    return JSONResponse(body, status_code=409)


_DUPLICATE_ANSWER: dict[int | str, dict[str, Any]] = {
    409: {
        "description": "the same file (SHA-256) is already in another of your sessions: "
        "`error.session` names it (`id`, `name`); send again with `allow_duplicate=true` to add it anyway"
    }
}
AllowDuplicate = Annotated[
    bool, Query(description="add the file even when another of your sessions already holds it")
]


# -- routes -------------------------------------------------------------------------------------
router = APIRouter(prefix="/api")


@router.get("/health", tags=["health"])
async def health() -> Health:
    """The app is up (touches no storage)."""
    return Health(status="ok")


@router.get("/limits", tags=["files"])
async def limits(settings: SettingsDep) -> Limits:
    """The largest file each upload path takes, so a client can refuse a file before sending it."""
    return Limits(
        max_upload_bytes=settings.max_upload_bytes,
        max_file_bytes=max(settings.max_file_bytes, settings.max_upload_bytes),
        upload_block_bytes=settings.upload_block_bytes,
    )


@router.post("/sessions", status_code=201, tags=["sessions"])
def new_session(
    storage: StorageDep, settings: SettingsDep, owner: OwnerDep, body: NewSession | None = None
) -> SessionView:
    """Open a new session to upload files into, optionally named; it belongs to the caller."""
    return create_session(storage, settings, body.name if body else None, owner=owner)


@router.get("/sessions", tags=["sessions"])
def sessions(
    storage: StorageDep,
    settings: SettingsDep,
    owner: OwnerDep,
    limit: Annotated[int | None, Query(ge=1, le=500, description="sessions on this page")] = None,
    page: Annotated[str | None, Query(max_length=4096, description="`next` of the page before")] = None,
) -> SessionList:
    """The caller's sessions, newest first, a page at a time (`next` asks for the next one)."""
    found = list_sessions(storage, settings, owner=owner, limit=limit, page=page)
    return SessionList(sessions=found.sessions, next=found.next)


@router.get("/sessions/{session_id}", tags=["sessions"])
def session(session_id: str, storage: StorageDep, settings: SettingsDep, owner: OwnerDep) -> SessionView:
    """One session with its files, progress and, once completed, summary and reports."""
    return get_session(storage, settings, session_id, owner=owner)


@router.get("/sessions/{session_id}/changes", tags=["results"])
def session_changes(
    session_id: str, storage: StorageDep, settings: SettingsDep, owner: OwnerDep
) -> JSONResponse:
    """What the last run of a completed session changed against the run before it (a newer receipts
    report, or a reconciliation again after an alias): each transaction that became Complete, got
    worse or is still missing, with its status before and after, and counts and dollars of each;
    404 (`no_changes`) when the session was reconciled only once."""
    found = changes(storage, settings, session_id, owner=owner)
    return JSONResponse(masked_json(found.model_dump(mode="json")))


@router.get("/sessions/{session_id}/timeline", tags=["sessions"])
def timeline(session_id: str, storage: StorageDep, settings: SettingsDep, owner: OwnerDep) -> Timeline:
    """Where the session spent its time: each file's upload and extraction, reconciliation and reports,
    when each started and how long it took (a step still under way has no end yet)."""
    return session_timeline(storage, settings, session_id, owner=owner)


@router.patch("/sessions/{session_id}", tags=["sessions"])
def rename(
    session_id: str, body: Rename, storage: StorageDep, settings: SettingsDep, owner: OwnerDep
) -> SessionView:
    """Rename a session."""
    return rename_session(storage, settings, session_id, body.name, owner=owner)


@router.put(
    "/sessions/{session_id}/files/{filename}",
    status_code=202,
    tags=["files"],
    responses=_DUPLICATE_ANSWER,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def upload(
    session_id: str,
    filename: str,
    request: Request,
    *,
    storage: StorageDep,
    settings: SettingsDep,
    owner: OwnerDep,
    idempotency_key: IdempotencyKey = None,
    allow_duplicate: AllowDuplicate = False,
) -> FileView:
    """Upload one PDF as the raw request body; extraction starts once it is stored. With an
    `Idempotency-Key` header, sending it again (its answer was lost) answers with the file already
    stored instead of adding a second one. A file already in another of the caller's sessions is
    refused (409 naming it) unless `allow_duplicate=true`."""
    length = _content_length(request)
    chunks = request.stream()
    body = BlockingBody(chunks, limit=settings.max_upload_bytes)
    try:
        record = await run_in_threadpool(
            accept_upload,
            storage,
            settings,
            session_id,
            filename,
            # accept_upload needs only read(size), which is all BlockingBody offers.
            body=body,
            length=length,
            owner=owner,
            upload_id=idempotency_key,
            allow_duplicate=allow_duplicate,
        )
    finally:
        await chunks.aclose()
    return file_view(record)


@router.post(
    "/sessions/{session_id}/files/{filename}/upload-url",
    status_code=201,
    tags=["files"],
    responses=_DUPLICATE_ANSWER,
)
def new_upload_url(
    session_id: str,
    filename: str,
    *,
    storage: StorageDep,
    settings: SettingsDep,
    owner: OwnerDep,
    file: str | None = None,
    idempotency_key: IdempotencyKey = None,
    sha256: Annotated[
        str | None, Query(max_length=64, description="the file's SHA-256 (hex): finds it in another session")
    ] = None,
    allow_duplicate: AllowDuplicate = False,
) -> UploadUrl:
    """A short-lived URL to PUT one large PDF straight into storage. With `?file=<id>` of a file still
    awaiting its upload: a fresh URL for that same file (an upload that outlived its URL goes on).
    With an `Idempotency-Key` header, asking again (the answer was lost) gives the same file. With
    `sha256`, a file already in another of the caller's sessions is refused (409 naming it) unless
    `allow_duplicate=true`; without it, such a file is noted on its record (`duplicate_of`) once read."""
    grant = upload_url(
        storage,
        settings,
        session_id,
        filename,
        file_id=file,
        owner=owner,
        upload_id=idempotency_key,
        sha256=sha256,
        allow_duplicate=allow_duplicate,
    )
    return UploadUrl.model_validate(grant)


@router.delete("/sessions/{session_id}/files/{file_id}", tags=["files"])
def remove_unfinished_file(
    session_id: str, file_id: str, storage: StorageDep, settings: SettingsDep, owner: OwnerDep
) -> FileView:
    """Take back a file whose upload never finished, or that failed, so the session does not wait for it."""
    return file_view(remove_file(storage, settings, session_id, file_id, owner=owner))


@router.post("/sessions/{session_id}/process", status_code=202, tags=["sessions"])
def process(session_id: str, storage: StorageDep, settings: SettingsDep, owner: OwnerDep) -> SessionView:
    """No more files: reconcile and write the reports once every file is extracted."""
    return request_processing(storage, settings, session_id, owner=owner)


@router.post("/sessions/{session_id}/reconcile", status_code=202, tags=["sessions"])
def reconcile(session_id: str, storage: StorageDep, settings: SettingsDep, owner: OwnerDep) -> SessionView:
    """Reconcile a completed session again with the alias table as it is now; its reports are rewritten."""
    return reconcile_again(storage, settings, session_id, owner=owner)


@router.get("/sessions/{session_id}/transactions", response_model=Review, tags=["results"])
def transactions(
    session_id: str, storage: StorageDep, settings: SettingsDep, owner: OwnerDep
) -> JSONResponse:
    """A completed session's transactions with their matches, statuses and receipt PDFs, unmatched
    expenses and unresolved names."""
    result = review(storage, settings, session_id, owner=owner)
    # Free text is copied from documents we do not control: mask anything shaped like a card number.
    return JSONResponse(masked_json(result.model_dump(mode="json")))


@router.get(
    "/sessions/{session_id}/reports/{name:path}",
    response_class=StreamingResponse,
    tags=["results"],
    responses={200: {"content": {r.media_type: {} for r in REPORTS.values()} | {"application/pdf": {}}}},
)
def download(
    session_id: str,
    name: str,
    *,
    storage: StorageDep,
    settings: SettingsDep,
    owner: OwnerDep,
    inline: Annotated[
        bool, Query(description="a receipt PDF to show in the page (`inline`, framed by the page only)")
    ] = False,
) -> StreamingResponse:
    """One report by name (`exceptions`, `pvault`, …) or file name, or `receipts/<file>.pdf`. The
    exceptions workbook is written as it is asked for, with each exception's follow-up as it stands.
    With `?inline=1` a receipt PDF comes as the same bytes to be shown, not saved: the page frames it
    beside its transaction (`shared.http.headers.INLINE_PDF_POLICY`); every other report is a download."""
    if name in {"exceptions", REPORTS["exceptions"].file_name}:
        file_name, media_type, chunks = current_workbook(storage, settings, session_id, owner=owner)
    else:
        file_name, media_type, chunks = report(storage, settings, session_id, name, owner=owner)
    shown = inline and media_type == "application/pdf"
    return StreamingResponse(
        chunks, media_type=media_type, headers={"Content-Disposition": _attachment(file_name, inline=shown)}
    )


@router.delete("/sessions/{session_id}", tags=["sessions"])
def remove_session(session_id: str, storage: StorageDep, settings: SettingsDep, owner: OwnerDep) -> Deleted:
    """Delete a session and everything stored for it."""
    return Deleted(deleted=delete_session(storage, settings, session_id, owner=owner))


# -- the app ------------------------------------------------------------------------------------
def build_app(
    storage_factory: Callable[[], Storage],
    settings: Settings,
    *,
    api_keys: frozenset[str] | None = None,
    host_checks_keys: bool = False,
    trust_principal: bool = False,
) -> FastAPI:
    """The API. `storage_factory` is called once, on the first request that needs storage.

    `api_keys=None`: the app checks no keys (the Functions host checks its function keys first).
    Otherwise every route but `/api/health` needs one of them in `x-api-key` or `x-functions-key`.
    `host_checks_keys` (under the Functions host): the app still refuses a request that carries no key
    at all, as one that did not pass the host's check; the key it carries names the caller's tenant.
    `trust_principal`: the platform's authentication sets `x-ms-client-principal-id` (and strips it
    from outside requests), so it names the owner; only true under App Service authentication.
    """
    if api_keys is not None and not api_keys:
        raise ValueError("an empty set of API keys would refuse every request")
    app = FastAPI(
        title="Credit Card Processor",
        summary="Cardholder statements and receipt reports in, reconciled transactions and reports out.",
        version="1",
        openapi_url="/api/openapi.json",
        # Its request spans record the path as typed: `RequestSpans` records the route's template.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
        # Served below, so that its policy is made from the very HTML it answers.
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.storage = Once(storage_factory)
    app.state.settings = settings
    install_error_handlers(app)
    app.add_exception_handler(DuplicateFileError, _duplicate_file)
    # The last added runs first: the headers (so every answer has them, failures too), CatchAll, then
    # the key check, then the body limit (a caller without a key is refused before its body is looked at).
    app.add_middleware(BodyLimitMiddleware, upload_limit=settings.max_upload_bytes)
    app.add_middleware(
        ApiKeyMiddleware,
        keys=api_keys,
        # The page itself holds no data: it asks for a key when the API answers 401.
        open_paths=frozenset({HEALTH_PATH, "/"}),
        open_prefixes=(WEB_PREFIX,),
        host_checks_keys=host_checks_keys,
        trust_principal=trust_principal,
        failure_burst=settings.api_key_failures_per_minute,
    )
    app.add_middleware(CatchAll)
    app.add_middleware(RequestSpans)
    docs = _docs_page(app)
    app.add_middleware(
        ProtectiveHeaders,
        # The page PUTs large files straight to the blob endpoint its upload URLs name.
        page=page_policy(storage_origin(settings)),
        html_policies={DOCS_PATH: docs_policy(bytes(docs.body).decode())},
    )
    app.include_router(router)
    app.include_router(aliases_router)
    app.include_router(followup_router)
    app.add_api_route("/", _page, include_in_schema=False, methods=["GET"])

    async def docs_page() -> HTMLResponse:
        return docs

    app.add_api_route(DOCS_PATH, docs_page, include_in_schema=False, methods=["GET"])
    app.mount(WEB_PREFIX.rstrip("/"), StaticFiles(directory=WEB), name="web")
    return app


async def _page() -> FileResponse:
    return FileResponse(WEB / "index.html", media_type="text/html; charset=utf-8")


def _docs_page(app: FastAPI) -> HTMLResponse:
    """The Swagger UI page of the API document, made once. No validator badge: it would send the
    document's URL to validator.swagger.io."""
    return get_swagger_ui_html(
        openapi_url=cast(str, app.openapi_url),
        title=f"{app.title} - Swagger UI",
        swagger_ui_parameters={"validatorUrl": None},
    )
