"""The HTTP API against Azurite, driven the way the Functions host drives it.

Each request is a `func.HttpRequest` handed to `func.AsgiMiddleware(app).handle_async`, exactly
what `functions/api.py` does: the middleware takes the ASGI path from the request URL
(`/api/sessions/...`) and ignores `route_params`, which are set here as the host would set them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest
from fastapi import FastAPI

from functions import api as functions_api
from functions import runtime as functions_runtime
from shared.errors import AliasError
from shared.http.app import build_app
from shared.http.body import SMALL_BODY_LIMIT
from shared.matching.aliases import pair
from shared.report import REPORTS
from shared.sessions.aliases import BlobAliasStore
from shared.sessions.extract import extract_upload
from shared.sessions.finalize import finalize_session
from shared.settings import Settings
from shared.storage.azure import AzureStorage, storage_from_settings
from shared.storage.gateway import Storage
from tests.azurite import ACCOUNT, ACCOUNT_KEY, HOST, Azurite, free_port
from tests.builders.month import build_month
from tests.builders.statement import build_statement

PNG = b"\x89PNG\r\n\x1a\n" + bytes(2048)
UNKNOWN = "0" * 32


class Client:
    """Requests in, `func.HttpResponse` out, through `func.AsgiMiddleware` as the host calls it."""

    def __init__(self, app: FastAPI) -> None:
        self.middleware = func.AsgiMiddleware(app)

    def request(
        self, method: str, path: str, *, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> func.HttpResponse:
        """Send one request to `path` (which starts with `/api/`)."""
        request = func.HttpRequest(
            method,
            url=f"http://localhost{path}",
            headers=headers or {},
            body=body,
            route_params={"route": path.removeprefix("/api/").split("?", 1)[0]},
        )
        return asyncio.run(self.middleware.handle_async(request))

    def json(self, method: str, path: str, payload: Any = None, **kwargs: Any) -> tuple[int, Any]:
        """Status and decoded JSON body; `payload`, when given, is sent as a JSON body."""
        if payload is not None:
            kwargs["body"] = json.dumps(payload).encode()
            kwargs["headers"] = {"Content-Type": "application/json", **kwargs.get("headers", {})}
        response = self.request(method, path, **kwargs)
        return response.status_code, json.loads(response.get_body())

    def upload(self, session_id: str, name: str, data: bytes, **headers: str) -> tuple[int, Any]:
        """PUT a file as the raw body, with its Content-Length as a client sends it."""
        return self.json(
            "PUT",
            f"/api/sessions/{session_id}/files/{name}",
            body=data,
            headers={"Content-Length": str(len(data)), "Content-Type": "application/pdf", **headers},
        )


@pytest.fixture
def client(storage: AzureStorage, settings: Settings) -> Client:
    """The app on Azurite, without API keys (as under the Functions host)."""
    return Client(build_app(lambda: storage, settings))


@pytest.fixture(scope="module")
def statement_pdf(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A small real statement: two cards, three transactions each."""
    path = tmp_path_factory.mktemp("statement") / "statement.pdf"
    build_statement(path, cards=2, per_card=3)
    return path.read_bytes()


def _new_session(client: Client) -> str:
    status, body = client.json("POST", "/api/sessions")
    assert status == 201
    return str(body["id"])


def _blobs(storage: Storage, container: str, prefix: str = "") -> list[str]:
    return [info.name for info in storage.list(container, prefix)]


def _error(body: Any) -> str:
    """The error code of a failure body, after checking its shape."""
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message"}
    return str(body["error"]["code"])


