"""The finalize step (queue trigger, finalize worker): once every file of a processing session is
extracted, match, write every report and complete the session (or fail it, saying why). Safe to
run on every message, and twice."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from shared.errors import BadMessageError, CcprocError, NotFoundError, PermanentError, TransientError
from shared.matching.match import reconcile
from shared.models import Document, DocumentKind, FileNotRead, Reconciliation, Status
from shared.report import REPORTS, write_reports
from shared.sessions.aliases import BlobAliasStore
from shared.sessions.changes import Changes, changes_blob, compare, previous_blob
from shared.sessions.layout import (
    extraction_blob,
    parse_upload_blob,
    read_results_message,
    reconciliation_blob,
    report_blob,
    session_prefix,
)
from shared.sessions.models import (
    FileRecord,
    FileStatus,
    SessionManifest,
    SessionStatus,
    StepTime,
    Summary,
    now,
)
from shared.sessions.receipt_store import place_receipts
from shared.sessions.store import load_manifest, load_record, load_records, scratch, update_manifest
from shared.sessions.tenants import note_session_bytes
from shared.settings import Settings
from shared.storage.gateway import Storage
from shared.telemetry import metrics
from shared.telemetry.logs import working_on
from shared.telemetry.tracing import current_traceparent, step
from shared.telemetry.tracing import record as record_attributes
from shared.values import mask_card_numbers

log = logging.getLogger("ccproc")
UPLOAD_THREADS = 4
_RUN = "run"  # the reconciliation blob's metadata: the run of the session that wrote it
NO_RECEIPTS = "No receipts report was uploaded: every transaction is Missing Both."
NO_STATEMENT = "No statement was uploaded: there are no transactions to match the receipts to."


def latest_record(records: list[FileRecord], kind: DocumentKind) -> FileRecord | None:
    """The most recently extracted file of `kind` among a session's records (a newer receipts report
    replaces the one before), or None."""
    chosen = [r for r in records if r.status is FileStatus.EXTRACTED and r.kind is kind]
    return max(chosen, key=lambda r: r.extracted or now()) if chosen else None


def load_document(
    storage: Storage, settings: Settings, session_id: str, record: FileRecord | None
) -> Document | None:
    """The extracted document of a session's file `record` (None for none)."""
    if record is None:
        return None
    data, _ = storage.get_bytes(settings.sessions_container, extraction_blob(session_id, record.id))
    return Document.model_validate_json(data)


def finalize_session(storage: Storage, settings: Settings, message: str) -> SessionStatus | None:
    """Queue-trigger step: once a processing session's files are all extracted, match and report.

    Runs on every message; does nothing until the session is processing and every file is done,
    and nothing again once it is completed.
    """
    received = read_results_message(message)
    session_id = received.session_id
    try:
        manifest, _ = load_manifest(storage, settings, session_id)
    except PermanentError:
        return None  # the session was deleted meanwhile
    if manifest.status is not SessionStatus.PROCESSING:
        return manifest.status
    records = load_records(storage, settings, session_id)
    if not records or not all(r.status.terminal for r in records):
        return manifest.status
    started = now()
    attributes = {"ccproc.session": session_id, "ccproc.files": len(records)}
    with (
        working_on(session_id),
        step("finalize", parent=received.traceparent, fallback=manifest.trace, attributes=attributes) as span,
    ):
        status = _finish(storage, settings, manifest, records)
        record_attributes(span, outcome=status.value)
    seconds = (now() - started).total_seconds()
    metrics.finalize_duration.record(seconds, {"outcome": status.value})
    metrics.sessions_finished.add(1, {"outcome": status.value})
    return status


