"""Who may reach what, shown against Azurite through the app as the Functions host drives it.

- keys: no route but health answers without one; the page (`/`, `/web/...`) is the only other
  anonymous content, and it holds no data;
- tenants: a session belongs to the key (or principal) that created it; with another key it is
  exactly as unknown (404) on every route, and each tenant has its own alias table;
- file names: path tricks, control characters, RTL overrides, device names and 10 KB names become a
  plain blob name or a 400, through both the upload route and the upload-URL route;
- upload URLs: one blob, create and write only, expiring within `upload_url_minutes`, and Azurite
  refuses everything else done with them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import secrets
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest

from shared.http.app import WEB, build_app
from shared.http.auth import owner_of
from shared.sessions.aliases import BlobAliasStore
from shared.sessions.layout import ALIASES_BLOB, manifest_blob
from shared.sessions.names import STORED_NAME
from shared.settings import Settings
from shared.storage.azure import AzureStorage
from tests.builders.month import build_month
from tests.test_http_api import Client, _blobs, _drain, _error, complete_month

PDF = b"%PDF-1.7\n" + bytes(range(256)) * 8
KEYS = frozenset({"alice-key-0123456789", "bob-key-9876543210"})
ALICE = {"x-api-key": "alice-key-0123456789"}
BOB = {"x-api-key": "bob-key-9876543210"}
UNKNOWN = "0" * 32


@pytest.fixture
def keyed(storage: AzureStorage, settings: Settings) -> Client:
    """The app on Azurite with two API keys, one per tenant (as `ccproc api` runs it)."""
    return Client(build_app(lambda: storage, settings, api_keys=KEYS))


def _session(client: Client, headers: dict[str, str], name: str | None = None) -> str:
    status, body = client.json("POST", "/api/sessions", {"name": name} if name else None, headers=headers)
    assert status == 201
    return str(body["id"])


def _upload(client: Client, session_id: str, name: str, headers: dict[str, str]) -> tuple[int, Any]:
    return client.upload(session_id, urllib.parse.quote(name, safe=""), PDF, **headers)


# -- keys ------------------------------------------------------------------------------------------
def _filled(path: str, session_id: str) -> str:
    """An OpenAPI path template with plausible values in its parameters."""
    values = {
        "session_id": session_id,
        "filename": "s.pdf",
        "file_id": "f" * 16,
        "name": "pvault",
        "transaction_number": "1",
    }
    return re.sub(r"\{(\w+)(?::path)?\}", lambda m: values[m.group(1)], path)


def test_every_route_but_health_needs_a_key(storage: AzureStorage, settings: Settings) -> None:
    """Every path and method of the OpenAPI document answers 401 without a key or with a wrong one
    (health excepted), as do unknown paths, methods the document does not list and the docs. (This
    many wrong keys would be slowed down to 429 by default: here the allowance is raised, the
    slowing down has its own test.)"""
    patient = settings.model_copy(update={"api_key_failures_per_minute": 10_000})
    keyed = Client(build_app(lambda: storage, patient, api_keys=KEYS))
    document = keyed.json("GET", "/api/openapi.json", headers=ALICE)[1]
    session_id = _session(keyed, ALICE)  # a real session: a 401 must not depend on the id being unknown
    operations = [(m.upper(), _filled(p, session_id)) for p, item in document["paths"].items() for m in item]
    assert len(operations) >= 18  # every operation of the document, whatever their number
    for method, path in operations:
        for headers in ({}, {"x-api-key": "wrong"}, {"x-functions-key": "alice-key"}, {"Authorization": "x"}):
            status, body = keyed.json(method, path, headers=headers)
            if path == "/api/health":
                assert status == 200, (method, path)
            else:
                assert (status, _error(body)) == (401, "unauthorized"), (method, path, headers)
    for method, path in [
        ("GET", "/api/openapi.json"),
        ("GET", "/api/docs"),
        ("GET", "/api/no-such-route"),
        ("GET", "/no-such-page"),
        ("GET", "/favicon.ico"),
        ("GET", "/web"),  # the folder itself, without its slash, is not the page
        ("GET", "/webx/app.js"),
        ("GET", "/api/health/more"),
        ("OPTIONS", "/api/sessions"),
        ("HEAD", f"/api/sessions/{session_id}"),
        ("GET", "//api/sessions"),
        ("GET", f"/api/sessions/{session_id}/reports/../../sessions"),
    ]:
        response = keyed.request(method, path)
        assert response.status_code == 401, (method, path)
    assert keyed.json("GET", "/api/sessions", headers=ALICE)[0] == 200


def test_the_page_is_the_only_other_anonymous_content_and_holds_no_data(keyed: Client) -> None:
    """Without a key, `/` and every file under `/web/` answer 200 and carry no session, name or key;
    paths that climb out of `/web/` into the API are not served."""
    session_id = _session(keyed, ALICE, name="Confidential March")
    anonymous = ["/", *(f"/web/{path.name}" for path in sorted(WEB.iterdir()) if path.is_file())]
    assert len(anonymous) > 5
    for path in anonymous:
        response = keyed.request("GET", path)
        assert response.status_code == 200, path
        body = response.get_body()
        for secret in (session_id, "Confidential March", *KEYS):
            assert secret.encode() not in body, (path, secret)
    for path in ("/web/../api/sessions", "/web/%2e%2e/api/sessions", f"/web/../api/sessions/{session_id}"):
        response = keyed.request("GET", path)
        assert response.status_code == 404, path
        assert b"Confidential" not in response.get_body()


# -- tenants ---------------------------------------------------------------------------------------
def _session_routes(session_id: str, file_id: str) -> list[tuple[str, str, Any]]:
    """(method, path, JSON body) of every route that acts on one session."""
    base = f"/api/sessions/{session_id}"
    return [
        ("GET", base, None),
        ("PATCH", base, {"name": "taken over"}),
        ("POST", f"{base}/process", None),
        ("POST", f"{base}/reconcile", None),
        ("GET", f"{base}/transactions", None),
        ("GET", f"{base}/timeline", None),
        ("GET", f"{base}/follow-up", None),
        ("PUT", f"{base}/follow-up/1", {"state": "waived", "note": "taken over"}),
        ("GET", f"{base}/chase", None),
        ("GET", f"{base}/chase.csv", None),
        ("GET", f"{base}/workbook", None),
        ("GET", f"{base}/changes", None),
        ("GET", f"{base}/reports/pvault", None),
        ("GET", f"{base}/reports/exceptions.xlsx", None),
        ("GET", f"{base}/reports/receipts/anything.pdf", None),
        ("POST", f"{base}/files/more.pdf/upload-url", None),
        ("POST", f"{base}/files/more.pdf/upload-url?file={file_id}", None),
        ("DELETE", f"{base}/files/{file_id}", None),
        ("DELETE", base, None),
    ]


def test_another_tenants_session_is_exactly_as_unknown(
    keyed: Client, storage: AzureStorage, settings: Settings, tmp_path: Path
) -> None:
    """With Bob's key, every route on Alice's completed session answers what an unknown id answers
    (404, same code, same message but for the id), lists nothing, and changes nothing of hers."""
    build_month(tmp_path / "month", size="small", seed=8)
    session_id = complete_month(
        keyed, storage, settings, tmp_path / "month", headers=ALICE, name="Alice month"
    )
    _, before = keyed.json("GET", f"/api/sessions/{session_id}", headers=ALICE)
    file_id = before["files"][0]["id"]
    blobs_before = _blobs(storage, settings.sessions_container, f"{session_id}/")

    theirs = _session_routes(session_id, file_id)
    unknown = _session_routes(UNKNOWN, file_id)
    for (method, path, payload), (_, unknown_path, _) in zip(theirs, unknown, strict=True):
        foreign = keyed.json(method, path, payload, headers=BOB)
        nobody = keyed.json(method, unknown_path, payload, headers=BOB)
        assert foreign[0] == nobody[0] == 404, (method, path)
        assert _error(foreign[1]) == _error(nobody[1]) == "unknown_session"
        assert foreign[1]["error"]["message"].replace(session_id, UNKNOWN) == nobody[1]["error"]["message"]
    status, body = keyed.upload(session_id, "statement.pdf", PDF, **BOB)
    assert (status, _error(body)) == (404, "unknown_session")
    assert _blobs(storage, settings.uploads_container) == []

    assert keyed.json("GET", "/api/sessions", headers=BOB) == (200, {"sessions": [], "next": None})
    _, after = keyed.json("GET", f"/api/sessions/{session_id}", headers=ALICE)
    assert after == before  # not renamed, not reprocessed, no file added or removed
    assert _blobs(storage, settings.sessions_container, f"{session_id}/") == blobs_before
    assert not storage.receive(settings.results_queue, visibility_seconds=1, limit=32)  # nothing sent
    # Her own key still reaches all of it.
    assert keyed.json("GET", f"/api/sessions/{session_id}/transactions", headers=ALICE)[0] == 200
    assert (
        keyed.request("GET", f"/api/sessions/{session_id}/reports/pvault", headers=ALICE).status_code == 200
    )
    listed = keyed.json("GET", "/api/sessions", headers=ALICE)[1]["sessions"]
    assert [s["id"] for s in listed] == [session_id]


def test_each_tenant_lists_only_its_own_sessions(keyed: Client) -> None:
    """GET /api/sessions answers each key's own sessions, whichever key header carries the key."""
    alice = {_session(keyed, ALICE) for _ in range(2)}
    bob = {_session(keyed, {"x-functions-key": BOB["x-api-key"]})}
    assert {s["id"] for s in keyed.json("GET", "/api/sessions", headers=ALICE)[1]["sessions"]} == alice
    assert {s["id"] for s in keyed.json("GET", "/api/sessions", headers=BOB)[1]["sessions"]} == bob


