"""Guard rails, against Azurite through the app as the Functions host drives it.

- a session with only a statement (or only a receipts report) says so before processing, and once
  completed says every transaction is Missing Both (or that there was nothing to match);
- a file already in another session of the same tenant is refused with 409 naming that session,
  through the upload route (its SHA-256 computed as it streams, nothing committed) and the upload-URL
  route (the client's digest), unless `allow_duplicate`; an upload-URL file sent without a digest is
  noted as a twin once read; another tenant's identical file is never a twin nor named.
"""

from __future__ import annotations

import hashlib
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from shared.http.app import build_app
from shared.sessions.extract import extract_upload
from shared.sessions.finalize import NO_RECEIPTS, NO_STATEMENT
from shared.sessions.requests import ONLY_RECEIPTS, ONLY_STATEMENT
from shared.settings import Settings
from shared.storage.azure import AzureStorage
from tests.builders.month import build_month
from tests.test_access import ALICE, BOB, KEYS, PDF, _session
from tests.test_http_api import Client, _blobs, _drain


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small month's statement and receipts report."""
    folder = tmp_path_factory.mktemp("guard-month")
    build_month(folder, size="small", seed=3)
    return folder


@pytest.fixture
def keyed(storage: AzureStorage, settings: Settings) -> Client:
    """The app on Azurite with two tenants' keys."""
    return Client(build_app(lambda: storage, settings, api_keys=KEYS))


def _view(client: Client, session_id: str, headers: dict[str, str]) -> dict[str, Any]:
    status, view = client.json("GET", f"/api/sessions/{session_id}", headers=headers)
    assert status == 200
    return dict(view)


def _extract_all(storage: AzureStorage, settings: Settings) -> None:
    for blob in _blobs(storage, settings.uploads_container):
        extract_upload(storage, settings, blob)


ONLY = {
    "statement": ("statement.pdf", ONLY_STATEMENT, NO_RECEIPTS),
    "receipts": ("receipts.pdf", ONLY_RECEIPTS, NO_STATEMENT),
}


@pytest.mark.parametrize("case", list(ONLY))
def test_one_kind_of_file_is_warned_of_before_and_after(
    keyed: Client, storage: AzureStorage, settings: Settings, month: Path, case: str
) -> None:
    """Once the one file is read the open session warns; processed anyway, the completed session
    (and its summary) says what is missing, and with only a statement every transaction is Missing Both."""
    only, before, after = ONLY[case]
    session_id = _session(keyed, ALICE)
    assert keyed.upload(session_id, only, (month / only).read_bytes(), **ALICE)[0] == 202
    assert _view(keyed, session_id, ALICE)["warnings"] == []  # not read yet: nothing known
    _extract_all(storage, settings)
    assert _view(keyed, session_id, ALICE)["warnings"] == [before]
    status, answer = keyed.json("POST", f"/api/sessions/{session_id}/process", headers=ALICE)
    assert (status, answer["warnings"]) == (202, [before])
    _drain(storage, settings)
    view = _view(keyed, session_id, ALICE)
    assert view["status"] == "completed"
    assert view["warnings"] == view["summary"]["warnings"] == [after]
    statuses = view["summary"]["statuses"]
    if case == "statement":
        assert statuses["Missing Both"] == view["summary"]["transactions"] > 0
    else:
        assert view["summary"]["transactions"] == 0
    listed = keyed.json("GET", "/api/sessions", headers=ALICE)[1]["sessions"]
    assert listed[0]["warnings"] == [after]


def test_both_files_warn_of_nothing(
    keyed: Client, storage: AzureStorage, settings: Settings, month: Path
) -> None:
    """A statement and its receipts report: no warning before or after."""
    session_id = _session(keyed, ALICE)
    for name in ("statement.pdf", "receipts.pdf"):
        assert keyed.upload(session_id, name, (month / name).read_bytes(), **ALICE)[0] == 202
    _extract_all(storage, settings)
    assert _view(keyed, session_id, ALICE)["warnings"] == []
    keyed.json("POST", f"/api/sessions/{session_id}/process", headers=ALICE)
    _drain(storage, settings)
    view = _view(keyed, session_id, ALICE)
    assert (view["status"], view["warnings"], view["summary"]["warnings"]) == ("completed", [], [])


