"""What the API asks of a session: create, upload, take back, process, view, list, reports, changes,
delete.

Each is a function of (storage, settings, input). Every use case a person calls takes `owner=` and
answers another owner's session exactly as an unknown one (`shared.sessions.store`). Where each
blob lives is `shared.sessions.layout`.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass

from shared.errors import (
    BadUploadIdError,
    ConflictError,
    DuplicateFileError,
    MissingReceiptError,
    NoChangesError,
    NotFoundError,
    NotPdfUploadError,
    QuotaError,
    TooLargeError,
    UnknownSessionError,
    WrongStateError,
    problem_of,
)
from shared.models import DocumentKind, Reconciliation
from shared.pdf.read import PDF_MAGIC
from shared.report import REPORTS
from shared.sessions.changes import Changes, changes_blob
from shared.sessions.layout import (
    FILE_ID,
    is_manifest_blob,
    manifest_blob,
    reconciliation_blob,
    record_blob,
    records_prefix,
    report_blob,
    results_message,
    session_prefix,
    upload_blob,
)
from shared.sessions.models import (
    FileRecord,
    FileStatus,
    FileView,
    SessionManifest,
    SessionRef,
    SessionStatus,
    SessionView,
    Summary,
    now,
)
from shared.sessions.names import safe_name, session_name
from shared.sessions.receipt_store import receipt_pdf, receipts_zip
from shared.sessions.store import (
    ANYONE,
    Owner,
    OwnerCheck,
    exists,
    load_manifest,
    load_record,
    load_records,
    save_record,
    update_manifest,
)
from shared.sessions.tenants import (
    add_digest,
    add_to_index,
    check_session_quota,
    check_storage_quota,
    find_twin,
    forget_session_bytes,
    is_sha256,
    list_page,
    remove_digest,
    remove_from_index,
)
from shared.settings import Settings
from shared.storage.gateway import CREATE_ONLY, Readable, Storage
from shared.storage.streams import CappedBody
from shared.telemetry.tracing import TRACEPARENT, current_traceparent, step
from shared.telemetry.tracing import record as record_attributes

_UPLOAD_ID = re.compile(r"^[A-Za-z0-9_.:-]{8,100}$")


# -- use cases -----------------------------------------------------------------------------
def create_session(
    storage: Storage, settings: Settings, name: str | None = None, *, owner: Owner = None
) -> SessionView:
    """A new, open session of `owner` with an unguessable id and, optionally, a name people know it by."""
    stamp = now()
    manifest = SessionManifest(
        id=secrets.token_hex(16), owner=owner, name=session_name(name), created=stamp, updated=stamp
    )
    check_session_quota(storage, settings, owner)
    add_to_index(storage, settings, manifest)
    with step("open session", attributes={"ccproc.session": manifest.id, "ccproc.tenant": owner or "local"}):
        # The session's trace: everything later done for it continues this one.
        manifest.trace = current_traceparent()
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
    file_id: str | None = None,
) -> tuple[FileRecord, str, SessionManifest]:
    """A new file record of the session (quotas checked), its ETag, and the session's manifest."""
    manifest, _ = load_manifest(storage, settings, session_id, owner=owner)
    if not _accepting(manifest):
        raise WrongStateError(f"session {session_id} is {manifest.status.value}: it takes no files now")
    if file_id is None or load_record(storage, settings, session_id, file_id) is None:
        held = sum(1 for _ in storage.list(settings.sessions_container, records_prefix(session_id)))
        if held >= settings.max_files_per_session:
            most = settings.max_files_per_session
            raise QuotaError(f"a session holds at most {most} files: remove one, or start a new session")
        # A file of unknown size (an upload URL, a body without Content-Length) is refused here only
        # when the tenant is already past the quota; the extract step checks it once it is stored.
        check_storage_quota(storage, settings, manifest.owner, size or 0)
        forget_session_bytes(storage, settings, manifest)
    record = FileRecord(
        id=file_id or secrets.token_hex(8),
        name=name,
        status=status,
        size=size,
        # A direct upload begins now; for an upload URL, asking for it is where the upload begins.
        uploaded=now(),
    )
    return record, save_record(storage, settings, session_id, record), manifest


