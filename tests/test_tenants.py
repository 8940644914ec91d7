"""Bounded work per tenant, against Azurite through the app as the Functions host drives it.

- the session list reads the caller's own index only, newest first, a page at a time with a token;
- quotas: sessions a tenant holds (429), bytes its sessions store (413 before a direct upload, the
  file failed by the extract step for an upload-URL upload);
- the index heals: sessions stored before it get their entries, the sweep puts back a lost entry
  and removes one whose session is gone.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import secrets
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from shared.http.app import build_app
from shared.http.auth import owner_of
from shared.sessions.extract import extract_upload
from shared.sessions.layout import INDEX_BUILT, index_blob, manifest_blob, parse_index_blob, upload_blob
from shared.sessions.models import FileStatus
from shared.sessions.sweep import sweep
from shared.sessions.tenants import stored_bytes
from shared.settings import Settings
from shared.storage.azure import AzureStorage
from tests.builders.month import build_month
from tests.test_access import ALICE, BOB, KEYS, PDF, _session
from tests.test_http_api import Client, _blobs, _error, complete_month


def _client(storage: AzureStorage, settings: Settings, **limits: int) -> Client:
    return Client(build_app(lambda: storage, settings.model_copy(update=limits), api_keys=KEYS))


def _pages(client: Client, headers: dict[str, str], limit: int) -> list[list[str]]:
    """Every page of the caller's list, following `next` to the end."""
    pages, token = [], None
    while True:
        query = f"?limit={limit}" + (f"&page={token}" if token else "")
        status, body = client.json("GET", f"/api/sessions{query}", headers=headers)
        assert status == 200, body
        pages.append([s["id"] for s in body["sessions"]])
        token = body["next"]
        if token is None:
            return pages


def test_the_list_pages_through_the_callers_sessions_newest_first(
    storage: AzureStorage, settings: Settings
) -> None:
    """Seven sessions of Alice's among Bob's come three at a time, newest first, each once, and the
    last page says so; Bob's list holds his only."""
    client = _client(storage, settings)
    alice, bob = [], []
    for i in range(7):
        alice.append(_session(client, ALICE, name=f"alice {i}"))
        if i % 2:
            bob.append(_session(client, BOB))
    pages = _pages(client, ALICE, limit=3)
    assert [len(page) for page in pages] in ([3, 3, 1], [3, 3, 1, 0])
    assert list(itertools.chain(*pages)) == alice[::-1]
    assert list(itertools.chain(*_pages(client, BOB, limit=50))) == bob[::-1]
    # Without a limit: the setting's page size.
    status, body = _client(storage, settings, session_page_size=5).json("GET", "/api/sessions", headers=ALICE)
    assert (status, len(body["sessions"])) == (200, 5)
    assert body["next"]


def test_a_page_token_no_list_gave_is_a_400(storage: AzureStorage, settings: Settings) -> None:
    """A made-up token, a token altered, or another tenant's token is refused with a plain 400; a
    token longer than a query may carry is a 422 like any other invalid parameter."""
    client = _client(storage, settings)
    for _ in range(3):
        _session(client, ALICE)
        _session(client, BOB)
    status, body = client.json("GET", "/api/sessions?limit=1", headers=ALICE)
    token = body["next"]
    assert status == 200
    assert token
    assert client.json("GET", f"/api/sessions?limit=1&page={token}", headers=ALICE)[0] == 200
    encoded, check = token.split(".")
    altered = f"{encoded[:-2]}{'AB' if encoded[-2:] != 'AB' else 'CD'}.{check}"
    for bad in ["not a token!", "////", "QUJD", "Zm9vYmFy", altered, f"{encoded}.{check[::-1]}"]:
        status, body = client.json("GET", f"/api/sessions?page={urllib.parse.quote(bad)}", headers=ALICE)
        assert (status, _error(body)) == (400, "bad_page_token"), bad
    status, body = client.json("GET", f"/api/sessions?limit=1&page={token}", headers=BOB)
    assert (status, _error(body)) == (400, "bad_page_token")
    assert client.json("GET", f"/api/sessions?page={'x' * 5000}", headers=ALICE)[0] == 422


