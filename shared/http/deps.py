"""What every route takes from its request: the storage gateway, the settings and the caller's owner."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Annotated, Any, cast

from fastapi import Depends, Header, Request

from shared.http.auth import OWNER_STATE
from shared.sessions.store import Owner
from shared.settings import Settings
from shared.storage.gateway import Storage
from shared.values import mask_card_numbers


class Once:
    """The storage gateway, built by the factory on first use and then shared by every request."""

    def __init__(self, factory: Callable[[], Storage]) -> None:
        self._factory = factory
        self._lock = threading.Lock()
        self._storage: Storage | None = None

    def __call__(self) -> Storage:
        if self._storage is None:
            with self._lock:
                if self._storage is None:
                    self._storage = self._factory()
        return self._storage


def _storage(request: Request) -> Storage:
    # A plain `def`: FastAPI calls it in the thread pool, so a factory that connects may block.
    return cast(Once, request.app.state.storage)()


async def _settings(request: Request) -> Settings:
    return cast(Settings, request.app.state.settings)


async def _owner(request: Request) -> Owner:
    state = request.scope.get("state", {})
    if OWNER_STATE not in state:
        # ApiKeyMiddleware sets it on every request that gets this far; without it no route may guess.
        raise RuntimeError("the request reached a session route without a caller")
    return cast(Owner, state[OWNER_STATE])


StorageDep = Annotated[Storage, Depends(_storage)]
SettingsDep = Annotated[Settings, Depends(_settings)]
OwnerDep = Annotated[Owner, Depends(_owner)]
# The client's id of one upload, the same on every retry of it: uploads are idempotent with it.
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key")]


def masked_json(value: Any) -> Any:
    """`value` (JSON data) with every string passed through `mask_card_numbers`: names and messages
    copied from documents we do not control may hold a card number typed by mistake."""
    if isinstance(value, str):
        return mask_card_numbers(value)
    if isinstance(value, list):
        return [masked_json(item) for item in value]
    if isinstance(value, dict):
        return {key: masked_json(item) for key, item in value.items()}
    return value
