"""The extract step (blob trigger, extract worker): one upload in, its extraction kept, the results
queue told, the upload removed. Safe to run twice for one upload."""

from __future__ import annotations

import logging
from contextlib import suppress

from shared.errors import (
    ExtractionGaveUpError,
    FileTooLargeError,
    NotFoundError,
    PermanentError,
    StorageQuotaError,
    UnknownSessionError,
)
from shared.extraction.sandbox import extract_and_cut_sandboxed
from shared.models import DocumentKind
from shared.sessions.layout import (
    extraction_blob,
    failed_blob,
    parse_upload_blob,
    read_blob_poison_message,
    results_message,
    source_blob,
)
from shared.sessions.models import FileRecord, FileStatus, now
from shared.sessions.receipt_store import CutsUpload
from shared.sessions.store import exists, load_manifest, load_record, save_record, scratch
from shared.sessions.tenants import check_storage_quota
from shared.settings import Settings
from shared.storage.gateway import Storage
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
    too_large: PermanentError | None = _too_large(storage, settings, blob_name) or _over_quota(
        storage, settings, session_id
    )
    if too_large is not None:
        # An upload URL lets a client write any size: the limits are enforced here, before a byte
        # is downloaded, and the blob removed (it would only fill the scratch disk again).
        record.status, record.error, record.error_code = FileStatus.FAILED, too_large.message, too_large.code
        save_record(storage, settings, session_id, record)
        storage.send(settings.results_queue, results_message(session_id, file_id))
        storage.delete(settings.uploads_container, blob_name)
        log.warning("session %s: %s refused: %s", session_id, record.name, too_large.message)
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
    record.transactions = (
        len(document.transactions) if document.kind is DocumentKind.CARDHOLDER_ACTIVITY else None
    )
    record.expenses = len(document.expenses) if document.kind is DocumentKind.RECEIPT_IMAGES else None
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


def _too_large(storage: Storage, settings: Settings, blob_name: str) -> FileTooLargeError | None:
    """The refusal of an upload larger than `max_file_bytes`, read from its properties; None if not."""
    try:
        size = storage.info(settings.uploads_container, blob_name).size
    except NotFoundError:
        return None  # gone meanwhile: the download below finds that out and ends the step
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
    with suppress(NotFoundError):  # an upload already gone (the session deleted) has nothing to keep
        storage.copy(
            settings.uploads_container,
            blob_name,
            settings.sessions_container,
            failed_blob(session_id, record.id, record.name),
        )
    save_record(storage, settings, session_id, record)
    storage.send(settings.results_queue, results_message(session_id, record.id))
    storage.delete(settings.uploads_container, blob_name)
    log.warning("session %s: %s failed: %s", session_id, record.name, exc.message)
