"""`reconciliation.json`: the machine-readable reconciliation, dumped from pydantic models (money as strings).

The core is `{"transactions": [{"transaction_number", "expense_id", "status"}, ...],
"unmatched_expenses": [expense_id, ...]}`; around it: the input file names, the period and
statement month, counts per status, each transaction's employee, masked card, amount, evidence and
receipt PDF, the employees written to (and held back from) the pVault CSV with `pvault`, the
`shared.report.pvault` summary that explains them (employees and rows in the import, and per
held-back employee what keeps them out, closest to complete first), unresolved names, checks and
warnings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from shared.models import Amount, Check, Evidence, PvaultSummary, Reconciliation, Status, UnresolvedName
from shared.report.fields import (
    complete_employees,
    employee_key,
    mask_card,
    redact,
    statement_month,
    status_counts,
)
from shared.report.pvault import pvault_summary

FORMAT_VERSION = 1


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TransactionResult(_Out):
    """One statement transaction as reported: its match and status, with what identifies it."""

    transaction_number: str
    expense_id: str | None
    status: Status
    employee_id: str | None
    cardholder: str | None
    card: str
    transaction_date: dt.date
    amount: Amount
    merchant: str
    evidence: Evidence | None
    receipt_file: str | None
    note: str | None


class ReconciliationFile(_Out):
    """The whole of `reconciliation.json`."""

    format_version: int = FORMAT_VERSION
    statement_file: str | None
    receipts_file: str | None
    period_start: dt.date | None
    period_end: dt.date | None
    statement_month: dt.date | None
    counts: dict[Status, int]
    transactions: list[TransactionResult]
    unmatched_expenses: list[str]
    pvault_employees: list[str]
    held_back_employees: list[str]
    pvault: PvaultSummary
    unresolved_names: list[UnresolvedName]
    checks: list[Check]
    warnings: list[str]


def reconciliation_file(
    reconciliation: Reconciliation,
    receipt_files: Mapping[int, str] | None = None,
    warnings: Sequence[str] = (),
) -> ReconciliationFile:
    """The JSON document for `reconciliation`; `receipt_files` as for the writers, `warnings` added."""
    files = receipt_files or {}
    ready = complete_employees(reconciliation)
    keys = list(dict.fromkeys(employee_key(rt) for rt in reconciliation.transactions))
    transactions = [
        TransactionResult(
            transaction_number=rt.transaction.transaction_number,
            expense_id=rt.expense.expense_id if rt.expense else None,
            status=rt.status,
            employee_id=rt.transaction.employee_id,
            cardholder=rt.transaction.cardholder,
            card=mask_card(rt.transaction.card_last4),
            transaction_date=rt.transaction.transaction_date,
            amount=rt.transaction.net,
            merchant=rt.transaction.merchant,
            evidence=rt.evidence,
            receipt_file=files.get(i),
            note=rt.note,
        )
        for i, rt in enumerate(reconciliation.transactions)
    ]
    return ReconciliationFile(
        statement_file=reconciliation.statement_file,
        receipts_file=reconciliation.receipts_file,
        period_start=reconciliation.period_start,
        period_end=reconciliation.period_end,
        statement_month=statement_month(reconciliation),
        counts=status_counts(reconciliation.transactions),
        transactions=transactions,
        unmatched_expenses=[e.expense_id for e in reconciliation.unmatched_expenses],
        pvault_employees=[k for k in keys if k in ready],
        held_back_employees=[k for k in keys if k not in ready],
        pvault=pvault_summary(reconciliation),
        unresolved_names=reconciliation.unresolved_names,
        checks=reconciliation.checks,
        warnings=[*reconciliation.warnings, *warnings],
    )


def write_reconciliation_json(
    reconciliation: Reconciliation,
    path: Path,
    receipt_files: Mapping[int, str] | None = None,
    warnings: Sequence[str] = (),
) -> Path:
    """Write `reconciliation.json` to `path` (UTF-8, indented); return `path`."""
    text = reconciliation_file(reconciliation, receipt_files, warnings).model_dump_json(indent=2)
    # Free text inside (merchants, notes, messages) may carry a card number typed by someone.
    path.write_text(redact(text) + "\n", encoding="utf-8")
    return path
