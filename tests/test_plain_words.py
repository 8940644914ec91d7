"""Matches said in words on a stated 0-100 scale, and the exports a person reads shown to the cent."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from shared.extraction.extract import extract_document
from shared.matching import match as matching
from shared.models import Evidence, Reconciliation
from shared.report import write_reports
from shared.report.chase import chase_csv, chase_list
from shared.report.words import (
    DAY_PENALTY,
    MERCHANT_WEIGHT,
    match_confidence,
    match_words,
    strength,
)
from shared.settings import Settings
from tests.builders.month import build_month
from tests.reconciliations import sample_reconciliation

RAW_WORDS = ("score", "window", "±", "%", "rules", "employee ")


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> tuple[Reconciliation, Path]:
    """A generated month (seed 11: unmatched mileage claims of 4 decimals), reconciled, reports written."""
    folder = tmp_path_factory.mktemp("month")
    truth = build_month(folder, size="small", seed=11)
    reconciled = matching.reconcile(
        extract_document(folder / "statement.pdf"),
        extract_document(folder / "receipts.pdf"),
        aliases=truth["aliases"],
        settings=Settings(),
    )
    # The expense system prints some amounts to 4 places (`97.9800`): every third matched expense here.
    for index, rt in enumerate(reconciled.transactions):
        if rt.expense is not None and index % 3 == 0:
            printed = rt.expense.model_copy(update={"amount": rt.expense.amount.quantize(Decimal("0.0001"))})
            reconciled.transactions[index] = rt.model_copy(update={"expense": printed})
    write_reports(reconciled, folder / "out", settings=Settings(), receipts_pdf=folder / "receipts.pdf")
    return reconciled, folder / "out"


def _evidence(days: int, similarity: float, *, alias: bool = False) -> Evidence:
    return Evidence(
        employee="JANEDOE",
        via_alias=alias,
        amount=Decimal("61.98"),
        date_offset_days=days,
        merchant_similarity=similarity,
        score=100 - 15 * abs(days) + 0.1 * similarity,
        rules=[],
    )


def test_the_weights_are_the_matchers() -> None:
    """The confidence is made from the very weights the matcher scores with."""
    assert (DAY_PENALTY, MERCHANT_WEIGHT) == (matching.DAY_PENALTY, matching.MERCHANT_WEIGHT)


@pytest.mark.parametrize(
    ("days", "similarity", "confidence", "band"),
    [
        (0, 100.0, 100, "Strong"),
        (0, 0.0, 90, "Strong"),
        (1, 92.0, 84, "Strong"),
        (-1, 40.0, 79, "Likely"),
        (2, 80.0, 68, "Likely"),
        (3, 100.0, 55, "Possible"),
        (9, 0.0, 0, "Possible"),
    ],
)
def test_confidence_is_the_score_on_a_0_to_100_scale(
    days: int, similarity: float, confidence: int, band: str
) -> None:
    """Confidence is the matcher's score less the 10 points a merchant adds at most, clamped to 0-100,
    and its band follows it."""
    evidence = _evidence(days, similarity)
    assert match_confidence(evidence) == confidence
    assert confidence == max(0, min(100, round(evidence.score - 10)))
    assert strength(confidence) == band


def test_every_real_match_is_in_words_and_on_the_scale(month: tuple[Reconciliation, Path]) -> None:
    """Each match of a real month reads as a sentence with no score, window or rule text, confidence 0-100;
    a transaction without a match has neither."""
    reconciled, _ = month
    matched = [rt for rt in reconciled.transactions if rt.evidence is not None]
    assert matched
    for rt in reconciled.transactions:
        words, confidence = match_words(rt), match_confidence(rt.evidence)
        if rt.evidence is None:
            assert (words, confidence) == (None, None)
            continue
        assert words is not None
        assert confidence is not None
        assert 0 <= confidence <= 100
        assert re.match(r"^(Strong|Likely|Possible) match: same person( \(through an alias\))?, ", words)
        assert ", same amount, " in words
        assert not any(raw in words for raw in RAW_WORDS), words


def test_the_words_say_the_day_merchant_and_alias() -> None:
    """Days apart (either way), the merchant's likeness and an alias are said as a clerk would."""
    rec = sample_reconciliation()
    rt = rec.transactions[0]
    assert rt.evidence is not None
    one_day = rt.model_copy(update={"evidence": _evidence(-1, 75.0)})
    assert match_words(one_day) == "Strong match: same person, same amount, 1 day apart, similar merchant"
    far = rt.model_copy(update={"evidence": _evidence(3, 20.0, alias=True)})
    assert match_words(far) == (
        "Possible match: same person (through an alias), same amount, 3 days apart, different merchant name"
    )
    same = rt.model_copy(update={"evidence": _evidence(0, 100.0)})
    assert match_words(same) == "Strong match: same person, same amount, same day, same merchant"


