"""Log records that find their trace: the trace, span and session ids on every line.

`LOG_FORMAT=json` (the containers' setting) writes JSON lines; otherwise the plain line gains
` trace=<id> session=<id>` when it has them. Either way card numbers are masked whatever logged
them. The session a step works on is set with `working_on` (a context variable), so a line logged
deep in a library still names it.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import trace

from shared.values import mask_card_numbers

_session: contextvars.ContextVar[str | None] = contextvars.ContextVar("ccproc_session", default=None)


@contextmanager
def working_on(session_id: str) -> Iterator[None]:
    """Every record logged inside the block names `session_id`."""
    token = _session.set(session_id)
    try:
        yield
    finally:
        _session.reset(token)


def ids() -> dict[str, str]:
    """The trace, span and session ids of the work now under way (those there are)."""
    found: dict[str, str] = {}
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        found["trace_id"] = f"{context.trace_id:032x}"
        found["span_id"] = f"{context.span_id:016x}"
    session = _session.get()
    if session:
        found["session"] = session
    return found


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message (masked), the ids, any traceback."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **ids(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return mask_card_numbers(json.dumps(line, ensure_ascii=False))


class PlainFormatter(logging.Formatter):
    """The plain line, with ` trace=… session=…` when the record has them; card numbers masked."""

    def format(self, record: logging.LogRecord) -> str:
        found = ids()
        tail = "".join(f" {key}={found[key]}" for key in ("trace_id", "session") if key in found)
        return mask_card_numbers(super().format(record) + tail)


def formatter(log_format: str, plain: str) -> logging.Formatter:
    """The formatter `LOG_FORMAT` asks for ("json" or "plain", the `plain` pattern)."""
    return JsonFormatter() if log_format == "json" else PlainFormatter(plain)
