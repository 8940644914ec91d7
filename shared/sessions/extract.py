"""The extract step (blob trigger, extract worker): one upload in, its extraction kept, the results
queue told, the upload removed. Safe to run twice for one upload."""

from __future__ import annotations

import hashlib
import logging
import time
from contextlib import suppress
from pathlib import Path

from opentelemetry import trace
from opentelemetry.trace import Span

from shared.errors import (
    ConflictError,
    ExtractionGaveUpError,
    FileTooLargeError,
    NotFoundError,
    PermanentError,
    StorageQuotaError,
    TransientError,
    UnknownSessionError,
)
from shared.extraction.sandbox import Phase, extract_and_cut_sandboxed
from shared.models import DocumentKind
from shared.sessions.layout import (
    extraction_blob,
    failed_blob,
    parse_upload_blob,
    read_blob_poison_message,
    results_message,
    source_blob,
)
from shared.sessions.models import FileRecord, FileStatus, SessionRef, now
from shared.sessions.receipt_store import CutsUpload
from shared.sessions.store import exists, load_manifest, load_record, save_record, scratch
from shared.sessions.tenants import add_digest, check_storage_quota, find_twin
from shared.settings import Settings
from shared.storage.gateway import BlobInfo, Storage
from shared.telemetry import metrics
from shared.telemetry.logs import working_on
from shared.telemetry.tracing import TRACEPARENT, current_traceparent, step, tracer
from shared.telemetry.tracing import record as record_attributes
from shared.values import mask_card_numbers

log = logging.getLogger("ccproc")


def extract_upload(storage: Storage, settings: Settings, blob_name: str) -> FileRecord | None:
    """Blob-trigger step: extract one upload, keep its extraction, tell the results queue, remove it.

    A file that cannot be read is marked failed with its reason and its upload moved aside. A
    repeated event for a file already handled changes nothing.
    """
    session_id, file_id, _ = parse_upload_blob(blob_name)
    record = load_record(storage, settings, session_id, file_id)
    if record is None:
        # Every upload's record is written before its blob: without one, the blob belongs to no
        # session, to a file taken back, or to an upload request that failed after storing it (its
        # client was told, and sent the file again as a new one). Nothing to extract.
        log.warning("upload %s has no file record; removed", blob_name)
        storage.delete(settings.uploads_container, blob_name)
        return None
    if record.status.terminal:
        # A repeated event. An upload still there means the try that finished the file died before
        # its clean-up, perhaps before its results message went: send it (a second one is harmless).
        if exists(storage, settings.uploads_container, blob_name):
            storage.send(settings.results_queue, results_message(session_id, file_id))
            storage.delete(settings.uploads_container, blob_name)
        return record
    try:
        info = storage.info(settings.uploads_container, blob_name)
    except NotFoundError:
        return record  # removed meanwhile (session deleted): nothing to do
    # The trace of the request that stored the upload (its blob's metadata), else the session's.
    parent = info.metadata.get(TRACEPARENT)
    fallback = None if parent else _session_trace(storage, settings, session_id)
    attributes = {"ccproc.session": session_id, "ccproc.file": file_id, "ccproc.bytes": info.size}
    with (
        working_on(session_id),
        step("extract file", parent=parent, fallback=fallback, attributes=attributes) as span,
    ):
        return _extract(storage, settings, blob_name, record=record, info=info, span=span)


