"""pvault.csv explained (issue 19, item 5): its Credit Card Vendor is the card vendor, never the
merchant; `pvault_summary` says how many employees and rows it holds and why the others are held
back, checked against the ground truth of built months and hand-made reconciliations; the summary
travels in the reconciliation, reconciliation.json and `ccproc reconcile`'s summary."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from shared.cli.reconcile import CLOSEST_SHOWN, write_summary
from shared.models import ReconciledTransaction, Reconciliation, Status, Transaction
from shared.report import REPORTS, write_reports
from shared.report.csv_files import write_pvault_csv
from shared.report.pvault import pvault_summary
from shared.sessions.review import Review
from shared.settings import DEFAULT_CARD_VENDOR, PvaultConventions, Settings
from tests.builders.expenses import ExpenseMix
from tests.builders.month import build_month
from tests.reconciliations import sample_reconciliation

# Every matched expense has its receipt and whole coding, and every credit its refund: an employee
# is held back only by a transaction left without an expense.
PERFECT = ExpenseMix(missing_attachment_rate=0.0, refund_rate=1.0, coding_weights=(0.6, 0.4, 0.0, 0.0))


def from_truth(truth: dict[str, Any], statuses: dict[str, str] | None = None) -> Reconciliation:
    """The reconciliation a built month should give: its true transactions with their true statuses."""
    given = statuses or truth["statuses"]
    return Reconciliation(
        period_start=dt.date(2025, 3, 1),
        transactions=[
            ReconciledTransaction(
                transaction=Transaction.model_validate(row), status=Status(given[row["transaction_number"]])
            )
            for row in truth["statement"]["transactions"]
        ],
    )


def expected(truth: dict[str, Any], statuses: dict[str, str] | None = None) -> dict[str, Any]:
    """What pvault.csv should hold, worked out from the truth alone: per employee id, their rows."""
    given = statuses or truth["statuses"]
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in truth["statement"]["transactions"]:
        rows[row["employee_id"]].append({**row, "status": given[row["transaction_number"]]})
    complete = {e for e, txs in rows.items() if all(t["status"] == "Complete" for t in txs)}
    held = {
        e: {
            "transactions": len(txs),
            "missing": [t for t in txs if t["status"] != "Complete"],
            "amount": sum(Decimal(t["net"]) for t in txs),
        }
        for e, txs in rows.items()
        if e not in complete
    }
    return {"rows": rows, "complete": complete, "held": held}


@pytest.fixture(scope="module")
def everyone_held(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A built month where every employee has at least one transaction that is not Complete."""
    truth = build_month(tmp_path_factory.mktemp("held"), size="small", seed=5)
    assert not expected(truth)["complete"]
    return truth


