"""Use cases of a session's life, as the HTTP API calls them: each a function of (storage, settings, input).

Tenancy: a session belongs to the caller that created it (`SessionManifest.owner`). Every use case a
person calls takes `owner=` and answers another owner's session exactly as an unknown one (404), so a
caller cannot even learn that it exists. The default, `ANYONE`, is for the pipeline's own steps
(extract, finalize, sweep), which act on every session whoever owns it.

Storage layout (names carry the session id and a sanitised file name, never card data):

    uploads/<session>/<file>/<name>.pdf      files waiting for extraction, nothing else
    sessions/<session>/manifest.json         state; changed only under an ETag condition
    sessions/<session>/files/<file>.json     one record per file (no two writers share a blob)
    sessions/<session>/results/<file>.json   what extraction found
    sessions/<session>/sources/<file>.pdf    a receipts report kept for cutting receipt pages
    sessions/<session>/cuts/<file>.pdfs      its receipt PDFs, cut while it was read (+ .json index)
    sessions/<session>/failed/<file>/<name>  an upload that could not be read, moved aside
    sessions/<session>/reports/...           every report; the receipts ZIP is written as it is
                                             downloaded, from the cuts (`shared.sessions.receipt_store`)
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import suppress
from enum import Enum
from typing import Literal

from shared.errors import PermanentError
from shared.models import Reconciliation
from shared.pdf.read import PDF_MAGIC
from shared.report import REPORTS
from shared.sessions.models import (
    FileRecord,
    FileStatus,
    SessionManifest,
    SessionStatus,
    SessionView,
    now,
)
from shared.sessions.receipt_store import MissingReceiptError, receipt_pdf, receipts_zip
from shared.settings import Settings
from shared.storage.gateway import CREATE_ONLY, ConflictError, NotFoundError, Readable, Storage, back_off
from shared.storage.streams import CappedBody
from shared.values import mask_card_numbers

SESSION_ID = re.compile(r"^[0-9a-f]{32}$")
FILE_ID = re.compile(r"^[0-9a-f]{16}$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_RETRIES = 30
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_SESSION_NAME = 120
# A longer file name is refused rather than cut: no file system names a real file so, and 255 is
# what the common ones allow. Stored names are cut to STORED_NAME (suffix kept).
MAX_FILE_NAME = 255
STORED_NAME = 100
_SUFFIX = 10  # the longest part after the last dot still treated as an extension when cutting
# Device names Windows will not create a file under, whatever the extension (`CON.pdf` included):
# a stored name may end up as a downloaded file on someone's Windows disk.
_WINDOWS_DEVICES = re.compile(r"^(CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9])$", re.IGNORECASE)


class Anyone(Enum):
    """The owner check of the pipeline's own steps: none (they act on every session)."""

    ANYONE = "anyone"


ANYONE = Anyone.ANYONE
Owner = str | None  # None: the local owner of a keyless API (`ccproc dev`)
OwnerCheck = Owner | Literal[Anyone.ANYONE]


class RequestError(PermanentError):
    """A request that cannot be served as asked; `status` is the HTTP status to answer with."""

    code = "bad_request"
    status = 400


class UnknownSessionError(RequestError):
    """No session has that id."""

    code = "unknown_session"
    status = 404


class WrongStateError(RequestError):
    """The session's state does not allow this now."""

    code = "wrong_state"
    status = 409


class TooLargeError(RequestError):
    """The body is larger than a direct upload may be."""

    code = "too_large"
    status = 413


class NotPdfUploadError(RequestError):
    """The uploaded bytes are not a PDF."""

    code = "not_pdf"
    status = 415


# -- names -----------------------------------------------------------------------------------
class BadNameError(RequestError):
    """A session name that is empty or too long once trimmed."""

    code = "bad_name"
    status = 400


def session_name(name: str | None) -> str | None:
    """`name` trimmed, control characters removed, card-shaped digits masked; None stays None."""
    if name is None:
        return None
    cleaned = mask_card_numbers(" ".join(_CONTROL.sub(" ", name).split()))
    if not cleaned or len(cleaned) > MAX_SESSION_NAME:
        raise BadNameError(f"a session name has 1 to {MAX_SESSION_NAME} characters")
    return cleaned


