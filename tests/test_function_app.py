"""The Function App indexes, and its functions run without the host."""

from __future__ import annotations

import json
from typing import Any

import azure.functions as func
import pytest

from function_app import app


@pytest.fixture(scope="module")
def functions() -> dict[str, Any]:
    """The app's functions as the host indexes them (indexing may run once per app)."""
    return {f.get_function_name(): f for f in app.get_functions()}


def test_app_indexes_health_route(functions: dict[str, Any]) -> None:
    """The app lists an anonymous GET /api/health HTTP function."""
    health = functions["health"]
    bindings = json.loads(health.get_function_json())["bindings"]
    trigger = next(b for b in bindings if b["type"] == "httpTrigger")
    assert trigger["route"] == "health"
    assert trigger["authLevel"] == "ANONYMOUS"
    assert trigger["methods"] == ["GET"]


def test_health_answers(functions: dict[str, Any]) -> None:
    """Calling the function with a real HttpRequest answers 200 with status ok."""
    request = func.HttpRequest(method="GET", url="/api/health", body=b"")
    response = functions["health"].get_user_function()(request)
    assert response.status_code == 200
    assert json.loads(response.get_body()) == {"status": "ok"}