def file_id_for(session_id: str, upload_id: str) -> str:
    """The file id a client's upload id stands for in this session: the same id on every retry."""
    if not _UPLOAD_ID.match(upload_id):
        raise BadUploadIdError("an upload id (Idempotency-Key) has 8 to 100 letters, digits or _.:-")
    return hashlib.sha256(f"{session_id}:{upload_id}".encode()).hexdigest()[:16]


def _stored_before(
    storage: Storage, settings: Settings, session_id: str, file_id: str, *, name: str, owner: OwnerCheck
) -> FileRecord | None:
    """The file a retried upload already stored (its answer was lost), or None to store it now."""
    load_manifest(storage, settings, session_id, owner=owner)
    record = load_record(storage, settings, session_id, file_id)
    if record is None:
        return None
    if record.name != name:
        raise WrongStateError(f"that upload id was used for {record.name}, not {name}")
    stored = record.status is FileStatus.UPLOADED and exists(
        storage, settings.uploads_container, upload_blob(session_id, record.id, record.name)
    )
    return record if stored or record.status.terminal else None


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
    upload_id: str | None = None,
    allow_duplicate: bool = False,
) -> FileRecord:
    """A PDF sent in the request body, streamed into the uploads container.

    Everything the blob trigger relies on (the file's record, a completed session reopened) is
    written before the upload blob exists: the trigger may run the moment the blob is committed.
    With `upload_id` (the client's Idempotency-Key) the upload is idempotent: a retry of an upload
    whose answer was lost finds the file already stored and answers with it, instead of a second file.
    The file's SHA-256 is computed as it streams; a file already in another session of the same
    owner is refused (DuplicateFileError, naming that session) before its blob is committed, unless
    `allow_duplicate`.
    """
    name = safe_name(filename)  # a name refused is refused before any byte is read
    file_id = file_id_for(session_id, upload_id) if upload_id is not None else None
    if file_id is not None and (
        done := _stored_before(storage, settings, session_id, file_id, name=name, owner=owner)
    ):
        return done
    if length is not None and length > settings.max_upload_bytes:
        raise TooLargeError(
            f"{length} bytes is more than the {settings.max_upload_bytes} a direct upload takes: "
            "ask for an upload URL (POST .../upload-url) instead"
        )
    head = body.read(1024)
    if PDF_MAGIC not in head:
        raise NotPdfUploadError(f"{name} is not a PDF (its bytes do not start with %PDF-)")
    record, etag, manifest = _new_record(
        storage,
        settings,
        session_id,
        name,
        status=FileStatus.UPLOADED,
        owner=owner,
        size=length,
        file_id=file_id,
    )
    twin: list[SessionRef] = []

    def check(sha256: str) -> None:
        # Called with the last bytes still held back from storage: a refusal commits no blob.
        found = find_twin(storage, settings, manifest.owner, sha256, besides=session_id)
        if found is not None and not allow_duplicate:
            raise _duplicate(name, found)
        twin.extend([SessionRef(id=found.id, name=found.name)] if found else [])

    _reopen_completed(storage, settings, session_id)
    capped = CappedBody(head, body, settings.max_upload_bytes, too_large=TooLargeError)
    stream = _Digesting(capped, length, at_end=check)
    attributes = {"ccproc.session": session_id, "ccproc.file": record.id}
    with step("upload file", parent=manifest.trace, attributes=attributes) as span:
        try:
            storage.put_stream(
                settings.uploads_container,
                upload_blob(session_id, record.id, record.name),
                stream,
                length=length,
                content_type="application/pdf",
                # The extract step continues this trace, in whichever process the blob reaches.
                metadata=_trace_metadata(),
            )
        except BaseException:
            # No blob, so no extraction will ever finish this record: remove it, then report the error.
            storage.delete(settings.sessions_container, record_blob(session_id, record.id))
            if manifest.status is SessionStatus.COMPLETED:
                # It was reopened for this file: let the finalize step look again, or it would wait.
                storage.send(settings.results_queue, results_message(session_id))
            raise
        record_attributes(span, bytes=capped.count)
    record.stored = now()
    if length is None:
        record.size = capped.count
    record.sha256, record.duplicate_of = stream.sha256, (twin[0] if twin else None)
    if record.sha256:
        add_digest(storage, settings, manifest.owner, record.sha256, session_id)
    with suppress(ConflictError):  # extraction already took the file over: its record wins
        save_record(storage, settings, session_id, record, if_match=etag)
    return record


