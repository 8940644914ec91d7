"""Pipeline steps the triggers (and the Kubernetes workers) run: extract one upload, finalize a
session, sweep old data. Each is a function of (storage, settings, input) and safe to run twice."""

from __future__ import annotations

import datetime as dt
import json
import logging
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from shared.errors import ExtractionGaveUpError, PermanentError, TransientError
from shared.extraction.sandbox import extract_and_cut_sandboxed
from shared.matching.aliases import BlobAliasStore
from shared.matching.match import reconcile
from shared.models import Document, DocumentKind, Status
from shared.report import REPORTS, write_reports
from shared.sessions.models import FileRecord, FileStatus, SessionManifest, SessionStatus, Summary, now
from shared.sessions.receipt_store import CutsUpload, place_receipts, source_blob
from shared.sessions.requests import (
    delete_session,
    load_manifest,
    load_record,
    load_records,
    parse_upload_blob,
    record_blob,
    report_blob,
    result_blob,
    results_message,
    save_record,
    update_manifest,
    upload_blob,
)
from shared.settings import Settings
from shared.storage.gateway import NotFoundError, Storage
from shared.values import mask_card_numbers

log = logging.getLogger("ccproc")
UPLOAD_THREADS = 4


@contextmanager
def scratch(settings: Settings) -> Iterator[Path]:
    """A private folder on local disk for one step, removed when the step ends."""
    with tempfile.TemporaryDirectory(prefix="ccproc-", dir=settings.temp_storage_path) as folder:
        yield Path(folder)


