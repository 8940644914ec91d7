"""Reconciling a generated month pair against the builder's ground truth of who-matches-what."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.extraction.extract import extract_document
from shared.matching.match import reconcile
from shared.settings import Settings
from tests.builders.month import build_month


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("month")
    truth = build_month(folder, size="small", seed=11)
    return folder, truth


def test_matches_and_statuses_agree_with_truth(month: tuple[Path, dict]) -> None:
    """Every expense ends on its true transaction (or none), every status as the rules say: >= 0.99."""
    folder, truth = month
    result = reconcile(
        extract_document(folder / "statement.pdf"),
        extract_document(folder / "receipts.pdf"),
        aliases=truth["aliases"],
        settings=Settings(),
    )
    got = {r.expense.expense_id: r.transaction.transaction_number for r in result.transactions if r.expense}
    got |= {e.expense_id: None for e in result.unmatched_expenses}
    right = sum(got.get(expense) == number for expense, number in truth["matches"].items())
    assert right / len(truth["matches"]) >= 0.99
    statuses = {r.transaction.transaction_number: r.status.value for r in result.transactions}
    right_status = sum(statuses[n] == s for n, s in truth["statuses"].items())
    assert right_status / len(truth["statuses"]) >= 0.99
    assert sorted(e.expense_id for e in result.unmatched_expenses) == sorted(truth["unmatched_expenses"])


def test_without_aliases_the_typed_names_are_listed(month: tuple[Path, dict]) -> None:
    """With an empty alias table every aliased name is listed as unresolved, with its cardholder suggested."""
    folder, truth = month
    result = reconcile(
        extract_document(folder / "statement.pdf"),
        extract_document(folder / "receipts.pdf"),
        aliases={},
        settings=Settings(),
    )
    listed = {n.normalized: n.suggestion for n in result.unresolved_names if n.side == "receipts"}
    assert set(truth["aliases"]) <= set(listed)
    suggested = sum(listed[name] == cardholder for name, cardholder in truth["aliases"].items())
    assert suggested >= len(truth["aliases"]) - 1
    json.dumps(result.model_dump(mode="json"))