class _Digesting:
    """A body read through, its SHA-256 computed on the way; `at_end(sha256)` is called before the
    last bytes are handed on (or the empty read that ends a body of unknown length), so a refusal
    raised there leaves the upload uncommitted."""

    def __init__(self, stream: Readable, length: int | None, *, at_end: Callable[[str], None]) -> None:
        self._stream, self._length, self._at_end = stream, length, at_end
        self._hash = hashlib.sha256()
        self._count = 0
        self.sha256: str | None = None

    def read(self, size: int = -1, /) -> bytes:
        chunk = self._stream.read(size)
        self._hash.update(chunk)
        self._count += len(chunk)
        ended = not chunk or size < 0 or (self._length is not None and self._count >= self._length)
        if ended and self.sha256 is None:
            self.sha256 = self._hash.hexdigest()
            self._at_end(self.sha256)
        return chunk


def _duplicate(name: str, twin: SessionManifest) -> DuplicateFileError:
    called = f"“{twin.name}”" if twin.name else twin.id
    return DuplicateFileError(
        f"{name} is already in your session {called}: open that session, or send it again "
        "with allow_duplicate=true to add it here too",
        session_id=twin.id,
        session_name=twin.name,
    )


def _trace_metadata() -> dict[str, str] | None:
    traceparent = current_traceparent()
    return {TRACEPARENT: traceparent} if traceparent else None


