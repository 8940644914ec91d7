"""Name aliases: which normalised expense-system name belongs to which statement cardholder.

`JANEQDOE` (typed `Jane Q. Doe` in the expense system) → `JANEDOE` (the statement's name). The
store is an interface: locally it is a JSON file (here), in the cloud pipeline one blob per tenant
(`shared.sessions.aliases`).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Protocol

from shared.errors import AliasError, UnknownAliasError
from shared.values import holds_card_number, normalise_name


def _encodable(text: str) -> bool:
    """False for text UTF-8 cannot hold (a lone surrogate from a JSON `\\ud800` escape): stored, it
    would break every later read of the table."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


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

    def edit(self, name: str, cardholder: str, new_name: str | None = None) -> tuple[str, str, str]:
        """Point the alias `name` at `cardholder` (and rename it to `new_name`, if given); the stored
        name and cardholder and the cardholder it had. UnknownAliasError when there is none."""
        ...


def pair(name: str, cardholder: str) -> tuple[str, str]:
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


def edit_table(
    table: dict[str, str], name: str, cardholder: str, new_name: str | None = None
) -> tuple[str, str, str]:
    """Change one alias of `table` in place (see `AliasStore.edit`); a rename onto another alias's
    name is refused, never a silent overwrite."""
    old = normalise_name(name)
    if old not in table:
        raise UnknownAliasError(f"no alias {name[:60]!r}")
    key, value = pair(new_name if new_name is not None else name, cardholder)
    if key != old and key in table:
        raise AliasError(f"{key} already is an alias (of {table[key]}): edit or delete that one")
    previous = table.pop(old)
    table[key] = value
    return key, value, previous


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
        key, value = pair(name, cardholder)
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

    def edit(self, name: str, cardholder: str, new_name: str | None = None) -> tuple[str, str, str]:
        """Change one alias (see `AliasStore.edit`)."""
        table = self.load()
        changed = edit_table(table, name, cardholder, new_name)
        self._save(table)
        return changed

    def _save(self, table: dict[str, str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".aliases-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(dict(sorted(table.items())), handle, indent=2)
            handle.write("\n")
        Path(tmp).replace(self.path)
