"""Where a session spent its time, from what its manifest and file records keep (no exporter needed):
`GET /api/sessions/{id}/timeline`, the page's timeline, and `ccproc dev --trace` in the terminal.

Entries, in the order they started: the session opened; each file's upload (from its record to its
blob stored) and extraction (started to read, read or failed); processing asked for; reconciliation
and reports (finalize's steps). A step still under way has no end yet.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from shared.sessions.models import FileRecord, SessionManifest
from shared.sessions.store import OwnerCheck, load_manifest, load_records
from shared.settings import Settings
from shared.storage.gateway import Storage


class TimelineEntry(BaseModel):
    """One step: what, of which file (if one), when it started and ended, and how long it took."""

    step: str
    file: str | None = None
    file_id: str | None = None
    started: dt.datetime
    ended: dt.datetime | None = None
    seconds: float | None = None
    outcome: str | None = None


class Timeline(BaseModel):
    """A session's steps in the order they started, and the whole span from open to finish."""

    session: str
    status: str
    entries: list[TimelineEntry]
    seconds: float | None = None


def _entry(
    step: str,
    started: dt.datetime,
    ended: dt.datetime | None,
    *,
    record: FileRecord | None = None,
    outcome: str | None = None,
) -> TimelineEntry:
    seconds = round((ended - started).total_seconds(), 3) if ended is not None else None
    return TimelineEntry(
        step=step,
        file=record.name if record else None,
        file_id=record.id if record else None,
        started=started,
        ended=ended,
        seconds=seconds,
        outcome=outcome,
    )


def timeline_of(manifest: SessionManifest, records: list[FileRecord]) -> Timeline:
    """The timeline of a session as stored."""
    entries = [_entry("session opened", manifest.created, manifest.created)]
    for record in records:
        if record.uploaded is not None:
            entries.append(_entry("upload", record.uploaded, record.stored or record.started, record=record))
        if record.started is not None:
            ended = record.extracted or (record.finished if record.status.terminal else None)
            outcome = record.error_code if record.error_code else record.status.value
            entries.append(_entry("extraction", record.started, ended, record=record, outcome=outcome))
    if manifest.process_requested is not None:
        entries.append(_entry("processing asked for", manifest.process_requested, manifest.process_requested))
    entries.extend(_entry(step.name, step.started, step.ended) for step in manifest.steps)
    entries.sort(key=lambda e: (e.started, e.ended or e.started))
    end = manifest.completed or (manifest.updated if manifest.status.value == "failed" else None)
    seconds = round((end - manifest.created).total_seconds(), 3) if end is not None else None
    return Timeline(session=manifest.id, status=manifest.status.value, entries=entries, seconds=seconds)


def session_timeline(storage: Storage, settings: Settings, session_id: str, *, owner: OwnerCheck) -> Timeline:
    """The timeline of `owner`'s session (another owner's is unknown, as everywhere)."""
    manifest, _ = load_manifest(storage, settings, session_id, owner=owner)
    return timeline_of(manifest, load_records(storage, settings, session_id))


def render(timeline: Timeline) -> str:
    """The timeline as lines for a terminal: offset from the start, duration, step, file."""
    if not timeline.entries:
        return ""
    start = timeline.entries[0].started
    lines = [f"session {timeline.session}: {timeline.status}"
             + (f" in {timeline.seconds:.1f} s" if timeline.seconds is not None else "")]  # fmt: skip
    for entry in timeline.entries:
        offset = (entry.started - start).total_seconds()
        took = f"{entry.seconds:7.2f} s" if entry.seconds is not None else "   …     "
        what = entry.step + (f"  {entry.file}" if entry.file else "")
        outcome = f"  ({entry.outcome})" if entry.outcome and entry.outcome not in ("extracted",) else ""
        lines.append(f"  +{offset:7.2f} s  {took}  {what}{outcome}")
    return "\n".join(lines)
