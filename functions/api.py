"""Every `/api/...` route but `health`: the HTTP app of `shared.http_app`, hosted through AsgiMiddleware.

The host checks the function key before the app sees the request, so the app checks no keys here.
The app (and with it the settings) is built on the first call, never at import.
"""

from __future__ import annotations

import functools
from typing import cast

import azure.functions as func

from shared.azure_storage import storage_from_settings
from shared.http_app import build_app
from shared.settings import Settings

bp = func.Blueprint()


@functools.cache
def asgi_app() -> func.AsgiMiddleware:
    """The HTTP app, built once (with its settings) on the first request."""
    settings = Settings()
    return func.AsgiMiddleware(build_app(lambda: storage_from_settings(settings), settings))


@bp.route(
    route="api/{*route}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    auth_level=func.AuthLevel.FUNCTION,
)
async def api(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    """Hand the request to the HTTP app: its URL path (`/api/...`) picks the route."""
    return cast(func.HttpResponse, await asgi_app().handle_async(req, context))