def _extract(
    storage: Storage, settings: Settings, blob_name: str, *, record: FileRecord, info: BlobInfo, span: Span
) -> FileRecord:
    session_id, file_id, _ = parse_upload_blob(blob_name)
    # Storage keeps whole seconds: a blob stored within the second its URL was asked for would seem
    # to be stored before its upload began.
    stored = info.last_modified if record.uploaded is None else max(info.last_modified, record.uploaded)
    record.stored = record.stored or stored
    record.started = now()
    too_large: PermanentError | None = _too_large(settings, info.size) or _over_quota(
        storage, settings, session_id
    )
    if too_large is not None:
        # An upload URL lets a client write any size: the limits are enforced here, before a byte
        # is downloaded, and the blob removed (it would only fill the scratch disk again).
        record.status, record.error, record.error_code = FileStatus.FAILED, too_large.message, too_large.code
        record.finished = now()
        save_record(storage, settings, session_id, record)
        storage.send(settings.results_queue, results_message(session_id, file_id, current_traceparent()))
        storage.delete(settings.uploads_container, blob_name)
        log.warning("session %s: %s refused: %s", session_id, record.name, too_large.message)
        metrics.files_failed.add(1, {"reason": too_large.code})
        _failed(span, too_large)
        return record
    etag = save_record(storage, settings, session_id, record)  # the page shows it is being read
    with scratch(settings) as folder:
        local = folder / "upload.pdf"
        try:
            with step("download", attributes={"ccproc.bytes": info.size}):
                record.size = storage.download_to(settings.uploads_container, blob_name, local)
        except NotFoundError:
            return record  # removed meanwhile (session deleted): nothing to do
        record.uploaded = record.uploaded or record.stored or now()
        _note_digest(storage, settings, session_id, record, local)
        cuts_folder = folder / "cuts"
        progress = _ProgressNotes(storage, settings, session_id, record, etag)
        with CutsUpload(storage, settings, session_id, file_id, cuts_folder) as cuts_upload:
            try:
                # In a child process under CPU, memory and time limits: a hostile file fails alone.
                # A receipts report's expenses are cut into PDFs while it is read, uploaded end to
                # end as one blob as they come (receipt_store).
                with step("extract in sandbox") as sandbox:
                    extraction = extract_and_cut_sandboxed(
                        local, settings, cuts_folder=cuts_folder, name=record.name, progress=progress
                    )
                    _child_phases(sandbox, extraction.phases)
            except PermanentError as exc:
                _fail_file(storage, settings, session_id, record=record, blob_name=blob_name, exc=exc)
                _failed(span, exc)
                return record
            document = extraction.document
            if document.kind is DocumentKind.RECEIPT_IMAGES and extraction.cuts is not None:
                cuts_upload.keep(extraction.cuts)
        with step("write results"):
            storage.put_bytes(
                settings.sessions_container,
                extraction_blob(session_id, file_id),
                document.model_dump_json().encode(),
                content_type="application/json",
            )
            if document.kind is DocumentKind.RECEIPT_IMAGES:
                # Kept for cutting what was not cut ahead: a server-side copy, no second upload.
                try:
                    storage.copy(
                        settings.uploads_container,
                        blob_name,
                        settings.sessions_container,
                        source_blob(session_id, file_id),
                    )
                except NotFoundError:
                    return record  # a repeated event racing this one finished the file and removed it

    record.status, record.extracted, record.kind, record.pages = (
        FileStatus.EXTRACTED,
        now(),
        document.kind,
        document.pages,
    )
    record.finished, record.pages_read = record.extracted, None
    record.transactions = (
        len(document.transactions) if document.kind is DocumentKind.CARDHOLDER_ACTIVITY else None
    )
    record.expenses = len(document.expenses) if document.kind is DocumentKind.RECEIPT_IMAGES else None
    record.checks, record.warnings = len(document.checks), len(document.warnings)
    progress.stop()
    save_record(storage, settings, session_id, record)
    storage.send(settings.results_queue, results_message(session_id, file_id, current_traceparent()))
    storage.delete(settings.uploads_container, blob_name)
    seconds = (record.extracted - record.started).total_seconds()
    kind = {"kind": document.kind.value}
    metrics.files_extracted.add(1, kind)
    metrics.extraction_duration.record(seconds, kind)
    if seconds > 0:
        metrics.pages_per_second.record(document.pages / seconds, kind)
    record_attributes(
        span,
        kind=document.kind.value,
        pages=document.pages,
        transactions=record.transactions,
        expenses=record.expenses,
        outcome="extracted",
    )
    log.info(
        "session %s: %s extracted (%s, %s pages)",
        session_id,
        record.name,
        document.kind.value,
        document.pages,
    )
    return record


_HASH_CHUNK = 1024 * 1024


def _note_digest(
    storage: Storage, settings: Settings, session_id: str, record: FileRecord, local: Path
) -> None:
    """The file's SHA-256 on its record (an upload URL's file: the API never saw its bytes), noted in
    the tenant's digest index, and another session of the tenant already holding it noted on the
    record (`duplicate_of`) for the page to offer. The local copy is hashed, not the blob again."""
    if record.sha256 is None:
        digest = hashlib.sha256()
        with local.open("rb") as fh:
            while chunk := fh.read(_HASH_CHUNK):
                digest.update(chunk)
        record.sha256 = digest.hexdigest()
    try:
        manifest, _ = load_manifest(storage, settings, session_id)
    except UnknownSessionError:
        return  # deleted meanwhile: nothing to note
    if record.duplicate_of is None and (
        twin := find_twin(storage, settings, manifest.owner, record.sha256, besides=session_id)
    ):
        record.duplicate_of = SessionRef(id=twin.id, name=twin.name)
    add_digest(storage, settings, manifest.owner, record.sha256, session_id)


