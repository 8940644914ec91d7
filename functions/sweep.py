"""Timer trigger: retention, orphaned uploads, and the storage-used log line."""

from __future__ import annotations

import azure.functions as func

from functions.runtime import runtime
from shared.sessions.sweep import sweep as sweep_step

bp = func.Blueprint()


@bp.function_name("sweep")
@bp.timer_trigger(arg_name="timer", schedule="%SWEEP_SCHEDULE%", run_on_startup=False)
def sweep(timer: func.TimerRequest) -> None:
    """Run the sweep step."""
    app = runtime()
    sweep_step(app.storage, app.settings)