class BadFileNameError(RequestError):
    """A file name too long to be a real one."""

    code = "bad_file_name"
    status = 400


def safe_name(filename: str) -> str:
    """A file name fit for one blob name segment: masked card numbers, ASCII letters, digits and ._-
    only, neither starting nor ending with a dot, no Windows device name, at most STORED_NAME long.

    Path parts (`../`, `\\`, `/`), control characters and any other character (RTL overrides
    included) become `_`, so the result never names another folder. A name over MAX_FILE_NAME
    characters is refused (BadFileNameError).
    """
    if len(filename) > MAX_FILE_NAME:
        raise BadFileNameError(f"a file name has at most {MAX_FILE_NAME} characters")
    name = _UNSAFE.sub("_", mask_card_numbers(filename).replace("*", "x")).strip("._")
    first, dot, rest = name.partition(".")
    if _WINDOWS_DEVICES.match(first):
        name = f"{first}_{dot}{rest}"
    if len(name) > STORED_NAME:
        stem, dot, suffix = name.rpartition(".")
        if dot and len(suffix) <= _SUFFIX:
            name = f"{stem[: STORED_NAME - len(suffix) - 1].rstrip('._')}.{suffix}"
        else:
            name = name[:STORED_NAME].rstrip("._")
    return name or "document.pdf"


def upload_blob(session_id: str, file_id: str, name: str) -> str:
    return f"{session_id}/{file_id}/{name}"


def parse_upload_blob(blob_name: str) -> tuple[str, str, str]:
    """(session, file, name) from an uploads blob name; PermanentError for anything else."""
    parts = blob_name.split("/")
    if len(parts) != 3 or not SESSION_ID.match(parts[0]) or not FILE_ID.match(parts[1]):
        raise PermanentError(f"not an upload of a session: {blob_name!r}")
    return parts[0], parts[1], parts[2]


def results_message(session_id: str, file_id: str | None = None) -> str:
    """The results-queue message that makes the queue step look at a session (after `file_id`, if any)."""
    return json.dumps({"session": session_id, "file": file_id})


def manifest_blob(session_id: str) -> str:
    return f"{session_id}/manifest.json"


def record_blob(session_id: str, file_id: str) -> str:
    return f"{session_id}/files/{file_id}.json"


def result_blob(session_id: str, file_id: str) -> str:
    return f"{session_id}/results/{file_id}.json"


def report_blob(session_id: str, file_name: str) -> str:
    return f"{session_id}/reports/{file_name}"


def check_session_id(session_id: str) -> str:
    if not SESSION_ID.match(session_id):
        raise UnknownSessionError(f"no session {session_id[:40]!r}")
    return session_id


# -- manifest and records ------------------------------------------------------------------
def load_manifest(
    storage: Storage, settings: Settings, session_id: str, *, owner: OwnerCheck = ANYONE
) -> tuple[SessionManifest, str]:
    """The manifest and its ETag; UnknownSessionError also when `owner` is given and is not its owner."""
    try:
        data, etag = storage.get_bytes(
            settings.sessions_container, manifest_blob(check_session_id(session_id))
        )
    except NotFoundError as exc:
        raise UnknownSessionError(f"no session {session_id}") from exc
    manifest = SessionManifest.model_validate_json(data)
    if owner is not ANYONE and manifest.owner != owner:
        # The very answer an unknown id gets: another tenant's session does not exist for this caller.
        raise UnknownSessionError(f"no session {session_id}")
    return manifest, etag


def update_manifest(
    storage: Storage,
    settings: Settings,
    session_id: str,
    change: Callable[[SessionManifest], bool],
    *,
    owner: OwnerCheck = ANYONE,
) -> SessionManifest:
    """Read, change, write under the read's ETag; a lost race re-reads. `change` says if it changed."""
    for attempt in range(_RETRIES):
        manifest, etag = load_manifest(storage, settings, session_id, owner=owner)
        if not change(manifest):
            return manifest
        manifest.updated = now()
        try:
            storage.put_bytes(
                settings.sessions_container,
                manifest_blob(session_id),
                manifest.model_dump_json().encode(),
                content_type="application/json",
                if_match=etag,
            )
        except ConflictError:
            back_off(attempt)
            continue
        return manifest
    raise ConflictError(f"session {session_id} is being changed by too many writers; try again")


