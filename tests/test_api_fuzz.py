"""Schema-driven fuzzing: schemathesis generates requests from our own OpenAPI document and sends
them to the app in process (ASGI), over Azurite, with a valid key; no answer may be a 5xx.

Half the generated session ids are swapped for real sessions (one open with a file, one completed),
so the fuzz reaches past "unknown session" into uploads, names, reports and state changes.
Examples are bounded and derandomized: the run takes well under a minute and fails the same way
twice. Raise FUZZ_EXAMPLES (per operation) locally for a longer hunt.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from shared.http.app import build_app
from shared.sessions.extract import extract_upload
from shared.settings import Settings
from shared.storage.azure import AzureStorage
from tests.builders.month import build_month
from tests.test_http_api import Client, _blobs, _drain, _no_storage

KEY = {"x-api-key": "fuzz-key"}
FUZZ_EXAMPLES = 25


@schemathesis.serializer("application/pdf")
def _pdf_body(_ctx: Any, value: Any) -> bytes:
    """The generated upload body as bytes; every other one starts like a PDF, so uploads get past
    the 415 and into storage."""
    data = value if isinstance(value, bytes) else str(value).encode()
    return b"%PDF-1.7\n" + data if len(data) % 2 == 0 else data


class _App:
    """The fuzzed app and the real sessions its cases may be pointed at."""

    def __init__(self, app: Any, sessions: list[str]) -> None:
        self.app, self.sessions = app, sessions


@pytest.fixture(scope="module")
def fuzz_target(azurite: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[_App]:
    """The keyed app on Azurite with one completed and one open session of the fuzzing key."""
    tag = hashlib.sha256(str(tmp_path_factory.getbasetemp()).encode()).hexdigest()[:8]
    config = Settings(
        uploads_container=f"up-fuzz-{tag}",
        sessions_container=f"se-fuzz-{tag}",
        results_queue=f"re-fuzz-{tag}",
        temp_storage_path=tmp_path_factory.mktemp("fuzz-scratch"),
        extract_processes=1,
    )
    storage = AzureStorage(azurite.connection_string)
    try:
        app = build_app(lambda: storage, config, api_keys=frozenset({KEY["x-api-key"]}))
        client = Client(app)
        folder = tmp_path_factory.mktemp("fuzz-month")
        build_month(folder, size="small", seed=3)
        completed = client.json("POST", "/api/sessions", headers=KEY)[1]["id"]
        for name in ("statement.pdf", "receipts.pdf"):
            assert client.upload(completed, name, (folder / name).read_bytes(), **KEY)[0] == 202
        for blob in _blobs(storage, config.uploads_container):
            extract_upload(storage, config, blob)
        assert client.json("POST", f"/api/sessions/{completed}/process", headers=KEY)[0] == 202
        _drain(storage, config)
        opened = client.json("POST", "/api/sessions", headers=KEY)[1]["id"]
        client.json("POST", f"/api/sessions/{opened}/files/big.pdf/upload-url", headers=KEY)
        yield _App(app, [completed, opened])
    finally:
        storage.close()


def _operations() -> list[tuple[str, str]]:
    """(method, path) of every operation in the app's OpenAPI document (built without storage)."""
    document = build_app(_no_storage, Settings()).openapi()
    return [(method.upper(), path) for path, item in document["paths"].items() for method in item]


OPERATIONS = _operations()


def _cases(operation: Any) -> Any:
    """Valid requests and, where the document allows some, invalid ones (wrong types, missing fields)."""
    positive = operation.as_strategy(GenerationMode.POSITIVE)
    try:
        negative = operation.as_strategy(GenerationMode.NEGATIVE)
    except Exception:  # noqa: BLE001 - an operation with nothing to get wrong has no negative cases
        return positive
    return st.one_of(positive, negative)


def test_every_operation_is_fuzzed() -> None:
    """The fuzz covers every route the app answers under /api: none is hidden from the document."""
    from fastapi.routing import APIRoute

    app = build_app(_no_storage, Settings())
    served = {
        (method, route.path)
        for route in app.routes
        if isinstance(route, APIRoute) and route.path.startswith("/api/") and route.path != "/api/docs"
        for method in route.methods - {"HEAD"}
    }
    assert served <= set(OPERATIONS), sorted(served - set(OPERATIONS))
    assert len(OPERATIONS) >= 18


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_no_generated_request_gets_a_server_error(fuzz_target: _App, method: str, path: str) -> None:
    """Every request schemathesis generates for this operation is answered below 500."""
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", fuzz_target.app, headers=KEY)
    operation = schema[path][method]

    @given(case=_cases(operation))
    @settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case: Any) -> None:
        session_id = (case.path_parameters or {}).get("session_id")
        # Deleting a real session would leave nothing for the cases after it: deletes stay on made-up ids.
        if session_id is not None and (method, path) != ("DELETE", "/api/sessions/{session_id}"):
            digest = hashlib.sha256(str(session_id).encode()).digest()
            if digest[0] % 2 == 0:
                case.path_parameters["session_id"] = fuzz_target.sessions[digest[1] % 2]
        case.call_and_validate(headers=KEY, checks=[not_a_server_error])

    fuzz()
