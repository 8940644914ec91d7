"""The alias routes: a tenant's table of names typed in the expense system and the cardholders they
are; the sessions each alias reached; and, for a session, the ranked candidates of its unresolved
names and a dry run of one alias before it is saved."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from shared.errors import UnknownAliasError
from shared.http.deps import OwnerDep, SettingsDep, StorageDep, masked_json
from shared.http.models import Alias, AliasDeleted, AliasEdit, AliasEdited, Aliases
from shared.sessions.alias_care import (
    AliasCandidates,
    AliasPreview,
    AliasUsage,
    alias_candidates,
    alias_usage,
    preview_alias,
)
from shared.sessions.aliases import BlobAliasStore
from shared.values import normalise_name

router = APIRouter(prefix="/api")


def _answer(model: BaseModel) -> JSONResponse:
    # Names and messages are copied from documents we do not control: a card number typed into a
    # name is masked, as in the session's review.
    return JSONResponse(masked_json(model.model_dump(mode="json")))


@router.get("/aliases", tags=["aliases"])
def aliases(storage: StorageDep, settings: SettingsDep, owner: OwnerDep) -> Aliases:
    """The caller's alias table (each tenant has its own)."""
    return Aliases(aliases=BlobAliasStore(storage, settings, owner).load())


@router.get("/aliases/usage", response_model=AliasUsage, tags=["aliases"])
def usage(storage: StorageDep, settings: SettingsDep, owner: OwnerDep) -> JSONResponse:
    """Each alias with the sessions it reached (expenses matched through it, or its name still
    unresolved there), from the caller's newest completed sessions."""
    return _answer(alias_usage(storage, settings, owner))


@router.post("/aliases", status_code=201, tags=["aliases"])
def add_alias(alias: Alias, storage: StorageDep, settings: SettingsDep, owner: OwnerDep) -> Alias:
    """Map a name typed in the expense system to a statement cardholder (both stored normalised)."""
    name, cardholder = BlobAliasStore(storage, settings, owner).add(alias.name, alias.cardholder)
    return Alias(name=name, cardholder=cardholder)


@router.put("/aliases/{name}", tags=["aliases"])
def edit_alias(
    name: str, edit: AliasEdit, storage: StorageDep, settings: SettingsDep, owner: OwnerDep
) -> AliasEdited:
    """Point an alias at another cardholder, or correct its name; 404 when there is none by that
    name, 400 when the new name is already another alias."""
    store = BlobAliasStore(storage, settings, owner)
    key, cardholder, previous = store.edit(name, edit.cardholder, edit.name)
    return AliasEdited(
        name=key, cardholder=cardholder, previous=Alias(name=normalise_name(name), cardholder=previous)
    )


@router.delete("/aliases/{name}", tags=["aliases"])
def remove_alias(name: str, storage: StorageDep, settings: SettingsDep, owner: OwnerDep) -> AliasDeleted:
    """Forget one alias; 404 when there is none by that name."""
    if not BlobAliasStore(storage, settings, owner).remove(name):
        raise UnknownAliasError(f"no alias {name[:60]!r}")
    return AliasDeleted(deleted=normalise_name(name))


@router.get("/sessions/{session_id}/alias-candidates", response_model=AliasCandidates, tags=["aliases"])
def candidates(session_id: str, storage: StorageDep, settings: SettingsDep, owner: OwnerDep) -> JSONResponse:
    """The completed session's unresolved names, each with the aliases that could resolve it, best
    first: how alike the names are, and how many of the name's unmatched expenses the cardholder's
    unmatched transactions could take by amount and date."""
    return _answer(alias_candidates(storage, settings, session_id, owner=owner))


@router.post("/sessions/{session_id}/alias-preview", response_model=AliasPreview, tags=["aliases"])
def preview(
    session_id: str, alias: Alias, storage: StorageDep, settings: SettingsDep, owner: OwnerDep
) -> JSONResponse:
    """What saving the alias would change in the completed session — expenses it would match and
    their amount, statuses it would change, or that it would match nothing — found by matching the
    session's stored extractions with the alias added. Nothing is saved."""
    return _answer(preview_alias(storage, settings, session_id, alias.name, alias.cardholder, owner=owner))
