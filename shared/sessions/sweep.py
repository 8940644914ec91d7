"""The sweep step (timer trigger, CronJob): delete sessions past retention, fail uploads left
orphaned, heal the tenants' session index, and measure the storage sessions use."""

from __future__ import annotations

import datetime as dt
import logging

from shared.errors import PermanentError
from shared.sessions.finalize import fail_session
from shared.sessions.layout import (
    is_manifest_blob,
    parse_index_blob,
    parse_record_blob,
    parse_upload_blob,
    record_blob,
    results_message,
    upload_blob,
)
from shared.sessions.models import FileRecord, FileStatus, SessionManifest, now
from shared.sessions.requests import delete_session
from shared.sessions.store import exists, load_record, save_record
from shared.sessions.tenants import repair_index
from shared.settings import Settings
from shared.storage.gateway import Storage
from shared.telemetry import metrics
from shared.telemetry.tracing import record as record_attributes
from shared.telemetry.tracing import step

log = logging.getLogger("ccproc")


def sweep(storage: Storage, settings: Settings, at: dt.datetime | None = None) -> dict[str, int]:
    """Timer step: delete sessions past retention, fail orphaned uploads, and measure storage used."""
    with step("sweep") as span:
        counts = _sweep(storage, settings, at)
        record_attributes(span, **counts)
    for container in (settings.uploads_container, settings.sessions_container):
        metrics.storage_used.set(counts[f"bytes_{container}"], {"container": container})
    return counts


def _sweep(storage: Storage, settings: Settings, at: dt.datetime | None) -> dict[str, int]:
    at = at or now()
    stale = at - dt.timedelta(hours=settings.orphan_upload_hours)
    expired = orphans = 0
    kept: list[SessionManifest] = []
    entries: list[tuple[str, dt.datetime]] = []
    for info in list(storage.list(settings.sessions_container)):
        # One listing serves all: manifests (retention), file records (orphaned uploads) and the
        # tenants' session index (`repair_index`).
        if is_manifest_blob(info.name):
            data, _ = storage.get_bytes(settings.sessions_container, info.name)
            manifest = SessionManifest.model_validate_json(data)
            if manifest.created < at - dt.timedelta(days=settings.retention_days):
                delete_session(storage, settings, manifest.id)
                expired += 1
            else:
                kept.append(manifest)
        elif parse_index_blob(info.name) is not None:
            entries.append((info.name, info.last_modified))
        elif (found := parse_record_blob(info.name)) and info.last_modified < stale:
            # An upload URL handed out but never used: nothing else would ever finish this file.
            session_id, file_id = found
            record = load_record(storage, settings, session_id, file_id)
            if record is not None and record.status is FileStatus.AWAITING_UPLOAD:
                _fail_orphan(storage, settings, session_id, record, "the upload URL was never used")
                orphans += 1
            elif record is not None and record.status is FileStatus.UPLOADED:
                upload = upload_blob(session_id, record.id, record.name)
                if not exists(storage, settings.uploads_container, upload):
                    # Written by an upload request that then failed (storage failing for the upload
                    # and its clean-up): its client was told and sent the file again. Removed, as
                    # `remove_file` would, so the session stops waiting for it.
                    storage.delete(settings.sessions_container, record_blob(session_id, record.id))
                    storage.send(settings.results_queue, results_message(session_id))
                    log.warning("session %s: %s removed: its upload never came", session_id, record.name)
                    orphans += 1
    indexed, unindexed = repair_index(storage, settings, kept, entries, at)
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
        "index_entries_added": indexed,
        "index_entries_removed": unindexed,
        **{f"bytes_{k}": v for k, v in used.items()},
    }


def _fail_orphan(
    storage: Storage, settings: Settings, session_id: str, record: FileRecord, reason: str
) -> None:
    record.status, record.error, record.error_code = FileStatus.FAILED, reason, "orphaned_upload"
    save_record(storage, settings, session_id, record)
    fail_session(storage, settings, session_id, f"an upload was orphaned ({record.name}): {reason}")
