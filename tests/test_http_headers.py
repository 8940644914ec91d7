"""Protective headers and HEAD, the same through the app (`ccproc api`) and the Functions adapters.

The page and every HTML answer carry a strict Content-Security-Policy whose `connect-src` names the
blob endpoint the upload URLs point at; every answer carries nosniff and no-referrer; every `/api/`
answer (session data) is `no-store`; HEAD answers as GET does, without the body. The browser's side
(the page works under its policy) is in `tests/test_web_page.py`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html.parser
import json
import re
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest

from functions import api as functions_api
from functions import runtime as functions_runtime
from functions import web as functions_web
from shared.http.app import WEB, build_app
from shared.http.headers import storage_origin
from shared.settings import Settings
from shared.storage.azure import AzureStorage
from tests.azurite import Azurite
from tests.test_http_api import Client

PDF = b"%PDF-1.7\n" + bytes(range(256)) * 8
KEY = {"x-api-key": "tenant-key-0123456789"}
PAGE_DIRECTIVES = {
    "default-src": ["'self'"],
    "frame-src": ["'self'", "blob:"],  # a receipt PDF shown inline, or fetched with a key into a blob
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
# Headers that differ between two answers to the same request.
VOLATILE = {"date"}


def policy(response: func.HttpResponse) -> dict[str, list[str]]:
    """The answer's Content-Security-Policy as directive -> sources."""
    directives = [d.split() for d in response.headers["Content-Security-Policy"].split(";") if d.strip()]
    return {d[0]: d[1:] for d in directives}


def blob_origin(azurite: Azurite) -> str:
    """The origin of the blob endpoint in Azurite's connection string."""
    endpoint = re.search(r"BlobEndpoint=([^;]+)", azurite.connection_string)
    assert endpoint
    url = urllib.parse.urlsplit(endpoint.group(1))
    return f"{url.scheme}://{url.netloc}"


def assert_protected(response: func.HttpResponse, *, no_store: bool) -> None:
    """nosniff and no-referrer on the answer; `no-store` exactly when it carries session data."""
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert (response.headers.get("Cache-Control") == "no-store") is no_store, response.headers


def assert_page_policy(response: func.HttpResponse, origin: str) -> None:
    """The page's strict policy: nothing inline, connections to itself and the blob endpoint only."""
    directives = policy(response)
    assert {k: v for k, v in directives.items() if k in PAGE_DIRECTIVES} == PAGE_DIRECTIVES
    assert directives["connect-src"] == ["'self'", origin]
    # Nothing loosens default-src for scripts or styles, and nothing is allowed inline anywhere.
    assert not {"script-src", "style-src", "script-src-attr", "style-src-attr"} & set(directives)
    assert "unsafe" not in response.headers["Content-Security-Policy"]


@pytest.fixture
def wired(storage: AzureStorage, settings: Settings, azurite: Azurite) -> Settings:
    """The test's settings naming the storage the gateway really uses (Azurite)."""
    return settings.model_copy(update={"storage_connection": azurite.connection_string})


@pytest.fixture
def keyed(storage: AzureStorage, wired: Settings) -> Client:
    """The app on Azurite with one API key, as `ccproc api` runs it."""
    return Client(build_app(lambda: storage, wired, api_keys=frozenset(KEY.values())))


def _session(client: Client) -> str:
    status, body = client.json("POST", "/api/sessions", headers=KEY)
    assert status == 201
    return str(body["id"])


