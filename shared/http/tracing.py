"""A span per HTTP request, named by its route's template ("PUT /api/sessions/{session_id}/files/
{filename}"), carrying the method, the route and the status only: never the path itself, whose file
and session names a person typed (and might hold a card number), nor a query or a header.

FastAPI's own telemetry is off (`shared.http.app`): it records the request path as typed. The
product's steps (`shared.telemetry.tracing.step`) run inside this span, or in the session's trace
with a link to it.
"""

from __future__ import annotations

from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.telemetry.tracing import tracer


class RequestSpans:
    """ASGI middleware: one server span per HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = str(scope.get("method", "GET"))
        with tracer.start_as_current_span(
            f"HTTP {method}", kind=SpanKind.SERVER, attributes={"http.request.method": method}
        ) as span:
            status = 500

            async def sent(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                await send(message)

            try:
                await self.app(scope, receive, sent)
            finally:
                route = getattr(scope.get("route"), "path", None)
                if isinstance(route, str):
                    span.update_name(f"{method} {route}")
                    span.set_attribute("http.route", route)
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR))
