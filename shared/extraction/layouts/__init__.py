"""Statement layouts as validated declarative data.

A layout is a JSON file in this folder (or any folder given to `load_layouts`): how to recognise
the issuer's statement, its card block, its transaction row, its totals lines and the lines to skip.
Patterns may use the shared pieces below as `{name}`; each layout is compiled and checked when it
loads, so a layout that lacks a required group fails then, not while a statement is parsed.
"""

from __future__ import annotations

import json
import re
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from shared.errors import LayoutError

# Regex pieces shared by every layout, so a fix to "what money looks like" is made once.
PIECES: dict[str, str] = {
    "date": r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}",
    "money": r"\(?-?\$?-?\d[\d,]*(?:\.\d+)?\)?",
    "number": r"-?\d[\d,]*(?:\.\d+)?",
    "masked_card": r"(?P<card_masked>[0-9X*•]{6,15}(?P<card_last4>\d{4}))",
}

# A row must say when, which row, to whom and how much — or the layout is useless.
ROW_REQUIRED = ({"transaction_date"}, {"transaction_number"}, {"net"}, {"merchant", "merchant_city"})
CARD_GROUPS = {"card_last4", "cardholder", "employee_id"}
TOTALS_REQUIRED = {"net"}
CARD_TOTAL_REQUIRED = {"total"}


def expand(pattern: str) -> str:
    """Replace `{piece}` references with the shared pieces; other braces are regex syntax."""
    return re.sub(r"\{(\w+)\}", lambda m: PIECES.get(m.group(1), m.group(0)), pattern)


def _compile(pattern: str, what: str) -> re.Pattern[str]:
    try:
        return re.compile(expand(pattern))
    except re.error as exc:
        raise ValueError(f"{what}: invalid regular expression: {exc}") from exc


class LayoutPatterns(BaseModel):
    """The regular expressions of one layout, matched against whole text rows."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    card: list[str] = Field(
        min_length=1, description="rows of the card block; groups among " + str(CARD_GROUPS)
    )
    transaction: str
    transaction_totals: str | None = None
    card_totals: str | None = None
    period: str | None = None
    skip: list[str] = []

    @field_validator("card")
    @classmethod
    def _card_groups(cls, patterns: list[str]) -> list[str]:
        groups: set[str] = set()
        for pattern in patterns:
            groups |= set(_compile(pattern, "card").groupindex)
        if "card_last4" not in groups:
            raise ValueError("the card block patterns need a card_last4 group (use {masked_card})")
        return patterns

    @field_validator("transaction")
    @classmethod
    def _row_groups(cls, pattern: str) -> str:
        groups = set(_compile(pattern, "transaction").groupindex)
        for alternatives in ROW_REQUIRED:
            if not alternatives & groups:
                raise ValueError(
                    f"the transaction pattern needs a group named {' or '.join(sorted(alternatives))}"
                )
        return pattern

    @model_validator(mode="after")
    def _other_groups(self) -> LayoutPatterns:
        if (
            self.transaction_totals
            and not set(_compile(self.transaction_totals, "transaction_totals").groupindex) >= TOTALS_REQUIRED
        ):
            raise ValueError("the transaction_totals pattern needs a net group")
        if (
            self.card_totals
            and not set(_compile(self.card_totals, "card_totals").groupindex) >= CARD_TOTAL_REQUIRED
        ):
            raise ValueError("the card_totals pattern needs a total group")
        if self.period:
            _compile(self.period, "period")
        for pattern in self.skip:
            _compile(pattern, "skip")
        return self


class Column(BaseModel):
    """One column of the statement's table as its header line prints it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str = Field(min_length=1, description="the column's name exactly as printed in the header line")
    field: str | None = Field(
        default=None,
        description="the row field printed in this column, where its text can touch the next column's "
        "(merchant, city, merchant_group, product): cells are then cut where the header puts the column",
    )
    align: Literal["left", "right"] = Field(default="left", description="how the cells sit under the label")
    max_chars: int | None = Field(
        default=None, ge=1, description="fixed width in characters, if the issuer has one"
    )


# Fields whose column positions decide where one regex group's text is cut in two.
POSITIONED_FIELDS = {"merchant", "city", "merchant_group", "product"}


class StatementLayout(BaseModel):
    """One issuer's statement layout."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str = Field(description="the document's name, as people call it")
    detect: list[str] = Field(min_length=1, description="every one must match the first page's text")
    date_formats: list[str] = Field(min_length=1)
    columns: list[Column] = Field(
        default=[],
        description="the column header line, left to right: where each column is printed is read from "
        "it on every page, so cells are found by position whoever produced the PDF",
    )
    doubled_product: bool = Field(default=False, description="product text printed with each character twice")
    patterns: LayoutPatterns

    @field_validator("columns")
    @classmethod
    def _columns(cls, columns: list[Column]) -> list[Column]:
        fields = [c.field for c in columns if c.field]
        unknown = set(fields) - POSITIONED_FIELDS
        if unknown:
            known = sorted(POSITIONED_FIELDS)
            raise ValueError(f"columns name unknown fields {sorted(unknown)}; known: {known}")
        if len(fields) != len(set(fields)):
            raise ValueError("a field is given to two columns")
        return columns

    def column(self, field: str) -> Column | None:
        """The column that prints `field`, if the layout names one."""
        return next((c for c in self.columns if c.field == field), None)

    @property
    def merchant_max_length(self) -> int | None:
        """The merchant column's width in characters, where the issuer fixes it."""
        column = self.column("merchant")
        return column.max_chars if column else None

    @field_validator("detect")
    @classmethod
    def _detect_compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            _compile(pattern, "detect")
        return patterns

    @cached_property
    def compiled(self) -> CompiledLayout:
        """The patterns compiled once."""
        return CompiledLayout(self)


class CompiledLayout:
    """A layout's patterns, compiled."""

    def __init__(self, layout: StatementLayout) -> None:
        p = layout.patterns
        self.detect = [re.compile(expand(d), re.MULTILINE) for d in layout.detect]
        self.card = [re.compile(expand(c)) for c in p.card]
        self.transaction = re.compile(expand(p.transaction))
        self.transaction_totals = re.compile(expand(p.transaction_totals)) if p.transaction_totals else None
        self.card_totals = re.compile(expand(p.card_totals)) if p.card_totals else None
        self.period = re.compile(expand(p.period)) if p.period else None
        self.skip = [re.compile(expand(s)) for s in p.skip]


BUILTIN_DIR = Path(__file__).parent


def load_layout(path: Path) -> StatementLayout:
    """Read and validate one layout file."""
    try:
        return StatementLayout.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (ValidationError, json.JSONDecodeError) as exc:
        first = str(exc).splitlines()
        raise LayoutError(f"layout {path.name} is invalid: {' '.join(first[:3])}") from exc


def load_layouts(*folders: Path) -> tuple[StatementLayout, ...]:
    """The built-in layouts, then those in `folders`; names must be unique."""
    layouts: dict[str, StatementLayout] = {}
    for folder in (BUILTIN_DIR, *folders):
        if not folder.is_dir():
            raise LayoutError(f"layouts folder {folder} does not exist (or is not a folder)")
        for path in sorted(folder.glob("*.json")):
            layout = load_layout(path)
            if layout.name in layouts:
                raise LayoutError(f"layout {layout.name} is defined twice ({path})")
            layouts[layout.name] = layout
    return tuple(layouts.values())