# -- the policy ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("connection", "account_url", "origin"),
    [
        (
            "DefaultEndpointsProtocol=http;AccountName=dev;AccountKey=a2V5==;"
            "BlobEndpoint=http://127.0.0.1:41234/dev;QueueEndpoint=http://127.0.0.1:41235/dev;",
            "",
            "http://127.0.0.1:41234",
        ),
        (
            "DefaultEndpointsProtocol=https;AccountName=ccproc;AccountKey=a2V5==;EndpointSuffix=core.windows.net",
            "",
            "https://ccproc.blob.core.windows.net",
        ),
        ("accountname=ccproc;accountkey=a2V5==", "", "https://ccproc.blob.core.windows.net"),
        (
            "AccountName=ccproc;AccountKey=a2V5==;EndpointSuffix=core.usgovcloudapi.net",
            "",
            "https://ccproc.blob.core.usgovcloudapi.net",
        ),
        ("UseDevelopmentStorage=true", "", "http://127.0.0.1:10000"),
        ("", "https://ccproc.blob.core.windows.net/", "https://ccproc.blob.core.windows.net"),
        ("", "https://CCPROC.blob.core.windows.net:443/x", "https://ccproc.blob.core.windows.net:443"),
        ("", "", None),
        ("not a connection string", "", None),
        ("BlobEndpoint=ftp://files.example/x", "", None),
        ("BlobEndpoint=https://evil.example; script-src *", "", None),
        ("BlobEndpoint=https://user:pw@x.example 'unsafe-inline'", "", None),
        ("", "https://x.example:99999", None),
    ],
)
def test_the_storage_origin_is_read_from_the_settings_as_the_sdk_reads_them(
    connection: str, account_url: str, origin: str | None
) -> None:
    """Connection strings (explicit endpoint, account and suffix, development storage) and account
    URLs give the blob endpoint's origin; anything that is not a plain http(s) origin gives none,
    so nothing but an origin can reach the header."""
    settings = Settings(AzureWebJobsStorage=connection, azure_storage_account_url=account_url)
    assert storage_origin(settings) == origin


def test_the_upload_urls_point_at_the_origin_the_page_may_connect_to(keyed: Client, azurite: Azurite) -> None:
    """The page's `connect-src` names exactly the origin of the upload URLs the API hands out."""
    session_id = _session(keyed)
    status, grant = keyed.json("POST", f"/api/sessions/{session_id}/files/big.pdf/upload-url", headers=KEY)
    assert status == 201
    url = urllib.parse.urlsplit(grant["url"])
    page = keyed.request("GET", "/")
    assert policy(page)["connect-src"] == ["'self'", f"{url.scheme}://{url.netloc}"]
    assert_page_policy(page, blob_origin(azurite))


def test_the_page_and_every_html_answer_carry_the_strict_policy(keyed: Client, azurite: Azurite) -> None:
    """`/` and `/web/index.html` carry the page's policy, without a key; the API's JSON and the
    page's scripts and styles carry a policy that loads nothing and may not be framed."""
    for path in ("/", "/web/index.html"):
        response = keyed.request("GET", path)
        assert response.status_code == 200
        assert response.mimetype.startswith("text/html")
        assert_page_policy(response, blob_origin(azurite))
    for path in ("/web/app.js", "/web/app.css", "/api/health", "/api/sessions"):
        response = keyed.request("GET", path, headers=KEY)
        assert response.status_code == 200, path
        assert policy(response) == {"default-src": ["'none'"], "frame-ancestors": ["'none'"]}, path


class _InlineCode(html.parser.HTMLParser):
    """Every inline script, style element, style attribute and on* handler of an HTML file."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._tag = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        self._tag = tag if tag in ("script", "style") and "src" not in names else ""
        if tag == "style":
            self.found.append("<style>")
        self.found += [f"{tag} {name}=" for name in names if name == "style" or name.startswith("on")]
        for name in ("href", "src", "action", "formaction"):
            if (names.get(name) or "").strip().lower().startswith(("javascript:", "data:")):
                self.found.append(f"{tag} {name}={names[name]}")

    def handle_data(self, data: str) -> None:
        if self._tag == "script" and data.strip():
            self.found.append(f"<script>{data.strip()[:40]}")

    def handle_endtag(self, tag: str) -> None:
        self._tag = ""


@pytest.mark.parametrize("page", sorted(WEB.glob("*.html")), ids=lambda p: p.name)
def test_the_page_holds_no_inline_code(page: Path) -> None:
    """No inline script or style, no style attribute, no on* handler, no javascript:/data: URL in the
    page's HTML: all of it would be refused by its policy."""
    parser = _InlineCode()
    parser.feed(page.read_text())
    assert parser.found == []