@pytest.fixture(scope="module")
def some_complete(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A built month (every expense whole) where 2 of 5 employees have every transaction Complete."""
    truth = build_month(tmp_path_factory.mktemp("some"), size="small", seed=10, mix=PERFECT)
    want = expected(truth)
    assert (len(want["complete"]), len(want["held"])) == (2, 3)
    return truth


def pvault_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


# --- Credit Card Vendor ---------------------------------------------------------------------


def test_the_card_vendor_setting_defaults_to_the_layouts_issuer_and_is_read_by_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Unset, the card vendor is WEX (the statement layout's issuer); PVAULT_CARD_VENDOR sets it, and
    conventions given a card vendor of their own keep it."""
    monkeypatch.delenv("PVAULT_CARD_VENDOR", raising=False)
    assert DEFAULT_CARD_VENDOR == "WEX"
    assert Settings().pvault.card_vendor == "WEX"
    monkeypatch.setenv("PVAULT_CARD_VENDOR", "V-00042")
    assert Settings().pvault.card_vendor == "V-00042"
    assert Settings(pvault=PvaultConventions(tax="NT")).pvault.card_vendor == "V-00042"
    assert Settings(pvault=PvaultConventions(card_vendor="Visa")).pvault.card_vendor == "Visa"


@pytest.mark.parametrize("vendor", ["WEX", "Visa", "V-00042"])
def test_credit_card_vendor_is_the_setting_never_the_merchant(
    some_complete: dict[str, Any], vendor: str, tmp_path: Path
) -> None:
    """Every row of a built month's import names the configured card vendor; no row names its merchant."""
    write_reports(
        from_truth(some_complete), tmp_path, receipts_pdf=None, settings=Settings(pvault_card_vendor=vendor)
    )
    rows = pvault_rows(tmp_path / REPORTS["pvault"].file_name)
    merchants = {t["transaction_number"]: t["merchant"] for t in some_complete["statement"]["transactions"]}
    assert rows
    assert {r["Credit Card Vendor"] for r in rows} == {vendor}
    assert all(r["Credit Card Vendor"] != merchants[r["Transaction ID"]] for r in rows)


def test_a_merchant_named_like_the_vendor_changes_nothing(tmp_path: Path) -> None:
    """Hand-made: the column stays the vendor whatever the merchants are, even for a credit without
    an expense (whose name and description do fall back to its merchant)."""
    rec = sample_reconciliation()
    credit = rec.transactions[2]
    rec.transactions[2] = credit.model_copy(update={"expense": None, "evidence": None})
    rows = pvault_rows(write_pvault_csv(rec, tmp_path / "p.csv", PvaultConventions(card_vendor="ACME")))
    assert [r["Credit Card Vendor"] for r in rows] == ["ACME"] * 4
    assert rows[2]["Transaction Name"] == "GASMART #0042"


# --- held back, explained -------------------------------------------------------------------


def check_against_truth(truth: dict[str, Any], statuses: dict[str, str] | None = None) -> None:
    """The summary of the true reconciliation equals what the truth says, row counts and dollars too."""
    want = expected(truth, statuses)
    summary = pvault_summary(from_truth(truth, statuses))
    included = [t for e in want["complete"] for t in want["rows"][e]]
    assert (summary.employees, summary.rows) == (len(want["complete"]), len(included))
    assert summary.amount == sum((Decimal(t["net"]) for t in included), Decimal(0))
    assert summary.total_employees == len(want["rows"])
    assert summary.total_transactions == len(truth["statement"]["transactions"])
    assert summary.complete_transactions == sum(
        s == "Complete" for s in (statuses or truth["statuses"]).values()
    )
    assert {h.employee for h in summary.held_back} == set(want["held"])
    for h in summary.held_back:
        held = want["held"][h.employee]
        assert h.transactions == held["transactions"]
        assert h.amount == held["amount"]
        assert h.not_complete_amount == sum((Decimal(t["net"]) for t in held["missing"]), Decimal(0))
        by_status = defaultdict(int)
        for t in held["missing"]:
            by_status[t["status"]] += 1
        assert {s.value: n for s, n in h.not_complete.items()} == by_status
        assert h.cardholder == want["rows"][h.employee][0]["cardholder"]
    closeness = [(h.exceptions, abs(h.not_complete_amount)) for h in summary.held_back]
    assert closeness == sorted(closeness)


def test_every_employee_held_back_means_zero_rows_and_says_why(everyone_held: dict[str, Any]) -> None:
    """A month where each employee has an exception: 0 rows, every employee held back, each explained."""
    check_against_truth(everyone_held)
    summary = pvault_summary(from_truth(everyone_held))
    assert (summary.rows, summary.employees) == (0, 0)
    assert summary.complete_transactions > 0  # Complete lines exist, yet none reaches the import
    assert len(summary.held_back) == summary.total_employees


def test_some_complete_employees_make_the_import(some_complete: dict[str, Any], tmp_path: Path) -> None:
    """A month where 2 of 5 employees are all Complete: the summary's rows are exactly pvault.csv's."""
    check_against_truth(some_complete)
    rec = from_truth(some_complete)
    summary = pvault_summary(rec)
    rows = pvault_rows(write_pvault_csv(rec, tmp_path / "p.csv", PvaultConventions()))
    assert len(rows) == summary.rows > 0
    assert sum(Decimal(r["Transaction Amount"]) for r in rows) == summary.amount


def test_fixing_the_closest_employee_adds_exactly_their_rows(everyone_held: dict[str, Any]) -> None:
    """Drawn another way: mark the closest employee's exceptions Complete and they, and only they,
    move into the import with all their rows."""
    first = pvault_summary(from_truth(everyone_held))
    closest = first.held_back[0]
    ids = {t["transaction_number"] for t in everyone_held["statement"]["transactions"]
           if t["employee_id"] == closest.employee}  # fmt: skip
    fixed = {n: "Complete" if n in ids else s for n, s in everyone_held["statuses"].items()}
    check_against_truth(everyone_held, fixed)
    after = pvault_summary(from_truth(everyone_held, fixed))
    assert (after.employees, after.rows) == (1, closest.transactions)
    assert [h.employee for h in after.held_back] == [h.employee for h in first.held_back[1:]]


def _row(number: str, employee: str, net: str, status: Status) -> ReconciledTransaction:
    tx = Transaction(
        transaction_number=number,
        transaction_date=dt.date(2025, 3, 3),
        cardholder=f"HOLDER{employee}",
        employee_id=employee,
        card_last4="0001",
        merchant="SHOP",
        net=Decimal(net),
    )
    return ReconciledTransaction(transaction=tx, status=status)


def test_closest_to_complete_first() -> None:
    """Fewest exceptions first, then fewest dollars by size (a credit counts by its size), then
    statement order; the employee listed first on the statement is not put first for that."""
    c, mr, mb = Status.COMPLETE, Status.MISSING_RECEIPT, Status.MISSING_BOTH
    rec = Reconciliation(
        transactions=[
            _row("1", "A", "10.00", mb),
            _row("2", "A", "10.00", mb),
            _row("3", "A", "10.00", mr),
            _row("4", "B", "500.00", mr),
            _row("5", "B", "1.00", c),
            _row("6", "C", "-7.00", mb),
            _row("7", "D", "5.00", mr),
            _row("8", "E", "5.00", mr),
            _row("9", "F", "3.00", c),
        ]
    )
    summary = pvault_summary(rec)
    assert [h.employee for h in summary.held_back] == ["D", "E", "C", "B", "A"]
    assert (summary.employees, summary.rows, summary.amount) == (1, 1, Decimal("3.00"))
    a = summary.held_back[-1]
    assert a.not_complete == {mr: 1, mb: 2}
    assert list(a.not_complete) == [mr, mb]  # in the status order


def test_no_transactions_no_rows() -> None:
    """An empty reconciliation holds nothing and holds nobody back."""
    summary = pvault_summary(Reconciliation())
    assert (summary.employees, summary.rows, summary.total_employees, summary.held_back) == (0, 0, 0, [])


# --- where it travels -----------------------------------------------------------------------


def test_write_reports_stores_it_in_the_reconciliation_and_the_review_carries_it(tmp_path: Path) -> None:
    """write_reports fills `Reconciliation.pvault`; stored as JSON and read back as the session API's
    Review, it is still there; reconciliation.json holds the same summary."""
    rec = sample_reconciliation()
    assert rec.pvault is None
    write_reports(rec, tmp_path, receipts_pdf=None, settings=Settings())
    assert rec.pvault == pvault_summary(rec)
    stored = Reconciliation.model_validate_json(rec.model_dump_json())
    review = Review.model_validate(stored.model_dump())
    assert review.pvault == rec.pvault
    assert json.loads(review.model_dump_json())["pvault"]["held_back"][0]["not_complete"] == {
        "Missing Receipt": 1
    }
    doc = json.loads((tmp_path / REPORTS["reconciliation"].file_name).read_text(encoding="utf-8"))
    assert doc["pvault"] == json.loads(rec.pvault.model_dump_json())
    assert doc["pvault_employees"] == ["100001"]


def test_a_reconciliation_stored_before_has_none() -> None:
    """A reconciliation stored before the field existed still reads, without a summary."""
    old = sample_reconciliation().model_dump(mode="json")
    old.pop("pvault")
    assert Reconciliation.model_validate(old).pvault is None


# --- ccproc reconcile's summary -------------------------------------------------------------


def summary_text(rec: Reconciliation) -> str:
    out = io.StringIO()
    write_summary(rec, [], Path("out"), out)
    return out.getvalue()


def test_the_cli_says_why_the_import_is_empty(everyone_held: dict[str, Any]) -> None:
    """0 rows: one sentence says the file is empty and why, with the counts, then the closest ones."""
    rec = from_truth(everyone_held)
    summary = pvault_summary(rec)
    text = summary_text(rec)
    assert (
        f"pVault: 0 rows. pvault.csv is empty because every one of the {summary.total_employees} employees "
        "has at least one transaction that is not Complete, and one such line holds back all of that "
        f"employee's rows ({summary.complete_transactions} of {summary.total_transactions} transactions "
        "are Complete)."
    ) in text
    lines = text.splitlines()
    start = lines.index("Closest to complete:")
    closest = summary.held_back[0]
    assert lines[start + 1].startswith(
        f"  {closest.cardholder} ({closest.employee}): {closest.exceptions} of "
    )
    assert len(lines[start + 1 :]) >= min(CLOSEST_SHOWN, len(summary.held_back))


def test_the_cli_counts_employees_and_rows(some_complete: dict[str, Any]) -> None:
    """Some complete: `pVault: 2 of 5 employees, N rows (amount); 3 held back ...`."""
    rec = from_truth(some_complete)
    summary = pvault_summary(rec)
    assert (
        f"pVault: 2 of 5 employees, {summary.rows} rows ({summary.amount:,.2f}); 3 held back by a "
        "transaction not Complete."
    ) in summary_text(rec)


def test_the_cli_names_the_first_few_and_counts_the_rest() -> None:
    """More held back than shown: the closest CLOSEST_SHOWN, then how many more; all in: one line."""
    many = Reconciliation(
        transactions=[_row(str(i), f"E{i:02}", f"{i}.00", Status.MISSING_RECEIPT) for i in range(1, 9)]
        + [_row("99", "OK", "1.00", Status.COMPLETE)]
    )
    text = summary_text(many)
    assert "pVault: 1 of 9 employees, 1 row (1.00); 8 held back" in text
    assert "  HOLDERE01 (E01): 1 of 1 not Complete (1 Missing Receipt), 1.00 of 1.00" in text
    assert f"HOLDERE{CLOSEST_SHOWN:02}" in text
    assert f"HOLDERE{CLOSEST_SHOWN + 1:02}" not in text
    assert f"  ... and {8 - CLOSEST_SHOWN} more (reconciliation.json lists them all)" in text
    done = Reconciliation(transactions=[_row("1", "OK", "1.00", Status.COMPLETE)])
    assert "pVault: all 1 employee, 1 row (1.00)." in summary_text(done)
