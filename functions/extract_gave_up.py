"""Queue trigger on the blob trigger's poison queue: the host failed on an upload every try — fail
the file with the reason (`shared.sessions.extract.give_up_poisoned_upload`, what the extract worker
does after its last try), so its session ends instead of waiting for the orphan sweep."""

from __future__ import annotations

import azure.functions as func

from functions.runtime import runtime
from shared.sessions.extract import give_up_poisoned_upload

bp = func.Blueprint()


@bp.function_name("extract_gave_up")
@bp.queue_trigger(arg_name="message", queue_name="%UPLOADS_POISON_QUEUE%", connection="AzureWebJobsStorage")
def extract_gave_up(message: func.QueueMessage) -> None:
    """Hand the host's poison-blob message to the use case."""
    app = runtime()
    give_up_poisoned_upload(app.storage, app.settings, message.get_body())
