"""A tenant's own sessions: the index that lists them, and the quotas that bound them.

Every session has an empty index blob under its owner's folder (`layout.index_blob`), named so that
a listing of the folder comes newest first. The session list and the session quota read that folder
only, so what one tenant holds never slows another's list down; the stored-bytes quota sums the
blobs of the tenant's own sessions only.

The index entry is written before the manifest and removed before it, so a session whose manifest
exists always has one unless a step failed between the two; the sweep puts back the entries such a
failure left missing and removes entries whose session is gone (`repair_index`). Sessions stored
before there was an index get their entries the first time a process needs the index
(`ensure_index`, once per account: it reads every manifest that one time).

Beside it, each tenant has a digest index: an empty blob per (file content, session) under the
tenant's own folder (`digest_blob`), so that the session already holding a file is found by listing
one short prefix, never by reading manifests; another tenant's folder is never looked at.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import logging
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass

from shared.errors import BadPageTokenError, NotFoundError, QuotaError, StorageQuotaError
from shared.sessions.layout import (
    INDEX_BUILT,
    SESSION_ID,
    index_blob,
    index_prefix,
    is_manifest_blob,
    manifest_blob,
    parse_index_blob,
    session_prefix,
)
from shared.sessions.models import SessionManifest, now
from shared.sessions.store import Owner
from shared.settings import Settings
from shared.storage.gateway import Storage

log = logging.getLogger("ccproc")

_BYTES = "storedbytes"  # index-entry metadata: a finished session's bytes in storage
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,4096}$")
_READERS = 8  # manifests of one page read side by side: a page costs a few round trips, not fifty
# An entry without its manifest is a session being made (entry first) or a delete cut short;
# only one this old is a leftover.
_DANGLING_AFTER = dt.timedelta(hours=1)


_BUILT: set[str] = set()  # sessions containers this process knows to be indexed


def ensure_index(storage: Storage, settings: Settings) -> None:
    """Give every session stored before the index its entry, once: then mark the index built."""
    container = settings.sessions_container
    if container in _BUILT:
        return
    try:
        storage.info(container, INDEX_BUILT)
    except NotFoundError:
        manifests: list[SessionManifest] = []
        entries: list[tuple[str, dt.datetime]] = []
        for info in storage.list(container):
            if is_manifest_blob(info.name):
                data, _ = storage.get_bytes(container, info.name)
                manifests.append(SessionManifest.model_validate_json(data))
            elif parse_index_blob(info.name) is not None:
                entries.append((info.name, info.last_modified))
        repair_index(storage, settings, manifests, entries, now())
        storage.put_bytes(container, INDEX_BUILT, b"")
    _BUILT.add(container)


def add_to_index(storage: Storage, settings: Settings, manifest: SessionManifest) -> None:
    """Write the session's index entry (before its manifest: a listed session may not exist yet)."""
    name = index_blob(manifest.owner, manifest.created, manifest.id)
    storage.put_bytes(settings.sessions_container, name, b"")


def remove_from_index(storage: Storage, settings: Settings, manifest: SessionManifest) -> bool:
    """Remove the session's index entry (before its manifest, so a repeated delete finishes it);
    False when it was already gone."""
    return storage.delete(
        settings.sessions_container, index_blob(manifest.owner, manifest.created, manifest.id)
    )


def check_session_quota(storage: Storage, settings: Settings, owner: Owner) -> None:
    """QuotaError when `owner` holds as many sessions as a tenant may."""
    ensure_index(storage, settings)
    held = sum(1 for _ in storage.list(settings.sessions_container, index_prefix(owner)))
    if held >= settings.max_sessions_per_tenant:
        raise QuotaError(
            f"you hold {held} sessions, the most one key may hold: delete finished ones to start "
            f"another (sessions are removed {settings.retention_days} days after they were made)"
        )