def test_the_manifest_keeps_an_owner_id_never_the_key(
    keyed: Client, storage: AzureStorage, settings: Settings
) -> None:
    """The stored manifest names its owner by a 16-hex-digit digest of the key; neither the stored
    blob nor any answer carries the key, and the API does not show the owner."""
    status, view = keyed.json("POST", "/api/sessions", headers=ALICE)
    assert status == 201
    assert "owner" not in view
    data, _ = storage.get_bytes(settings.sessions_container, manifest_blob(view["id"]))
    manifest = json.loads(data)
    assert re.fullmatch(r"key-[0-9a-f]{16}", manifest["owner"])
    assert manifest["owner"] == owner_of("key", ALICE["x-api-key"])
    assert ALICE["x-api-key"].encode() not in data
    assert owner_of("key", BOB["x-api-key"]) != manifest["owner"]
    assert "owner" not in keyed.json("GET", f"/api/sessions/{view['id']}", headers=ALICE)[1]
    assert "owner" not in keyed.json("GET", "/api/sessions", headers=ALICE)[1]["sessions"][0]


def test_under_the_functions_host_the_function_key_is_the_tenant(
    storage: AzureStorage, settings: Settings
) -> None:
    """Built as functions/api.py builds it, the app takes the owner from `x-functions-key` or `?code=`:
    the same key reaches its session either way, another key does not, and no key at all is 401."""
    client = Client(build_app(lambda: storage, settings, host_checks_keys=True))
    first = _session(client, {"x-functions-key": "function-key-one"})
    assert client.json("GET", f"/api/sessions/{first}?code=function-key-one")[0] == 200
    assert (
        client.json("GET", f"/api/sessions/{first}", headers={"x-functions-key": "function-key-two"})[0]
        == 404
    )
    assert client.json("GET", f"/api/sessions/{first}?code=function-key-two")[0] == 404
    for path in (f"/api/sessions/{first}", "/api/sessions", "/api/aliases"):
        status, body = client.json("GET", path)
        assert (status, _error(body)) == (401, "unauthorized"), path
    assert client.json("GET", "/api/health") == (200, {"status": "ok"})