def test_an_amount_off_by_cents_is_said() -> None:
    """Were an expense's amount not the transaction's to the cent, the words say by how much."""
    rt = sample_reconciliation().transactions[0]
    assert rt.expense is not None
    off = rt.model_copy(update={"expense": rt.expense.model_copy(update={"amount": Decimal("62.3800")})})
    assert "amount differs by $0.40" in (match_words(off) or "")


def _csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_no_csv_amount_has_more_than_cents(month: tuple[Reconciliation, Path]) -> None:
    """Transactions, pVault and chase CSVs show every amount to the cent, though the month holds
    4-decimal printed expense amounts, which the stored JSON reconciliation keeps exactly."""
    reconciled, out = month
    printed = [
        rt.expense.amount
        for rt in reconciled.transactions
        if rt.expense and rt.expense.amount.as_tuple().exponent < -2  # type: ignore[operator]
    ]
    unmatched = [e for e in reconciled.unmatched_expenses if e.amount.as_tuple().exponent < -2]  # type: ignore[operator]
    assert unmatched, "the month should hold an unmatched 4-decimal expense amount (Unmatched Expenses)"
    assert printed, "the month should hold a 4-decimal expense amount"
    chase = chase_csv(chase_list(reconciled, {}))
    amounts = {
        "transactions": ((out / "transactions.csv").read_bytes(), ("Amount", "Expense Amount")),
        "pvault": ((out / "pvault.csv").read_bytes(), ("Transaction Amount",)),
        "chase": (chase, ("Transaction Amount",)),
    }
    for name, (data, columns) in amounts.items():
        rows = _csv_rows(data)
        assert rows, name
        for row in rows:
            assert all(re.match(r"^(-?\d+\.\d\d)?$", row[column]) for column in columns), (name, row)
    rows = _csv_rows((out / "transactions.csv").read_bytes())
    shown = {row["Expense Amount"] for row in rows}
    assert all(str(amount.quantize(Decimal("0.01"))) in shown for amount in printed)
    kept = reconciled.model_dump_json()  # as stored for a session and served by its API
    assert all(f'"{amount}"' in kept for amount in printed)


def _cells(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}
    finally:
        book.close()


def test_no_workbook_amount_has_more_than_cents(month: tuple[Reconciliation, Path]) -> None:
    """Every number cell of the workbook is a whole number of cents (no 4-decimal amount in a cell)."""
    _, out = month
    sheets = _cells(out / "exceptions.xlsx")
    numbers = [
        cell for rows in sheets.values() for row in rows for cell in row if isinstance(cell, float | int)
    ]
    assert numbers
    assert all(Decimal(repr(float(n))).as_tuple().exponent >= -2 for n in numbers)  # type: ignore[operator]


def test_evidence_appears_once_per_row(month: tuple[Reconciliation, Path]) -> None:
    """Regression (evidence twice per row): transactions.csv and the Transactions sheet say each match's
    words once, with its confidence, never the matcher's raw rules."""
    reconciled, out = month
    rows = _csv_rows((out / "transactions.csv").read_bytes())
    sheet = _cells(out / "exceptions.xlsx")["Transactions"]
    header, lines = sheet[0], sheet[1:]
    for rt, row, line in zip(reconciled.transactions, rows, lines, strict=False):
        words = match_words(rt)
        if words is None:
            assert row["Evidence"] == row["Confidence (0-100)"] == ""
            continue
        assert row["Evidence"] == words
        assert sum(value.count(words) for value in row.values()) == 1
        assert row["Confidence (0-100)"] == str(match_confidence(rt.evidence))
        assert not any(raw in row["Evidence"] for raw in RAW_WORDS)
        values = dict(zip(header, line, strict=False))
        assert values["Evidence"] == words
        assert values["Confidence (0-100)"] == match_confidence(rt.evidence)
        assert sum(str(v).count(words) for v in line if v is not None) == 1
    assert "Score" not in header
    assert "Score" not in rows[0]