def test_a_tenant_holds_at_most_max_sessions_per_tenant(storage: AzureStorage, settings: Settings) -> None:
    """The fourth session of a tenant allowed three is a 429 saying what to do; another tenant is not
    affected, and deleting one makes room."""
    client = _client(storage, settings, max_sessions_per_tenant=3)
    made = [_session(client, ALICE) for _ in range(3)]
    status, body = client.json("POST", "/api/sessions", headers=ALICE)
    assert (status, _error(body)) == (429, "quota")
    assert "3 sessions" in body["error"]["message"]
    assert "delete" in body["error"]["message"]
    assert _session(client, BOB)
    assert client.json("DELETE", f"/api/sessions/{made[0]}", headers=ALICE)[0] == 200
    assert _session(client, ALICE)


def test_a_direct_upload_past_the_tenants_stored_bytes_is_a_413(
    storage: AzureStorage, settings: Settings
) -> None:
    """With room for 1 MiB per tenant, a file that would take Alice past it is refused before it is
    stored, naming the quota; Bob's room is his own."""
    client = _client(storage, settings, max_stored_bytes_per_tenant=1024 * 1024)
    big = PDF + b"\0" * (700 * 1024)
    session = _session(client, ALICE)
    assert client.upload(session, "a.pdf", big, **ALICE)[0] == 202
    status, body = client.upload(session, "b.pdf", big, **ALICE)
    assert (status, _error(body)) == (413, "storage_quota")
    assert "GiB one key may store" in body["error"]["message"]
    assert len(_blobs(storage, settings.uploads_container, f"{session}/")) == 1
    assert client.upload(_session(client, BOB), "b.pdf", big, **BOB)[0] == 202


def test_an_upload_url_upload_past_the_stored_bytes_fails_its_file(
    storage: AzureStorage, settings: Settings
) -> None:
    """An upload URL takes any size: the file that took the tenant past its bytes is failed by the
    extract step with the reason, and its blob removed; a tenant already past gets no more URLs."""
    limited = settings.model_copy(update={"max_stored_bytes_per_tenant": 1024 * 1024})
    client = Client(build_app(lambda: storage, limited, api_keys=KEYS))
    session = _session(client, ALICE)
    status, grant = client.json("POST", f"/api/sessions/{session}/files/r.pdf/upload-url", headers=ALICE)
    assert status == 201
    put = urllib.request.Request(  # noqa: S310 - the upload URL Azurite's account signed
        grant["url"], data=PDF + b"\0" * (1200 * 1024), method="PUT", headers=grant["headers"]
    )
    with urllib.request.urlopen(put, timeout=10) as answer:  # noqa: S310 - Azurite on loopback
        assert answer.status == 201
    blob = upload_blob(session, grant["file"]["id"], grant["file"]["name"])
    record = extract_upload(storage, limited, blob)
    assert record is not None
    assert record.status is FileStatus.FAILED
    assert record.error_code == "storage_quota"
    assert _blobs(storage, limited.uploads_container, f"{session}/") == []
    # The failed upload went; past the quota by other bytes, the next URL is refused up front.
    storage.put_bytes(limited.sessions_container, f"{session}/reports/big.bin", b"\0" * (1100 * 1024))
    status, body = client.json("POST", f"/api/sessions/{session}/files/s.pdf/upload-url", headers=ALICE)
    assert (status, _error(body)) == (413, "storage_quota")


def test_a_finished_sessions_bytes_are_noted_and_forgotten_when_it_takes_a_file(
    storage: AzureStorage, settings: Settings, tmp_path: Path
) -> None:
    """Once a session completes, its index entry carries the bytes its blobs hold (the quota check
    then reads that instead of listing them); a file added to it makes the check list it again."""
    build_month(tmp_path / "month", size="small", seed=4)
    client = _client(storage, settings)
    session_id = complete_month(
        client, storage, settings, tmp_path / "month", headers=ALICE, name="Alice month"
    )
    entry = next(
        i for i in storage.list(settings.sessions_container, "index/") if i.name.endswith(session_id)
    )
    listed = _listed(storage, settings, session_id)
    assert int(entry.metadata["storedbytes"]) == listed > 0
    alice = owner_of("key", ALICE["x-api-key"])
    assert stored_bytes(storage, settings, alice) == listed
    # The noted figure is what is read: changed by hand, the check follows it.
    storage.put_bytes(settings.sessions_container, entry.name, b"", metadata={"storedbytes": "7"})
    assert stored_bytes(storage, settings, alice) == 7
    assert client.upload(session_id, "receipts-2.pdf", PDF, **ALICE)[0] == 202
    assert storage.info(settings.sessions_container, entry.name).metadata == {}
    after = _listed(storage, settings, session_id)
    assert after > listed + len(PDF)
    assert stored_bytes(storage, settings, alice) == after


