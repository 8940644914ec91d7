"""`GET /api/health` (and HEAD): the one anonymous route, for probes, with the app's protective headers."""

from __future__ import annotations

import json

import azure.functions as func

from shared.http.headers import protective_headers

bp = func.Blueprint()


@bp.route(route="api/health", methods=["GET", "HEAD"], auth_level=func.AuthLevel.ANONYMOUS)
def health(req: func.HttpRequest) -> func.HttpResponse:
    """Answer that the app is up."""
    mimetype = "application/json"
    body = b"" if req.method == "HEAD" else json.dumps({"status": "ok"}).encode()
    headers = dict(protective_headers("/api/health", mimetype))
    return func.HttpResponse(body, mimetype=mimetype, headers=headers)
