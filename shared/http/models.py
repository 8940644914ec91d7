"""What the API's routes take and answer, besides the session models of `shared.sessions.models`."""

from __future__ import annotations

from pydantic import BaseModel, Field

from shared.report.chase import ChaseEmployee, FollowUp
from shared.sessions.models import FileView, SessionView

MAX_ALIAS_NAME = 200


class NewSession(BaseModel):
    """What a new session may be given: the name people will know it by."""

    name: str | None = Field(default=None, max_length=1000)


class Rename(BaseModel):
    """A session's new name."""

    name: str = Field(max_length=1000)


class Limits(BaseModel):
    """How big a file may be, by the way it is sent."""

    max_upload_bytes: int = Field(description="largest file sent as the body of PUT .../files/{filename}")
    max_file_bytes: int = Field(description="largest file sent through an upload URL")
    upload_block_bytes: int = Field(description="block size for uploads through an upload URL")


class SessionList(BaseModel):
    """A page of the caller's sessions, newest first (without their files)."""

    sessions: list[SessionView]
    next: str | None = Field(
        default=None, description="ask for the next page with ?page=<this>; null on the last page"
    )


class UploadUrl(BaseModel):
    """Where and how to PUT one file too large for a request body."""

    file: FileView
    url: str
    method: str
    headers: dict[str, str]
    expires_in_minutes: int


class Deleted(BaseModel):
    """How many blobs a delete removed."""

    deleted: int


class Alias(BaseModel):
    """A name in the expense system that belongs to a statement cardholder."""

    # A length limit also makes pydantic check the text is Unicode it can encode (no lone surrogates).
    name: str = Field(max_length=MAX_ALIAS_NAME)
    cardholder: str = Field(max_length=MAX_ALIAS_NAME)


class Aliases(BaseModel):
    """The alias table, normalised name → cardholder."""

    aliases: dict[str, str]


class AliasDeleted(BaseModel):
    """The normalised name of the alias removed."""

    deleted: str


class Health(BaseModel):
    """The app answers."""

    status: str


class FollowUpList(BaseModel):
    """Each exception of a session with its follow-up, by transaction number."""

    follow_up: dict[str, FollowUp]


class ChaseList(BaseModel):
    """Per employee, what is still missing, with a message ready to send."""

    employees: list[ChaseEmployee]


# -- aliases with care (the aliases page, candidates and previews) --------------------------------
class AliasEdit(BaseModel):
    """An alias's new cardholder, and its new name when the name is corrected too."""

    cardholder: str = Field(max_length=MAX_ALIAS_NAME)
    name: str | None = Field(default=None, max_length=MAX_ALIAS_NAME)


class AliasEdited(BaseModel):
    """The alias as stored now, and as it was (to undo the edit)."""

    name: str
    cardholder: str
    previous: Alias
