"""The storage layout: every blob and queue name the product uses is built and parsed here, and every
queue message encoded and decoded here; nothing else spells a path.

Containers and queues are settings (`UPLOADS_CONTAINER`, `SESSIONS_CONTAINER`, `RESULTS_QUEUE`).
Names carry a session id (32 hex digits), a file id (16 hex digits) and a sanitised file name, never
card data:

    uploads/<session>/<file>/<name>            an uploaded PDF waiting for extraction, nothing else
    sessions/<session>/manifest.json           the session's state; changed only under its ETag
    sessions/<session>/files/<file>.json       one record per file (no two writers share a blob)
    sessions/<session>/results/<file>.json     the file's extraction (a `Document`)
    sessions/<session>/sources/<file>.pdf      a receipts report kept for cutting receipt pages
    sessions/<session>/cuts/<file>-<try>.pdfs  its receipt PDFs, cut while it was read, end to end
                                               (a name per try: two tries never mix blocks)
    sessions/<session>/cuts/<file>.json        which bundle, and where each expense's PDF is in it
    sessions/<session>/failed/<file>/<name>    an upload that could not be read, moved aside
    sessions/<session>/reports/<report file>   every report (`shared.report.REPORTS`)
    sessions/<session>/reports/result.json     the reconciliation the reports were written from
    sessions/<session>/reports/receipts-index.json   each matched transaction's receipt PDF
    sessions/<session>/reports/receipts-extra.pdfs   PDFs finalize had to cut itself (rarely any)
    sessions/<session>/reports/changes.json    what the last reconciling changed against the one before
    sessions/<session>/follow-up.json          each exception's follow-up, by transaction number (ETag)
    sessions/aliases/<owner>.json              a tenant's alias table (`aliases.json`: keyless)
    sessions/index/<owner>/<newest>-<session>  an empty blob per session of a tenant (`_`: keyless),
                                               named to list newest first: the session list and
                                               the session quota read only the caller's own
    sessions/index/built                       written once every session made before the index
                                               has its entry
    sessions/claims/<session>/<file>           its lease claims one upload for one extract worker

    queue <RESULTS_QUEUE>                      {"session": "<session>", "file": "<file>" | null,
                                               "traceparent": "<w3c trace context>" (if traced)}:
                                               look at this session (after this file was done)
    queue <RESULTS_QUEUE>-poison               a message after its last try (the Functions host's name)
    queue <UPLOADS_POISON_QUEUE>               the Functions host's word that the blob trigger failed
                                               on every try: {"FunctionId", "BlobType",
                                               "ContainerName", "BlobName", "ETag"}
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from dataclasses import dataclass

from shared.errors import BadMessageError, PermanentError

SESSION_ID = re.compile(r"^[0-9a-f]{32}$")
FILE_ID = re.compile(r"^[0-9a-f]{16}$")
_OWNER = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MANIFEST = "manifest.json"
RECONCILIATION = "result.json"


# -- uploads container ---------------------------------------------------------------------
def upload_blob(session_id: str, file_id: str, name: str) -> str:
    """An uploaded PDF waiting for extraction."""
    return f"{session_id}/{file_id}/{name}"


def parse_upload_blob(blob_name: str) -> tuple[str, str, str]:
    """(session, file, name) from an uploads blob name; PermanentError for anything else."""
    parts = blob_name.split("/")
    if len(parts) != 3 or not SESSION_ID.match(parts[0]) or not FILE_ID.match(parts[1]):
        raise PermanentError(f"not an upload of a session: {blob_name!r}")
    return parts[0], parts[1], parts[2]


def session_prefix(session_id: str) -> str:
    """Everything of one session, in either container."""
    return f"{session_id}/"


# -- sessions container --------------------------------------------------------------------
def manifest_blob(session_id: str) -> str:
    """The session's state."""
    return f"{session_id}/{MANIFEST}"


def is_manifest_blob(blob_name: str) -> bool:
    """True for a session's manifest among the sessions container's blobs."""
    session, _, rest = blob_name.partition("/")
    return rest == MANIFEST and bool(SESSION_ID.match(session))


def records_prefix(session_id: str) -> str:
    """The session's file records."""
    return f"{session_id}/files/"


def record_blob(session_id: str, file_id: str) -> str:
    """One file's record."""
    return f"{records_prefix(session_id)}{file_id}.json"


def parse_record_blob(blob_name: str) -> tuple[str, str] | None:
    """(session, file) of a file record's blob name; None for any other blob."""
    parts = blob_name.split("/")
    if len(parts) != 3 or parts[1] != "files" or not parts[2].endswith(".json"):
        return None
    session_id, file_id = parts[0], parts[2].removesuffix(".json")
    return (session_id, file_id) if SESSION_ID.match(session_id) and FILE_ID.match(file_id) else None


def extraction_blob(session_id: str, file_id: str) -> str:
    """What extraction found in one file (a `Document`)."""
    return f"{session_id}/results/{file_id}.json"


def source_blob(session_id: str, file_id: str) -> str:
    """A receipts report kept for cutting what was not cut ahead."""
    return f"{session_id}/sources/{file_id}.pdf"


def new_cuts_blob(session_id: str, file_id: str) -> str:
    """A bundle of a receipts report's PDFs: a name of its own for each try, so that two tries of
    one upload (a repeated event) never stage blocks into the same blob."""
    return f"{session_id}/cuts/{file_id}-{secrets.token_hex(6)}.pdfs"


def cuts_index_blob(session_id: str, file_id: str) -> str:
    """Which bundle holds a receipts report's PDFs, and where each one is in it."""
    return f"{session_id}/cuts/{file_id}.json"


