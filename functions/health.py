"""`GET /api/health`: the one anonymous route, for probes."""

from __future__ import annotations

import json

import azure.functions as func

bp = func.Blueprint()


@bp.route(route="api/health", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
def health(req: func.HttpRequest) -> func.HttpResponse:
    """Answer that the app is up."""
    return func.HttpResponse(json.dumps({"status": "ok"}), mimetype="application/json")
