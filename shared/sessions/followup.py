"""Use cases of following up a completed session's exceptions: recording each one's state and note,
reading them back, the chase list per employee, and the exceptions workbook as it stands now.

The follow-up of a session is one blob beside its manifest, `sessions/<session>/follow-up.json`:
transaction number → `FollowUp`, changed under its ETag (a lost race re-reads, so two clerks never
lose each other's changes). Finalize never touches it: reconciling again keeps every state, and a
transaction that is an exception again finds its own. Deleting the session deletes it (it is under
the session's prefix). Like `shared.sessions.review`, each use case takes the caller's `owner`:
another owner's session is an unknown one.

The workbook stored with the reports is written when the session completes; states change after.
`current_workbook` writes it again from the stored reconciliation and the follow-up as it is at the
moment it is asked for, as the receipts ZIP is made when it is downloaded: nothing to keep in step,
no race between clerks and a reconciliation rewriting a stored copy.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, Field

from shared.errors import ConflictError, NotFoundError, UnknownTransactionError, WrongStateError
from shared.models import ReconciledTransaction, Reconciliation, Text
from shared.report import REPORTS
from shared.report.chase import (
    MAX_NOTE,
    ChaseEmployee,
    FollowUp,
    FollowUpState,
    chase_csv,
    chase_list,
    is_exception,
)
from shared.report.receipt_pdfs import planned_names
from shared.report.workbook import write_workbook
from shared.sessions.layout import session_prefix
from shared.sessions.models import now
from shared.sessions.requests import reconciliation
from shared.sessions.store import ANYONE, OwnerCheck, check_session_id, load_manifest, scratch
from shared.settings import Settings
from shared.storage.gateway import CREATE_ONLY, Storage, back_off

FOLLOW_UP = "follow-up.json"
LOCAL_OWNER = "local"  # who, for the one owner of a keyless API (`ccproc dev`)
_RETRIES = 30


def follow_up_blob(session_id: str) -> str:
    """The session's follow-up: every exception's state and note, by transaction number."""
    return f"{session_prefix(check_session_id(session_id))}{FOLLOW_UP}"


class FollowUpChange(BaseModel):
    """What a clerk records about one exception."""

    state: FollowUpState
    note: Text = Field(default="", max_length=MAX_NOTE)


class FollowUpTable(BaseModel):
    """A session's follow-up as stored: transaction number → its follow-up."""

    follow_up: dict[str, FollowUp] = Field(default_factory=dict)


def _read(storage: Storage, settings: Settings, session_id: str) -> tuple[FollowUpTable, str | None]:
    try:
        data, etag = storage.get_bytes(settings.sessions_container, follow_up_blob(session_id))
    except NotFoundError:
        return FollowUpTable(), None
    return FollowUpTable.model_validate_json(data), etag


def stored_follow_up(storage: Storage, settings: Settings, session_id: str) -> dict[str, FollowUp]:
    """Every follow-up recorded for the session, also of transactions no longer exceptions."""
    return _read(storage, settings, session_id)[0].follow_up


def _current(reconciled: Reconciliation, recorded: dict[str, FollowUp]) -> dict[str, FollowUp]:
    """Each exception of the reconciliation → its follow-up (`open` where none was recorded)."""
    return {
        rt.transaction.transaction_number: recorded.get(rt.transaction.transaction_number) or FollowUp()
        for rt in reconciled.transactions
        if is_exception(rt)
    }


def follow_up(
    storage: Storage, settings: Settings, session_id: str, *, owner: OwnerCheck = ANYONE
) -> dict[str, FollowUp]:
    """The completed session's exceptions, each with its follow-up, by transaction number."""
    reconciled = reconciliation(storage, settings, session_id, owner=owner)
    return _current(reconciled, stored_follow_up(storage, settings, session_id))


def _exception(reconciled: Reconciliation, transaction_number: str) -> ReconciledTransaction:
    found = [rt for rt in reconciled.transactions if rt.transaction.transaction_number == transaction_number]
    if not found:
        raise UnknownTransactionError(f"no transaction {transaction_number[:40]!r} in this session")
    if not any(is_exception(rt) for rt in found):
        raise WrongStateError(
            f"transaction {transaction_number} is Complete: only an exception is followed up"
        )
    return found[0]


def set_follow_up(
    storage: Storage,
    settings: Settings,
    session_id: str,
    transaction_number: str,
    change: FollowUpChange,
    *,
    owner: OwnerCheck = ANYONE,
) -> FollowUp:
    """Record the state and note of one exception of the completed session, with who and when."""
    _exception(reconciliation(storage, settings, session_id, owner=owner), transaction_number)
    who = LOCAL_OWNER if owner is None or owner is ANYONE else owner
    recorded = FollowUp(state=change.state, note=change.note.strip(), by=who, at=now())
    for attempt in range(_RETRIES):
        table, etag = _read(storage, settings, session_id)
        table.follow_up[transaction_number] = recorded
        try:
            storage.put_bytes(
                settings.sessions_container,
                follow_up_blob(session_id),
                table.model_dump_json().encode(),
                content_type="application/json",
                if_match=etag or CREATE_ONLY,
            )
        except ConflictError:
            back_off(attempt)
            continue
        return recorded
    raise ConflictError(
        f"the follow-up of session {session_id} is being changed by too many writers; try again"
    )


def chase(
    storage: Storage, settings: Settings, session_id: str, *, owner: OwnerCheck = ANYONE
) -> list[ChaseEmployee]:
    """Per employee, the exceptions still to chase (not waived, not resolved outside), with a message."""
    reconciled = reconciliation(storage, settings, session_id, owner=owner)
    return chase_list(reconciled, stored_follow_up(storage, settings, session_id))


def chase_file(storage: Storage, settings: Settings, session_id: str, *, owner: OwnerCheck = ANYONE) -> bytes:
    """The chase list as a CSV file."""
    return chase_csv(chase(storage, settings, session_id, owner=owner))


def current_workbook(
    storage: Storage, settings: Settings, session_id: str, *, owner: OwnerCheck = ANYONE
) -> tuple[str, str, Iterator[bytes]]:
    """(file name, media type, content) of the exceptions workbook written now, with every exception's
    follow-up as it stands; receipt PDFs named as the stored reports name them."""
    manifest, _ = load_manifest(storage, settings, session_id, owner=owner)
    reconciled = reconciliation(storage, settings, session_id, owner=owner)
    cut = set(manifest.receipt_pdfs)
    names = {i: name for i, name in planned_names(reconciled).items() if name in cut}
    spec = REPORTS["exceptions"]
    with scratch(settings) as folder:
        path = write_workbook(
            reconciled, folder / spec.file_name, names, stored_follow_up(storage, settings, session_id)
        )
        data = path.read_bytes()
    return spec.file_name, spec.media_type, iter([data])