class _ProgressNotes:
    """The extraction's progress written to the file's record every few seconds ("page 412 of
    1,256" on the page), under the record's ETag: a file taken back meanwhile is not brought back."""

    EVERY_SECONDS = 2.0

    def __init__(self, storage: Storage, settings: Settings, session_id: str, record: FileRecord, etag: str):
        self.storage, self.settings, self.session_id = storage, settings, session_id
        self.record, self.etag = record.model_copy(), etag
        self.last = time.monotonic()
        self.stopped = False

    def __call__(self, done: int, total: int) -> None:
        if self.stopped or time.monotonic() - self.last < self.EVERY_SECONDS or done >= total:
            return
        self.last = time.monotonic()
        self.record.pages_read, self.record.pages = done, total
        try:
            self.etag = save_record(
                self.storage, self.settings, self.session_id, self.record, if_match=self.etag
            )
        except (ConflictError, NotFoundError, TransientError):
            self.stopped = True  # taken back, or storage busy: progress is a courtesy, the work goes on

    def stop(self) -> None:
        self.stopped = True


def _child_phases(parent: Span, phases: list[Phase]) -> None:
    """The sandboxed child's phases as spans under `parent` (the child exports nothing itself)."""
    context = trace.set_span_in_context(parent)
    for phase in phases:
        tracer.start_span(phase.name, context=context, start_time=phase.start_ns).end(end_time=phase.end_ns)


def _failed(span: Span, exc: PermanentError) -> None:
    record_attributes(span, outcome=exc.code)


def _session_trace(storage: Storage, settings: Settings, session_id: str) -> str | None:
    try:
        manifest, _ = load_manifest(storage, settings, session_id)
    except UnknownSessionError:
        return None
    return manifest.trace


def _too_large(settings: Settings, size: int) -> FileTooLargeError | None:
    """The refusal of an upload of `size` bytes (its blob's properties) over `max_file_bytes`; None if not."""
    if size <= settings.max_file_bytes:
        return None
    mib = 1024 * 1024
    limit = settings.max_file_bytes / mib
    return FileTooLargeError(
        f"the file is {size / mib:,.1f} MiB, more than the {limit:,.1f} MiB a file may be"
    )


def _over_quota(storage: Storage, settings: Settings, session_id: str) -> StorageQuotaError | None:
    """The refusal of an upload that took its tenant past the bytes a tenant may store; None if not."""
    try:
        manifest, _ = load_manifest(storage, settings, session_id)
        check_storage_quota(storage, settings, manifest.owner)
    except UnknownSessionError:
        return None  # deleted meanwhile: the download below finds the upload gone
    except StorageQuotaError as exc:
        return exc
    return None


def give_up_upload(storage: Storage, settings: Settings, blob_name: str, reason: str) -> FileRecord:
    """After every try of an upload failed unexpectedly: mark the file failed with the reason and
    move the upload aside, as for an unreadable PDF, so the session can end instead of waiting."""
    session_id, file_id, name = parse_upload_blob(blob_name)
    record = load_record(storage, settings, session_id, file_id) or FileRecord(
        id=file_id, name=name, status=FileStatus.UPLOADED
    )
    if record.status.terminal:
        storage.delete(settings.uploads_container, blob_name)
        return record
    error = ExtractionGaveUpError(f"extraction failed on every try: {mask_card_numbers(reason)[:300]}")
    _fail_file(storage, settings, session_id, record=record, blob_name=blob_name, exc=error)
    return record


def give_up_poisoned_upload(storage: Storage, settings: Settings, message: str | bytes) -> FileRecord | None:
    """The Functions host gave up on an upload (its poison-blob message): fail the file with the
    reason, as the extract worker does after its last try, so the session can end. A blob of another
    container, or not an upload of a session, is left alone."""
    poisoned = read_blob_poison_message(message)
    if poisoned.container != settings.uploads_container:
        log.warning("a poison-blob message for container %s: not ours, ignored", poisoned.container)
        return None
    try:
        parse_upload_blob(poisoned.blob_name)
    except PermanentError:
        log.warning("a poison-blob message for %s: not an upload of a session, ignored", poisoned.blob_name)
        return None
    reason = "the extraction step failed on every try the Functions host made (see the app's logs)"
    return give_up_upload(storage, settings, poisoned.blob_name, reason)


def _fail_file(
    storage: Storage,
    settings: Settings,
    session_id: str,
    *,
    record: FileRecord,
    blob_name: str,
    exc: PermanentError,
) -> None:
    record.status, record.error, record.error_code = FileStatus.FAILED, exc.message, exc.code
    record.finished, record.pages_read = now(), None
    with suppress(NotFoundError):  # an upload already gone (the session deleted) has nothing to keep
        storage.copy(
            settings.uploads_container,
            blob_name,
            settings.sessions_container,
            failed_blob(session_id, record.id, record.name),
        )
    save_record(storage, settings, session_id, record)
    storage.send(settings.results_queue, results_message(session_id, record.id, current_traceparent()))
    storage.delete(settings.uploads_container, blob_name)
    metrics.files_failed.add(1, {"reason": exc.code})
    log.warning("session %s: %s failed: %s", session_id, record.name, exc.message)
