"""What a session is, as stored: a manifest, one record per file, and the view the API returns."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from shared.models import DocumentKind


def now() -> dt.datetime:
    """The current time, in UTC."""
    return dt.datetime.now(dt.UTC)


class SessionStatus(StrEnum):
    """A session's life: files come in while open; processing until every report is written."""

    OPEN = "open"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"


class FileStatus(StrEnum):
    """One uploaded file's life."""

    AWAITING_UPLOAD = "awaiting_upload"  # an upload URL was handed out; the PUT has not arrived
    UPLOADED = "uploaded"  # waiting in the uploads container for extraction
    EXTRACTED = "extracted"
    FAILED = "failed"

    @property
    def terminal(self) -> bool:
        """True once nothing more will happen to the file."""
        return self in (FileStatus.EXTRACTED, FileStatus.FAILED)


class _Stored(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Tally(_Stored):
    """How many transactions, and their dollars (net amounts summed)."""

    count: int = 0
    amount: Decimal = Decimal("0")


class Summary(_Stored):
    """Counts of a completed session, for lists and progress."""

    transactions: int = 0
    expenses: int = 0
    statuses: dict[str, int] = {}
    unmatched_expenses: int = 0
    unresolved_names: int = 0
    checks: int = 0
    # "name: reason" of each file that could not be read; the session completed without it.
    files_not_read: list[str] = []
    # What a person should know before trusting the figures (no receipts report was uploaded …).
    warnings: list[str] = []
    # After a completed session was finalized again: each kind of change (`shared.sessions.changes`)
    # with its count and dollars; the transactions themselves at GET /api/sessions/{id}/changes.
    changes: dict[str, Tally] | None = None


class StepTime(_Stored):
    """When one of finalize's steps (reconciliation, reports) ran."""

    name: str
    started: dt.datetime
    ended: dt.datetime


class SessionManifest(_Stored):
    """The session blob: its state, written only under an ETag condition."""

    id: str
    # Who created it: a stable, non-reversible id of the caller's key or principal
    # (`shared.http.auth.owner_of`), never the key itself; None is the local owner (no keys), which is
    # also what sessions stored before owners existed load as. Never shown by the API.
    owner: str | None = None
    name: str | None = None
    status: SessionStatus = SessionStatus.OPEN
    created: dt.datetime
    updated: dt.datetime
    process_requested: dt.datetime | None = None
    completed: dt.datetime | None = None
    runs: int = 0
    error: str | None = None
    summary: Summary | None = None
    reports: list[str] = []
    # What a person should know before (only one kind of file is in) or after processing (the
    # completed session had no receipts report): sentences to show as they are.
    warnings: list[str] = []
    receipt_pdfs: list[str] = []
    # The `traceparent` of the request that opened the session: its later work continues that trace.
    trace: str | None = None
    steps: list[StepTime] = []  # finalize's steps of the last run (`shared.sessions.timeline`)


class SessionRef(_Stored):
    """Another session, by id and name: the one a file is already in."""

    id: str
    name: str | None = None


class FileRecord(_Stored):
    """One file of a session, its own blob so concurrent extractions never overwrite each other."""

    id: str
    name: str
    status: FileStatus
    size: int | None = None
    uploaded: dt.datetime | None = None  # its upload began (a direct upload) or its URL was asked for
    stored: dt.datetime | None = None  # its blob was complete in storage
    started: dt.datetime | None = None  # extraction began
    extracted: dt.datetime | None = None
    finished: dt.datetime | None = None  # extraction ended, read or failed
    kind: DocumentKind | None = None
    pages: int | None = None
    pages_read: int | None = None  # while it is read: how far (of `pages`)
    transactions: int | None = None
    expenses: int | None = None
    checks: int = 0
    warnings: int = 0
    error: str | None = None
    error_code: str | None = None
    # SHA-256 of the file's bytes (hex), computed as they streamed in (a direct upload) or when the
    # extract step read them (an upload URL): what finds the same file in another session.
    sha256: str | None = None
    # Another session of the same tenant already holding this very file (an upload URL's file, found
    # only once it was read), so the page can offer it; None when there is none.
    duplicate_of: SessionRef | None = None


class FileView(FileRecord):
    """A file as the API shows it: its record, and what went wrong said for a clerk."""

    problem: str | None = Field(
        default=None,
        description="what went wrong, as a sentence a clerk can act on (`error` keeps the technical detail)",
    )


class SessionView(_Stored):
    """A session as the API shows it."""

    id: str
    name: str | None = None
    status: SessionStatus
    created: dt.datetime
    updated: dt.datetime
    completed: dt.datetime | None = None
    progress: float
    error: str | None = None
    problem: str | None = Field(
        default=None,
        description="why the session stopped, as a sentence a clerk can act on (`error` keeps the detail)",
    )
    files: list[FileView] = []
    summary: Summary | None = None
    reports: list[str] = []
    # What a person should know before (only one kind of file is in) or after processing (the
    # completed session had no receipts report): sentences to show as they are.
    warnings: list[str] = []
