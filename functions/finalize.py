"""Queue trigger: a file of a session was extracted — finish the session if it is ready."""

from __future__ import annotations

import logging

import azure.functions as func

from functions.runtime import runtime
from shared.sessions.finalize import finalize_failed, finalize_session
from shared.sessions.models import now
from shared.telemetry import metrics

bp = func.Blueprint()
log = logging.getLogger("ccproc")


@bp.function_name("finalize")
@bp.queue_trigger(arg_name="message", queue_name="%RESULTS_QUEUE%", connection="AzureWebJobsStorage")
def finalize(message: func.QueueMessage) -> None:
    """Run the finalize step; on the last try, mark the session failed with the reason, then let the
    host move the message to the poison queue."""
    app = runtime()
    content = message.get_body().decode("utf-8")
    if message.insertion_time is not None:
        metrics.results_queue_oldest_age.set((now() - message.insertion_time).total_seconds())
    try:
        finalize_session(app.storage, app.settings, content)
    except Exception as exc:
        # The same decision as the Kubernetes worker's (`shared.sessions.finalize.finalize_failed`); the host
        # itself moves the message to the poison queue after its last try.
        finalize_failed(app.storage, app.settings, content, exc, dequeue_count=message.dequeue_count or 1)
        log.exception("finalize failed (try %s)", message.dequeue_count)
        raise