def stored_bytes(storage: Storage, settings: Settings, owner: Owner) -> int:
    """Bytes the sessions of `owner` hold in storage: uploads, kept reports, copies and results.
    A finished session's count is on its index entry (`note_session_bytes`); the others are listed."""
    ensure_index(storage, settings)
    total = 0
    for entry in storage.list(settings.sessions_container, index_prefix(owner)):
        session_id = parse_index_blob(entry.name)
        if session_id is None:
            continue
        noted = entry.metadata.get(_BYTES, "")
        total += int(noted) if noted.isdigit() else _session_bytes(storage, settings, session_id)
    return total


def note_session_bytes(storage: Storage, settings: Settings, manifest: SessionManifest) -> None:
    """Write a finished session's stored bytes on its index entry: its blobs stay as they are until
    it takes another file (`forget_session_bytes`) or goes, so the quota check need not list them."""
    size = _session_bytes(storage, settings, manifest.id)
    name = index_blob(manifest.owner, manifest.created, manifest.id)
    storage.put_bytes(settings.sessions_container, name, b"", metadata={_BYTES: str(size)})


def forget_session_bytes(storage: Storage, settings: Settings, manifest: SessionManifest) -> None:
    """The session takes another file: its bytes are listed again until it finishes."""
    name = index_blob(manifest.owner, manifest.created, manifest.id)
    with suppress(NotFoundError):
        if storage.info(settings.sessions_container, name).metadata:
            storage.put_bytes(settings.sessions_container, name, b"")


def _session_bytes(storage: Storage, settings: Settings, session_id: str) -> int:
    return sum(
        info.size
        for container in (settings.uploads_container, settings.sessions_container)
        for info in storage.list(container, session_prefix(session_id))
    )


def check_storage_quota(storage: Storage, settings: Settings, owner: Owner, adding: int = 0) -> None:
    """StorageQuotaError when `adding` more bytes would take `owner` past what a tenant may store
    (`adding` 0: when the tenant is already past it)."""
    used = stored_bytes(storage, settings, owner)
    most = settings.max_stored_bytes_per_tenant
    if used + adding > most or (adding == 0 and used >= most):
        gib = 1024**3
        raise StorageQuotaError(
            f"your sessions hold {used / gib:,.2f} GiB of the {most / gib:,.2f} GiB one key may store"
            + (f"; this file adds {adding / gib:,.2f} GiB" if adding else "")
            + ": delete sessions you no longer need"
        )


@dataclass(frozen=True)
class IndexPage:
    """One page of a tenant's sessions, newest first, and the token of the next (None: the last)."""

    manifests: list[SessionManifest]
    next: str | None


def list_page(
    storage: Storage, settings: Settings, owner: Owner, *, limit: int, token: str | None = None
) -> IndexPage:
    """A page of `owner`'s sessions from its index: `limit` entries at most, their manifests read
    side by side; an entry whose session is gone (or not yet made) is left out."""
    marker = _marker(owner, token) if token is not None else None
    ensure_index(storage, settings)
    entries, after = storage.list_page(
        settings.sessions_container, index_prefix(owner), limit=limit, token=marker
    )
    session_ids = [s for s in (parse_index_blob(e.name) for e in entries) if s is not None]
    with ThreadPoolExecutor(max_workers=min(_READERS, max(1, len(session_ids)))) as pool:
        found = list(pool.map(lambda s: _manifest(storage, settings, s), session_ids))
    manifests = [m for m in found if m is not None and m.owner == owner]
    return IndexPage(manifests, _token(owner, after) if after else None)


def repair_index(
    storage: Storage,
    settings: Settings,
    manifests: Iterable[SessionManifest],
    entries: Iterable[tuple[str, dt.datetime]],
    at: dt.datetime,
) -> tuple[int, int]:
    """Put back the index entries `manifests` lack and remove old entries (`entries`: their names
    and times) whose session is gone; (added, removed). The sweep calls it with what its one listing
    found, so the index heals after a step failed between the entry and the manifest."""
    expected = {index_blob(m.owner, m.created, m.id): m for m in manifests}
    present = dict(entries)
    added = removed = 0
    for name, manifest in expected.items():
        # Still there? A session deleted while the sweep listed would otherwise come back listed.
        if name not in present and _manifest(storage, settings, manifest.id) is not None:
            add_to_index(storage, settings, manifest)
            added += 1
    for name, modified in present.items():
        if name not in expected and modified < at - _DANGLING_AFTER:
            storage.delete(settings.sessions_container, name)
            removed += 1
    if added or removed:
        log.info("session index: %d entries put back, %d left by removed sessions deleted", added, removed)
    return added, removed