def upload_url(
    storage: Storage,
    settings: Settings,
    session_id: str,
    filename: str,
    *,
    file_id: str | None = None,
    owner: OwnerCheck = ANYONE,
    upload_id: str | None = None,
    sha256: str | None = None,
    allow_duplicate: bool = False,
) -> dict[str, object]:
    """A write-only URL for one blob, for files larger than a request may carry.

    With `file_id` (a file still awaiting its upload), a fresh URL for that same file and blob: an
    upload that outlived its URL goes on, and the blocks already stored are kept for it.
    With `sha256` (the client's digest of the file, hex), a file already in another session of the
    same owner is refused before any byte is sent (DuplicateFileError), unless `allow_duplicate`;
    without it the extract step finds the twin once the file is read, and notes it on the record.
    """
    name = safe_name(filename)
    if sha256 is not None and file_id is None and not allow_duplicate:
        if not is_sha256(sha256.lower()):
            raise BadUploadIdError("sha256 is the file's SHA-256 as 64 hexadecimal digits")
        manifest, _ = load_manifest(storage, settings, session_id, owner=owner)
        if twin := find_twin(storage, settings, manifest.owner, sha256.lower(), besides=session_id):
            raise _duplicate(name, twin)
    if file_id is None and upload_id is not None:
        # A retried request for a URL (its answer lost): the same file, and a URL for it again.
        file_id = file_id_for(session_id, upload_id)
        if load_record(storage, settings, session_id, file_id) is None:
            _new_record(
                storage,
                settings,
                session_id,
                name,
                status=FileStatus.AWAITING_UPLOAD,
                owner=owner,
                file_id=file_id,
            )
    if file_id is None:
        record, _, _ = _new_record(
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
    headers = {"x-ms-blob-type": "BlockBlob", "Content-Type": "application/pdf"}
    manifest, _ = load_manifest(storage, settings, session_id)
    with step("upload URL", parent=manifest.trace, attributes={"ccproc.session": session_id}):
        # Sent with the upload (the blob's metadata), so the extract step continues the session's trace.
        headers.update({f"x-ms-meta-{k}": v for k, v in (_trace_metadata() or {}).items()})
    return {
        "file": record.model_dump(mode="json"),
        "url": url,
        "method": "PUT",
        "headers": headers,
        "expires_in_minutes": settings.upload_url_minutes,
    }


def remove_file(
    storage: Storage, settings: Settings, session_id: str, file_id: str, *, owner: OwnerCheck = ANYONE
) -> FileRecord:
    """Take back a file whose upload never finished (or that failed): the session no longer waits for it.

    A file being extracted or already extracted stays (its extraction may be in the reports).
    """
    manifest, _ = load_manifest(storage, settings, session_id, owner=owner)
    record = load_record(storage, settings, session_id, file_id) if FILE_ID.match(file_id) else None
    if record is None:
        raise UnknownSessionError(f"session {session_id} has no file {file_id[:40]!r}")
    if record.status not in (FileStatus.AWAITING_UPLOAD, FileStatus.FAILED):
        raise WrongStateError(f"{record.name} is {record.status.value}: only unfinished or failed files go")
    storage.delete(settings.uploads_container, upload_blob(session_id, record.id, record.name))
    if record.sha256:
        remove_digest(storage, settings, manifest.owner, record.sha256, session_id)
    storage.delete(settings.sessions_container, record_blob(session_id, record.id))
    # A processing session may have been waiting only for this file: let the finalize step look again.
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
    with step("process session", parent=manifest.trace, attributes={"ccproc.session": session_id}):
        storage.send(settings.results_queue, results_message(session_id, None, current_traceparent()))
    return view(manifest, records)


def file_view(record: FileRecord) -> FileView:
    """A file as the API shows it: a failed one says what went wrong in a clerk's words (`problem`)."""
    failed = record.status is FileStatus.FAILED or record.error is not None
    code = record.error_code or ("error" if failed else None)
    return FileView(**record.model_dump(), problem=problem_of(code))


# How finalize and the storage sweep begin the reason a session failed (`fail_session`): what the clerk
# is told for each. A failed session takes no more files, so each says to start a new one.
_SESSION_PROBLEMS = (
    (
        "an upload was orphaned",
        "A file's upload never finished. Start a new session and upload the files again.",
    ),
    (
        "finishing the session",
        "The reconciliation could not be finished because of a fault on our side. Start a new session with "
        "the same files; if it happens again, tell your administrator.",
    ),
)
NO_STATEMENT_READ = (
    "No statement could be read, so there was nothing to reconcile. Start a new session with a statement "
    "that reads (each file says what was wrong with it)."
)


def session_problem(manifest: SessionManifest) -> str | None:
    """Why a failed session stopped, in a clerk's words; None while nothing went wrong."""
    if manifest.error is None:
        return None
    for start, sentence in _SESSION_PROBLEMS:
        if manifest.error.startswith(start):
            return sentence
    # The only other way a session fails: every statement failed, so nothing could be reconciled.
    return NO_STATEMENT_READ


def _not_read(summary: Summary | None, records: list[FileRecord]) -> Summary | None:
    """The summary with each file not read said as `name: sentence (technical detail: reason)`."""
    if summary is None or not summary.files_not_read or not records:
        return summary
    said = {
        f"{r.name}: {r.error or 'it could not be read'}": f"{r.name}: {file_view(r).problem} "
        f"(technical detail: {r.error or 'none'})"
        for r in records
        if r.status is FileStatus.FAILED
    }
    return summary.model_copy(
        update={"files_not_read": [said.get(line, line) for line in summary.files_not_read]}
    )


def view(manifest: SessionManifest, records: list[FileRecord]) -> SessionView:
    """The session as the API shows it, with a progress figure from 0 to 1; what went wrong with it or a
    file is said for a clerk (`problem`) beside the technical `error`."""
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
        problem=session_problem(manifest),
        files=[file_view(r) for r in records],
        summary=_not_read(manifest.summary, records),
        reports=manifest.reports,
        warnings=_warnings(manifest, records),
    )