def test_without_keys_everyone_is_the_one_local_owner(storage: AzureStorage, settings: Settings) -> None:
    """A keyless local API (`ccproc dev`): requests without a key share the local owner's sessions;
    a key sent anyway is a tenant of its own, which the local owner does not see."""
    client = Client(build_app(lambda: storage, settings))
    local = _session(client, {})
    assert client.json("GET", f"/api/sessions/{local}")[0] == 200
    keyed = _session(client, {"x-api-key": "some-key"})
    assert client.json("GET", f"/api/sessions/{keyed}")[0] == 404
    assert client.json("GET", f"/api/sessions/{local}", headers={"x-api-key": "some-key"})[0] == 404
    assert [s["id"] for s in client.json("GET", "/api/sessions")[1]["sessions"]] == [local]


def test_the_anonymous_page_function_never_reaches_the_api(
    azurite: Any, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    """The page function (anonymous, catch-all) refuses API paths however they are spelt (`/%61pi/...`),
    and the app behind it would refuse such a request too: 401, as a request without a key, instead
    of answering as the keyless local owner."""
    from functions import api as functions_api
    from functions import runtime as functions_runtime
    from functions import web as functions_web

    monkeypatch.setenv("AzureWebJobsStorage", azurite.connection_string)
    monkeypatch.setenv("SESSIONS_CONTAINER", settings.sessions_container)
    functions_api.asgi_app.cache_clear()
    functions_runtime.reset()
    page = functions_web.web.build().get_user_function()
    try:
        for path in ("/%61pi/sessions", "/%61pi/aliases", "/%61pi/openapi.json", "//api/sessions"):
            request = func.HttpRequest("GET", url=f"http://localhost{path}", body=b"")
            response = asyncio.run(page(request, None))
            assert response.status_code in (401, 404), path
            assert b'"sessions"' not in response.get_body()
        request = func.HttpRequest("GET", url="http://localhost/%61pi/sessions", body=b"")
        assert asyncio.run(page(request, None)).status_code == 404
        behind = asyncio.run(functions_api.asgi_app().handle_async(request, None))
        assert behind.status_code == 401
    finally:
        functions_api.asgi_app.cache_clear()
    functions_runtime.reset()


def test_the_principal_header_names_the_tenant_only_when_trusted(
    storage: AzureStorage, settings: Settings
) -> None:
    """Under App Service authentication two users of one function key are two tenants; without it the
    principal header is ignored, so sending someone's principal id reaches nothing of theirs."""
    key = {"x-functions-key": "shared-function-key"}
    trusted = Client(build_app(lambda: storage, settings, trust_principal=True))
    ann = {**key, "x-ms-client-principal-id": "00000000-0000-0000-0000-00000000a001"}
    ben = {**key, "x-ms-client-principal-id": "00000000-0000-0000-0000-00000000b002"}
    ann_session = _session(trusted, ann)
    assert trusted.json("GET", f"/api/sessions/{ann_session}", headers=ann)[0] == 200
    assert trusted.json("GET", f"/api/sessions/{ann_session}", headers=ben)[0] == 404
    assert trusted.json("GET", f"/api/sessions/{ann_session}", headers=key)[0] == 404

    untrusted = Client(build_app(lambda: storage, settings))
    assert untrusted.json("GET", f"/api/sessions/{ann_session}", headers=ann)[0] == 404
    key_session = _session(untrusted, key)
    # Not trusted: the forged header changes nothing, the key alone decides.
    assert untrusted.json("GET", f"/api/sessions/{key_session}", headers=ben)[0] == 200


def test_a_session_stored_before_owners_existed_still_loads(
    storage: AzureStorage, settings: Settings
) -> None:
    """A manifest without an `owner` field loads as the local owner's: the keyless API shows it, a
    keyed tenant does not see it."""
    session_id = secrets.token_hex(16)
    stamp = dt.datetime.now(dt.UTC).isoformat()
    old = {"id": session_id, "name": "old", "status": "open", "created": stamp, "updated": stamp}
    storage.put_bytes(settings.sessions_container, manifest_blob(session_id), json.dumps(old).encode())
    local = Client(build_app(lambda: storage, settings))
    status, view = local.json("GET", f"/api/sessions/{session_id}")
    assert (status, view["name"]) == (200, "old")
    assert [s["id"] for s in local.json("GET", "/api/sessions")[1]["sessions"]] == [session_id]
    keyed = Client(build_app(lambda: storage, settings, api_keys=KEYS))
    assert keyed.json("GET", f"/api/sessions/{session_id}", headers=ALICE)[0] == 404


def test_each_tenant_has_its_own_alias_table(
    keyed: Client, storage: AzureStorage, settings: Settings
) -> None:
    """An alias Alice adds is in her table only: Bob's is empty and cannot delete it; her table is a
    blob named by her owner id, and the local owner's table keeps its original blob name."""
    pair = {"name": "Jane Q. Doe", "cardholder": "Jane Doe"}
    assert keyed.json("POST", "/api/aliases", pair, headers=ALICE)[0] == 201
    assert keyed.json("GET", "/api/aliases", headers=BOB) == (200, {"aliases": {}})
    status, body = keyed.json("DELETE", "/api/aliases/JANEQDOE", headers=BOB)
    assert (status, _error(body)) == (404, "unknown_alias")
    assert keyed.json("GET", "/api/aliases", headers=ALICE) == (200, {"aliases": {"JANEQDOE": "JANEDOE"}})
    alice = owner_of("key", ALICE["x-api-key"])
    assert _blobs(storage, settings.sessions_container, "aliases/") == [f"aliases/{alice}.json"]
    assert BlobAliasStore(storage, settings, alice).load() == {"JANEQDOE": "JANEDOE"}

    local = Client(build_app(lambda: storage, settings))
    assert local.json("POST", "/api/aliases", {"name": "Bo B", "cardholder": "Bob Bee"})[0] == 201
    assert local.json("GET", "/api/aliases") == (200, {"aliases": {"BOB": "BOBBEE"}})
    assert ALIASES_BLOB in _blobs(storage, settings.sessions_container, "aliases/")
    # The default store (the owner of a keyless session) is the local table.
    assert BlobAliasStore(storage, settings).load() == {"BOB": "BOBBEE"}
    with pytest.raises(ValueError, match="not an owner id"):
        BlobAliasStore(storage, settings, "../aliases")


def test_a_tenants_aliases_reach_its_own_reconciliation(
    keyed: Client, storage: AzureStorage, settings: Settings, tmp_path: Path
) -> None:
    """Aliases Alice adds resolve the names of her session when it is reconciled again."""
    truth = build_month(tmp_path / "month", size="small", seed=5)
    assert truth["aliases"], "the generated month must need aliases for this test to mean anything"
    session_id = complete_month(
        keyed, storage, settings, tmp_path / "month", headers=ALICE, name="Alice month"
    )
    for name, cardholder in truth["aliases"].items():
        pair = {"name": name, "cardholder": cardholder}
        assert keyed.json("POST", "/api/aliases", pair, headers=ALICE)[0] == 201
    assert keyed.json("POST", f"/api/sessions/{session_id}/reconcile", headers=ALICE)[0] == 202
    _drain(storage, settings)
    _, after = keyed.json("GET", f"/api/sessions/{session_id}/transactions", headers=ALICE)
    assert not set(truth["aliases"]) & {u["normalized"] for u in after["unresolved_names"]}


# -- file names ------------------------------------------------------------------------------------
LONG = "a" * 10 * 1024 + ".pdf"
# name sent (URL-encoded whole) → the stored name, or the error (status, code) it is refused with.
NAMES: list[tuple[str, str | tuple[int, str]]] = [
    ("../../x.pdf", (404, "not_found")),  # `/` decoded from %2F: no route takes a name with a slash
    ("/etc/passwd", (404, "not_found")),
    ("..\\x.pdf", "x.pdf"),
    ("..\\..\\windows\\win.ini", "windows_win.ini"),
    ("%2e%2e%2fx.pdf", "2e_2e_2fx.pdf"),  # sent encoded: the name is the literal text
    ("a\x00b.pdf", "a_b.pdf"),
    ("\x1b[31mred\x7f.pdf", "31mred_.pdf"),
    ("tab\tnew\nline\r.pdf", "tab_new_line_.pdf"),
    ("invoice\u202efdp.exe.pdf", "invoice_fdp.exe.pdf"),
    ("..", "document.pdf"),
    ("....", "document.pdf"),
    (". .", "document.pdf"),
    ("CON.pdf", "CON_.pdf"),
    ("lpt1", "lpt1_"),
    ("aux.tar.pdf", "aux_.tar.pdf"),
    ("Ünïcødé 名前.pdf", "n_c_d_.pdf"),
    ("x" * 200 + ".pdf", "x" * (STORED_NAME - 4) + ".pdf"),
    (LONG, (400, "bad_file_name")),
]
_PLAIN = re.compile(r"^[A-Za-z0-9-][A-Za-z0-9._-]*$")


def _plain_blob(blob: str, session_id: str) -> str:
    """The name part of an uploads blob, after checking the whole blob name is plain."""
    session, file_id, name = blob.split("/")
    assert session == session_id
    assert re.fullmatch(r"[0-9a-f]{16}", file_id)
    assert _PLAIN.match(name), name
    assert not name.endswith(".")
    assert len(name) <= STORED_NAME
    return name


@pytest.mark.parametrize(("name", "expected"), NAMES, ids=[repr(n[:20]) for n, _ in NAMES])
def test_file_names_are_plain_blob_names_or_refused(
    keyed: Client, storage: AzureStorage, settings: Settings, name: str, expected: str | tuple[int, str]
) -> None:
    """Through the upload route and the upload-URL route, a hostile file name is stored as a plain
    blob name in the session's own folder, or refused with a clear error and nothing stored."""
    session_id = _session(keyed, ALICE)
    quoted = urllib.parse.quote(name, safe="")
    status, body = _upload(keyed, session_id, name, ALICE)
    status_url, grant = keyed.json(
        "POST", f"/api/sessions/{session_id}/files/{quoted}/upload-url", headers=ALICE
    )
    if isinstance(expected, tuple):
        assert (status, _error(body)) == expected
        assert (status_url, _error(grant)) == expected
        assert _blobs(storage, settings.uploads_container) == []
        assert _blobs(storage, settings.sessions_container, f"{session_id}/files/") == []
        assert len(json.dumps(body)) < 1000  # a 10 KB name is not echoed back whole
        return
    assert (status, body["name"]) == (202, expected)
    assert (status_url, grant["file"]["name"]) == (201, expected)
    assert urllib.parse.urlsplit(grant["url"]).path.endswith(
        f"/{session_id}/{grant['file']['id']}/{expected}"
    )
    request = urllib.request.Request(grant["url"], data=PDF, method="PUT", headers=grant["headers"])  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - Azurite on loopback
        assert answer.status == 201
    stored = [_plain_blob(blob, session_id) for blob in _blobs(storage, settings.uploads_container)]
    assert stored == [expected, expected]


# -- upload URLs -----------------------------------------------------------------------------------
def _status(url: str, method: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - Azurite on loopback
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_an_upload_url_writes_one_blob_and_nothing_else(
    keyed: Client, storage: AzureStorage, settings: Settings
) -> None:
    """The SAS is blob-scoped (sr=b), create+write only (sp=cw), expires within upload_url_minutes;
    with it Azurite lets one PUT of that blob through and refuses reading it, listing the container,
    deleting, and writing any other blob name."""
    session_id = _session(keyed, ALICE)
    asked = dt.datetime.now(dt.UTC).replace(microsecond=0)
    status, grant = keyed.json("POST", f"/api/sessions/{session_id}/files/big.pdf/upload-url", headers=ALICE)
    assert status == 201
    url = urllib.parse.urlsplit(grant["url"])
    sas = dict(urllib.parse.parse_qsl(url.query))
    assert sas["sr"] == "b"
    assert sorted(sas["sp"]) == ["c", "w"]
    expiry = dt.datetime.strptime(sas["se"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    minutes = dt.timedelta(minutes=settings.upload_url_minutes)
    assert asked + minutes - dt.timedelta(seconds=5) <= expiry <= asked + minutes + dt.timedelta(seconds=60)
    assert grant["expires_in_minutes"] == settings.upload_url_minutes
    assert "sig" in sas

    blob_url = grant["url"]
    headers = grant["headers"]
    assert _status(blob_url, "PUT", PDF, headers) == 201
    assert _status(blob_url, "GET") == 403
    assert _status(blob_url, "HEAD") == 403
    container = f"{url.scheme}://{url.netloc}{url.path.rsplit('/', 3)[0]}"
    assert _status(f"{container}?restype=container&comp=list&{url.query}", "GET") == 403
    assert _status(f"{container}?restype=container&comp=list&prefix={session_id}&{url.query}", "GET") == 403
    assert _status(blob_url, "DELETE") == 403
    other = url._replace(path=url.path.rsplit("/", 1)[0] + "/other.pdf").geturl()
    assert _status(other, "PUT", PDF, headers) == 403
    elsewhere = url._replace(path=f"{url.path.rsplit('/', 3)[0]}/{UNKNOWN}/x/evil.pdf").geturl()
    assert _status(elsewhere, "PUT", PDF, headers) == 403
    (blob,) = _blobs(storage, settings.uploads_container)
    assert blob == f"{session_id}/{grant['file']['id']}/big.pdf"


def test_guessing_keys_is_slowed_down(keyed: Client, caplog: pytest.LogCaptureFixture) -> None:
    """A burst of wrong keys from one client: 401 each, then 429 with Retry-After; the right key
    still gets in, a request with no key is a plain 401, and no tried key is ever logged."""
    from shared.http.auth import FAILURE_BURST

    tried = [f"guess-{n:04d}" for n in range(FAILURE_BURST + 2)]
    statuses = [
        keyed.request("GET", "/api/sessions", headers={"x-api-key": key}).status_code for key in tried
    ]
    assert statuses[:FAILURE_BURST] == [401] * FAILURE_BURST
    assert statuses[FAILURE_BURST:] == [429, 429]
    throttled = keyed.request("GET", "/api/sessions", headers={"x-api-key": "guess-again"})
    assert throttled.headers["Retry-After"].isdigit()
    assert keyed.request("GET", "/api/sessions", headers=ALICE).status_code == 200
    assert keyed.request("GET", "/api/sessions").status_code == 401
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert not any(key in logged for key in tried)
