"""Producer benchmark: `python -m bench.producers [--size small|month] [--styles ...]`.

The same month pair drawn the ways other producers draw it (format docs, "Producers differ"):
``cells``, ``line`` (one text object per line, ``Td`` moves; ``line-tm`` the same with ``Tm``),
``words`` and ``padded`` (Courier, one padded string per line), by reportlab / our streamed writer
and, for cells, words and padded, by fpdf2. Each pair is made once into
``.bench/producers/<style>-<producer>-<size>/`` and reused; then both PDFs are extracted and
reconciled as in tests/test_reconcile_month.py. One table: per style and producer, the accuracy of
every truth field of statement rows (``st.``) and expenses (``ex.``), match and status accuracy,
and PASS when every field >= 0.995 and match and status >= 0.99. Exit code 1 on any MISS.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shared.extraction.extract import extract_document
from shared.matching.match import reconcile
from shared.models import Document
from shared.settings import Settings
from tests.builders.month import Size, build_month
from tests.builders.receipts import ReceiptStyle
from tests.builders.statement import LineMoves, Producer, RowStyle
from tests.scoring import field_accuracy

CACHE = Path(".bench/producers")
# Each benchmark style as the statement style, receipts style and line moves that draw it.
DRAWN: dict[str, tuple[RowStyle, ReceiptStyle, LineMoves]] = {
    "cells": ("cells", "cells", "Td"),
    "line": ("line", "line", "Td"),
    "line-tm": ("line", "line", "Tm"),
    "words": ("words", "words", "Td"),
    "padded": ("padded", "padded", "Td"),
}
STYLES = tuple(DRAWN)
FPDF2_STYLES = ("cells", "words", "padded")
SEEDS: dict[Size, int] = {"small": 11, "month": 2025}
FIELD_TARGET, MATCH_TARGET = 0.995, 0.99


@dataclass
class Outcome:
    """What one style/producer scored."""

    name: str
    fields: dict[str, float] = field(default_factory=dict)
    match: float = 0.0
    status: float = 0.0
    warnings: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def passed(self, names: Sequence[str]) -> bool:
        """Every field at target, match and status at target, nothing failed."""
        fields_ok = all(self.fields.get(n, 0.0) >= FIELD_TARGET for n in names)
        return fields_ok and self.match >= MATCH_TARGET and self.status >= MATCH_TARGET and not self.errors


def generate(style: str, producer: Producer, size: Size) -> tuple[Path, dict[str, Any]]:
    """The month pair for one style and producer, made once."""
    folder = CACHE / f"{style}-{producer}-{size}"
    truth_file = folder / "truth.json"
    if not truth_file.exists():
        started = time.perf_counter()
        statement_style, receipts_style, moves = DRAWN[style]
        build_month(
            folder,
            seed=SEEDS[size],
            size=size,
            statement_style=statement_style,
            receipts_style=receipts_style,
            producer=producer,
            line_moves=moves,
        )
        print(f"generated {folder} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return folder, json.loads(truth_file.read_text(encoding="utf-8"))


def _extract(pdf: Path, outcome: Outcome) -> Document | None:
    try:
        document = extract_document(pdf)
    except Exception as exc:  # noqa: BLE001 - a PDF that fails to extract scores 0, with its message
        outcome.errors.append(f"{pdf.name}: {type(exc).__name__}: {exc}")
        return None
    outcome.warnings[pdf.stem] = len(document.warnings)
    return document


def run(style: str, producer: Producer, size: Size) -> Outcome:
    """Build (or reuse), extract, reconcile and score one style/producer."""
    folder, truth = generate(style, producer, size)
    outcome = Outcome(f"{style}/{producer}")
    started = time.perf_counter()
    statement = _extract(folder / "statement.pdf", outcome)
    receipts = _extract(folder / "receipts.pdf", outcome)
    outcome.seconds = time.perf_counter() - started
    rows = statement.model_dump(mode="json")["transactions"] if statement else []
    expenses = receipts.model_dump(mode="json")["receipts"] if receipts else []
    st = field_accuracy(truth["statement"]["transactions"], rows, "transaction_number")
    ex = field_accuracy(truth["receipts"]["receipts"], expenses, "expense_id")
    outcome.fields = {f"st.{n}": v for n, v in st.items()} | {f"ex.{n}": v for n, v in ex.items()}
    if statement is None or receipts is None:
        return outcome
    try:
        result = reconcile(statement, receipts, aliases=truth["aliases"], settings=Settings())
    except Exception as exc:  # noqa: BLE001 - reported like an extraction failure
        outcome.errors.append(f"reconcile: {type(exc).__name__}: {exc}")
        return outcome
    got: dict[str, str | None] = {
        r.expense.expense_id: r.transaction.transaction_number for r in result.transactions if r.expense
    }
    got |= dict.fromkeys(e.expense_id for e in result.unmatched_expenses)
    right = sum(got.get(expense, "") == number for expense, number in truth["matches"].items())
    outcome.match = right / len(truth["matches"])
    statuses = {r.transaction.transaction_number: r.status.value for r in result.transactions}
    right_status = sum(statuses.get(n) == s for n, s in truth["statuses"].items())
    outcome.status = right_status / len(truth["statuses"])
    return outcome


def table(outcomes: Sequence[Outcome], names: Sequence[str]) -> str:
    """Fields down, style/producer across; the last line says PASS or MISS per column."""
    width = max(13, *(len(o.name) + 1 for o in outcomes))
    label = max(len(n) for n in [*names, "warnings receipts"]) + 1
    lines = [f"{'field':<{label}}" + "".join(f"{o.name:>{width}}" for o in outcomes)]
    for name in names:
        lines.append(f"{name:<{label}}" + "".join(f"{o.fields.get(name, 0.0):>{width}.4f}" for o in outcomes))
    lines.append(f"{'match':<{label}}" + "".join(f"{o.match:>{width}.4f}" for o in outcomes))
    lines.append(f"{'status':<{label}}" + "".join(f"{o.status:>{width}.4f}" for o in outcomes))
    for doc in ("statement", "receipts"):
        cells = "".join(f"{o.warnings.get(doc, '-')!s:>{width}}" for o in outcomes)
        lines.append(f"{'warnings ' + doc:<{label}}{cells}")
    lines.append(f"{'extract s':<{label}}" + "".join(f"{o.seconds:>{width}.1f}" for o in outcomes))
    verdict = "".join(f"{'PASS' if o.passed(names) else 'MISS':>{width}}" for o in outcomes)
    lines.append(f"{'PASS/MISS':<{label}}{verdict}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Score every asked style and producer; exit 1 if any misses its targets."""
    parser = argparse.ArgumentParser(prog="python -m bench.producers", description=__doc__)
    parser.add_argument("--size", choices=tuple(SEEDS), default="small")
    parser.add_argument("--styles", nargs="+", choices=STYLES, default=list(STYLES))
    args = parser.parse_args(argv)
    started = time.perf_counter()
    outcomes = []
    for style in args.styles:
        producers: tuple[Producer, ...] = ("reportlab", "fpdf2") if style in FPDF2_STYLES else ("reportlab",)
        for producer in producers:
            outcome = run(style, producer, args.size)
            print(f"{outcome.name}: scored in {outcome.seconds:.1f} s", file=sys.stderr)
            outcomes.append(outcome)
    names = list(dict.fromkeys(n for o in outcomes for n in o.fields))
    for outcome in outcomes:
        for error in outcome.errors:
            print(f"{outcome.name}: FAILED {error}")
    print(table(outcomes, names))
    print(f"{args.size}: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return 0 if all(o.passed(names) for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
