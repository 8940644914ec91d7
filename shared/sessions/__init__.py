"""Sessions: the pipeline's use cases, each a function of (storage, settings, input).

- `layout`: every blob and queue name, built and parsed, and every queue message, in one place.
- `models`, `store`: a session's manifest and file records, and reading and writing them.
- `requests`: what the API asks of a session (create, upload, process, view, reports, delete).
- `steps`: the pipeline's steps — extract one upload, finalize a session, sweep.
- `receipt_store`: receipt PDFs cut during extraction, kept end to end, served one by one or zipped.
- `review`, `aliases`: the review of a completed session and each tenant's alias table.

A use case never knows which runtime called it. May import everything in `shared` below it
(extraction, matching, report, storage); never `shared.http`, `shared.workers`, `shared.cli`.
"""