def _listed(storage: AzureStorage, settings: Settings, session_id: str) -> int:
    """The bytes of a session's blobs in both containers, listed."""
    return sum(
        info.size
        for container in (settings.uploads_container, settings.sessions_container)
        for info in storage.list(container, f"{session_id}/")
    )


def test_sessions_stored_before_the_index_are_listed(storage: AzureStorage, settings: Settings) -> None:
    """Manifests written before there was an index (no entries, no `index/built`) get their entries
    the first time the list is asked for, each under its owner, and the index is marked built."""
    client = _client(storage, settings)
    alice_owner = owner_of("key", ALICE["x-api-key"])
    stamp = dt.datetime.now(dt.UTC)
    old = []
    for i, owner in enumerate([alice_owner, alice_owner, None]):
        session_id = secrets.token_hex(16)
        created = (stamp - dt.timedelta(days=i)).isoformat()
        manifest = {
            "id": session_id,
            "owner": owner,
            "status": "open",
            "created": created,
            "updated": created,
        }
        storage.put_bytes(
            settings.sessions_container, manifest_blob(session_id), json.dumps(manifest).encode()
        )
        old.append(session_id)
    assert _blobs(storage, settings.sessions_container, "index/") == []
    assert list(itertools.chain(*_pages(client, ALICE, limit=10))) == old[:2]
    assert INDEX_BUILT in _blobs(storage, settings.sessions_container, "index/")
    keyless = Client(build_app(lambda: storage, settings))
    assert [s["id"] for s in keyless.json("GET", "/api/sessions")[1]["sessions"]] == old[2:]


def test_the_sweep_heals_the_index(storage: AzureStorage, settings: Settings) -> None:
    """An entry lost (a step failed between entry and manifest) is put back; an entry whose session is
    gone is removed once it is an hour old, not before (a session being made writes its entry first)."""
    client = _client(storage, settings)
    kept = _session(client, ALICE)
    entry = next(n for n in _blobs(storage, settings.sessions_container, "index/") if n.endswith(kept))
    storage.delete(settings.sessions_container, entry)
    ghost = index_blob("someone", dt.datetime.now(dt.UTC), secrets.token_hex(16))
    storage.put_bytes(settings.sessions_container, ghost, b"")
    counts = sweep(storage, settings)
    assert (counts["index_entries_added"], counts["index_entries_removed"]) == (1, 0)
    assert entry in _blobs(storage, settings.sessions_container, "index/")
    assert ghost in _blobs(storage, settings.sessions_container, "index/")
    counts = sweep(storage, settings, at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=2))
    assert (counts["index_entries_added"], counts["index_entries_removed"]) == (0, 1)
    assert ghost not in _blobs(storage, settings.sessions_container, "index/")
    assert [s["id"] for s in client.json("GET", "/api/sessions", headers=ALICE)[1]["sessions"]] == [kept]


def test_index_names_sort_newest_first_and_hold_no_digit_run() -> None:
    """Entries of later sessions sort first, to the millisecond and over decades; a name holds no
    run of digits a card-number scan would stop at, and parses back to its session."""
    start = dt.datetime(2001, 1, 1, tzinfo=dt.UTC)
    steps = [dt.timedelta(milliseconds=1), dt.timedelta(days=1), dt.timedelta(days=9000)]
    times = [start + sum(steps[: i + 1], dt.timedelta()) for i in range(len(steps))]
    ids = [secrets.token_hex(16) for _ in times]
    names = [index_blob("tenant-a", when, session) for when, session in zip(times, ids, strict=True)]
    assert sorted(names) == names[::-1]
    for name, session in zip(names, ids, strict=True):
        assert parse_index_blob(name) == session
        assert not re.search(r"\d{6}", name.rsplit("-", 1)[0])
    assert parse_index_blob(f"{ids[0]}/manifest.json") is None
    assert parse_index_blob(INDEX_BUILT) is None
    with pytest.raises(ValueError, match="not an owner id"):
        index_blob("../other", start, ids[0])