def _finish(
    storage: Storage, settings: Settings, manifest: SessionManifest, records: list[FileRecord]
) -> SessionStatus:
    """Match and report a session whose files are all done; its status after."""
    session_id = manifest.id
    _remove_leftover_uploads(storage, settings, session_id, records)
    statement_record = latest_record(records, DocumentKind.CARDHOLDER_ACTIVITY)
    receipts_record = latest_record(records, DocumentKind.RECEIPT_IMAGES)
    not_read = [FileNotRead(file=r.name, reason=r.error or "it could not be read") for r in records
                if r.status is FileStatus.FAILED]  # fmt: skip
    if not_read and statement_record is None:
        # Without a statement there is nothing to reconcile what was read against.
        reason = "; ".join(f"{f.file}: {f.reason}" for f in not_read)
        return _close_session(storage, settings, session_id, SessionStatus.FAILED, error=reason).status

    matching = now()
    with step("match") as span:
        statement = load_document(storage, settings, session_id, statement_record)
        receipts = load_document(storage, settings, session_id, receipts_record)
        reconciled = reconcile(
            statement,
            receipts,
            aliases=BlobAliasStore(storage, settings, manifest.owner).load(),
            settings=settings,
        )
        record_attributes(
            span, transactions=len(reconciled.transactions), unmatched=len(reconciled.unmatched_expenses)
        )
    reporting = now()
    # A file that could not be read is left out, and every report says so (never a clean run).
    reconciled.files_not_read = not_read
    baseline = _keep_baseline(storage, settings, manifest)
    with scratch(settings) as folder, ThreadPoolExecutor(max_workers=UPLOAD_THREADS) as pool:
        # The receipt PDFs were cut when the receipts report was extracted: matching only names them
        # (the ZIP is written from the stored PDFs as it is downloaded).
        receipt_pdfs = place_receipts(
            storage,
            settings,
            session_id,
            reconciled,
            receipts_file=receipts_record.id if receipts_record else None,
            scratch=folder,
        )
        out = folder / "reports"
        with step("write reports"):
            written = write_reports(reconciled, out, settings=settings, receipt_pdfs=receipt_pdfs)
            reports_trace = current_traceparent()

            def publish(path: Path) -> None:
                relative = path.relative_to(out).as_posix()
                # A span per report, in the pool's threads: the trace is handed over explicitly.
                with step("report", parent=reports_trace, attributes={"ccproc.report": relative}) as span:
                    storage.put_file(settings.sessions_container, report_blob(session_id, relative), path)
                    record_attributes(span, bytes=path.stat().st_size)

            list(pool.map(publish, written))
        storage.put_bytes(
            settings.sessions_container,
            reconciliation_blob(session_id),
            reconciled.model_dump_json().encode(),
            content_type="application/json",
            metadata={_RUN: str(manifest.runs + 1)},
        )
    changes = _compare(storage, settings, session_id, reconciled) if baseline else None
    counts = {status.value: sum(r.status is status for r in reconciled.transactions) for status in Status}
    summary = Summary(
        transactions=len(reconciled.transactions),
        expenses=len(receipts.expenses) if receipts else 0,
        statuses=counts,
        unmatched_expenses=len(reconciled.unmatched_expenses),
        unresolved_names=len(reconciled.unresolved_names),
        checks=len(reconciled.checks),
        files_not_read=[f"{f.file}: {f.reason}" for f in not_read],
        warnings=[NO_STATEMENT] * (statement is None) + [NO_RECEIPTS] * (receipts is None),
        changes=changes.tallies if changes else None,
    )
    done = _close_session(
        storage,
        settings,
        session_id,
        SessionStatus.COMPLETED,
        summary=summary,
        reports=list(REPORTS),  # all written; the receipts ZIP is made from the stored PDFs
        receipt_pdfs=sorted(receipt_pdfs.names.values()),
        steps=[
            StepTime(name="reconciliation", started=matching, ended=reporting),
            StepTime(name="reports", started=reporting, ended=now()),
        ],
    )
    log.info("session %s completed: %s", session_id, summary.model_dump_json())
    return done.status