def save_record(
    storage: Storage, settings: Settings, session_id: str, record: FileRecord, *, if_match: str | None = None
) -> str:
    """Write a file's record; returns its ETag."""
    return storage.put_bytes(
        settings.sessions_container,
        record_blob(session_id, record.id),
        record.model_dump_json().encode(),
        content_type="application/json",
        if_match=if_match,
    )


def load_record(storage: Storage, settings: Settings, session_id: str, file_id: str) -> FileRecord | None:
    try:
        data, _ = storage.get_bytes(settings.sessions_container, record_blob(session_id, file_id))
    except NotFoundError:
        return None
    return FileRecord.model_validate_json(data)


def load_records(storage: Storage, settings: Settings, session_id: str) -> list[FileRecord]:
    records = []
    for info in storage.list(settings.sessions_container, f"{session_id}/files/"):
        data, _ = storage.get_bytes(settings.sessions_container, info.name)
        records.append(FileRecord.model_validate_json(data))
    return sorted(records, key=lambda r: (r.uploaded or r.extracted or now(), r.id))


# -- use cases -----------------------------------------------------------------------------
def create_session(
    storage: Storage, settings: Settings, name: str | None = None, *, owner: Owner = None
) -> SessionView:
    """A new, open session of `owner` with an unguessable id and, optionally, a name people know it by."""
    stamp = now()
    manifest = SessionManifest(
        id=secrets.token_hex(16), owner=owner, name=session_name(name), created=stamp, updated=stamp
    )
    storage.put_bytes(
        settings.sessions_container,
        manifest_blob(manifest.id),
        manifest.model_dump_json().encode(),
        content_type="application/json",
        if_match=CREATE_ONLY,
    )
    return view(manifest, [])


def _accepting(manifest: SessionManifest) -> bool:
    # A completed session takes a new receipts report and reprocesses (the receipt update flow).
    return manifest.status in (SessionStatus.OPEN, SessionStatus.COMPLETED)


def _new_record(
    storage: Storage,
    settings: Settings,
    session_id: str,
    name: str,
    *,
    status: FileStatus,
    owner: OwnerCheck,
    size: int | None = None,
) -> tuple[FileRecord, str]:
    manifest, _ = load_manifest(storage, settings, session_id, owner=owner)
    if not _accepting(manifest):
        raise WrongStateError(f"session {session_id} is {manifest.status.value}: it takes no files now")
    record = FileRecord(
        id=secrets.token_hex(8),
        name=name,
        status=status,
        size=size,
        uploaded=now() if status is FileStatus.UPLOADED else None,
    )
    return record, save_record(storage, settings, session_id, record)


def _reopen_completed(storage: Storage, settings: Settings, session_id: str) -> None:
    """A new file on a completed session sends it back to processing once that file is extracted."""

    def change(m: SessionManifest) -> bool:
        if m.status is not SessionStatus.COMPLETED:
            return False
        m.status, m.completed, m.process_requested = SessionStatus.PROCESSING, None, now()
        return True

    update_manifest(storage, settings, session_id, change)


def accept_upload(
    storage: Storage,
    settings: Settings,
    session_id: str,
    filename: str,
    *,
    body: Readable,
    length: int | None,
    owner: OwnerCheck = ANYONE,
) -> FileRecord:
    """A PDF sent in the request body, streamed into the uploads container.

    Everything the blob trigger relies on (the file's record, a completed session reopened) is
    written before the upload blob exists: the trigger may run the moment the blob is committed.
    """
    name = safe_name(filename)  # a name refused is refused before any byte is read
    if length is not None and length > settings.max_upload_bytes:
        raise TooLargeError(
            f"{length} bytes is more than the {settings.max_upload_bytes} a direct upload takes: "
            "ask for an upload URL (POST .../upload-url) instead"
        )
    head = body.read(1024)
    if PDF_MAGIC not in head:
        raise NotPdfUploadError(f"{name} is not a PDF (its bytes do not start with %PDF-)")
    record, etag = _new_record(
        storage, settings, session_id, name, status=FileStatus.UPLOADED, owner=owner, size=length
    )
    _reopen_completed(storage, settings, session_id)
    stream = CappedBody(head, body, settings.max_upload_bytes, too_large=TooLargeError)
    try:
        storage.put_stream(
            settings.uploads_container,
            upload_blob(session_id, record.id, record.name),
            stream,
            length=length,
            content_type="application/pdf",
        )
    except BaseException:
        # No blob, so no extraction will ever finish this record: remove it, then report the error.
        storage.delete(settings.sessions_container, record_blob(session_id, record.id))
        raise
    if length is None:
        record.size = stream.count
        with suppress(ConflictError):  # extraction already took the file over: its record wins
            save_record(storage, settings, session_id, record, if_match=etag)
    return record