# -- sessions and uploads ------------------------------------------------------------------------
def test_create_then_upload_lists_the_file_as_uploaded(
    client: Client, storage: AzureStorage, settings: Settings, statement_pdf: bytes
) -> None:
    """A new session is open; a PUT statement answers 202 and the session lists the file as uploaded."""
    status, created = client.json("POST", "/api/sessions")
    assert status == 201
    assert created["status"] == "open"
    assert created["files"] == []
    session_id = created["id"]

    status, record = client.upload(session_id, "March statement.pdf", statement_pdf)
    assert status == 202
    assert record["status"] == "uploaded"
    assert record["name"] == "March_statement.pdf"
    assert record["size"] == len(statement_pdf)

    status, view = client.json("GET", f"/api/sessions/{session_id}")
    assert status == 200
    assert [(f["id"], f["status"]) for f in view["files"]] == [(record["id"], "uploaded")]
    assert _blobs(storage, settings.uploads_container) == [f"{session_id}/{record['id']}/March_statement.pdf"]
    status, listed = client.json("GET", "/api/sessions")
    assert status == 200
    assert [s["id"] for s in listed["sessions"]] == [session_id]


def test_png_bytes_named_pdf_are_refused_415(client: Client) -> None:
    """Bytes that are not a PDF answer 415 JSON, whatever the file is called."""
    session_id = _new_session(client)
    status, body = client.upload(session_id, "receipt.pdf", PNG)
    assert status == 415
    assert _error(body) == "not_pdf"


def test_content_length_over_the_limit_is_413_before_reading(
    storage: AzureStorage, settings: Settings, statement_pdf: bytes
) -> None:
    """A Content-Length above max_upload_bytes answers 413 and stores nothing."""
    small = settings.model_copy(update={"max_upload_bytes": 1000})
    client = Client(build_app(lambda: storage, small))
    session_id = _new_session(client)
    status, body = client.upload(session_id, "statement.pdf", statement_pdf)
    assert status == 413
    assert _error(body) == "too_large"
    assert "upload-url" in body["error"]["message"]
    assert _blobs(storage, settings.uploads_container) == []
    assert _blobs(storage, settings.sessions_container, f"{session_id}/files/") == []


def test_body_over_the_limit_without_content_length_is_413(
    storage: AzureStorage, settings: Settings, statement_pdf: bytes
) -> None:
    """Without a Content-Length the limit is enforced as the body streams in: 413, nothing stored."""
    small = settings.model_copy(update={"max_upload_bytes": 2000})
    client = Client(build_app(lambda: storage, small))
    session_id = _new_session(client)
    status, body = client.json("PUT", f"/api/sessions/{session_id}/files/s.pdf", body=statement_pdf)
    assert status == 413
    assert _error(body) == "too_large"
    assert _blobs(storage, settings.uploads_container) == []


def test_unknown_or_malformed_session_is_404_json(client: Client, statement_pdf: bytes) -> None:
    """A session id nobody created, or one of the wrong shape, answers 404 JSON on every route."""
    for method, path in [
        ("GET", f"/api/sessions/{UNKNOWN}"),
        ("GET", "/api/sessions/not-a-session"),
        ("DELETE", f"/api/sessions/{UNKNOWN}"),
        ("GET", f"/api/sessions/{UNKNOWN}/reports/pvault"),
    ]:
        status, body = client.json(method, path)
        assert (status, _error(body)) == (404, "unknown_session"), path
    status, body = client.upload(UNKNOWN, "statement.pdf", statement_pdf)
    assert (status, _error(body)) == (404, "unknown_session")


def test_processing_an_unknown_session_is_404(client: Client) -> None:
    """POST process on a session nobody created answers 404, not 409 "no files" (regression)."""
    status, body = client.json("POST", f"/api/sessions/{UNKNOWN}/process")
    assert (status, _error(body)) == (404, "unknown_session")


def test_unknown_route_and_wrong_method_answer_json(client: Client) -> None:
    """An unknown route is 404 JSON, a wrong method 405 JSON, a bad body 422 JSON: never HTML."""
    status, body = client.json("GET", "/api/nothing-here")
    assert (status, _error(body)) == (404, "not_found")
    status, body = client.json("PATCH", "/api/sessions")
    assert (status, _error(body)) == (405, "method_not_allowed")
    status, body = client.json("POST", "/api/aliases", {"name": "Jane Q. Doe"})
    assert (status, _error(body)) == (422, "invalid_request")
    assert "cardholder" in body["error"]["message"]


def test_process_without_files_is_409(client: Client) -> None:
    """Asking to process a session with no files answers 409."""
    session_id = _new_session(client)
    status, body = client.json("POST", f"/api/sessions/{session_id}/process")
    assert (status, _error(body)) == (409, "wrong_state")


