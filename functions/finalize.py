"""Queue trigger: a file of a session was extracted — finish the session if it is ready."""

from __future__ import annotations

import json
import logging

import azure.functions as func

from functions.runtime import runtime
from shared.errors import TransientError
from shared.steps import fail_session, finalize_session

bp = func.Blueprint()
log = logging.getLogger("ccproc")


@bp.function_name("finalize")
@bp.queue_trigger(arg_name="message", queue_name="%RESULTS_QUEUE%", connection="AzureWebJobsStorage")
def finalize(message: func.QueueMessage) -> None:
    """Run the finalize step; on the last try, mark the session failed with the reason, then let the
    host move the message to the poison queue."""
    app = runtime()
    content = message.get_body().decode("utf-8")
    try:
        finalize_session(app.storage, app.settings, content)
    except Exception as exc:
        last_try = (message.dequeue_count or 1) >= app.settings.max_dequeue_count
        if last_try and not isinstance(exc, TransientError):
            session_id = json.loads(content).get("session", "")
            fail_session(app.storage, app.settings, session_id, f"finishing the session failed: {exc}")
        log.exception("finalize failed (try %s)", message.dequeue_count)
        raise
