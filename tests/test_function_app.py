"""The Function App indexes, and its functions run without the host."""

from __future__ import annotations

import json
from typing import Any

import azure.functions as func
import pytest


@pytest.fixture(scope="module")
def functions(indexed_functions: dict[str, Any]) -> dict[str, Any]:
    """The app's functions as the host indexes them."""
    return indexed_functions


def test_app_indexes_every_function(functions: dict[str, Any]) -> None:
    """Health, the API, and one function per trigger: nothing more, nothing less."""
    assert set(functions) == {"health", "api", "extract", "finalize", "sweep"}
    bindings = json.loads(functions["api"].get_function_json())["bindings"]
    trigger = next(b for b in bindings if b["type"] == "httpTrigger")
    assert (trigger["route"], trigger["authLevel"]) == ("{*route}", "FUNCTION")
    assert sorted(trigger["methods"]) == ["DELETE", "GET", "POST", "PUT"]


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