def upload_url(
    storage: Storage,
    settings: Settings,
    session_id: str,
    filename: str,
    *,
    file_id: str | None = None,
    owner: OwnerCheck = ANYONE,
) -> dict[str, object]:
    """A write-only URL for one blob, for files larger than a request may carry.

    With `file_id` (a file still awaiting its upload), a fresh URL for that same file and blob: an
    upload that outlived its URL goes on, and the blocks already stored are kept for it.
    """
    name = safe_name(filename)
    if file_id is None:
        record, _ = _new_record(
            storage, settings, session_id, name, status=FileStatus.AWAITING_UPLOAD, owner=owner
        )
    else:
        load_manifest(storage, settings, session_id, owner=owner)
        found = load_record(storage, settings, session_id, file_id) if FILE_ID.match(file_id) else None
        if found is None:
            raise UnknownSessionError(f"session {session_id} has no file {file_id[:40]!r}")
        if found.status is not FileStatus.AWAITING_UPLOAD:
            raise WrongStateError(f"{found.name} is {found.status.value}: its upload is over")
        record = found
    url = storage.upload_url(
        settings.uploads_container,
        upload_blob(session_id, record.id, record.name),
        minutes=settings.upload_url_minutes,
    )
    _reopen_completed(storage, settings, session_id)
    return {
        "file": record.model_dump(mode="json"),
        "url": url,
        "method": "PUT",
        "headers": {"x-ms-blob-type": "BlockBlob", "Content-Type": "application/pdf"},
        "expires_in_minutes": settings.upload_url_minutes,
    }


def remove_file(
    storage: Storage, settings: Settings, session_id: str, file_id: str, *, owner: OwnerCheck = ANYONE
) -> FileRecord:
    """Take back a file whose upload never finished (or that failed): the session no longer waits for it.

    A file being extracted or already extracted stays (its result may be in the reports).
    """
    load_manifest(storage, settings, session_id, owner=owner)
    record = load_record(storage, settings, session_id, file_id) if FILE_ID.match(file_id) else None
    if record is None:
        raise UnknownSessionError(f"session {session_id} has no file {file_id[:40]!r}")
    if record.status not in (FileStatus.AWAITING_UPLOAD, FileStatus.FAILED):
        raise WrongStateError(f"{record.name} is {record.status.value}: only unfinished or failed files go")
    storage.delete(settings.uploads_container, upload_blob(session_id, record.id, record.name))
    storage.delete(settings.sessions_container, record_blob(session_id, record.id))
    # A processing session may have been waiting only for this file: let the queue step look again.
    storage.send(settings.results_queue, results_message(session_id))
    return record


def request_processing(
    storage: Storage, settings: Settings, session_id: str, *, owner: OwnerCheck = ANYONE
) -> SessionView:
    """No more files: finish once every file is extracted (a message starts it if they already are)."""
    load_manifest(storage, settings, session_id, owner=owner)
    records = load_records(storage, settings, session_id)
    if not records:
        raise WrongStateError("the session has no files: upload a statement and/or a receipts report first")

    def change(m: SessionManifest) -> bool:
        if m.status is SessionStatus.PROCESSING:
            return False
        if m.status is not SessionStatus.OPEN:
            raise WrongStateError(f"session {session_id} is {m.status.value}")
        m.status, m.process_requested = SessionStatus.PROCESSING, now()
        return True

    manifest = update_manifest(storage, settings, session_id, change, owner=owner)
    storage.send(settings.results_queue, results_message(session_id))
    return view(manifest, records)