# -- extract -------------------------------------------------------------------------------
def extract_upload(storage: Storage, settings: Settings, blob_name: str) -> FileRecord | None:
    """Blob-trigger step: extract one upload, keep its result, tell the results queue, remove it.

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
        if _exists(storage, settings.uploads_container, blob_name):
            storage.send(settings.results_queue, results_message(session_id, file_id))
            storage.delete(settings.uploads_container, blob_name)
        return record
    with scratch(settings) as folder:
        local = folder / "upload.pdf"
        try:
            record.size = storage.download_to(settings.uploads_container, blob_name, local)
        except NotFoundError:
            return record  # removed meanwhile (session deleted): nothing to do
        record.uploaded = record.uploaded or now()
        cuts_folder = folder / "cuts"
        with CutsUpload(storage, settings, session_id, file_id, cuts_folder) as cuts_upload:
            try:
                # In a child process under CPU, memory and time limits: a hostile file fails alone.
                # A receipts report's expenses are cut into PDFs while it is read, uploaded end to
                # end as one blob as they come (receipt_store).
                extraction = extract_and_cut_sandboxed(
                    local, settings, cuts_folder=cuts_folder, name=record.name
                )
            except PermanentError as exc:
                _fail_file(storage, settings, session_id, record=record, blob_name=blob_name, exc=exc)
                return record
            document = extraction.document
            if document.kind is DocumentKind.RECEIPT_IMAGES and extraction.cuts is not None:
                cuts_upload.keep(extraction.cuts)
        storage.put_bytes(
            settings.sessions_container,
            result_blob(session_id, file_id),
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
    record.transactions = (
        len(document.transactions) if document.kind is DocumentKind.CARDHOLDER_ACTIVITY else None
    )
    record.expenses = len(document.receipts) if document.kind is DocumentKind.RECEIPT_IMAGES else None
    record.checks, record.warnings = len(document.checks), len(document.warnings)
    save_record(storage, settings, session_id, record)
    storage.send(settings.results_queue, results_message(session_id, file_id))
    storage.delete(settings.uploads_container, blob_name)
    log.info(
        "session %s: %s extracted (%s, %s pages)",
        session_id,
        record.name,
        document.kind.value,
        document.pages,
    )
    return record


def give_up_upload(storage: Storage, settings: Settings, blob_name: str, reason: str) -> None:
    """After every try of an upload failed unexpectedly: mark the file failed with the reason and
    move the upload aside, as for an unreadable PDF, so the session can end instead of waiting."""
    session_id, file_id, name = parse_upload_blob(blob_name)
    record = load_record(storage, settings, session_id, file_id) or FileRecord(
        id=file_id, name=name, status=FileStatus.UPLOADED
    )
    if record.status.terminal:
        storage.delete(settings.uploads_container, blob_name)
        return
    error = ExtractionGaveUpError(f"extraction failed on every try: {mask_card_numbers(reason)[:300]}")
    _fail_file(storage, settings, session_id, record=record, blob_name=blob_name, exc=error)


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
    storage.copy(
        settings.uploads_container,
        blob_name,
        settings.sessions_container,
        f"{session_id}/failed/{record.id}/{record.name}",
    )
    save_record(storage, settings, session_id, record)
    storage.send(settings.results_queue, results_message(session_id, record.id))
    storage.delete(settings.uploads_container, blob_name)
    log.warning("session %s: %s failed: %s", session_id, record.name, exc.message)


# -- finalize ------------------------------------------------------------------------------
def _latest(records: list[FileRecord], kind: DocumentKind) -> FileRecord | None:
    chosen = [r for r in records if r.status is FileStatus.EXTRACTED and r.kind is kind]
    return max(chosen, key=lambda r: r.extracted or now()) if chosen else None


def _load_document(
    storage: Storage, settings: Settings, session_id: str, record: FileRecord | None
) -> Document | None:
    if record is None:
        return None
    data, _ = storage.get_bytes(settings.sessions_container, result_blob(session_id, record.id))
    return Document.model_validate_json(data)


def finalize_session(storage: Storage, settings: Settings, message: str) -> SessionStatus | None:
    """Queue-trigger step: once a processing session's files are all extracted, match and report.

    Runs on every message; does nothing until the session is processing and every file is done,
    and nothing again once it is completed.
    """
    session_id = json.loads(message)["session"]
    try:
        manifest, _ = load_manifest(storage, settings, session_id)
    except PermanentError:
        return None  # the session was deleted meanwhile
    if manifest.status is not SessionStatus.PROCESSING:
        return manifest.status
    records = load_records(storage, settings, session_id)
    if not records or not all(r.status.terminal for r in records):
        return manifest.status
    _remove_leftover_uploads(storage, settings, session_id, records)
    failed = [r for r in records if r.status is FileStatus.FAILED]
    if failed:
        reason = "; ".join(f"{r.name}: {r.error}" for r in failed)
        return _finish(storage, settings, session_id, SessionStatus.FAILED, error=reason).status

    statement_record = _latest(records, DocumentKind.CARDHOLDER_ACTIVITY)
    receipts_record = _latest(records, DocumentKind.RECEIPT_IMAGES)
    statement = _load_document(storage, settings, session_id, statement_record)
    receipts = _load_document(storage, settings, session_id, receipts_record)
    result = reconcile(
        statement,
        receipts,
        aliases=BlobAliasStore(storage, settings, manifest.owner).load(),
        settings=settings,
    )
    with scratch(settings) as folder, ThreadPoolExecutor(max_workers=UPLOAD_THREADS) as pool:
        # The receipt PDFs were cut when the receipts report was extracted: matching only names them
        # (the ZIP is written from the stored PDFs as it is downloaded).
        receipt_pdfs = place_receipts(
            storage,
            settings,
            session_id,
            result,
            receipts_file=receipts_record.id if receipts_record else None,
            scratch=folder,
        )
        out = folder / "reports"
        written = write_reports(result, out, settings=settings, receipt_pdfs=receipt_pdfs)

        def publish(path: Path) -> None:
            relative = path.relative_to(out).as_posix()
            storage.put_file(settings.sessions_container, report_blob(session_id, relative), path)

        list(pool.map(publish, written))
        storage.put_bytes(
            settings.sessions_container,
            report_blob(session_id, "result.json"),
            result.model_dump_json().encode(),
            content_type="application/json",
        )
    counts = {status.value: sum(r.status is status for r in result.transactions) for status in Status}
    summary = Summary(
        transactions=len(result.transactions),
        expenses=len(receipts.receipts) if receipts else 0,
        statuses=counts,
        unmatched_expenses=len(result.unmatched_expenses),
        unresolved_names=len(result.unresolved_names),
        checks=len(result.checks),
    )
    done = _finish(
        storage,
        settings,
        session_id,
        SessionStatus.COMPLETED,
        summary=summary,
        reports=list(REPORTS),  # all written; the receipts ZIP is made from the stored PDFs
        receipt_pdfs=sorted(receipt_pdfs.names.values()),
    )
    log.info("session %s completed: %s", session_id, summary.model_dump_json())
    return done.status


def _remove_leftover_uploads(
    storage: Storage, settings: Settings, session_id: str, records: list[FileRecord]
) -> None:
    """Remove the uploads of files already done, so a session never ends with uploads left: an
    extract step removes its upload last, after its results message, and may still be retrying
    that removal (or have died just before it) when the message completes the session. An upload
    without a record (its request failed after storing it) is removed as the extract step would."""
    done = {r.id for r in records if r.status.terminal}
    for info in list(storage.list(settings.uploads_container, f"{session_id}/")):
        try:
            _, file_id, _ = parse_upload_blob(info.name)
        except PermanentError:
            continue
        if file_id in done or load_record(storage, settings, session_id, file_id) is None:
            storage.delete(settings.uploads_container, info.name)


def _finish(
    storage: Storage,
    settings: Settings,
    session_id: str,
    status: SessionStatus,
    *,
    error: str | None = None,
    summary: Summary | None = None,
    reports: list[str] | None = None,
    receipt_pdfs: list[str] | None = None,
) -> SessionManifest:
    def change(m: SessionManifest) -> bool:
        if m.status is not SessionStatus.PROCESSING:
            return False
        m.status, m.error, m.runs = status, error, m.runs + 1
        m.completed = now() if status is SessionStatus.COMPLETED else None
        m.summary, m.reports, m.receipt_pdfs = summary, reports or [], receipt_pdfs or []
        return True

    return update_manifest(storage, settings, session_id, change)


def fail_session(storage: Storage, settings: Settings, session_id: str, reason: str) -> None:
    """Mark a session failed with a reason a person can read (a step gave up on it)."""

    def change(m: SessionManifest) -> bool:
        if m.status in (SessionStatus.COMPLETED, SessionStatus.FAILED):
            return False
        m.status, m.error = SessionStatus.FAILED, mask_card_numbers(reason)[:500]
        return True

    try:
        update_manifest(storage, settings, session_id, change)
    except PermanentError:
        log.warning("session %s: could not be marked failed (deleted?)", session_id)


def finalize_failed(
    storage: Storage,
    settings: Settings,
    message: str,
    error: BaseException | None,
    *,
    dequeue_count: int,
) -> bool:
    """A finalize try raised `error` (None: its message came back after every try was used up
    without an answer, the runner having died each time). True when the message is spent and goes
    to the poison queue; on that last try the session is marked failed with the reason, unless
    storage was unreachable, which says nothing about the session."""
    if dequeue_count < settings.max_dequeue_count:
        return False
    if not isinstance(error, TransientError):
        try:
            session_id = str(json.loads(message)["session"])
        except (ValueError, TypeError, KeyError):
            log.warning("a results message names no session; sent to the poison queue")
            return True
        reason = (
            f"finishing the session failed: {error}"
            if error is not None
            else f"finishing the session was tried {dequeue_count} times and never finished"
        )
        fail_session(storage, settings, session_id, reason)
    return True


# -- sweep ---------------------------------------------------------------------------------
def sweep(storage: Storage, settings: Settings, at: dt.datetime | None = None) -> dict[str, int]:
    """Timer step: delete sessions past retention, fail orphaned uploads, and measure storage used."""
    at = at or now()
    stale = at - dt.timedelta(hours=settings.orphan_upload_hours)
    expired = orphans = 0
    for info in list(storage.list(settings.sessions_container)):
        if info.name.endswith("/manifest.json"):
            data, _ = storage.get_bytes(settings.sessions_container, info.name)
            manifest = SessionManifest.model_validate_json(data)
            if manifest.created < at - dt.timedelta(days=settings.retention_days):
                delete_session(storage, settings, manifest.id)
                expired += 1
        elif "/files/" in info.name and info.last_modified < stale:
            # An upload URL handed out but never used: nothing else would ever finish this file.
            session_id, file_id = info.name.split("/")[0], info.name.rsplit("/", 1)[-1].removesuffix(".json")
            record = load_record(storage, settings, session_id, file_id)
            if record is not None and record.status is FileStatus.AWAITING_UPLOAD:
                _fail_orphan(storage, settings, session_id, record, "the upload URL was never used")
                orphans += 1
            elif record is not None and record.status is FileStatus.UPLOADED:
                upload = upload_blob(session_id, record.id, record.name)
                if not _exists(storage, settings.uploads_container, upload):
                    # Written by an upload request that then failed (storage failing for the upload
                    # and its clean-up): its client was told and sent the file again. Removed, as
                    # `remove_file` would, so the session stops waiting for it.
                    storage.delete(settings.sessions_container, record_blob(session_id, record.id))
                    storage.send(settings.results_queue, results_message(session_id))
                    log.warning("session %s: %s removed: its upload never came", session_id, record.name)
                    orphans += 1
    for info in list(storage.list(settings.uploads_container)):
        if info.last_modified < stale:
            storage.delete(settings.uploads_container, info.name)
            orphans += 1
            try:
                session_id, file_id, _ = parse_upload_blob(info.name)
            except PermanentError:
                continue
            record = load_record(storage, settings, session_id, file_id)
            if record is not None and not record.status.terminal:
                hours = settings.orphan_upload_hours
                _fail_orphan(storage, settings, session_id, record, f"the upload waited over {hours} hours")
    used = {
        container: sum(i.size for i in storage.list(container))
        for container in (settings.uploads_container, settings.sessions_container)
    }
    log.info(
        "storage used: uploads %d bytes, sessions %d bytes; %d expired sessions deleted, "
        "%d orphaned uploads failed",
        used[settings.uploads_container],
        used[settings.sessions_container],
        expired,
        orphans,
    )
    return {
        "expired_sessions": expired,
        "orphaned_uploads": orphans,
        **{f"bytes_{k}": v for k, v in used.items()},
    }


def _exists(storage: Storage, container: str, name: str) -> bool:
    try:
        storage.info(container, name)
    except NotFoundError:
        return False
    return True


def _fail_orphan(
    storage: Storage, settings: Settings, session_id: str, record: FileRecord, reason: str
) -> None:
    record.status, record.error, record.error_code = FileStatus.FAILED, reason, "orphaned_upload"
    save_record(storage, settings, session_id, record)
    fail_session(storage, settings, session_id, f"an upload was orphaned ({record.name}): {reason}")
