"""A session's state in storage: its manifest and its file records, read and written under ETags.

Tenancy: a session belongs to the caller that created it (`SessionManifest.owner`). Reading a
manifest with `owner=` answers another owner's session exactly as an unknown one, so a caller cannot
even learn that it exists. The default, `ANYONE`, is for the pipeline's own steps (extract,
finalize, sweep), which act on every session whoever owns it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Literal

from shared.errors import ConflictError, NotFoundError, UnknownSessionError
from shared.sessions.layout import SESSION_ID, manifest_blob, record_blob, records_prefix
from shared.sessions.models import FileRecord, SessionManifest, now
from shared.settings import Settings
from shared.storage.gateway import Storage, back_off

_RETRIES = 30


class Anyone(Enum):
    """The owner check of the pipeline's own steps: none (they act on every session)."""

    ANYONE = "anyone"


ANYONE = Anyone.ANYONE
Owner = str | None  # None: the local owner of a keyless API (`ccproc dev`)
OwnerCheck = Owner | Literal[Anyone.ANYONE]


def check_session_id(session_id: str) -> str:
    if not SESSION_ID.match(session_id):
        raise UnknownSessionError(f"no session {session_id[:40]!r}")
    return session_id


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
    for info in storage.list(settings.sessions_container, records_prefix(session_id)):
        data, _ = storage.get_bytes(settings.sessions_container, info.name)
        records.append(FileRecord.model_validate_json(data))
    return sorted(records, key=lambda r: (r.uploaded or r.extracted or now(), r.id))


@contextmanager
def scratch(settings: Settings) -> Iterator[Path]:
    """A private folder on local disk for one step, removed when the step ends."""
    with tempfile.TemporaryDirectory(prefix="ccproc-", dir=settings.temp_storage_path) as folder:
        yield Path(folder)


def exists(storage: Storage, container: str, name: str) -> bool:
    """True when the blob is there."""
    try:
        storage.info(container, name)
    except NotFoundError:
        return False
    return True
