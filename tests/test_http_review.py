"""What the web page relies on, through the API against Azurite: names, limits, the review of a completed
session with its receipt links, reconciling again after an alias is added, and the page itself."""

from __future__ import annotations

import base64
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from shared.http.app import build_app
from shared.sessions.extract import extract_upload
from shared.settings import Settings
from shared.storage.azure import AzureStorage
from tests.builders.month import build_month
from tests.test_http_api import Client, _blobs, _drain, _error, _no_storage, complete_month


@pytest.fixture
def client(storage: AzureStorage, settings: Settings) -> Client:
    """The app on Azurite, without API keys."""
    return Client(build_app(lambda: storage, settings))


def test_session_is_created_named_and_renamed(client: Client) -> None:
    """A name given at creation is listed; PATCH renames it (trimmed, control characters gone)."""
    status, created = client.json("POST", "/api/sessions", {"name": "  March   cards "})
    assert (status, created["name"]) == (201, "March cards")
    status, renamed = client.json("PATCH", f"/api/sessions/{created['id']}", {"name": "April\tcards\x00"})
    assert (status, renamed["name"]) == (200, "April cards")
    _, listed = client.json("GET", "/api/sessions")
    assert [(s["id"], s["name"]) for s in listed["sessions"]] == [(created["id"], "April cards")]
    status, unnamed = client.json("POST", "/api/sessions")
    assert (status, unnamed["name"]) == (201, None)


def test_bad_names_are_400_and_card_numbers_are_masked(client: Client) -> None:
    """An empty or over-long name is refused with a sentence; a card number in a name is masked."""
    _, created = client.json("POST", "/api/sessions")
    for name in ("   ", "x" * 121):
        status, body = client.json("PATCH", f"/api/sessions/{created['id']}", {"name": name})
        assert (status, _error(body)) == (400, "bad_name"), name
    status, renamed = client.json(
        "PATCH", f"/api/sessions/{created['id']}", {"name": "card 4111111111111111"}
    )
    assert status == 200
    assert "4111111111111111" not in renamed["name"]
    assert renamed["name"].endswith("1111")
    status, body = client.json("PATCH", f"/api/sessions/{'0' * 32}", {"name": "x"})
    assert (status, _error(body)) == (404, "unknown_session")


def test_limits_tell_both_upload_paths(settings: Settings) -> None:
    """GET /api/limits answers the body limit, the upload-URL limit and the block size, from settings."""
    client = Client(build_app(_no_storage, settings.model_copy(update={"max_upload_bytes": 1000})))
    status, limits = client.json("GET", "/api/limits")
    assert status == 200
    assert limits == {
        "max_upload_bytes": 1000,
        "max_file_bytes": settings.max_file_bytes,
        "upload_block_bytes": settings.upload_block_bytes,
    }


def test_adding_aliases_and_reconciling_again_resolves_names(
    client: Client, storage: AzureStorage, settings: Settings, tmp_path: Path
) -> None:
    """Without the month's aliases some names stay unresolved and statuses differ from the truth; after
    adding them, POST /reconcile goes back to processing and completes with the truth's statuses."""
    truth = build_month(tmp_path / "month", size="small", seed=5)
    assert truth["aliases"], "the generated month must need aliases for this test to mean anything"
    session_id = complete_month(client, storage, settings, tmp_path / "month")
    _, before = client.json("GET", f"/api/sessions/{session_id}/transactions")
    unresolved = {u["normalized"] for u in before["unresolved_names"] if u["side"] == "receipts"}
    assert set(truth["aliases"]) <= unresolved

    for name, cardholder in truth["aliases"].items():
        assert client.json("POST", "/api/aliases", {"name": name, "cardholder": cardholder})[0] == 201
    status, view = client.json("POST", f"/api/sessions/{session_id}/reconcile")
    assert (status, view["status"]) == (202, "processing")
    status, body = client.json("GET", f"/api/sessions/{session_id}/transactions")
    assert (status, _error(body)) == (409, "wrong_state")
    assert _drain(storage, settings) == 1

    _, view = client.json("GET", f"/api/sessions/{session_id}")
    assert view["status"] == "completed"
    _, after = client.json("GET", f"/api/sessions/{session_id}/transactions")
    assert not set(truth["aliases"]) & {u["normalized"] for u in after["unresolved_names"]}
    statuses = {t["transaction"]["transaction_number"]: t["status"] for t in after["transactions"]}
    assert statuses == truth["statuses"]
    assert view["summary"]["unresolved_names"] == len(after["unresolved_names"])
    assert view["summary"]["unresolved_names"] < len(before["unresolved_names"])


def test_reconciling_again_needs_a_completed_session(client: Client) -> None:
    """An open session cannot be reconciled again: 409 with the state named."""
    _, created = client.json("POST", "/api/sessions")
    status, body = client.json("POST", f"/api/sessions/{created['id']}/reconcile")
    assert (status, _error(body)) == (409, "wrong_state")
    assert "open" in body["error"]["message"]


def test_review_links_each_match_to_its_receipt_pdf(
    client: Client, storage: AzureStorage, settings: Settings, tmp_path: Path
) -> None:
    """Every matched transaction names a receipt PDF that downloads as a PDF; unmatched ones name none."""
    build_month(tmp_path / "month", size="small", seed=8)
    session_id = complete_month(client, storage, settings, tmp_path / "month")
    _, result = client.json("GET", f"/api/sessions/{session_id}/transactions")
    linked = [t for t in result["transactions"] if t["receipt_pdf"]]
    assert linked
    assert all(t["expense"] is not None for t in linked)
    assert all(t["receipt_pdf"] is None for t in result["transactions"] if t["expense"] is None)
    assert len({t["receipt_pdf"] for t in linked}) == len(linked)
    for item in linked[:3]:
        response = client.request("GET", f"/api/sessions/{session_id}/reports/receipts/{item['receipt_pdf']}")
        assert response.status_code == 200
        assert response.get_body().startswith(b"%PDF-")


