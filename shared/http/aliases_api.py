"""The alias routes: a tenant's table of names typed in the expense system and the cardholders they are."""

from __future__ import annotations

from fastapi import APIRouter

from shared.errors import UnknownAliasError
from shared.http.deps import OwnerDep, SettingsDep, StorageDep
from shared.http.models import Alias, AliasDeleted, Aliases
from shared.sessions.aliases import BlobAliasStore
from shared.values import normalise_name

router = APIRouter(prefix="/api")


@router.get("/aliases", tags=["aliases"])
def aliases(storage: StorageDep, settings: SettingsDep, owner: OwnerDep) -> Aliases:
    """The caller's alias table (each tenant has its own)."""
    return Aliases(aliases=BlobAliasStore(storage, settings, owner).load())


@router.post("/aliases", status_code=201, tags=["aliases"])
def add_alias(alias: Alias, storage: StorageDep, settings: SettingsDep, owner: OwnerDep) -> Alias:
    """Map a name typed in the expense system to a statement cardholder (both stored normalised)."""
    name, cardholder = BlobAliasStore(storage, settings, owner).add(alias.name, alias.cardholder)
    return Alias(name=name, cardholder=cardholder)


@router.delete("/aliases/{name}", tags=["aliases"])
def remove_alias(name: str, storage: StorageDep, settings: SettingsDep, owner: OwnerDep) -> AliasDeleted:
    """Forget one alias; 404 when there is none by that name."""
    if not BlobAliasStore(storage, settings, owner).remove(name):
        raise UnknownAliasError(f"no alias {name[:60]!r}")
    return AliasDeleted(deleted=normalise_name(name))
