"""Values every report shows the same way: masked cards, money, employees, the statement month.

Each writer formats through these helpers, so a card number, an amount or an employee reads the
same in the workbook, both CSVs and `reconciliation.json`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal

from shared.models import Coding, Expense, ReconciledTransaction, Reconciliation, Status

CENTS = Decimal("0.01")
CARD_MASK = "**** **** **** "
STATUS_ORDER = (Status.COMPLETE, Status.MISSING_RECEIPT, Status.MISSING_CODING, Status.MISSING_BOTH)

# What a card number looks like in free text: 13-16 digits in a row, or the printed 4-4-4-4 and
# 4-6-5 groupings with one separator, standing alone (a digit run inside a longer word or number,
# or after a decimal point, is something else).
_CARD_LIKE = re.compile(
    r"(?<![0-9A-Za-z.])"
    r"(?:\d{13,16}|\d{4}([ -])\d{4}\1\d{4}\1\d{1,4}|\d{4}([ -])\d{6}\2\d{5})"
    r"(?![0-9A-Za-z])"
)


def mask_card(last4: str | None) -> str:
    """The card as every report prints it, `**** **** **** 0001`; empty when the card is unknown."""
    return CARD_MASK + last4 if last4 else ""


def redact(text: str | None) -> str:
    """`text` with anything shaped like a full card number masked down to its last 4 digits.

    Statements give only the last 4, but free text (merchant names, what an employee typed as a
    purpose) is copied from documents we do not control; no report may carry a full card number.
    """
    if not text:
        return ""
    return _CARD_LIKE.sub(lambda m: mask_card(re.sub(r"\D", "", m.group())[-4:]), text)


def money(value: Decimal) -> str:
    """An amount with exactly 2 decimals, rounded half up: `-22.18`, `61.98`."""
    return str(value.quantize(CENTS, rounding=ROUND_HALF_UP))


def statement_month(reconciliation: Reconciliation) -> dt.date | None:
    """First day of the statement's month: from its period, else its most common transaction month."""
    if reconciliation.period_start is not None:
        return reconciliation.period_start.replace(day=1)
    months = Counter(rt.transaction.transaction_date.replace(day=1) for rt in reconciliation.transactions)
    if not months:
        return None
    # Most transactions first; a tie goes to the earlier month.
    return min(months, key=lambda month: (-months[month], month))


def employee_key(rt: ReconciledTransaction) -> str:
    """Who a transaction belongs to: the statement's employee id, else its cardholder, else its card."""
    tx = rt.transaction
    return tx.employee_id or tx.cardholder or f"card {tx.card_last4 or '?'}"


def employee_label(rt: ReconciledTransaction) -> str:
    """The employee's name as the statement prints it (the cardholder), for file names and sheets."""
    return rt.transaction.cardholder or (rt.expense.employee_name if rt.expense else None) or ""


def complete_employees(reconciliation: Reconciliation) -> set[str]:
    """Keys of employees whose transactions are all Complete: one incomplete line holds all back."""
    keys = {employee_key(rt) for rt in reconciliation.transactions}
    held = {employee_key(rt) for rt in reconciliation.transactions if rt.status is not Status.COMPLETE}
    return keys - held


def status_counts(transactions: list[ReconciledTransaction]) -> dict[Status, int]:
    """How many transactions have each status, every status present (zero included), in order."""
    counts = Counter(rt.status for rt in transactions)
    return {status: counts[status] for status in STATUS_ORDER}


def coding_kind(coding: Coding) -> str | None:
    """`job` or `gl` for coding complete that way (the stated type wins a tie), else None."""
    job = bool(coding.job and coding.phase and coding.cost_type)
    gl = bool(coding.gl_account)
    if job and gl:
        return coding.type or "job"
    return "job" if job else "gl" if gl else None


def expense_name_key(expense: Expense) -> str:
    """An expense's typed name the way it is compared with a cardholder: upper case, no spaces or dots."""
    return (expense.employee_name or "").upper().replace(" ", "").replace(".", "")