def test_upload_url_put_lands_the_blob_in_uploads(
    client: Client, storage: AzureStorage, settings: Settings, statement_pdf: bytes
) -> None:
    """The upload URL is a SAS URL with its headers; a plain PUT to it lands the blob in uploads."""
    session_id = _new_session(client)
    status, grant = client.json("POST", f"/api/sessions/{session_id}/files/big statement.pdf/upload-url")
    assert status == 201
    assert grant["method"] == "PUT"
    assert grant["headers"]["x-ms-blob-type"] == "BlockBlob"
    assert grant["expires_in_minutes"] == settings.upload_url_minutes
    assert grant["file"]["status"] == "awaiting_upload"
    assert "sig=" in grant["url"]
    assert grant["url"].startswith(f"http://{HOST}:")

    # The URL is Azurite's, plain http on loopback (S310 guards against file: and custom schemes).
    put = urllib.request.Request(  # noqa: S310
        grant["url"], data=statement_pdf, method="PUT", headers=grant["headers"]
    )
    with urllib.request.urlopen(put, timeout=10) as answer:  # noqa: S310
        assert answer.status == 201
    blob = f"{session_id}/{grant['file']['id']}/big_statement.pdf"
    assert _blobs(storage, settings.uploads_container) == [blob]
    assert storage.info(settings.uploads_container, blob).size == len(statement_pdf)


def test_delete_session_removes_all_its_blobs(
    client: Client, storage: AzureStorage, settings: Settings, statement_pdf: bytes
) -> None:
    """DELETE removes the session's uploads, records and manifest, and says how many blobs went."""
    session_id = _new_session(client)
    other = _new_session(client)
    client.upload(session_id, "a.pdf", statement_pdf)
    client.upload(session_id, "b.pdf", statement_pdf)
    status, body = client.json("DELETE", f"/api/sessions/{session_id}")
    assert status == 200
    assert body == {"deleted": 6}  # two uploads, two file records, the manifest, its index entry
    assert _blobs(storage, settings.uploads_container, f"{session_id}/") == []
    assert _blobs(storage, settings.sessions_container, f"{session_id}/") == []
    left = _blobs(storage, settings.sessions_container)
    assert [name for name in left if not name.startswith("index/")] == [f"{other}/manifest.json"]
    assert [name.rsplit("-", 1)[1] for name in _blobs(storage, settings.sessions_container, "index/_/")] == [
        other
    ]
    status, body = client.json("GET", f"/api/sessions/{session_id}")
    assert status == 404


# -- streaming under an ASGI server ---------------------------------------------------------------
CHUNK = 64 * 1024
PDF_TYPE = b"application/pdf"


class _Spy:
    """The real gateway, noting how many body chunks the server had handed over at each write."""

    def __init__(self, storage: Storage, pulled: list[int]) -> None:
        self._storage, self._pulled = storage, pulled
        self.writes: list[tuple[str, int]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._storage, name)

    def put_bytes(self, container: str, name: str, data: bytes, **kwargs: Any) -> str:
        self.writes.append((name, self._pulled[0]))
        return str(self._storage.put_bytes(container, name, data, **kwargs))


