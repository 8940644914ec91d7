"""Name aliases: which normalised expense-system name belongs to which statement cardholder.

`JANEQDOE` (typed `Jane Q. Doe` in the expense system) → `JANEDOE` (the statement's name). The
store is an interface so the cloud pipeline can keep the table in storage; locally it is a JSON file.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from shared.errors import PermanentError
from shared.settings import Settings
from shared.storage.gateway import CREATE_ONLY, ConflictError, NotFoundError, Storage, back_off
from shared.values import holds_card_number

_DROP = re.compile(r"[\s.]+")


def _encodable(text: str) -> bool:
    """False for text UTF-8 cannot hold (a lone surrogate from a JSON `\\ud800` escape): stored, it
    would break every later read of the table."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def normalise_name(name: str) -> str:
    """Upper case, spaces and dots removed: `Jane Q. Doe` → `JANEQDOE`."""
    return _DROP.sub("", name).upper()


class AliasError(PermanentError):
    """An alias that cannot be stored as asked."""

    code = "invalid_alias"


class AliasStore(Protocol):
    """Where aliases persist between sessions."""

    def load(self) -> dict[str, str]:
        """Every alias, normalised name → cardholder."""
        ...

    def add(self, name: str, cardholder: str) -> tuple[str, str]:
        """Map `name` to `cardholder` (both normalised); returns the stored pair."""
        ...

    def remove(self, name: str) -> bool:
        """Forget `name`; False when it was not there."""
        ...


def _pair(name: str, cardholder: str) -> tuple[str, str]:
    key, value = normalise_name(name), normalise_name(cardholder)
    if not key or not value:
        raise AliasError("an alias needs a name and a cardholder")
    if holds_card_number(name) or holds_card_number(cardholder):
        # Never stored, so never listed: a card number typed into a name field by mistake.
        raise AliasError("a name cannot hold a card number")
    if not _encodable(key) or not _encodable(value):
        raise AliasError("an alias is text: a name with a broken character cannot be stored")
    if key == value:
        raise AliasError(f"{key} already is that cardholder's name; no alias needed")
    return key, value


class JsonFileAliasStore:
    """Aliases in a JSON file, replaced atomically on every change."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, str]:
        """Every alias; an absent file is an empty table."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except json.JSONDecodeError as exc:
            raise AliasError(f"the alias file {self.path} is not valid JSON: {exc.msg}") from exc
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise AliasError(f"the alias file {self.path} must map names to cardholder names")
        return {normalise_name(k): normalise_name(v) for k, v in data.items()}

    def add(self, name: str, cardholder: str) -> tuple[str, str]:
        """Store one alias (replacing an earlier target for the same name)."""
        key, value = _pair(name, cardholder)
        table = self.load()
        table[key] = value
        self._save(table)
        return key, value

    def remove(self, name: str) -> bool:
        """Remove one alias."""
        table = self.load()
        if table.pop(normalise_name(name), None) is None:
            return False
        self._save(table)
        return True

    def _save(self, table: dict[str, str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".aliases-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(dict(sorted(table.items())), handle, indent=2)
            handle.write("\n")
        Path(tmp).replace(self.path)


ALIASES_BLOB = "aliases/aliases.json"  # the local owner's table (and the one table before tenants)
_OWNER = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def aliases_blob(owner: str | None) -> str:
    """The blob of `owner`'s alias table; None, the local owner, keeps the original name."""
    if owner is None:
        return ALIASES_BLOB
    if not _OWNER.match(owner):
        raise ValueError(f"not an owner id: {owner[:80]!r}")
    return f"aliases/{owner}.json"


# -- aliases in storage --------------------------------------------------------------------
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
        key, value = _pair(name, cardholder)

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
