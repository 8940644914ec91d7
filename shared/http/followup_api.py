"""The follow-up routes: the state and note of each exception, the chase list per employee (JSON and
CSV), and the exceptions workbook as it stands now. Each passes the caller's owner to its use case of
`shared.sessions.followup`: another owner's session is a 404, as on every session route."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import Response, StreamingResponse

from shared.http.deps import OwnerDep, SettingsDep, StorageDep
from shared.http.models import ChaseList, FollowUpList
from shared.report import REPORTS
from shared.report.chase import FollowUp
from shared.sessions.followup import (
    FollowUpChange,
    chase,
    chase_file,
    current_workbook,
    follow_up,
    set_follow_up,
)

router = APIRouter(prefix="/api")
TransactionNumber = Annotated[str, Path(max_length=64, description="the statement's Transaction #")]


@router.get("/sessions/{session_id}/follow-up", tags=["follow-up"])
def follow_ups(session_id: str, storage: StorageDep, settings: SettingsDep, owner: OwnerDep) -> FollowUpList:
    """Each exception of a completed session with its follow-up (`open` where nothing was recorded)."""
    return FollowUpList(follow_up=follow_up(storage, settings, session_id, owner=owner))


@router.put("/sessions/{session_id}/follow-up/{transaction_number}", tags=["follow-up"])
def record_follow_up(
    session_id: str,
    transaction_number: TransactionNumber,
    body: FollowUpChange,
    *,
    storage: StorageDep,
    settings: SettingsDep,
    owner: OwnerDep,
) -> FollowUp:
    """Record an exception's state (`open`, `receipt requested`, `waived`, `resolved outside`) and note,
    with who and when; kept across reconciling again. 404 for a transaction the session does not have,
    409 for one that is Complete."""
    return set_follow_up(storage, settings, session_id, transaction_number, body, owner=owner)


@router.get("/sessions/{session_id}/chase", tags=["follow-up"])
def chase_list(session_id: str, storage: StorageDep, settings: SettingsDep, owner: OwnerDep) -> ChaseList:
    """Per employee, what is still missing (waived and resolved-outside exceptions left out), with a
    message ready to send (subject and body)."""
    return ChaseList(employees=chase(storage, settings, session_id, owner=owner))


@router.get(
    "/sessions/{session_id}/chase.csv",
    response_class=Response,
    tags=["follow-up"],
    responses={200: {"content": {"text/csv": {}}}},
)
def chase_download(session_id: str, storage: StorageDep, settings: SettingsDep, owner: OwnerDep) -> Response:
    """The chase list as a CSV file, one row per charge to chase."""
    return Response(
        chase_file(storage, settings, session_id, owner=owner),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="chase-list.csv"'},
    )


@router.get(
    "/sessions/{session_id}/workbook",
    response_class=StreamingResponse,
    tags=["follow-up"],
    responses={200: {"content": {REPORTS["exceptions"].media_type: {}}}},
)
def workbook(
    session_id: str, storage: StorageDep, settings: SettingsDep, owner: OwnerDep
) -> StreamingResponse:
    """The exceptions workbook written now, with every exception's follow-up as it stands."""
    file_name, media_type, chunks = current_workbook(storage, settings, session_id, owner=owner)
    return StreamingResponse(
        chunks, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{file_name}"'}
    )
