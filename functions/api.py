"""Every `/api/...` route but `health`: the HTTP app of `shared.http.app`, hosted through AsgiMiddleware.

The host checks the function key before the app sees the request, so the app does not check its
value; it reads it (or, under App Service authentication, the principal id) to know whose sessions a
request may see, and refuses a request that carries none: the anonymous page function (`web.py`)
hands requests to this same app, and none of those may reach a session as the keyless local owner.
The app (and with it the settings) is built on the first call, never at import.
"""

from __future__ import annotations

import functools
import urllib.parse
from typing import cast

import azure.functions as func

from functions.runtime import runtime
from shared.http.app import build_app
from shared.http.errors import error_response
from shared.http.headers import protective_headers

bp = func.Blueprint()


@functools.cache
def asgi_app() -> func.AsgiMiddleware:
    """The HTTP app, built once on the first request, on the runtime every function shares."""
    settings = runtime().settings
    app = build_app(
        lambda: runtime().api_storage,
        settings,
        host_checks_keys=True,
        trust_principal=settings.website_auth_enabled,
    )
    return func.AsgiMiddleware(app)


@bp.route(
    route="api/{*route}",
    methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
    auth_level=func.AuthLevel.FUNCTION,
)
async def api(req: func.HttpRequest, context: func.Context) -> func.HttpResponse:
    """Hand the request to the HTTP app: its URL path (`/api/...`) picks the route."""
    path = urllib.parse.urlsplit(req.url).path
    try:
        urllib.parse.unquote_to_bytes(path).decode("utf-8")
    except UnicodeDecodeError:
        # AsgiMiddleware would raise on it before the app is reached, and the host answer 500.
        return _bad_path(path)
    return cast(func.HttpResponse, await asgi_app().handle_async(req, context))


def _bad_path(path: str) -> func.HttpResponse:
    return error(400, "bad_path", "the URL path is not valid UTF-8 once decoded", path=path)


def error(status: int, code: str, message: str, *, path: str) -> func.HttpResponse:
    """A failure at `path` answered before the app, in the app's one shape (`shared.http.errors`) and
    with the app's protective headers (`shared.http.headers`)."""
    answer = error_response(status, code, message)
    mimetype = "application/json"
    return func.HttpResponse(
        bytes(answer.body),
        status_code=status,
        mimetype=mimetype,
        headers=dict(protective_headers(path, mimetype)),
    )