ONLY_STATEMENT = (
    "Only a statement is in, no receipts report: processed now, every transaction will be Missing Both. "
    "Add the Receipt Images Report first to match the expenses."
)
ONLY_RECEIPTS = (
    "Only a receipts report is in, no statement: there are no transactions to match it to. "
    "Add the Cardholder Activity Report."
)


def _warnings(manifest: SessionManifest, records: list[FileRecord]) -> list[str]:
    """What to say before processing (the files read so far are of one kind only) and after (the
    completed session's own warnings)."""
    if manifest.status is SessionStatus.COMPLETED:
        return list(manifest.summary.warnings) if manifest.summary else []
    if not records or not all(r.status.terminal for r in records):
        return []
    kinds = {r.kind for r in records if r.status is FileStatus.EXTRACTED}
    if kinds == {DocumentKind.CARDHOLDER_ACTIVITY}:
        return [ONLY_STATEMENT]
    if kinds == {DocumentKind.RECEIPT_IMAGES}:
        return [ONLY_RECEIPTS]
    return []


def get_session(
    storage: Storage, settings: Settings, session_id: str, *, owner: OwnerCheck = ANYONE
) -> SessionView:
    manifest, _ = load_manifest(storage, settings, session_id, owner=owner)
    return view(manifest, load_records(storage, settings, session_id))


@dataclass(frozen=True)
class SessionPage:
    """A page of a tenant's sessions, newest first, without their files; `next` asks for the next
    page (None: this is the last)."""

    sessions: list[SessionView]
    next: str | None


def list_sessions(
    storage: Storage,
    settings: Settings,
    *,
    owner: Owner = None,
    limit: int | None = None,
    page: str | None = None,
) -> SessionPage:
    """A page of `owner`'s sessions, newest first, read from the tenant's own index: `limit`
    (the `session_page_size` setting when None) at most, from where the token `page` left off."""
    found = list_page(storage, settings, owner, limit=limit or settings.session_page_size, token=page)
    return SessionPage([view(manifest, []) for manifest in found.manifests], found.next)


def reconciliation(
    storage: Storage, settings: Settings, session_id: str, *, owner: OwnerCheck = ANYONE
) -> Reconciliation:
    """The completed session's reconciliation (transactions with their matches)."""
    manifest, _ = load_manifest(storage, settings, session_id, owner=owner)
    if manifest.status is not SessionStatus.COMPLETED:
        raise WrongStateError(f"session {session_id} is {manifest.status.value}, not completed")
    data, _ = storage.get_bytes(settings.sessions_container, reconciliation_blob(session_id))
    return Reconciliation.model_validate_json(data)


def changes(storage: Storage, settings: Settings, session_id: str, *, owner: OwnerCheck = ANYONE) -> Changes:
    """What the session's last run changed, against the run before (a newer receipts report, or a
    reconciliation again after an alias); NoChangesError when it was finalized only once."""
    manifest, _ = load_manifest(storage, settings, session_id, owner=owner)
    if manifest.status is not SessionStatus.COMPLETED:
        raise WrongStateError(f"session {session_id} is {manifest.status.value}, not completed")
    if manifest.summary is None or manifest.summary.changes is None:
        raise NoChangesError(f"session {session_id} was reconciled once: there is nothing to compare")
    try:
        data, _ = storage.get_bytes(settings.sessions_container, changes_blob(session_id))
    except NotFoundError as exc:
        raise NoChangesError(f"session {session_id} keeps no comparison") from exc
    return Changes.model_validate_json(data)


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
    manifest, _ = load_manifest(storage, settings, session_id, owner=owner)
    removed = int(remove_from_index(storage, settings, manifest))
    for record in load_records(storage, settings, session_id):
        if record.sha256:
            remove_digest(storage, settings, manifest.owner, record.sha256, session_id)
    for container in (settings.uploads_container, settings.sessions_container):
        names = [info.name for info in storage.list(container, session_prefix(session_id))]
        # The manifest goes last, so a half-finished delete can be finished by deleting again.
        names.sort(key=is_manifest_blob)
        removed += sum(storage.delete(container, name) for name in names)
    return removed
