"""Following up exceptions: what a clerk recorded about each one, the readable name of each person, and
the chase list — per employee, what is still missing, as rows, a CSV and a message ready to send.

A follow-up is kept per transaction number (`FollowUp`): its state, a note, who set it and when. An
exception without one is `open`. Waived and resolved-outside exceptions are no longer chased; every
other exception is on the chase list. Nothing here changes a status: pVault still takes Complete lines
only, whatever their follow-up says.

People are shown by the name the expense system spells (`Dennis Reyes`, the `employee_name` of the
expenses matched to their card), the statement's print (`DENNISREYES`) where no expense maps to them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from collections.abc import Iterable, Mapping
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from shared.models import Amount, ReconciledTransaction, Reconciliation, Status, Text
from shared.report.csv_files import _text as spreadsheet_text
from shared.report.fields import mask_card, money, statement_month

MAX_NOTE = 1000


class FollowUpState(StrEnum):
    """Where the chase of one exception stands."""

    OPEN = "open"
    RECEIPT_REQUESTED = "receipt requested"
    WAIVED = "waived"
    RESOLVED_OUTSIDE = "resolved outside"


# Settled without the employee: neither chased nor counted as still to chase.
SETTLED = frozenset({FollowUpState.WAIVED, FollowUpState.RESOLVED_OUTSIDE})


class FollowUp(BaseModel):
    """What was recorded about one exception: its state and note, who set them and when (never, for
    an exception nobody has touched: `open`, no one, no time)."""

    model_config = ConfigDict(extra="forbid")

    state: FollowUpState = FollowUpState.OPEN
    # Typed by a person: a card number in it is masked the moment it is recorded.
    note: Text = Field(default="", max_length=MAX_NOTE)
    by: str | None = Field(default=None, description="the tenant or principal that set it")
    at: dt.datetime | None = Field(default=None, description="when it was set (UTC)")


def follow_up_of(rt: ReconciledTransaction, follow_ups: Mapping[str, FollowUp]) -> FollowUp:
    """The follow-up of a transaction: the one recorded, else `open`."""
    return follow_ups.get(rt.transaction.transaction_number) or FollowUp()


def is_exception(rt: ReconciledTransaction) -> bool:
    """A transaction that is not Complete: something is missing and may be followed up."""
    return rt.status is not Status.COMPLETE


def display_names(reconciliation: Reconciliation) -> dict[str, str]:
    """Each cardholder (as the statement prints the name) → the name people read: the spelling most of
    the expenses matched to their cards give, else the statement's."""
    typed: dict[str, Counter[str]] = {}
    for rt in reconciliation.transactions:
        holder = rt.transaction.cardholder
        if not holder:
            continue
        counts = typed.setdefault(holder, Counter())
        name = " ".join((rt.expense.employee_name or "").split()) if rt.expense else ""
        if name:
            counts[name] += 1
    # most_common keeps first-seen order among equals: the same name on every run.
    return {holder: counts.most_common(1)[0][0] if counts else holder for holder, counts in typed.items()}


def person_of(rt: ReconciledTransaction, names: Mapping[str, str]) -> str:
    """The readable name of a transaction's cardholder."""
    holder = rt.transaction.cardholder or ""
    return names.get(holder, holder)


def missing(rt: ReconciledTransaction) -> str:
    """What the employee still owes for a transaction, in the words a message uses."""
    if rt.status is Status.MISSING_RECEIPT:
        return "receipt"
    if rt.status is Status.MISSING_CODING:
        return "coding"
    if rt.status is Status.MISSING_BOTH:
        return "receipt and coding" if rt.expense is not None else "whole expense"
    return ""


class ChaseLine(BaseModel):
    """One exception to chase: the charge, what is missing, and where its follow-up stands."""

    transaction_number: str
    date: dt.date
    amount: Amount
    merchant: Text
    card: str = Field(description="masked to its last four digits")
    status: Status
    missing: str = Field(description="receipt, coding, receipt and coding, or whole expense")
    follow_up: FollowUpState
    note: Text = ""


class ChaseEmployee(BaseModel):
    """Everything one employee is asked for, with a message ready to send."""

    cardholder: str = Field(description="the name as the statement prints it")
    name: str = Field(description="the name people read")
    employee_id: str | None = None
    lines: list[ChaseLine]
    total: Amount
    subject: str
    body: str


