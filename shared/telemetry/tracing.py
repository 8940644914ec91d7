"""One trace per session: spans of the product's steps, and the context that crosses storage.

A session's trace starts with the request that opens it; its `traceparent` is kept in the manifest.
Every later piece of work for the session continues it: a request on the session (upload, upload
URL, process) from the manifest's; the extract step from the upload blob's `traceparent` metadata
(which the upload wrote, or the client sent with the upload URL's headers); finalize from the
results message's `traceparent`. So the blob trigger and the queue trigger, in other processes,
add to the trace of the request that made the work.

Spans carry ids, kinds, counts, bytes and outcomes only (`attributes`): never a card number, a
file's text, a file or session name a person typed, or a key. With no exporter configured
(`shared.telemetry.setup`) every call here is OpenTelemetry's no-op.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Link, Span, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from shared.errors import CcprocError
from shared.values import mask_card_numbers

TRACEPARENT = "traceparent"
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")
_PROPAGATOR = TraceContextTextMapPropagator()
# Attribute values the product sets: numbers, booleans, and these strings only (ids, kinds, codes).
_SAFE_TEXT = re.compile(r"^[A-Za-z0-9_.:/ -]{0,80}$")

tracer = trace.get_tracer("ccproc")


def current_traceparent() -> str | None:
    """The `traceparent` of the current span, to carry with work handed to another process."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    value = carrier.get(TRACEPARENT)
    return value if value and _TRACEPARENT.match(value) else None


def _context_of(traceparent: str | None) -> otel_context.Context | None:
    if not traceparent or not _TRACEPARENT.match(traceparent):
        return None
    found = _PROPAGATOR.extract({TRACEPARENT: traceparent})
    return found if trace.get_current_span(found).get_span_context().is_valid else None


@contextmanager
def step(
    name: str,
    *,
    parent: str | None = None,
    fallback: str | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> Iterator[Span]:
    """A span for one step of the pipeline: a child of the `traceparent` `parent` (or `fallback`,
    when `parent` is missing or not one), else of the current span. The span in context before it,
    if any and of another trace (an HTTP request's), is linked. A product error ends the span with
    its code; anything else propagates as an error too."""
    context = _context_of(parent) or _context_of(fallback)
    links = []
    outer = trace.get_current_span().get_span_context()
    inner = trace.get_current_span(context).get_span_context() if context is not None else None
    if inner is not None and outer.is_valid and outer.trace_id != inner.trace_id:
        links.append(Link(outer))
    with tracer.start_as_current_span(
        name,
        context=context,
        links=links,
        attributes=attributes_of(attributes or {}),
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            yield span
        except CcprocError as exc:
            span.set_attribute("ccproc.outcome", exc.code)
            span.set_status(Status(StatusCode.ERROR, exc.code))
            raise
        except BaseException as exc:
            span.set_attribute("ccproc.outcome", type(exc).__name__)
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise


def record(span: Span, **values: Any) -> None:
    """Set attributes on `span` (see `attributes_of`)."""
    span.set_attributes(attributes_of({f"ccproc.{k}": v for k, v in values.items()}))


def attributes_of(values: Mapping[str, Any]) -> dict[str, Any]:
    """The attributes of `values` a span may carry: numbers and booleans, and strings that are ids,
    kinds or codes (`_SAFE_TEXT`, and nothing `mask_card_numbers` would change); anything else is
    left out rather than risk card data in a trace."""
    kept: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        number = isinstance(value, bool | int | float)
        if number or (
            isinstance(value, str) and _SAFE_TEXT.match(value) and mask_card_numbers(value) == value
        ):
            kept[key] = value
    return kept


def event(span: Span, name: str, **values: Any) -> None:
    """An event on `span` with safe attributes."""
    span.add_event(name, attributes_of({f"ccproc.{k}": v for k, v in values.items()}))
