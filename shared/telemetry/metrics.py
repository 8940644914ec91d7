"""The metrics an operator alerts on, recorded by the steps (`shared.sessions`) where they happen.

| instrument | kind | labels |
|---|---|---|
| `ccproc.files.extracted` | counter | `kind` (cardholder_activity, receipt_images) |
| `ccproc.files.failed` | counter | `reason` (the error code: encrypted_pdf, file_too_large, …) |
| `ccproc.extraction.duration` | histogram, s | `kind` |
| `ccproc.extraction.pages_per_second` | histogram | `kind` |
| `ccproc.finalize.duration` | histogram, s | `outcome` (completed, failed) |
| `ccproc.sessions.finished` | counter | `outcome` (completed, failed) |
| `ccproc.results_queue.oldest_age` | gauge, s | — (by the process that watches the queue) |
| `ccproc.uploads.oldest_age` | gauge, s | — (by the process that watches the uploads) |
| `ccproc.storage.used` | gauge, By | `container` (set by the sweep) |

Labels are codes and kinds only: never a session, a file, a name or a tenant (unbounded, and a
name a person typed is no label). KEDA scales on the queue and the uploads; the two ages say
whether it keeps up.
"""

from __future__ import annotations

from opentelemetry import metrics

meter = metrics.get_meter("ccproc")

files_extracted = meter.create_counter("ccproc.files.extracted", unit="{file}", description="files read")
files_failed = meter.create_counter(
    "ccproc.files.failed", unit="{file}", description="files that could not be read, by reason"
)
extraction_duration = meter.create_histogram(
    "ccproc.extraction.duration", unit="s", description="one file's extraction, download to results"
)
pages_per_second = meter.create_histogram(
    "ccproc.extraction.pages_per_second", unit="{page}/s", description="pages read per second of extraction"
)
finalize_duration = meter.create_histogram(
    "ccproc.finalize.duration", unit="s", description="matching and every report of one session"
)
sessions_finished = meter.create_counter(
    "ccproc.sessions.finished", unit="{session}", description="sessions completed or failed"
)
results_queue_oldest_age = meter.create_gauge(
    "ccproc.results_queue.oldest_age", unit="s", description="age of the oldest results-queue message"
)
uploads_oldest_age = meter.create_gauge(
    "ccproc.uploads.oldest_age", unit="s", description="age of the oldest upload waiting for extraction"
)
storage_used = meter.create_gauge("ccproc.storage.used", unit="By", description="bytes held, by container")