def chase_list(reconciliation: Reconciliation, follow_ups: Mapping[str, FollowUp]) -> list[ChaseEmployee]:
    """Per employee in statement order, the exceptions still to chase (not waived, not resolved
    outside), each with what is missing, and the message that asks for them."""
    names = display_names(reconciliation)
    month = statement_month(reconciliation)
    grouped: dict[str, list[ReconciledTransaction]] = {}
    for rt in reconciliation.transactions:
        if is_exception(rt) and follow_up_of(rt, follow_ups).state not in SETTLED:
            grouped.setdefault(rt.transaction.cardholder or "", []).append(rt)
    chased = []
    for holder, rts in grouped.items():
        lines = [_line(rt, follow_up_of(rt, follow_ups)) for rt in rts]
        name = names.get(holder) or holder or "Unknown cardholder"
        total = sum((line.amount for line in lines), Decimal(0))
        subject, body = message(name, month, lines, total)
        chased.append(
            ChaseEmployee(
                cardholder=holder,
                name=name,
                employee_id=rts[0].transaction.employee_id,
                lines=lines,
                total=total,
                subject=subject,
                body=body,
            )
        )
    return chased


def _line(rt: ReconciledTransaction, follow_up: FollowUp) -> ChaseLine:
    tx = rt.transaction
    return ChaseLine(
        transaction_number=tx.transaction_number,
        date=tx.transaction_date,
        amount=tx.net,
        merchant=tx.merchant,
        card=mask_card(tx.card_last4),
        status=rt.status,
        missing=missing(rt),
        follow_up=follow_up.state,
        note=follow_up.note,
    )


def dollars(amount: Decimal) -> str:
    """`$1,234.50`, `-$22.18`: an amount as a message prints it."""
    return f"{'-' if amount < 0 else ''}${abs(amount):,.2f}"


def message(name: str, month: dt.date | None, lines: Iterable[ChaseLine], total: Decimal) -> tuple[str, str]:
    """(subject, body) of the message asking one employee for what is missing; cards by last four."""
    lines = list(lines)
    period = f"{month:%B %Y} " if month else ""
    charges = f"{len(lines)} charge{'s' if len(lines) != 1 else ''}"
    subject = f"Card statement {period}- {charges} {'need' if len(lines) != 1 else 'needs'} your expenses"
    rows = [
        f"- {line.date.isoformat()}  {dollars(line.amount)}  {line.merchant} (transaction"
        f" {line.transaction_number}, card ending {line.card[-4:] or '?'}): missing {line.missing}"
        for line in lines
    ]
    body = "\n".join(
        [
            f"Hello {name},",
            "",
            f"The {period}card statement has {charges} on your card"
            " that still need something from you in the expense system:",
            "",
            *rows,
            "",
            f"Total: {dollars(total)}",
            "",
            "Please add what is missing (the receipt, the job or GL coding, or the whole expense),"
            " or reply to this message if a charge is not yours.",
            "",
            "Thank you.",
        ]
    )
    return subject, body


CHASE_COLUMNS = (
    "Employee Name",
    "Employee ID",
    "Card Number",
    "Transaction #",
    "Transaction Date",
    "Transaction Amount",
    "Merchant",
    "Status",
    "Missing",
    "Follow-up",
    "Follow-up note",
)


def chase_csv(chased: Iterable[ChaseEmployee]) -> bytes:
    """The chase list as CSV (UTF-8 with a byte-order mark for Excel, CRLF line ends), one row per
    charge; free text is defused as in the transactions CSV, so no cell runs as a formula."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CHASE_COLUMNS)
    for person in chased:
        for line in person.lines:
            writer.writerow(
                [
                    spreadsheet_text(person.name),
                    spreadsheet_text(person.employee_id),
                    line.card,
                    spreadsheet_text(line.transaction_number),
                    line.date.isoformat(),
                    money(line.amount),
                    spreadsheet_text(line.merchant),
                    line.status.value,
                    line.missing,
                    line.follow_up.value,
                    spreadsheet_text(line.note),
                ]
            )
    return out.getvalue().encode("utf-8-sig")
