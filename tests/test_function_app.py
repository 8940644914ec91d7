"""The Function App indexes, and its functions run without the host."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest


@pytest.fixture(scope="module")
def functions(indexed_functions: dict[str, Any]) -> dict[str, Any]:
    """The app's functions as the host indexes them."""
    return indexed_functions


def test_app_indexes_every_function(functions: dict[str, Any]) -> None:
    """Health, the API, the web page and one function per trigger: nothing more, nothing less."""
    assert set(functions) == {"health", "api", "web", "extract", "extract_gave_up", "finalize", "sweep"}
    bindings = json.loads(functions["api"].get_function_json())["bindings"]
    trigger = next(b for b in bindings if b["type"] == "httpTrigger")
    assert (trigger["route"], trigger["authLevel"]) == ("api/{*route}", "FUNCTION")
    assert sorted(trigger["methods"]) == ["DELETE", "GET", "HEAD", "PATCH", "POST", "PUT"]


def test_web_page_is_anonymous_get_only_and_keeps_api_routes_keyed(functions: dict[str, Any]) -> None:
    """The page answers anonymously at the site root (no route prefix), for GET only; a request for an
    API path that reaches it is refused rather than handed to the app without a function key."""
    host = json.loads((Path(__file__).parent.parent / "host.json").read_text())
    assert host["extensions"]["http"]["routePrefix"] == ""
    bindings = json.loads(functions["web"].get_function_json())["bindings"]
    trigger = next(b for b in bindings if b["type"] == "httpTrigger")
    assert (trigger["route"], trigger["authLevel"], trigger["methods"]) == (
        "{*path}",
        "ANONYMOUS",
        ["GET", "HEAD"],
    )
    page = functions["web"].get_user_function()
    for path in ("/api/sessions", "/%61pi/sessions", "/API/sessions", "/api"):
        request = func.HttpRequest(method="GET", url=f"http://localhost{path}", body=b"")
        response = asyncio.run(page(request, None))
        assert response.status_code == 404, path
    response = asyncio.run(page(func.HttpRequest(method="GET", url="http://localhost/", body=b""), None))
    assert response.status_code == 200
    assert response.mimetype.startswith("text/html")
    assert b"Credit Card Processor" in response.get_body()


def test_app_indexes_health_route(functions: dict[str, Any]) -> None:
    """The app lists an anonymous GET /api/health HTTP function."""
    health = functions["health"]
    bindings = json.loads(health.get_function_json())["bindings"]
    trigger = next(b for b in bindings if b["type"] == "httpTrigger")
    assert trigger["route"] == "api/health"
    assert trigger["authLevel"] == "ANONYMOUS"
    assert trigger["methods"] == ["GET", "HEAD"]


def test_health_answers(functions: dict[str, Any]) -> None:
    """Calling the function with a real HttpRequest answers 200 with status ok."""
    request = func.HttpRequest(method="GET", url="/api/health", body=b"")
    response = functions["health"].get_user_function()(request)
    assert response.status_code == 200
    assert json.loads(response.get_body()) == {"status": "ok"}
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    head = functions["health"].get_user_function()(
        func.HttpRequest(method="HEAD", url="/api/health", body=b"")
    )
    assert (head.status_code, head.get_body()) == (200, b"")
