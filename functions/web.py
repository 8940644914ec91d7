"""`GET /` and `/web/...`: the page finance staff use, anonymous because it holds no data.

host.json sets no route prefix, so this catch-all can answer the site root; the host prefers the
literal `api/...` routes of the other functions over it. The page asks for a key when the API
answers 401. The files come from the same HTTP app as the API (`shared.http.app`), with its
protective headers (`shared.http.headers`); so does the refusal of an API path answered here.
"""

from __future__ import annotations

import urllib.parse
from typing import cast

import azure.functions as func

from functions.api import asgi_app, error

bp = func.Blueprint()


@bp.route(route="{*path}", methods=["GET", "HEAD"], auth_level=func.AuthLevel.ANONYMOUS)
async def web(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    """Answer the page and its files."""
    # Decoded and folded as the host and the app may see it: `/%61pi/...` or `/API/...` is still the API.
    path = urllib.parse.unquote(urllib.parse.urlsplit(req.url).path).lower()
    if path.rstrip("/") == "/api" or path.startswith("/api/"):
        # Never hand an API route to the app from this anonymous function: that would skip the key.
        return error(404, "not_found", f"no route {path[:80]!r}", path=path)
    return cast(func.HttpResponse, await asgi_app().handle_async(req, context))
