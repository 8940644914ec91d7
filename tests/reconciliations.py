"""Reconciliations built straight from the models, for the report writers' tests.

`sample_reconciliation()` covers every status, a credit, job and GL coding, an employee with two
cards, an employee held back by one incomplete line, unmatched expenses and unresolved names.
`receipts_reconciliation(truth)` matches the expenses of a built Receipt Images Report to
invented transactions, so receipt PDFs can be cut from a real file.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from shared.models import (
    Check,
    Coding,
    Evidence,
    Expense,
    ReconciledTransaction,
    Reconciliation,
    Status,
    Transaction,
    UnresolvedName,
)

MARCH = dt.date(2025, 3, 1)
JOB = Coding(type="job", job="12345. Sample Plant Expansion", phase="100.10 Insulation", cost_type="5")
GL = Coding(type="gl", gl_account="6100.200 (Office Supplies)")
PARTIAL_JOB = Coding(type="job", job="12345. Sample Plant Expansion", cost_type="5")

# (cardholder, employee id, card last 4)
JANE = ("JANEDOE", "100001", "0001")
JANE_SECOND_CARD = ("JANEDOE", "100001", "0004")
JOHN = ("JOHNROE", "100002", "0002")
MARY = ("MARYPOE", "100003", "0003")


def transaction(number: str, day: int, net: str, holder: tuple[str, str, str], merchant: str) -> Transaction:
    """A statement row of March 2025."""
    cardholder, employee_id, last4 = holder
    return Transaction(
        transaction_number=number,
        transaction_date=MARCH.replace(day=day),
        posted_date=MARCH.replace(day=day + 1),
        cardholder=cardholder,
        employee_id=employee_id,
        card_last4=last4,
        merchant=merchant,
        city="HOUSTON",
        state="TX",
        net=Decimal(net),
    )


def expense(
    expense_id: str,
    tx: Transaction,
    coding: Coding,
    *,
    receipt: bool = True,
    name: str | None = None,
    number: str | None = None,
) -> Expense:
    """The expense an employee filed for `tx` (same day and amount)."""
    return Expense(
        expense_id=expense_id,
        employee_number=number or f"9{tx.employee_id}",
        employee_name=name or (tx.cardholder or "").title(),
        date=tx.transaction_date,
        amount=tx.net,
        expense_type="General Expense",
        expense_title=f"Title {expense_id}",
        purpose=f"Purpose {expense_id}",
        merchant=tx.merchant.title(),
        coding=coding,
        attachments=[f"receipt_{expense_id}.jpg"] if receipt else [],
        pages=[1],
    )


def matched(tx: Transaction, ex: Expense, status: Status) -> ReconciledTransaction:
    """`tx` matched to `ex` with plain evidence."""
    evidence = Evidence(
        employee=tx.cardholder or "",
        via_alias=False,
        amount=tx.net,
        date_offset_days=(ex.date - tx.transaction_date).days,
        merchant_similarity=91.5,
        score=0.93,
        rules=["amount equal", "date within window"],
    )
    return ReconciledTransaction(transaction=tx, expense=ex, status=status, evidence=evidence)


def sample_reconciliation() -> Reconciliation:
    """Three employees, nine transactions, every status; only JANEDOE (two cards) is all Complete."""
    t = [
        transaction("100000001", 3, "61.98", JANE, "GASMART #0042"),
        transaction("100000002", 5, "120.00", JANE, "OFFICE HUB"),
        transaction("100000003", 7, "-22.18", JANE, "GASMART #0042"),
        transaction("100000004", 10, "45.50", JANE_SECOND_CARD, "PARKWELL GARAGE"),
        transaction("100000005", 4, "75.25", JOHN, "DINER 66"),
        transaction("100000006", 12, "19.99", JOHN, "HARDWARE CO"),
        transaction("100000007", 14, "300.00", MARY, "HOTEL SAMPLE"),
        transaction("100000008", 15, "12.00", MARY, "TOLL ROAD"),
        transaction("100000009", 20, "8.40", MARY, "COFFEE SPOT"),
    ]
    rows = [
        matched(t[0], expense("90000001", t[0], JOB), Status.COMPLETE),
        matched(t[1], expense("90000002", t[1], GL), Status.COMPLETE),
        matched(t[2], expense("90000003", t[2], GL), Status.COMPLETE),  # a credit and its refund
        matched(t[3], expense("90000004", t[3], JOB), Status.COMPLETE),
        matched(t[4], expense("90000005", t[4], JOB), Status.COMPLETE),
        matched(t[5], expense("90000006", t[5], JOB, receipt=False), Status.MISSING_RECEIPT),
        matched(t[6], expense("90000007", t[6], PARTIAL_JOB), Status.MISSING_CODING),
        ReconciledTransaction(transaction=t[7], status=Status.MISSING_BOTH, note="no expense filed"),
        matched(t[8], expense("90000009", t[8], Coding(), receipt=False), Status.MISSING_BOTH),
    ]
    john_extra = expense("90000010", t[4], GL).model_copy(update={"amount": Decimal("33.00")})
    cardless = expense("90000011", t[0], JOB, name="Bob Q. Smith", number="7654321")
    return Reconciliation(
        statement_file="statement.pdf",
        receipts_file="receipts.pdf",
        period_start=MARCH,
        period_end=dt.date(2025, 3, 31),
        transactions=rows,
        unmatched_expenses=[john_extra, cardless],
        unresolved_names=[
            UnresolvedName(
                name="Bob Q. Smith", normalized="BOBQSMITH", side="receipts", suggestion="BOBSMITH"
            ),
            UnresolvedName(name="ALEXKING", normalized="ALEXKING", side="statement"),
        ],
        checks=[
            Check(
                code="card_total",
                message="card 0003: printed total differs from the rows",
                card_last4="0003",
                printed=Decimal("320.40"),
                computed=Decimal("320.00"),
            )
        ],
        warnings=["page 4: one line could not be read"],
    )


def receipts_reconciliation(truth: dict[str, Any]) -> Reconciliation:
    """Every expense of a built receipts report but the last matched to a transaction of its own."""
    expenses = [Expense.model_validate(record) for record in truth["receipts"]]
    rows = []
    for n, ex in enumerate(expenses[:-1]):
        holder = (ex.employee_name or "").upper().replace(" ", "").replace(".", "")
        tx = transaction(f"{700000001 + n}", 1, str(ex.amount), (holder, "200001", "0042"), "SHOP")
        tx = tx.model_copy(
            update={"transaction_date": ex.date, "posted_date": None, "merchant": (ex.merchant or "").upper()}
        )
        receipt, coded = bool(ex.attachments), ex.coding.complete
        status = (
            Status.COMPLETE
            if receipt and coded
            else Status.MISSING_RECEIPT
            if coded
            else Status.MISSING_CODING
            if receipt
            else Status.MISSING_BOTH
        )
        rows.append(matched(tx, ex, status))
    lonely = transaction("799999999", 30, "9.99", ("NOBODY", "200002", "0043"), "KIOSK")
    rows.append(ReconciledTransaction(transaction=lonely, status=Status.MISSING_BOTH))
    return Reconciliation(
        statement_file="statement.pdf",
        receipts_file="receipts.pdf",
        transactions=rows,
        unmatched_expenses=expenses[-1:],
    )