def failed_blob(session_id: str, file_id: str, name: str) -> str:
    """An upload that could not be read, kept aside (nothing is lost)."""
    return f"{session_id}/failed/{file_id}/{name}"


def report_blob(session_id: str, file_name: str) -> str:
    """A report, or a file under the reports (`receipts/<name>.pdf`)."""
    return f"{session_id}/reports/{file_name}"


def reconciliation_blob(session_id: str) -> str:
    """The reconciliation the session's reports were written from."""
    return report_blob(session_id, RECONCILIATION)


def receipts_index_blob(session_id: str) -> str:
    """Each matched transaction's receipt PDF: its name, bundle and bytes."""
    return report_blob(session_id, "receipts-index.json")


def receipts_extra_blob(session_id: str) -> str:
    """Receipt PDFs finalize had to cut itself."""
    return report_blob(session_id, "receipts-extra.pdfs")


ALIASES_BLOB = "aliases/aliases.json"  # the local owner's table (and the one table before tenants)


def aliases_blob(owner: str | None) -> str:
    """The blob of `owner`'s alias table; None, the local owner, keeps the original name."""
    if owner is None:
        return ALIASES_BLOB
    if not _OWNER.match(owner):
        raise ValueError(f"not an owner id: {owner[:80]!r}")
    return f"aliases/{owner}.json"


LOCAL_OWNER_KEY = "_"  # the keyless owner's index folder: an owner id is a digest, never this
_NEWEST_FIRST = 10**13 - 1  # milliseconds since 1970 as 13 digits, subtracted: newest sorts first


def index_prefix(owner: str | None) -> str:
    """The folder of `owner`'s session index (None: the local owner of a keyless API)."""
    if owner is not None and not _OWNER.match(owner):
        raise ValueError(f"not an owner id: {owner[:80]!r}")
    return f"index/{owner or LOCAL_OWNER_KEY}/"


# The stamp's digits written as letters (0 as a, 9 as j): they sort alike, and a run of 13 digits
# in a blob name would look like a card number to anyone scanning storage for one.
_AS_LETTERS = str.maketrans("0123456789", "abcdefghij")
_STAMP = re.compile(r"^[a-j]{13}$")


def index_blob(owner: str | None, created: dt.datetime, session_id: str) -> str:
    """The index entry of `owner`'s session made at `created`: names sort newest first."""
    millis = round(created.timestamp() * 1000)
    stamp = f"{_NEWEST_FIRST - millis:013d}".translate(_AS_LETTERS)
    return f"{index_prefix(owner)}{stamp}-{session_id}"


INDEX_BUILT = "index/built"


def parse_index_blob(blob_name: str) -> str | None:
    """The session an index entry names; None for any other blob."""
    parts = blob_name.split("/")
    if len(parts) != 3 or parts[0] != "index":
        return None
    stamp, _, session_id = parts[2].partition("-")
    return session_id if _STAMP.match(stamp) and SESSION_ID.match(session_id) else None


def claim_blob(session_id: str, file_id: str) -> str:
    """The blob whose lease claims one upload for one extract worker."""
    return f"claims/{session_id}/{file_id}"


# -- queues --------------------------------------------------------------------------------
def poison_queue(queue: str) -> str:
    """Where a message goes after its last try: the name the Functions host gives it."""
    return f"{queue}-poison"


@dataclass(frozen=True, slots=True)
class ResultsMessage:
    """A results-queue message: finalize should look at this session — a file of it is done
    (`file_id`, which tells an operator or a test which file's message it is), or processing was
    asked for or a file taken back (no file)."""

    session_id: str
    file_id: str | None = None
    traceparent: str | None = None


def results_message(session_id: str, file_id: str | None = None, traceparent: str | None = None) -> str:
    """The results-queue message for `session_id` (after its file `file_id`, if any), carrying the
    trace context of the work that sent it."""
    message: dict[str, str | None] = {"session": session_id, "file": file_id}
    if traceparent:
        message["traceparent"] = traceparent
    return json.dumps(message)


def read_results_message(text: str | bytes) -> ResultsMessage:
    """A results-queue message decoded; BadMessageError for one that names no session."""
    try:
        data = json.loads(text)
        session_id, file_id = data["session"], data.get("file")
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise BadMessageError("a results message names no session") from exc
    if not isinstance(session_id, str) or not SESSION_ID.match(session_id):
        raise BadMessageError("a results message names no session")
    traceparent = data.get("traceparent")
    return ResultsMessage(
        session_id,
        file_id if isinstance(file_id, str) and FILE_ID.match(file_id) else None,
        traceparent if isinstance(traceparent, str) and len(traceparent) < 100 else None,
    )


@dataclass(frozen=True, slots=True)
class PoisonedBlob:
    """The Functions host's poison message for a blob its blob trigger failed on every try."""

    container: str
    blob_name: str
    function_id: str | None = None


def read_blob_poison_message(text: str | bytes) -> PoisonedBlob:
    """The host's poison-blob message decoded (its JSON properties as the host writes them);
    BadMessageError for anything else."""
    try:
        data = json.loads(text)
        container, blob_name = data["ContainerName"], data["BlobName"]
    except (ValueError, TypeError, KeyError) as exc:
        raise BadMessageError("a poison-blob message names no container and blob") from exc
    if not isinstance(container, str) or not isinstance(blob_name, str):
        raise BadMessageError("a poison-blob message names no container and blob")
    function_id = data.get("FunctionId")
    return PoisonedBlob(container, blob_name, function_id if isinstance(function_id, str) else None)
