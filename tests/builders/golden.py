"""The golden cases: which builder call makes each input, what it covers, and a check that it does.

``python -m tests.builders golden`` rewrites ``tests/golden/`` from this table, README included,
and refuses to write a case whose input no longer shows what the case is named for.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pypdf import PdfReader

from tests.builders.drawn import base_fonts, producer, text_objects
from tests.builders.expenses import ExpenseMix
from tests.builders.model import Mix
from tests.builders.receipts import build_receipts
from tests.builders.statement import build_statement

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "golden"
Truth = dict[str, Any]


@dataclass(frozen=True)
class Case:
    """One golden case."""

    layout: str
    name: str
    builder: Callable[..., Truth]
    options: dict[str, Any]
    covers: str
    check: Callable[[Truth, Path], bool]

    @property
    def call(self) -> str:
        """The builder call as Python source, options at non-default values only."""
        args = ", ".join(f"{k}={_source(v)}" for k, v in self.options.items())
        return f"{self.builder.__name__}(path, {args})"

    def build(self, folder: Path) -> Truth:
        """Write ``input.pdf`` and ``expected.json`` into ``folder`` and check the coverage."""
        folder.mkdir(parents=True, exist_ok=True)
        pdf = folder / "input.pdf"
        truth = self.builder(pdf, truth_path=folder / "expected.json", **self.options)
        if not self.check(truth, pdf):
            raise RuntimeError(f"golden case {self.layout}/{self.name} lost what it covers")
        return truth


def _source(value: object) -> str:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        default = type(value)()
        changed = [
            f"{f.name}={getattr(value, f.name)!r}"
            for f in dataclasses.fields(value)
            if getattr(value, f.name) != getattr(default, f.name)
        ]
        return f"{type(value).__name__}({', '.join(changed)})"
    return repr(value)


def _rows(truth: Truth) -> list[dict[str, Any]]:
    return list(truth["transactions"])


def _totals_open_a_page(_: Truth, pdf: Path) -> bool:
    """Some page's first line under the column header is a ``Transaction Totals`` line."""
    for page in PdfReader(pdf).pages:
        lines = page.extract_text().splitlines()
        if "Net Cost" in lines and lines[lines.index("Net Cost") + 1] == "Transaction Totals:":
            return True
    return False


def _glued(truth: Truth, _: Path) -> bool:
    return sum(len(r["merchant"]) == 18 for r in _rows(truth)) >= 3


def _credits_and_blanks(truth: Truth, _: Path) -> bool:
    rows = _rows(truth)
    return (
        any(r["net"].startswith("-") and r["level"] == "L" for r in rows)
        and any(r["net"].startswith("-") and r["level"] == "N" for r in rows)
        and any(r["product"] is None for r in rows)
    )


def _basic(truth: Truth, _: Path) -> bool:
    rows = _rows(truth)
    return {r["level"] for r in rows} >= {"N", "F"} and any(r["discount"] != "0.00" for r in rows)


def _codings(truth: Truth, _: Path) -> bool:
    codings = [e["coding"] for e in truth["receipts"]]
    kinds = {c["type"] for c in codings}
    partial = any(
        (c["type"] == "job" and None in (c["job"], c["phase"], c["cost_type"]))
        or (c["type"] == "gl" and c["gl_account"] is None)
        for c in codings
    )
    return kinds == {"job", "gl", None} and partial


def _line_objects(_: Truth, pdf: Path) -> bool:
    """Each row is one text object whose cells are placed by ``Td`` moves."""
    rows = [o for o in text_objects(pdf, 1) if len(o.strings) >= 12]
    return bool(rows) and all(o.moves.count("Td") == len(o.strings) - 1 for o in rows)


def _one_word_each(_: Truth, pdf: Path) -> bool:
    """Below the report header (page 2 has none) every text object draws one word."""
    objects = text_objects(pdf, 1)
    return all(len(o.strings) == 1 and " " not in o.strings[0] for o in objects)