_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# A digest's digits written as letters: no run of digits in a blob name that looks like a card number.
_HEX_AS_LETTERS = str.maketrans("0123456789", "ghijklmnop")


def is_sha256(value: str) -> bool:
    """True for a SHA-256 as hex digits (lower case)."""
    return bool(_SHA256.match(value))


def digest_prefix(owner: Owner, sha256: str) -> str:
    """The folder of `owner`'s sessions holding a file of this SHA-256 (hex)."""
    if not is_sha256(sha256):
        raise ValueError("not a SHA-256 in hex")
    tenant = index_prefix(owner).split("/")[1]  # the owner id checked, `_` for the local owner
    return f"digests/{tenant}/{sha256.translate(_HEX_AS_LETTERS)}/"


def digest_blob(owner: Owner, sha256: str, session_id: str) -> str:
    """The digest index entry saying `owner`'s session holds a file of this SHA-256."""
    return f"{digest_prefix(owner, sha256)}{session_id}"


def add_digest(storage: Storage, settings: Settings, owner: Owner, sha256: str, session_id: str) -> None:
    """Note that the session holds a file of this content (written again is harmless)."""
    storage.put_bytes(settings.sessions_container, digest_blob(owner, sha256, session_id), b"")


def remove_digest(storage: Storage, settings: Settings, owner: Owner, sha256: str, session_id: str) -> None:
    """Forget that the session holds a file of this content (the file or session went)."""
    storage.delete(settings.sessions_container, digest_blob(owner, sha256, session_id))


def find_twin(
    storage: Storage, settings: Settings, owner: Owner, sha256: str, *, besides: str
) -> SessionManifest | None:
    """Another of `owner`'s sessions (not `besides`) holding a file of this content, or None: one
    prefix of the tenant's own digest index listed, and a manifest read per entry until one is
    found. An entry whose session is gone is passed over (and removed once it is old)."""
    for entry in storage.list(settings.sessions_container, digest_prefix(owner, sha256)):
        session_id = entry.name.rsplit("/", 1)[-1]
        if session_id == besides or not SESSION_ID.match(session_id):
            continue
        manifest = _manifest(storage, settings, session_id)
        if manifest is not None and manifest.owner == owner:
            return manifest
        if manifest is None and entry.last_modified < now() - _DANGLING_AFTER:
            storage.delete(settings.sessions_container, entry.name)
    return None


def _manifest(storage: Storage, settings: Settings, session_id: str) -> SessionManifest | None:
    try:
        data, _ = storage.get_bytes(settings.sessions_container, manifest_blob(session_id))
    except NotFoundError:
        return None
    return SessionManifest.model_validate_json(data)


def _token(owner: Owner, marker: str) -> str:
    """Storage's continuation marker as the API's opaque page token: with a check of the marker and
    the owner it was given to, so that a token no list gave (or another tenant's) is refused."""
    encoded = base64.urlsafe_b64encode(marker.encode()).decode().rstrip("=")
    return f"{encoded}.{_check(owner, marker)}"


def _marker(owner: Owner, token: str) -> str:
    refused = BadPageTokenError("the page token is not one a session list gave")
    encoded, _, check = token.partition(".")
    if not _TOKEN.match(encoded):
        raise refused
    try:
        marker = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise refused from exc
    if not hmac.compare_digest(check, _check(owner, marker)):
        raise refused
    return marker


def _check(owner: Owner, marker: str) -> str:
    return hashlib.sha256(f"ccproc page\0{owner or ''}\0{marker}".encode()).hexdigest()[:20]
