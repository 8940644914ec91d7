"""Whole-document extraction against the builders' ground truth."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.extraction.extract import PARALLEL_MIN_PAGES, extract_document
from tests.builders.statement import build_statement
from tests.scoring import score


@pytest.fixture(scope="module")
def long_statement(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    path = tmp_path_factory.mktemp("long") / "statement.pdf"
    truth = build_statement(
        path, cards=12, per_card=[3, 30, 5, 12, 25, 1, 9, 18, 2, 14, 7, 20], seed=41, rows_per_page=6
    )
    assert truth["pages"] >= PARALLEL_MIN_PAGES  # so the process pool is used
    return path, truth


@pytest.mark.parametrize("processes", [1, 2])
def test_pool_and_single_process_agree_with_truth(long_statement: tuple[Path, dict], processes: int) -> None:
    """Page ranges read in worker processes give exactly the single-process result: every row right."""
    path, truth = long_statement
    document = extract_document(path, processes=processes)
    result = score(
        truth["transactions"], document.model_dump(mode="json")["transactions"], "transaction_number"
    )
    assert result.examples == []
    assert result.f1 == 1.0
    assert [t.transaction_number for t in document.transactions] == [
        t["transaction_number"] for t in truth["transactions"]
    ]
    assert document.checks == []


@pytest.mark.parametrize("row_style", ["cells", "line"])
def test_month_mix_with_every_variation(tmp_path: Path, row_style: str) -> None:
    """Credits, no-product rows, page-break totals, glued merchants, doubled spaces: F1 >= 0.995."""
    path = tmp_path / "statement.pdf"
    truth = build_statement(
        path,
        cards=25,
        per_card=16,
        seed=7,
        row_style=row_style,
        page_break_totals=1.0,
        product_double_spaces=True,
    )
    document = extract_document(path, processes=1)
    result = score(
        truth["transactions"], document.model_dump(mode="json")["transactions"], "transaction_number"
    )
    assert result.f1 >= 0.995, result.examples
    assert document.warnings == []


def test_wrong_card_total_is_the_only_check(tmp_path: Path) -> None:
    """The card whose printed total is wrong, and only it, is reported, with both figures."""
    path = tmp_path / "statement.pdf"
    truth = build_statement(path, cards=5, per_card=6, seed=3, bad_card_total=True)
    document = extract_document(path)
    (expected,) = truth["expected_checks"]
    (check,) = document.checks
    assert check.code == "card_total_mismatch"
    assert check.card_last4 == expected["card_last4"]
    assert str(check.printed) == expected["printed_total"]
    assert str(check.computed) == expected["computed_total"]
    json.dumps(document.model_dump(mode="json"))