def _refused_for(body: Any, session_id: str, name: str | None) -> None:
    assert body["error"]["code"] == "duplicate_file"
    assert body["error"]["session"] == {"id": session_id, "name": name}


def test_the_same_file_in_another_session_is_offered_not_twinned(
    keyed: Client, storage: AzureStorage, settings: Settings
) -> None:
    """Direct upload: Alice's second session is refused (409 naming the first, nothing stored, no
    record), then takes it with allow_duplicate; Bob's identical file is no twin and his answers never
    name Alice's session; once the first session is deleted the file is no twin any more."""
    first = _session(keyed, ALICE, name="March")
    assert keyed.upload(first, "statement.pdf", PDF, **ALICE)[0] == 202
    second = _session(keyed, ALICE)
    status, body = keyed.upload(second, "statement.pdf", PDF, **ALICE)
    assert status == 409
    _refused_for(body, first, "March")
    assert [b for b in _blobs(storage, settings.uploads_container) if b.startswith(second)] == []
    assert _view(keyed, second, ALICE)["files"] == []

    status, record = keyed.json(
        "PUT",
        f"/api/sessions/{second}/files/statement.pdf?allow_duplicate=true",
        body=PDF,
        headers={"Content-Length": str(len(PDF)), "Content-Type": "application/pdf", **ALICE},
    )
    assert status == 202
    assert record["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert record["duplicate_of"] == {"id": first, "name": "March"}

    bobs = _session(keyed, BOB)
    status, record = keyed.upload(bobs, "statement.pdf", PDF, **BOB)
    assert status == 202
    assert record["duplicate_of"] is None
    assert first not in str(_view(keyed, bobs, BOB))

    assert keyed.json("DELETE", f"/api/sessions/{first}", headers=ALICE)[0] == 200
    assert keyed.json("DELETE", f"/api/sessions/{second}", headers=ALICE)[0] == 200
    third = _session(keyed, ALICE)
    assert keyed.upload(third, "statement.pdf", PDF, **ALICE)[0] == 202


def test_the_same_file_is_found_through_the_upload_url_path(
    keyed: Client, storage: AzureStorage, settings: Settings
) -> None:
    """Upload URL: with the client's SHA-256 the twin is refused before any byte is sent (409 naming
    the session), not for Bob; without a digest the URL is given, and the file, once read, is noted
    as a twin of the first session."""
    first = _session(keyed, ALICE, name="April")
    assert keyed.upload(first, "receipts.pdf", PDF, **ALICE)[0] == 202
    digest = hashlib.sha256(PDF).hexdigest()
    second = _session(keyed, ALICE)
    url = f"/api/sessions/{second}/files/receipts.pdf/upload-url"
    status, body = keyed.json("POST", f"{url}?sha256={digest}", headers=ALICE)
    assert status == 409
    _refused_for(body, first, "April")
    assert _view(keyed, second, ALICE)["files"] == []
    assert keyed.json("POST", f"{url}?sha256={digest}&allow_duplicate=true", headers=ALICE)[0] == 201
    bobs = _session(keyed, BOB)
    bob_url = f"/api/sessions/{bobs}/files/receipts.pdf/upload-url?sha256={digest}"
    assert keyed.json("POST", bob_url, headers=BOB)[0] == 201

    third = _session(keyed, ALICE)
    status, grant = keyed.json("POST", f"/api/sessions/{third}/files/receipts.pdf/upload-url", headers=ALICE)
    assert status == 201
    request = urllib.request.Request(grant["url"], data=PDF, method="PUT", headers=grant["headers"])  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - Azurite on loopback
        assert answer.status == 201
    for blob in _blobs(storage, settings.uploads_container):
        if blob.startswith(third):
            extract_upload(storage, settings, blob)
    (record,) = _view(keyed, third, ALICE)["files"]
    assert record["sha256"] == digest
    assert record["duplicate_of"] == {"id": first, "name": "April"}