def _keep_baseline(storage: Storage, settings: Settings, manifest: SessionManifest) -> bool:
    """Before a session finalized again overwrites its reconciliation, keep the last completed one
    aside (`previous_blob`) to compare the new one with; True when there is one to compare with.

    A retry of this very run (its reconciliation already written, the session not yet closed) finds
    the baseline its first try kept: the comparison is never of the new run with itself.
    """
    container, session_id = settings.sessions_container, manifest.id
    try:
        info = storage.info(container, reconciliation_blob(session_id))
    except NotFoundError:
        info = None
    if info is not None and info.metadata.get(_RUN) != str(manifest.runs + 1):
        storage.copy(container, reconciliation_blob(session_id), container, previous_blob(session_id))
        return True
    if info is None:
        storage.delete(container, previous_blob(session_id))  # a first run: nothing to compare with
        storage.delete(container, changes_blob(session_id))
        return False
    try:
        storage.info(container, previous_blob(session_id))
    except NotFoundError:
        return False
    return True


def _compare(
    storage: Storage, settings: Settings, session_id: str, reconciled: Reconciliation
) -> Changes | None:
    """The new reconciliation compared with the baseline, kept beside the reports; a failure here
    costs the comparison only, never the session."""
    try:
        data, _ = storage.get_bytes(settings.sessions_container, previous_blob(session_id))
        changes = compare(Reconciliation.model_validate_json(data), reconciled, at=now())
        storage.put_bytes(
            settings.sessions_container,
            changes_blob(session_id),
            changes.model_dump_json().encode(),
            content_type="application/json",
        )
    except (CcprocError, ValueError) as exc:
        log.warning("session %s: no comparison with the run before: %s", session_id, exc)
        return None
    return changes


def _remove_leftover_uploads(
    storage: Storage, settings: Settings, session_id: str, records: list[FileRecord]
) -> None:
    """Remove the uploads of files already done, so a session never ends with uploads left: an
    extract step removes its upload last, after its results message, and may still be retrying
    that removal (or have died just before it) when the message completes the session. An upload
    without a record (its request failed after storing it) is removed as the extract step would."""
    done = {r.id for r in records if r.status.terminal}
    for info in list(storage.list(settings.uploads_container, session_prefix(session_id))):
        try:
            _, file_id, _ = parse_upload_blob(info.name)
        except PermanentError:
            continue
        if file_id in done or load_record(storage, settings, session_id, file_id) is None:
            storage.delete(settings.uploads_container, info.name)


def _close_session(
    storage: Storage,
    settings: Settings,
    session_id: str,
    status: SessionStatus,
    *,
    error: str | None = None,
    summary: Summary | None = None,
    reports: list[str] | None = None,
    receipt_pdfs: list[str] | None = None,
    steps: list[StepTime] | None = None,
) -> SessionManifest:
    def change(m: SessionManifest) -> bool:
        if m.status is not SessionStatus.PROCESSING:
            return False
        m.status, m.error, m.runs = status, error, m.runs + 1
        m.completed = now() if status is SessionStatus.COMPLETED else None
        m.summary, m.reports, m.receipt_pdfs = summary, reports or [], receipt_pdfs or []
        m.steps = steps or []
        return True

    manifest = update_manifest(storage, settings, session_id, change)
    _note_bytes(storage, settings, manifest)
    return manifest


def _note_bytes(storage: Storage, settings: Settings, manifest: SessionManifest) -> None:
    """The finished session's stored bytes on its index entry, for the tenant's quota; a failure
    here only means the quota check lists the session's blobs instead."""
    try:
        note_session_bytes(storage, settings, manifest)
    except CcprocError as exc:
        log.warning("session %s: its stored bytes were not noted: %s", manifest.id, exc)


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
            session_id = read_results_message(message).session_id
        except BadMessageError:
            log.warning("a results message names no session; sent to the poison queue")
            return True
        reason = (
            f"finishing the session failed: {error}"
            if error is not None
            else f"finishing the session was tried {dequeue_count} times and never finished"
        )
        fail_session(storage, settings, session_id, reason)
    return True
