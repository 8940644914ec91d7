"""Each tenant's alias table in storage: one blob per owner, changed under its ETag."""

from __future__ import annotations

import json
from collections.abc import Callable

from shared.errors import ConflictError, NotFoundError
from shared.matching.aliases import edit_table, pair
from shared.sessions.layout import aliases_blob
from shared.settings import Settings
from shared.storage.gateway import CREATE_ONLY, Storage, back_off
from shared.values import normalise_name


class BlobAliasStore:
    """One owner's alias table as one blob in the sessions container, changed under its ETag.

    Each tenant has its own table: one organisation's aliases never change another's matching.
    `owner` is the session manifest's `owner` (None: the local owner of a keyless API).
    """

    def __init__(self, storage: Storage, settings: Settings, owner: str | None = None) -> None:
        self.storage, self.container = storage, settings.sessions_container
        self.blob = aliases_blob(owner)

    def _read(self) -> tuple[dict[str, str], str | None]:
        try:
            data, etag = self.storage.get_bytes(self.container, self.blob)
        except NotFoundError:
            return {}, None
        table = json.loads(data)
        return {normalise_name(k): normalise_name(v) for k, v in table.items()}, etag

    def load(self) -> dict[str, str]:
        return self._read()[0]

    def _change(self, edit: Callable[[dict[str, str]], bool]) -> bool:
        for attempt in range(30):
            table, etag = self._read()
            changed = edit(table)
            if not changed:
                return False
            body = json.dumps(dict(sorted(table.items())), indent=2).encode()
            try:
                self.storage.put_bytes(
                    self.container,
                    self.blob,
                    body,
                    content_type="application/json",
                    if_match=etag or CREATE_ONLY,
                )
            except ConflictError:
                back_off(attempt)
                continue
            return True
        raise ConflictError("the alias table is being changed by too many writers; try again")

    def add(self, name: str, cardholder: str) -> tuple[str, str]:
        key, value = pair(name, cardholder)

        def edit(table: dict[str, str]) -> bool:
            table[key] = value
            return True

        self._change(edit)
        return key, value

    def remove(self, name: str) -> bool:
        key = normalise_name(name)

        def edit(table: dict[str, str]) -> bool:
            return table.pop(key, None) is not None

        return self._change(edit)

    def edit(self, name: str, cardholder: str, new_name: str | None = None) -> tuple[str, str, str]:
        """Point the alias `name` at `cardholder` (renamed to `new_name`, if given) in one change of
        the table; the stored pair and the cardholder it had. UnknownAliasError when there is none."""
        changed: list[tuple[str, str, str]] = []

        def edit(table: dict[str, str]) -> bool:
            changed[:] = [edit_table(table, name, cardholder, new_name)]
            return True

        self._change(edit)
        return changed[0]