def test_the_page_scripts_set_no_style_attribute_or_markup() -> None:
    """The scripts never set a `style` attribute (refused by the policy) nor write markup as text."""
    for script in sorted(WEB.glob("*.js")):
        text = script.read_text()
        assert not re.search(r"""\bstyle\s*:|["']style["']|setAttribute\(\s*["']style""", text), script.name
        assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write", text), script.name


def test_the_docs_page_allows_only_its_own_inline_script(keyed: Client) -> None:
    """`/api/docs` (Swagger UI) runs its one inline script by hash, never any inline script."""
    response = keyed.request("GET", "/api/docs", headers=KEY)
    assert response.status_code == 200
    scripts = re.findall(r"<script>(.*?)</script>", response.get_body().decode(), re.DOTALL)
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    directives = policy(response)
    assert directives["script-src"] == ["https://cdn.jsdelivr.net", f"'sha256-{digest}'"]
    assert directives["default-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert_protected(response, no_store=True)


# -- every answer --------------------------------------------------------------------------------
def test_every_answer_is_protected_and_session_answers_are_not_stored(keyed: Client) -> None:
    """Successes, refusals and failures alike carry nosniff and no-referrer; every `/api/` answer is
    `no-store` (session data), the page and its files keep their validators and may be cached."""
    session_id = _session(keyed)
    base = f"/api/sessions/{session_id}"
    uploaded = keyed.request(
        "PUT",
        f"{base}/files/s.pdf",
        body=PDF,
        headers={"Content-Length": str(len(PDF)), "Content-Type": "application/pdf", **KEY},
    )
    assert uploaded.status_code == 202
    assert_protected(uploaded, no_store=True)
    api_answers = [
        ("GET", "/api/health", {}, 200),
        ("GET", "/api/limits", KEY, 200),
        ("GET", "/api/sessions", KEY, 200),
        ("GET", base, KEY, 200),
        ("PATCH", base, KEY, 422),
        ("POST", "/api/sessions", KEY, 201),
        ("GET", "/api/aliases", KEY, 200),
        ("GET", "/api/openapi.json", KEY, 200),
        ("GET", f"{base}/transactions", KEY, 409),
        ("GET", f"{base}/reports/exceptions", KEY, 409),
        ("GET", "/api/sessions", {}, 401),
        ("GET", f"/api/sessions/{'0' * 32}", KEY, 404),
        ("DELETE", "/api/limits", KEY, 405),
    ]
    for method, path, headers, status in api_answers:
        response = keyed.request(method, path, headers=headers)
        assert response.status_code == status, (method, path, response.get_body()[:200])
        assert_protected(response, no_store=True)
    for path in ("/", "/web/app.js", "/web/app.css"):
        response = keyed.request("GET", path)
        assert response.status_code == 200
        assert_protected(response, no_store=False)
        assert response.headers["ETag"]
    assert_protected(keyed.request("GET", "/no-such-page"), no_store=False)


def test_an_unexpected_failure_is_answered_with_the_headers(settings: Settings) -> None:
    """A storage factory that blows up: the 500 JSON answer still carries every protective header."""

    def broken() -> AzureStorage:
        raise RuntimeError("no storage today")

    client = Client(build_app(broken, settings))
    response = client.request("GET", "/api/sessions")
    assert response.status_code == 500
    assert_protected(response, no_store=True)
    assert "Content-Security-Policy" in response.headers


# -- HEAD ----------------------------------------------------------------------------------------
def _same_but_body(client: Client, path: str, headers: dict[str, str]) -> func.HttpResponse:
    """HEAD `path`: the status and headers of GET, an empty body; the HEAD answer."""
    got = client.request("GET", path, headers=headers)
    head = client.request("HEAD", path, headers=headers)
    assert head.status_code == got.status_code, path
    assert head.get_body() == b"", path
    assert got.get_body(), path
    assert _steady(head) == _steady(got), path
    return head


def _steady(response: func.HttpResponse) -> dict[str, str]:
    """The answer's headers but those that change from one answer to the next."""
    return {k.lower(): v for k, v in response.headers.items() if k.lower() not in VOLATILE}


def test_head_answers_wherever_get_does_without_a_body(keyed: Client) -> None:
    """Every GET route (the page, its files, health, the session routes, a report download) answers
    HEAD with the same status and headers and no body; HEAD still needs the key GET needs."""
    session_id = _session(keyed)
    paths = [
        "/",
        "/web/index.html",
        "/web/app.js",
        "/api/health",
        "/api/limits",
        "/api/sessions",
        f"/api/sessions/{session_id}",
        "/api/aliases",
        "/api/openapi.json",
        "/api/docs",
        f"/api/sessions/{'0' * 32}",  # a 404 JSON answer: HEAD says 404 too
    ]
    for path in paths:
        _same_but_body(keyed, path, KEY)
    refused = keyed.request("HEAD", f"/api/sessions/{session_id}")
    assert (refused.status_code, refused.get_body()) == (401, b"")
    assert_protected(refused, no_store=True)
    # A route without GET: HEAD is as unknown as GET is.
    assert keyed.request("HEAD", f"/api/sessions/{session_id}/process", headers=KEY).status_code == 405


# -- the Functions adapters ----------------------------------------------------------------------
@pytest.fixture
def functions_env(azurite: Azurite, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The Functions runtime built from app settings naming Azurite, and forgotten afterwards."""
    monkeypatch.setenv("AzureWebJobsStorage", azurite.connection_string)
    monkeypatch.setenv("SESSIONS_CONTAINER", settings.sessions_container)
    monkeypatch.setenv("UPLOADS_CONTAINER", settings.uploads_container)
    functions_api.asgi_app.cache_clear()
    functions_runtime.reset()
    try:
        yield
    finally:
        functions_api.asgi_app.cache_clear()
        functions_runtime.reset()


def _call(
    handler: Callable[..., Any], method: str, path: str, headers: dict[str, str] | None = None
) -> func.HttpResponse:
    """One request to a function, as the host hands it over."""
    request = func.HttpRequest(
        method,
        url=f"http://localhost{path}",
        headers=headers or {},
        body=b"",
        route_params={"route": path.removeprefix("/api/")},
    )
    return asyncio.run(handler(request, None))  # type: ignore[no-any-return]


@pytest.mark.usefixtures("functions_env")
def test_the_page_function_answers_with_the_same_headers(azurite: Azurite) -> None:
    """The anonymous page function: the page with its strict policy naming the blob endpoint of the
    app settings' storage, HEAD without a body, and its own refusal of API paths protected too."""
    page = functions_web.web.build().get_user_function()
    response = _call(page, "GET", "/")
    assert response.status_code == 200
    assert b"Credit Card Processor" in response.get_body()
    assert_page_policy(response, blob_origin(azurite))
    assert_protected(response, no_store=False)
    head = _call(page, "HEAD", "/")
    assert (head.status_code, head.get_body()) == (200, b"")
    assert head.headers["Content-Security-Policy"] == response.headers["Content-Security-Policy"]
    script = _call(page, "GET", "/web/app.js")
    assert script.status_code == 200
    assert_protected(script, no_store=False)
    refused = _call(page, "GET", "/%61pi/sessions")
    assert refused.status_code == 404
    assert_protected(refused, no_store=True)
    assert policy(refused) == {"default-src": ["'none'"], "frame-ancestors": ["'none'"]}


@pytest.mark.usefixtures("functions_env")
def test_the_api_function_answers_with_the_same_headers() -> None:
    """The keyed API function: session answers `no-store` with nosniff and no-referrer, HEAD as GET
    without a body, and the 400 it answers before the app (a path that is not UTF-8) protected too."""
    api = functions_api.api.build().get_user_function()
    key = {"x-functions-key": "the-function-key"}  # the host lets no request in without one
    created = _call(api, "POST", "/api/sessions", key)
    assert created.status_code == 201
    assert_protected(created, no_store=True)
    session_id = json.loads(created.get_body())["id"]
    got = _call(api, "GET", f"/api/sessions/{session_id}", key)
    assert got.status_code == 200
    assert_protected(got, no_store=True)
    head = _call(api, "HEAD", f"/api/sessions/{session_id}", key)
    assert (head.status_code, head.get_body()) == (200, b"")
    assert_protected(head, no_store=True)
    bad = _call(api, "GET", "/api/sessions/%FF%FE", key)
    assert bad.status_code == 400
    assert_protected(bad, no_store=True)
