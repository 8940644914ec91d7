"""Every `/api/...` route but `health`: the HTTP app of `shared.http.app`, hosted through AsgiMiddleware.

The host checks the function key before the app sees the request, so the app does not check its
value; it reads it (or, under App Service authentication, the principal id) to know whose sessions a
request may see, and refuses a request that carries none: the anonymous page function (`web.py`)
hands requests to this same app, and none of those may reach a session as the keyless local owner.
The app (and with it the settings) is built on the first call, never at import.
"""

from __future__ import annotations

import functools
import os
import urllib.parse
from typing import cast

import azure.functions as func

from shared.http.app import build_app
from shared.http.errors import error_response
from shared.settings import Settings
from shared.storage.azure import storage_from_settings

bp = func.Blueprint()


@functools.cache
def asgi_app() -> func.AsgiMiddleware:
    """The HTTP app, built once (with its settings) on the first request."""
    settings = Settings()
    # The platform sets WEBSITE_AUTH_ENABLED when App Service authentication is on; only then does it
    # set x-ms-client-principal-id itself and strip the header from outside requests.
    trust_principal = os.environ.get("WEBSITE_AUTH_ENABLED", "").strip().lower() == "true"
    app = build_app(
        lambda: storage_from_settings(settings),
        settings,
        host_checks_keys=True,
        trust_principal=trust_principal,
    )
    return func.AsgiMiddleware(app)


@bp.route(
    route="api/{*route}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    auth_level=func.AuthLevel.FUNCTION,
)
async def api(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    """Hand the request to the HTTP app: its URL path (`/api/...`) picks the route."""
    try:
        urllib.parse.unquote_to_bytes(urllib.parse.urlsplit(req.url).path).decode("utf-8")
    except UnicodeDecodeError:
        # AsgiMiddleware would raise on it before the app is reached, and the host answer 500.
        return _bad_path()
    return cast(func.HttpResponse, await asgi_app().handle_async(req, context))


def _bad_path() -> func.HttpResponse:
    return error(400, "bad_path", "the URL path is not valid UTF-8 once decoded")


def error(status: int, code: str, message: str) -> func.HttpResponse:
    """A failure answered before the app, in the app's one shape (`shared.http.errors`)."""
    answer = error_response(status, code, message)
    return func.HttpResponse(bytes(answer.body), status_code=status, mimetype="application/json")