def _glued_in_courier(truth: Truth, pdf: Path) -> bool:
    """Page 2 is all Courier and an 18-character merchant runs straight into its city."""
    fonts = base_fonts(pdf, 1)
    objects = [o for page in range(truth["pages"]) for o in text_objects(pdf, page)]
    glued = {f"{r['merchant']}{r['city']}, {r['state']}" for r in _rows(truth) if len(r["merchant"]) == 18}
    return all(fonts[f].startswith("Courier") for o in text_objects(pdf, 1) for f in o.fonts) and any(
        g in s for o in objects for s in o.strings for g in glued
    )


def _fpdf2_glued(truth: Truth, pdf: Path) -> bool:
    return "fpdf2" in producer(pdf) and _glued_in_courier(truth, pdf)


def _form(style: str) -> Callable[[Truth, Path], bool]:
    """The first expense page is drawn as the form in ``style``; a receipt is missing somewhere."""

    def check(truth: Truth, pdf: Path) -> bool:
        objects = text_objects(pdf, 0)
        strings = [s for o in objects for s in o.strings]
        drawn = {
            "cells": all(len(o.strings) == 1 for o in objects) and "Amount :" in strings,
            "line": any(len(o.strings) == 3 and o.moves.count("Td") == 3 for o in objects),
            "words": all(" " not in s for s in strings),
            "padded": any(s.startswith("Amount :   ") for s in strings)
            and set(base_fonts(pdf, 0).values()) >= {"Courier"},
        }[style]
        return drawn and any(not e["attachments"] for e in truth["receipts"])

    return check