def view(manifest: SessionManifest, records: list[FileRecord]) -> SessionView:
    """The session as the API shows it, with a progress figure from 0 to 1."""
    if manifest.status is SessionStatus.COMPLETED:
        progress = 1.0
    elif records:
        done = sum(r.status.terminal for r in records) / len(records)
        progress = round(0.9 * done, 3)
    else:
        progress = 0.0
    return SessionView(
        id=manifest.id,
        name=manifest.name,
        status=manifest.status,
        created=manifest.created,
        updated=manifest.updated,
        completed=manifest.completed,
        progress=progress,
        error=manifest.error,
        files=records,
        summary=manifest.summary,
        reports=manifest.reports,
    )


def get_session(
    storage: Storage, settings: Settings, session_id: str, *, owner: OwnerCheck = ANYONE
) -> SessionView:
    manifest, _ = load_manifest(storage, settings, session_id, owner=owner)
    return view(manifest, load_records(storage, settings, session_id))


def list_sessions(storage: Storage, settings: Settings, *, owner: OwnerCheck = ANYONE) -> list[SessionView]:
    """The sessions of `owner` (every session with ANYONE), newest first, without their files."""
    views = []
    for info in storage.list(settings.sessions_container):
        if info.name.endswith("/manifest.json"):
            data, _ = storage.get_bytes(settings.sessions_container, info.name)
            manifest = SessionManifest.model_validate_json(data)
            if owner is ANYONE or manifest.owner == owner:
                views.append(view(manifest, []))
    return sorted(views, key=lambda v: v.created, reverse=True)


def reconciliation(
    storage: Storage, settings: Settings, session_id: str, *, owner: OwnerCheck = ANYONE
) -> Reconciliation:
    """The completed session's full result (transactions with their matches)."""
    manifest, _ = load_manifest(storage, settings, session_id, owner=owner)
    if manifest.status is not SessionStatus.COMPLETED:
        raise WrongStateError(f"session {session_id} is {manifest.status.value}, not completed")
    data, _ = storage.get_bytes(settings.sessions_container, report_blob(session_id, "result.json"))
    return Reconciliation.model_validate_json(data)


def report(
    storage: Storage, settings: Settings, session_id: str, name: str, *, owner: OwnerCheck = ANYONE
) -> tuple[str, str, Iterator[bytes]]:
    """(file name, media type, content) of one report, or of one receipt PDF (`receipts/<file>.pdf`)."""
    manifest, _ = load_manifest(storage, settings, session_id, owner=owner)
    if manifest.status is not SessionStatus.COMPLETED:
        raise WrongStateError(
            f"session {session_id} is {manifest.status.value}: reports come when it completes"
        )
    spec = REPORTS.get(name) or next((r for r in REPORTS.values() if r.file_name == name), None)
    if spec is not None and spec.name == "receipts":
        try:
            return spec.file_name, spec.media_type, receipts_zip(storage, settings, session_id)
        except MissingReceiptError as exc:
            raise UnknownSessionError(exc.message) from exc
    if spec is not None:
        file_name, media_type = spec.file_name, spec.media_type
    elif name.startswith("receipts/") and name.removeprefix("receipts/") in manifest.receipt_pdfs:
        try:
            pdf = receipt_pdf(storage, settings, session_id, name.removeprefix("receipts/"))
        except MissingReceiptError as exc:
            raise UnknownSessionError(exc.message) from exc
        return name, "application/pdf", iter([pdf])
    else:
        raise UnknownSessionError(f"no report {name[:60]!r}; reports: {', '.join(REPORTS)}")
    return (
        file_name,
        media_type,
        storage.open_read(settings.sessions_container, report_blob(session_id, file_name)),
    )


def delete_session(
    storage: Storage, settings: Settings, session_id: str, *, owner: OwnerCheck = ANYONE
) -> int:
    """Remove everything of a session, uploads included; returns how many blobs went."""
    load_manifest(storage, settings, session_id, owner=owner)
    removed = 0
    for container in (settings.uploads_container, settings.sessions_container):
        names = [info.name for info in storage.list(container, f"{session_id}/")]
        # The manifest goes last, so a half-finished delete can be finished by deleting again.
        names.sort(key=lambda n: n.endswith("/manifest.json"))
        removed += sum(storage.delete(container, name) for name in names)
    return removed