async def _asgi_chunked(
    app: FastAPI,
    method: str,
    path: str,
    body: bytes,
    *,
    content_type: bytes = b"application/json",
    pulled: list[int] | None = None,
) -> tuple[int, Any, int]:
    """Send `body` chunked (no Content-Length) in CHUNK pieces, as uvicorn delivers a chunked request;
    (status, JSON answer, chunks taken). `pulled[0]`, when given, counts the chunks taken so far."""
    pieces = [body[i : i + CHUNK] for i in range(0, len(body), CHUNK)]
    taken = [0] if pulled is None else pulled
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if taken[0] >= len(pieces):
            return {"type": "http.disconnect"}
        taken[0] += 1
        return {"type": "http.request", "body": pieces[taken[0] - 1], "more_body": taken[0] < len(pieces)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", content_type), (b"transfer-encoding", b"chunked")],
        "server": ("localhost", 80),
        "client": ("127.0.0.1", 50000),
    }
    await app(scope, receive, send)  # type: ignore[arg-type]
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    answer = json.loads(b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"))
    return status, answer, taken[0]


def _big_pdf(size: int) -> bytes:
    return b"%PDF-1.7\n" + bytes(range(256)) * (size // 256)


def test_body_streams_to_storage_chunk_by_chunk(storage: AzureStorage, settings: Settings) -> None:
    """Under an ASGI server a 9 MiB body is stored whole, its record written after the first chunk."""
    pulled = [0]
    spy = _Spy(storage, pulled)
    app = build_app(lambda: spy, settings)  # type: ignore[arg-type, return-value]
    session_id = _new_session(Client(app))
    body = _big_pdf(9 * 1024 * 1024)
    path = f"/api/sessions/{session_id}/files/big.pdf"
    status, record, _ = asyncio.run(
        _asgi_chunked(app, "PUT", path, body, content_type=PDF_TYPE, pulled=pulled)
    )
    assert (status, record["status"], record["size"]) == (202, "uploaded", len(body))
    first_record_write = next(at for name, at in spy.writes if "/files/" in name)
    assert first_record_write == 1  # the file was accepted on its first chunk, not after the whole body
    blob = f"{session_id}/{record['id']}/big.pdf"
    assert storage.info(settings.uploads_container, blob).size == len(body)


def test_limit_is_enforced_mid_stream(storage: AzureStorage, settings: Settings) -> None:
    """A chunked body passing max_upload_bytes halfway answers 413, leaving no record and no blob."""
    small = settings.model_copy(update={"max_upload_bytes": 5 * 1024 * 1024})
    app = build_app(lambda: storage, small)
    session_id = _new_session(Client(app))
    pulled = [0]
    body = _big_pdf(9 * 1024 * 1024)
    path = f"/api/sessions/{session_id}/files/big.pdf"
    status, error, _ = asyncio.run(
        _asgi_chunked(app, "PUT", path, body, content_type=PDF_TYPE, pulled=pulled)
    )
    assert (status, _error(error)) == (413, "too_large")
    assert pulled[0] < len(body) // CHUNK  # it stopped reading once over the limit
    assert _blobs(storage, settings.uploads_container) == []
    assert _blobs(storage, settings.sessions_container, f"{session_id}/files/") == []


def test_a_json_body_over_the_small_limit_is_413_unread(client: Client, settings: Settings) -> None:
    """Every route but the upload takes a small JSON body: one announced larger than SMALL_BODY_LIMIT
    is 413 unread, one sent chunked is read only that far, and one within it still works."""
    big = json.dumps({"name": "x" * (SMALL_BODY_LIMIT + 10)}).encode()
    for method, path in [
        ("POST", "/api/sessions"),
        ("POST", "/api/aliases"),
        ("PATCH", f"/api/sessions/{UNKNOWN}"),
    ]:
        status, body = client.json(
            method,
            path,
            body=big,
            headers={"Content-Type": "application/json", "Content-Length": str(len(big))},
        )
        assert (status, _error(body)) == (413, "too_large"), path
    app = build_app(_no_storage, settings)
    status, body, taken = asyncio.run(_asgi_chunked(app, "POST", "/api/sessions", big * 4))
    assert (status, _error(body)) == (413, "too_large")
    assert taken == SMALL_BODY_LIMIT // CHUNK + 1  # it stopped reading just past the limit
    status, body = client.json(
        "POST", "/api/sessions", body=b'{"name": "ok"}', headers={"Content-Length": "x"}
    )
    assert (status, _error(body)) == (400, "bad_content_length")
    assert client.json("POST", "/api/sessions", {"name": "ok"})[0] == 201


# -- aliases -------------------------------------------------------------------------------------
def test_aliases_add_list_delete(client: Client) -> None:
    """An alias is stored normalised, listed, deleted once (404 the second time); a no-op alias is 400."""
    status, body = client.json("POST", "/api/aliases", {"name": "Jane Q. Doe", "cardholder": "Jane Doe"})
    assert (status, body) == (201, {"name": "JANEQDOE", "cardholder": "JANEDOE"})
    status, body = client.json("GET", "/api/aliases")
    assert (status, body) == (200, {"aliases": {"JANEQDOE": "JANEDOE"}})
    status, body = client.json("DELETE", "/api/aliases/Jane%20Q.%20Doe")
    assert (status, body) == (200, {"deleted": "JANEQDOE"})
    status, body = client.json("DELETE", "/api/aliases/JANEQDOE")
    assert (status, _error(body)) == (404, "unknown_alias")
    assert client.json("GET", "/api/aliases") == (200, {"aliases": {}})
    status, body = client.json("POST", "/api/aliases", {"name": "Jane Doe", "cardholder": "JANE DOE"})
    assert (status, _error(body)) == (400, "invalid_alias")


def test_an_alias_with_a_lone_surrogate_is_refused_and_the_table_survives(
    client: Client, storage: AzureStorage, settings: Settings
) -> None:
    """Regression: a JSON `\\ud800` in an alias answered 500 and, stored, broke GET /api/aliases (and
    finalize's matching) for good. Now the API answers 422, the store itself refuses it, nothing is kept."""
    for raw in (b'{"name": "\\ud800", "cardholder": "x"}', b'{"name": "Jo", "cardholder": "\\udfffX"}'):
        status, body = client.json(
            "POST", "/api/aliases", body=raw, headers={"Content-Type": "application/json"}
        )
        assert (status, _error(body)) == (422, "invalid_request")
    assert client.json("GET", "/api/aliases") == (200, {"aliases": {}})
    with pytest.raises(AliasError, match="broken character"):
        BlobAliasStore(storage, settings).add("\ud800", "JANEDOE")
    with pytest.raises(AliasError, match="broken character"):
        pair("JANE", "\udfff")
    assert client.json("GET", "/api/aliases") == (200, {"aliases": {}})


# -- the app around the routes -------------------------------------------------------------------
def _no_storage() -> Storage:
    raise AssertionError("this request must not touch storage")


def test_health_answers_without_storage(settings: Settings) -> None:
    """GET /api/health is 200 and never builds the storage gateway."""
    client = Client(build_app(_no_storage, settings))
    assert client.json("GET", "/api/health") == (200, {"status": "ok"})


def test_openapi_lists_every_route(settings: Settings) -> None:
    """The OpenAPI document at /api/openapi.json names every route and method."""
    client = Client(build_app(_no_storage, settings))
    status, document = client.json("GET", "/api/openapi.json")
    assert status == 200
    routes = {(path, method) for path, item in document["paths"].items() for method in item}
    assert routes == {
        ("/api/sessions/{session_id}/timeline", "get"),
        ("/api/sessions/{session_id}/changes", "get"),
        ("/api/health", "get"),
        ("/api/sessions", "get"),
        ("/api/sessions", "post"),
        ("/api/sessions/{session_id}", "get"),
        ("/api/sessions/{session_id}", "delete"),
        ("/api/sessions/{session_id}", "patch"),
        ("/api/sessions/{session_id}/reconcile", "post"),
        ("/api/limits", "get"),
        ("/api/sessions/{session_id}/files/{filename}", "put"),
        ("/api/sessions/{session_id}/files/{file_id}", "delete"),
        ("/api/sessions/{session_id}/files/{filename}/upload-url", "post"),
        ("/api/sessions/{session_id}/process", "post"),
        ("/api/sessions/{session_id}/transactions", "get"),
        ("/api/sessions/{session_id}/reports/{name}", "get"),
        ("/api/aliases", "get"),
        ("/api/aliases", "post"),
        ("/api/aliases/{name}", "delete"),
        ("/api/aliases/{name}", "put"),
        ("/api/aliases/usage", "get"),
        ("/api/sessions/{session_id}/alias-candidates", "get"),
        ("/api/sessions/{session_id}/alias-preview", "post"),
        ("/api/sessions/{session_id}/follow-up", "get"),
        ("/api/sessions/{session_id}/follow-up/{transaction_number}", "put"),
        ("/api/sessions/{session_id}/chase", "get"),
        ("/api/sessions/{session_id}/chase.csv", "get"),
        ("/api/sessions/{session_id}/workbook", "get"),
    }
    assert client.request("GET", "/api/docs").status_code == 200


def test_api_keys_are_required_when_given(storage: AzureStorage, settings: Settings) -> None:
    """With api_keys, a request without a valid key is 401 JSON; either key header passes; health is open."""
    client = Client(build_app(lambda: storage, settings, api_keys=frozenset({"k-one", "k-two"})))
    for headers in ({}, {"x-api-key": "wrong"}, {"x-functions-key": "k-one-and-more"}):
        status, body = client.json("GET", "/api/aliases", headers=headers)
        assert (status, _error(body)) == (401, "unauthorized"), headers
    status, body = client.json("GET", "/api/no-such-route")
    assert status == 401  # unknown routes are not revealed either
    assert client.json("GET", "/api/aliases", headers={"x-api-key": "k-two"}) == (200, {"aliases": {}})
    assert client.json("GET", "/api/aliases", headers={"x-functions-key": "k-one"})[0] == 200
    assert client.json("GET", "/api/health") == (200, {"status": "ok"})


def test_an_empty_key_set_is_refused_at_build(settings: Settings) -> None:
    """api_keys=frozenset() is a configuration mistake, refused when the app is built."""
    with pytest.raises(ValueError, match="empty set of API keys"):
        build_app(_no_storage, settings, api_keys=frozenset())


def test_unreachable_storage_is_503_with_retry_after(settings: Settings) -> None:
    """Storage that cannot be reached answers 503 JSON with Retry-After, without its address."""
    port = free_port()
    dead = (
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
        f"BlobEndpoint=http://{HOST}:{port}/{ACCOUNT};QueueEndpoint=http://{HOST}:{port}/{ACCOUNT};"
    )
    gateway = AzureStorage(dead, retry_total=0)
    try:
        client = Client(build_app(lambda: gateway, settings))
        response = client.request("POST", "/api/sessions")
    finally:
        gateway.close()
    body = json.loads(response.get_body())
    assert response.status_code == 503
    assert _error(body) == "storage_unavailable"
    assert response.headers["Retry-After"].isdigit()
    assert str(port) not in body["error"]["message"]


class _Broken:
    """The real gateway, except that listing blobs fails with an unexpected error."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    def __getattr__(self, name: str) -> Any:
        return getattr(self._storage, name)

    def list(self, container: str, prefix: str = "") -> Iterator[Any]:
        raise RuntimeError("listing broke near card 4111 1111 1111 1111")

    def list_page(self, container: str, prefix: str, **_: Any) -> tuple[list[Any], str | None]:
        raise RuntimeError("listing broke near card 4111 1111 1111 1111")


def test_unexpected_error_is_500_json_and_logged_masked(
    storage: AzureStorage, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """An unexpected exception answers 500 JSON without a traceback; the log masks the card number."""
    client = Client(build_app(lambda: _Broken(storage), settings))  # type: ignore[arg-type, return-value]
    with caplog.at_level(logging.ERROR, logger="ccproc.http"):
        status, body = client.json("GET", "/api/sessions")
    assert (status, _error(body)) == (500, "internal_error")
    assert "Traceback" not in json.dumps(body)
    assert "RuntimeError" in caplog.text
    assert "****1111" in caplog.text
    assert "4111 1111 1111 1111" not in caplog.text


def test_error_messages_mask_card_numbers(client: Client) -> None:
    """A file name holding a card number is never echoed back whole in an error."""
    session_id = _new_session(client)
    status, body = client.upload(session_id, "card 4111111111111111.pdf", PNG)
    assert status == 415
    assert "4111111111111111" not in body["error"]["message"]
    assert "card_xxxx1111.pdf" in body["error"]["message"]  # the name as stored: masked, blob-safe


# -- the Functions adapter -----------------------------------------------------------------------
def test_functions_api_is_one_catch_all_function_keyed_route() -> None:
    """functions/api.py indexes one HTTP function on api/{*route}, function keys, every method the app has."""
    bindings = json.loads(functions_api.api.build().get_function_json())["bindings"]
    trigger = next(b for b in bindings if b["type"] == "httpTrigger")
    assert trigger["route"] == "api/{*route}"
    assert trigger["authLevel"] == "FUNCTION"
    assert trigger["methods"] == ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]


def test_functions_api_builds_the_app_from_settings_on_first_call(
    azurite: Azurite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The function builds Settings and AzureStorage on its first call and serves the app's routes."""
    monkeypatch.setenv("AzureWebJobsStorage", azurite.connection_string)
    monkeypatch.setenv("SESSIONS_CONTAINER", f"se-{uuid.uuid4().hex[:12]}")
    functions_api.asgi_app.cache_clear()
    functions_runtime.reset()
    handler: Callable[..., Any] = functions_api.api.build().get_user_function()
    try:
        key = {"x-functions-key": "the-function-key"}  # the host lets no request in without one
        request = func.HttpRequest(
            "POST",
            url="http://localhost/api/sessions",
            headers=key,
            body=b"",
            route_params={"route": "sessions"},
        )
        response = asyncio.run(handler(request, None))
        assert response.status_code == 201
        session_id = json.loads(response.get_body())["id"]
        request = func.HttpRequest(
            "GET",
            url=f"http://localhost/api/sessions/{session_id}",
            headers=key,
            body=b"",
            route_params={"route": f"sessions/{session_id}"},
        )
        response = asyncio.run(handler(request, None))
        assert json.loads(response.get_body())["status"] == "open"
    finally:
        functions_api.asgi_app.cache_clear()
    functions_runtime.reset()


def test_functions_api_answers_a_path_that_is_not_utf8_with_400() -> None:
    """Regression: a path whose %-escapes are not UTF-8 made AsgiMiddleware raise before the app,
    which the host answers 500; the function answers 400 JSON without building the app."""
    handler: Callable[..., Any] = functions_api.api.build().get_user_function()
    functions_api.asgi_app.cache_clear()
    functions_runtime.reset()
    request = func.HttpRequest(
        "GET", url="http://localhost/api/sessions/%FF%FE", body=b"", route_params={"route": "sessions/%FF%FE"}
    )
    response = asyncio.run(handler(request, None))
    assert response.status_code == 400
    assert _error(json.loads(response.get_body())) == "bad_path"
    assert functions_api.asgi_app.cache_info().currsize == 0


# -- the whole chain -----------------------------------------------------------------------------
def _drain(storage: Storage, settings: Settings) -> int:
    """Run finalize for every results message, as the queue trigger would; returns how many."""
    handled = 0
    while messages := storage.receive(settings.results_queue, visibility_seconds=60, limit=32):
        for message in messages:
            finalize_session(storage, settings, message.content)
            storage.remove(settings.results_queue, message)
            handled += 1
    return handled


def complete_month(
    client: Client,
    storage: Storage,
    settings: Settings,
    folder: Path,
    *,
    headers: dict[str, str] | None = None,
    name: str = "month",
) -> str:
    """A session with the month in `folder` (statement and receipts) sent through the API as the
    caller of `headers`, extracted and reconciled as the blob and queue triggers would; its id."""
    headers = headers or {}
    session_id = client.json("POST", "/api/sessions", {"name": name}, headers=headers)[1]["id"]
    for file_name in ("statement.pdf", "receipts.pdf"):
        assert client.upload(session_id, file_name, (folder / file_name).read_bytes(), **headers)[0] == 202
    for blob in _blobs(storage, settings.uploads_container):
        extract_upload(storage, settings, blob)
    assert client.json("POST", f"/api/sessions/{session_id}/process", headers=headers)[0] == 202
    _drain(storage, settings)
    assert client.json("GET", f"/api/sessions/{session_id}", headers=headers)[1]["status"] == "completed"
    return str(session_id)


def test_month_goes_from_upload_to_reports(
    client: Client, storage: AzureStorage, settings: Settings, tmp_path: Path
) -> None:
    """Statement and receipts uploaded, extracted and processed: counts as the truth says, reports served."""
    truth = build_month(tmp_path / "month", size="small", seed=11)
    for name, cardholder in truth["aliases"].items():
        assert client.json("POST", "/api/aliases", {"name": name, "cardholder": cardholder})[0] == 201
    session_id = _new_session(client)
    for name in ("statement.pdf", "receipts.pdf"):
        status, record = client.upload(session_id, name, (tmp_path / "month" / name).read_bytes())
        assert (status, record["status"]) == (202, "uploaded")

    for blob in _blobs(storage, settings.uploads_container):  # as the blob trigger would
        extract_upload(storage, settings, blob)
    status, view = client.json("POST", f"/api/sessions/{session_id}/process")
    assert (status, view["status"]) == (202, "processing")
    assert _drain(storage, settings) == 3  # one per extracted file, one for the request to process

    status, view = client.json("GET", f"/api/sessions/{session_id}")
    assert (status, view["status"], view["progress"]) == (200, "completed", 1.0)
    assert {f["status"] for f in view["files"]} == {"extracted"}
    summary = view["summary"]
    assert summary["transactions"] == len(truth["statuses"])
    assert summary["expenses"] == len(truth["matches"])
    assert summary["unmatched_expenses"] == len(truth["unmatched_expenses"])
    assert summary["statuses"] == dict(Counter(truth["statuses"].values()))
    assert view["reports"] == list(REPORTS)

    reports = f"/api/sessions/{session_id}/reports"
    for name, spec in REPORTS.items():
        response = client.request("GET", f"{reports}/{name}")
        assert response.status_code == 200, name
        assert response.headers["Content-Type"] == spec.media_type
        assert response.headers["Content-Disposition"] == f'attachment; filename="{spec.file_name}"'
        assert response.get_body()
    by_file = client.request("GET", f"{reports}/pvault.csv").get_body()
    assert by_file == client.request("GET", f"{reports}/pvault").get_body()
    document = json.loads(client.request("GET", f"{reports}/reconciliation").get_body())
    receipt = next(t["receipt_file"] for t in document["transactions"] if t["receipt_file"])
    response = client.request("GET", f"{reports}/receipts/{receipt}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.get_body().startswith(b"%PDF-")
    status, body = client.json("GET", f"{reports}/nonsense")
    assert (status, _error(body)) == (404, "unknown_session")

    status, result = client.json("GET", f"/api/sessions/{session_id}/transactions")
    assert status == 200
    numbers = sorted(t["transaction"]["transaction_number"] for t in result["transactions"])
    assert numbers == sorted(truth["statuses"])
    statuses = {t["transaction"]["transaction_number"]: t["status"] for t in result["transactions"]}
    assert statuses == truth["statuses"]
    unmatched = sorted(e["expense_id"] for e in result["unmatched_expenses"])
    assert unmatched == sorted(truth["unmatched_expenses"])
    assert "unresolved_names" in result
    assert _blobs(storage, settings.uploads_container) == []


def test_an_outage_answers_503_in_seconds_not_minutes(settings: Settings) -> None:
    """Regression: the SDK's retries (15 s, 18 s, 24 s) stacked under ours held a request 85 s in an
    outage. The gateway the runtimes build has one retry layer, and an API request gives up on it
    after `api_storage_seconds`: 503 with Retry-After well inside the SDK's first pause alone."""
    port = free_port()
    dead = (
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
        f"BlobEndpoint=http://{HOST}:{port}/{ACCOUNT};QueueEndpoint=http://{HOST}:{port}/{ACCOUNT};"
    )
    outage = settings.model_copy(update={"storage_connection": dead})
    gateway = storage_from_settings(outage, deadline=outage.api_storage_seconds)
    assert gateway.inner._blobs._config.retry_policy.total_retries == 0  # type: ignore[attr-defined]
    try:
        client = Client(build_app(lambda: gateway, outage))
        started = time.monotonic()
        response = client.request("POST", "/api/sessions")
        waited = time.monotonic() - started
    finally:
        gateway.close()
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert waited < 15, f"the request waited {waited:.1f} s"
