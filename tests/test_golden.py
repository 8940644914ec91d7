"""Golden files: each generated PDF in tests/golden/ extracts to exactly its expected.json."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from shared.extraction.extract import extract_document
from tests.scoring import MONEY_FIELDS

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(GOLDEN.glob("*/*/input.pdf"))


def normal(record: dict[str, Any]) -> dict[str, Any]:
    """Money compared as Decimal, everything else as JSON."""
    return {k: Decimal(v) if k in MONEY_FIELDS and v is not None else v for k, v in record.items()}


def test_golden_cases_exist() -> None:
    """Both document kinds have golden cases (an empty folder must not pass silently)."""
    kinds = {case.parent.parent.name for case in CASES}
    assert kinds == {"cardholder_activity", "receipt_images"}


@pytest.mark.parametrize("pdf", CASES, ids=lambda p: f"{p.parent.parent.name}/{p.parent.name}")
def test_golden(pdf: Path) -> None:
    """Every transaction or expense, every field, in order; the expected checks and no others."""
    expected = json.loads((pdf.parent / "expected.json").read_text(encoding="utf-8"))
    document = extract_document(pdf).model_dump(mode="json")
    assert document["kind"] == expected["kind"]
    assert document["pages"] == expected["pages"]
    assert [normal(t) for t in document["transactions"]] == [normal(t) for t in expected["transactions"]]
    assert [normal(e) for e in document["receipts"]] == [normal(e) for e in expected["receipts"]]
    mismatched = [
        (c["card_last4"], c["printed"], c["computed"])
        for c in document["checks"]
        if c["code"] == "card_total_mismatch"
    ]
    assert mismatched == [
        (c["card_last4"], c["printed_total"], c["computed_total"])
        for c in expected.get("expected_checks", [])
    ]
    assert len(document["checks"]) == len(mismatched)
    assert document["warnings"] == []