def _page(client: Client, path: str, **headers: str) -> Any:
    return client.request("GET", path, headers=headers)


def test_page_and_its_files_are_served_without_a_key(storage: AzureStorage, settings: Settings) -> None:
    """With API keys, `/` and `/web/...` answer without one (they hold no data); the API still needs one;
    a path that climbs out of the page's folder is not served."""
    client = Client(build_app(lambda: storage, settings, api_keys=frozenset({"secret-key"})))
    page = _page(client, "/")
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert b"Credit Card Processor" in page.get_body()
    for asset in ("/web/app.js", "/web/app.css"):
        assert _page(client, asset).status_code == 200, asset
    assert _page(client, "/web/../http_app.py").status_code == 404
    assert _page(client, "/web/%2e%2e/http_app.py").status_code == 404
    assert _page(client, "/api/sessions").status_code == 401
    assert _page(client, "/api/sessions", **{"x-api-key": "secret-key"}).status_code == 200


def _put(url: str, body: bytes, headers: dict[str, str] | None = None) -> int:
    # The URL is Azurite's, plain http on loopback (S310 guards against file: and custom schemes).
    request = urllib.request.Request(url, data=body, method="PUT", headers=headers or {})  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
        return int(answer.status)


def test_a_renewed_upload_url_continues_the_same_file_with_its_blocks(
    client: Client, storage: AzureStorage, settings: Settings
) -> None:
    """Blocks sent with one URL and blocks sent with the URL renewed for that file (`?file=`) commit
    together into one blob; the session still has one file. Renewing a finished or unknown file fails."""
    session_id = client.json("POST", "/api/sessions")[1]["id"]
    data = b"%PDF-1.7\n" + bytes(range(256)) * 64
    first, second = data[: len(data) // 2], data[len(data) // 2 :]
    ids = [base64.b64encode(f"block-{n:06d}".encode()).decode() for n in (1, 2)]
    path = f"/api/sessions/{session_id}/files/receipts.pdf/upload-url"
    status, grant = client.json("POST", path)
    assert status == 201
    assert _put(f"{grant['url']}&comp=block&blockid={urllib.parse.quote(ids[0])}", first) == 201

    status, renewed = client.json("POST", f"{path}?file={grant['file']['id']}")
    assert status == 201
    assert renewed["file"]["id"] == grant["file"]["id"]
    assert _put(f"{renewed['url']}&comp=block&blockid={urllib.parse.quote(ids[1])}", second) == 201
    block_list = "".join(f"<Latest>{i}</Latest>" for i in ids)
    xml = f'<?xml version="1.0" encoding="utf-8"?><BlockList>{block_list}</BlockList>'.encode()
    assert _put(f"{renewed['url']}&comp=blocklist", xml, {"x-ms-blob-content-type": "application/pdf"}) == 201

    (blob,) = _blobs(storage, settings.uploads_container)
    assert blob == f"{session_id}/{grant['file']['id']}/receipts.pdf"
    assert storage.get_bytes(settings.uploads_container, blob)[0] == data
    assert [f["id"] for f in client.json("GET", f"/api/sessions/{session_id}")[1]["files"]] == [
        grant["file"]["id"]
    ]

    status, body = client.json("POST", f"{path}?file={'f' * 16}")
    assert (status, _error(body)) == (404, "unknown_session")
    uploaded = client.upload(session_id, "statement.pdf", data)[1]
    status, body = client.json("POST", f"{path}?file={uploaded['id']}")
    assert (status, _error(body)) == (409, "wrong_state")


def test_an_unfinished_upload_can_be_taken_back_and_the_session_completes(
    client: Client, storage: AzureStorage, settings: Settings, tmp_path: Path
) -> None:
    """A processing session waits for a file whose upload URL was never used; DELETE of that file lets it
    complete with the others. Extracted files cannot be taken back."""
    build_month(tmp_path / "month", size="small", seed=8)
    session_id = client.json("POST", "/api/sessions")[1]["id"]
    uploaded = client.upload(
        session_id, "statement.pdf", (tmp_path / "month" / "statement.pdf").read_bytes()
    )[1]
    abandoned = client.json("POST", f"/api/sessions/{session_id}/files/receipts.pdf/upload-url")[1]["file"]
    for blob in _blobs(storage, settings.uploads_container):
        extract_upload(storage, settings, blob)
    assert client.json("POST", f"/api/sessions/{session_id}/process")[0] == 202
    _drain(storage, settings)
    assert client.json("GET", f"/api/sessions/{session_id}")[1]["status"] == "processing"

    status, removed = client.json("DELETE", f"/api/sessions/{session_id}/files/{abandoned['id']}")
    assert (status, removed["id"]) == (200, abandoned["id"])
    _drain(storage, settings)
    _, view = client.json("GET", f"/api/sessions/{session_id}")
    assert view["status"] == "completed"
    assert [f["id"] for f in view["files"]] == [uploaded["id"]]

    status, body = client.json("DELETE", f"/api/sessions/{session_id}/files/{uploaded['id']}")
    assert (status, _error(body)) == (409, "wrong_state")
    status, body = client.json("DELETE", f"/api/sessions/{session_id}/files/{abandoned['id']}")
    assert (status, _error(body)) == (404, "unknown_session")