FORM_MIX = ExpenseMix(missing_attachment_rate=0.3, multi_page_rate=0.2, coding_weights=(0.3, 0.3, 0.2, 0.2))
S, R = "cardholder_activity", "receipt_images"
CASES: tuple[Case, ...] = (
    Case(
        S,
        "basic",
        build_statement,
        {"cards": 2, "per_card": 5, "seed": 102},
        "two cards on a page each; fuel and non-fuel rows, a fuel discount",
        _basic,
    ),
    Case(
        S,
        "page_break_totals",
        build_statement,
        {"cards": 2, "per_card": [12, 11], "seed": 102, "rows_per_page": 6, "page_break_totals": 1.0},
        "a row ends a page and its `Transaction Totals` line opens the next page, after the "
        "repeated card block and column header",
        _totals_open_a_page,
    ),
    Case(
        S,
        "credits_and_no_product",
        build_statement,
        {"cards": 2, "per_card": 8, "seed": 103, "mix": Mix(credit_rate=0.35, no_product_rate=0.4)},
        "fuel credits (`L`, negative quantity, `-$`), non-fuel credits, rows without a product",
        _credits_and_blanks,
    ),
    Case(
        S,
        "glued_merchant_city",
        build_statement,
        {"cards": 1, "per_card": 8, "seed": 104, "mix": Mix(long_merchant_rate=0.8)},
        "18-character merchant names touching or overlapping the city column",
        _glued,
    ),
    Case(
        S,
        "row_as_line",
        build_statement,
        {"cards": 2, "per_card": 5, "seed": 105, "row_style": "joined", "mix": Mix(credit_rate=0.2)},
        "each row, totals line and card total drawn as one string with single spaces",
        lambda t, _: any(r["product"] is None for r in _rows(t)),
    ),
    Case(
        S,
        "bad_card_total",
        build_statement,
        {"cards": 3, "per_card": 4, "seed": 106, "bad_card_total": True},
        "one card's printed `Totals For Card Nbr` differs from the sum of its net amounts "
        "(listed in `expected_checks`)",
        lambda t, _: len(t["expected_checks"]) == 1,
    ),
    Case(
        S,
        "multi_page_card",
        build_statement,
        {"cards": 2, "per_card": [30, 3], "seed": 107, "page_break_totals": 0.0},
        "one card's transactions run over four pages, each repeating the card block",
        lambda t, _: t["pages"] >= 5,
    ),
    Case(
        S,
        "style_line",
        build_statement,
        {"cards": 2, "per_card": 6, "seed": 108, "row_style": "line", "mix": Mix(long_merchant_rate=0.5)},
        "every line below the report header one text object, its cells placed by `Td` moves",
        _line_objects,
    ),
    Case(
        S,
        "style_words",
        build_statement,
        {"cards": 2, "per_card": 6, "seed": 109, "row_style": "words", "mix": Mix(long_merchant_rate=0.5)},
        "every word its own text object at the x where it falls in its cell",
        _one_word_each,
    ),
    Case(
        S,
        "style_padded",
        build_statement,
        {"cards": 2, "per_card": 6, "seed": 110, "row_style": "padded", "mix": Mix(long_merchant_rate=0.6)},
        "Courier, each line one string padded to fixed columns; 18-character merchants glued to the city",
        _glued_in_courier,
    ),
    Case(
        S,
        "fpdf2_padded",
        build_statement,
        {
            "cards": 2,
            "per_card": 6,
            "seed": 111,
            "row_style": "padded",
            "mix": Mix(long_merchant_rate=0.6, credit_rate=0.2),
            "producer": "fpdf2",
        },
        "the padded Courier lines written by fpdf2 (another producer, its own Producer entry)",
        _fpdf2_glued,
    ),
    Case(
        R,
        "job_gl_missing_coding",
        build_receipts,
        {
            "expenses": 8,
            "seed": 202,
            "mix": ExpenseMix(
                missing_attachment_rate=0.0, multi_page_rate=0.0, coding_weights=(0.3, 0.3, 0.2, 0.2)
            ),
        },
        "Job coding, GL coding, partial coding (empty phase / cost type / account) and none",
        _codings,
    ),
    Case(
        R,
        "missing_attachment",
        build_receipts,
        {"expenses": 5, "seed": 202, "mix": ExpenseMix(missing_attachment_rate=0.5)},
        "expenses whose `Attachment Name:` has no file (missing receipt, no image)",
        lambda t, _: any(not e["attachments"] for e in t["receipts"]),
    ),
    Case(
        R,
        "multi_page_expense",
        build_receipts,
        {"expenses": 4, "seed": 203, "mix": ExpenseMix(multi_page_rate=0.75)},
        "expenses continuing on pages that hold only images; several attachments",
        lambda t, _: any(len(e["pages"]) > 1 for e in t["receipts"]),
    ),
    Case(
        R,
        "negative_refund",
        build_receipts,
        {"expenses": 5, "seed": 204, "mix": ExpenseMix(refund_rate=0.5)},
        "refund expenses with a negative amount",
        lambda t, _: any(e["amount"].startswith("-") for e in t["receipts"]),
    ),
    *(
        Case(
            R,
            f"form_{style}",
            build_receipts,
            {"expenses": 6, "seed": seed, "mix": FORM_MIX, "style": style},
            f"the two-dimensional form (labels and values in columns, title and coding type before "
            f"their labels) drawn {how}; a missing receipt",
            _form(style),
        )
        for style, seed, how in (
            ("cells", 205, "with each cell its own text object"),
            ("line", 206, "with each line one text object, cells placed by `Td` moves"),
            ("words", 207, "with each word its own text object"),
            ("padded", 208, "in Courier, each line one string, values after runs of spaces"),
        )
    ),
)


def readme() -> str:
    """The golden folder's README, generated from :data:`CASES`."""
    lines = [
        "# Golden files",
        "",
        "Each case is `<layout>/<case>/input.pdf` with `expected.json`, the ground truth the",
        "builder returned when it drew the PDF. Regenerate everything (this file included) with",
        "`python -m tests.builders golden`; the output is deterministic for a given reportlab,",
        "fpdf2 and Pillow version. `path` below is the case's `input.pdf`; `Mix` comes from",
        "`tests.builders.model`, `ExpenseMix` from `tests.builders.expenses`.",
        "",
        "| case | how it was made | what it covers |",
        "|---|---|---|",
    ]
    lines += [f"| `{c.layout}/{c.name}` | `{c.call}` | {c.covers} |" for c in CASES]
    return "\n".join(lines) + "\n"


def regenerate(root: Path = GOLDEN_DIR) -> list[Path]:
    """Rewrite every golden case and the README under ``root``; return the case folders."""
    folders = []
    for case in CASES:
        folder = root / case.layout / case.name
        case.build(folder)
        folders.append(folder)
    (root / "README.md").write_text(readme(), encoding="utf-8")
    return folders
