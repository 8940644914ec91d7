"""The exceptions workbook (XLSX), written with xlsxwriter in constant-memory mode.

Sheets: **Summary** (one row per employee, then a grand total), **Exceptions** (every transaction not
Complete, under the column names of the workbook it replaced, with its follow-up, then a grand total),
**Transactions** (every transaction and its match), **Unmatched Expenses**, **Unresolved Names** and
**Checks** (printed totals that did not hold, and warnings). Each sheet is declared as a list of
columns; every sheet gets a frozen header row, a filter and column widths from its content.
Dates are date cells, amounts number cells in a money format; text is always written as text, so a
merchant name starting with `=` is never a formula.

Summary's *Expense total* is every expense the employee filed that we can attribute: those matched
to their transactions, plus unmatched ones with the same employee number as one of their matched
expenses or a typed name equal to their cardholder name. Expenses of people with no card on the
statement get Summary rows of their own, without an employee id.

Follow-up (`shared.report.chase`): each exception's state, note, who and when, as recorded when the
workbook is written. Waived exceptions are counted apart in Summary (*Waived*, *Waived total*); they
stay exceptions, and out of pVault. Totals rows sit right under each table, outside its filter, so
sorting or filtering never moves them.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

import xlsxwriter  # type: ignore[import-untyped]  # ships inline hints but no py.typed marker

from shared.models import Check, Expense, ReconciledTransaction, Reconciliation, Status, UnresolvedName
from shared.report.chase import FollowUp, FollowUpState, display_names, follow_up_of, is_exception
from shared.report.fields import (
    STATUS_ORDER,
    complete_employees,
    employee_key,
    expense_name_key,
    mask_card,
    money,
    redact,
)
from shared.report.words import match_confidence, match_words

R = TypeVar("R")
Kind = Literal["text", "date", "money", "int", "status"]

STATUS_FILLS: Mapping[Status, str] = {
    Status.MISSING_BOTH: "#FF0000",
    Status.MISSING_RECEIPT: "#FFFF00",
    Status.MISSING_CODING: "#FFC000",
}
MONEY_FORMAT = "#,##0.00;[Red]-#,##0.00"
DATE_FORMAT = "yyyy-mm-dd"
_MAX_WIDTH = 60


@dataclass(frozen=True, slots=True)
class Column(Generic[R]):
    """One column of a sheet: its header, how its cells are written, and how a row gives its value."""

    header: str
    kind: Kind
    value: Callable[[R], Any]


@dataclass
class EmployeeSummary:
    """One Summary row: an employee's card and expense totals and status counts."""

    employee_id: str
    name: str
    cards: list[str] = field(default_factory=list)
    transactions: int = 0
    card_total: Decimal = Decimal(0)
    expense_total: Decimal = Decimal(0)
    unmatched: int = 0
    counts: Counter[Status] = field(default_factory=Counter)
    exported: bool = False
    readable_name: str = ""
    exceptions_total: Decimal = Decimal(0)
    waived: int = 0
    waived_total: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class ExceptionLine:
    """An exception as the Exceptions sheet lists it: with the employee's readable name and its follow-up."""

    rt: ReconciledTransaction
    name: str
    follow_up: FollowUp


@dataclass(frozen=True, slots=True)
class Line:
    """A transaction as the Transactions sheet lists it, with its receipt PDF's name if one was cut."""

    rt: ReconciledTransaction
    receipt_file: str


def _tx(get: Callable[[ReconciledTransaction], Any]) -> Callable[[Line], Any]:
    return lambda line: get(line.rt)


def _ex(get: Callable[[Expense], Any]) -> Callable[[Line], Any]:
    return lambda line: get(line.rt.expense) if line.rt.expense else None


def _coding_text(expense: Expense) -> str:
    coding = expense.coding
    if coding.type == "gl" or (coding.gl_account and not coding.job):
        return f"GL {coding.gl_account or '(no account)'}"
    if coding.type == "job" or coding.job or coding.phase or coding.cost_type:
        parts = (coding.job or "(no job)", coding.phase or "(no phase)", coding.cost_type or "(no cost type)")
        return "Job " + " / ".join(parts)
    return ""


def _count(status: Status) -> Callable[[EmployeeSummary], int]:
    return lambda person: person.counts[status]


SUMMARY: Sequence[Column[EmployeeSummary]] = (
    Column("Employee ID", "text", lambda e: e.employee_id),
    Column("Employee", "text", lambda e: e.name),
    Column("Cards", "text", lambda e: ", ".join(e.cards)),
    Column("Transactions", "int", lambda e: e.transactions),
    Column("Card total", "money", lambda e: e.card_total),
    Column("Expense total", "money", lambda e: e.expense_total),
    Column("Unmatched expenses", "int", lambda e: e.unmatched),
    *(Column(status.value, "int", _count(status)) for status in STATUS_ORDER),
    Column("In pVault CSV", "text", lambda e: "Yes" if e.exported else "No"),
    Column("Employee Name", "text", lambda e: e.readable_name),
    Column("Exceptions total", "money", lambda e: e.exceptions_total),
    Column("Waived", "int", lambda e: e.waived),
    Column("Waived total", "money", lambda e: e.waived_total),
)
# The first seven as the replaced workbook's "Incomplete Expenses" sheet named them: clerks look for these.
EXCEPTIONS: Sequence[Column[ExceptionLine]] = (
    Column("Employee ID", "text", lambda x: x.rt.transaction.employee_id),
    Column("Employee Name", "text", lambda x: x.name),
    Column("Card Number", "text", lambda x: mask_card(x.rt.transaction.card_last4)),
    Column("Transaction Date", "date", lambda x: x.rt.transaction.transaction_date),
    Column("Transaction Amount", "money", lambda x: x.rt.transaction.net),
    Column("Transaction Name", "text", lambda x: x.rt.transaction.merchant),
    Column("Status", "status", lambda x: x.rt.status),
    Column("Transaction #", "text", lambda x: x.rt.transaction.transaction_number),
    Column("Cardholder", "text", lambda x: x.rt.transaction.cardholder),
    Column("Expense ID", "text", lambda x: x.rt.expense.expense_id if x.rt.expense else None),
    Column("Note", "text", lambda x: x.rt.note),
    Column("Follow-up", "text", lambda x: x.follow_up.state.value),
    Column("Follow-up note", "text", lambda x: x.follow_up.note),
    Column("Follow-up by", "text", lambda x: x.follow_up.by),
    Column("Follow-up at", "text", lambda x: _when(x.follow_up.at)),
)
TRANSACTIONS: Sequence[Column[Line]] = (
    Column("Transaction #", "text", _tx(lambda rt: rt.transaction.transaction_number)),
    Column("Date", "date", _tx(lambda rt: rt.transaction.transaction_date)),
    Column("Employee ID", "text", _tx(lambda rt: rt.transaction.employee_id)),
    Column("Employee", "text", _tx(lambda rt: rt.transaction.cardholder)),
    Column("Card", "text", _tx(lambda rt: mask_card(rt.transaction.card_last4))),
    Column("Merchant", "text", _tx(lambda rt: rt.transaction.merchant)),
    Column("Amount", "money", _tx(lambda rt: rt.transaction.net)),
    Column("Status", "status", _tx(lambda rt: rt.status)),
    Column("Expense ID", "text", _ex(lambda ex: ex.expense_id)),
    Column("Expense date", "date", _ex(lambda ex: ex.date)),
    Column("Expense amount", "money", _ex(lambda ex: ex.amount)),
    Column("Expense name", "text", _ex(lambda ex: ex.employee_name)),
    Column("Expense merchant", "text", _ex(lambda ex: ex.merchant)),
    Column("Coding", "text", _ex(_coding_text)),
    Column("Attachments", "text", _ex(lambda ex: "; ".join(ex.attachments))),
    Column("Receipt PDF", "text", lambda line: line.receipt_file),
    Column("Confidence (0-100)", "int", _tx(lambda rt: match_confidence(rt.evidence))),
    Column("Evidence", "text", _tx(match_words)),
    Column("Note", "text", _tx(lambda rt: rt.note)),
)
UNMATCHED: Sequence[Column[Expense]] = (
    Column("Expense ID", "text", lambda ex: ex.expense_id),
    Column("Employee number", "text", lambda ex: ex.employee_number),
    Column("Employee name", "text", lambda ex: ex.employee_name),
    Column("Date", "date", lambda ex: ex.date),
    Column("Amount", "money", lambda ex: ex.amount),
    Column("Type", "text", lambda ex: ex.expense_type),
    Column("Title", "text", lambda ex: ex.expense_title),
    Column("Merchant", "text", lambda ex: ex.merchant),
    Column("Coding", "text", _coding_text),
    Column("Attachments", "text", lambda ex: "; ".join(ex.attachments)),
    Column("Pages", "text", lambda ex: ", ".join(map(str, ex.pages))),
)
UNRESOLVED: Sequence[Column[UnresolvedName]] = (
    Column("Name", "text", lambda u: u.name),
    Column("Normalized", "text", lambda u: u.normalized),
    Column("Found on", "text", lambda u: "statement" if u.side == "statement" else "receipts report"),
    Column("Suggestion", "text", lambda u: u.suggestion),
)
CHECKS: Sequence[Column[Check]] = (
    Column("Code", "text", lambda c: c.code),
    Column("Message", "text", lambda c: c.message),
    Column("Card", "text", lambda c: mask_card(c.card_last4)),
    Column("Transaction #", "text", lambda c: c.transaction_number),
    Column("Page", "int", lambda c: c.page),
    Column("Printed", "money", lambda c: c.printed),
    Column("Computed", "money", lambda c: c.computed),
)


def _when(at: dt.datetime | None) -> str:
    return f"{at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC" if at else ""


def write_workbook(
    reconciliation: Reconciliation,
    path: Path,
    receipt_files: Mapping[int, str] | None = None,
    follow_ups: Mapping[str, FollowUp] | None = None,
) -> Path:
    """Write the exceptions workbook to `path`; return `path`.

    `receipt_files` maps a transaction's position in `reconciliation.transactions` to the name of
    its receipt PDF, when those were cut. `follow_ups` maps a transaction number to its follow-up
    (none: every exception is `open`).
    """
    files = receipt_files or {}
    recorded = follow_ups or {}
    names = display_names(reconciliation)
    notes = [Check(code="warning", message=w) for w in reconciliation.warnings]
    notes += [
        Check(code="file_not_read", message=f"{f.file} could not be read and is left out: {f.reason}")
        for f in reconciliation.files_not_read
    ]
    # Rows go out in order, sheet after sheet, so each row is flushed to disk once written.
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    try:
        formats = _Formats(book)
        people = summarize(reconciliation, recorded)
        summary = _sheet(book, formats, "Summary", SUMMARY, people)
        _summary_total(summary, formats, people)
        _files_not_read(summary, formats, reconciliation)
        exceptions = [
            ExceptionLine(rt, names.get(rt.transaction.cardholder or "", rt.transaction.cardholder or ""),
                          follow_up_of(rt, recorded))
            for rt in reconciliation.transactions
            if is_exception(rt)
        ]  # fmt: skip
        sheet = _sheet(book, formats, "Exceptions", EXCEPTIONS, exceptions)
        _exceptions_total(sheet, formats, exceptions)
        lines = (Line(rt, files.get(i, "")) for i, rt in enumerate(reconciliation.transactions))
        _sheet(book, formats, "Transactions", TRANSACTIONS, lines)
        _sheet(book, formats, "Unmatched Expenses", UNMATCHED, reconciliation.unmatched_expenses)
        _sheet(book, formats, "Unresolved Names", UNRESOLVED, reconciliation.unresolved_names)
        _sheet(book, formats, "Checks", CHECKS, [*reconciliation.checks, *notes])
    finally:
        book.close()
    return path


class _Formats:
    """The workbook's cell formats, made once (xlsxwriter keeps one record per distinct format)."""

    def __init__(self, book: Any) -> None:
        self.header = book.add_format({"bold": True, "bg_color": "#D9D9D9", "bottom": 1})
        self.alert = book.add_format({"bold": True, "font_color": "#9C0006"})
        self.date = book.add_format({"num_format": DATE_FORMAT})
        self.money = book.add_format({"num_format": MONEY_FORMAT})
        self.total = book.add_format({"bold": True, "top": 1})
        self.total_money = book.add_format({"bold": True, "top": 1, "num_format": MONEY_FORMAT})
        self.status = {
            status: book.add_format({"bg_color": colour, "pattern": 1})
            for status, colour in STATUS_FILLS.items()
        }


def _sheet(book: Any, formats: _Formats, name: str, columns: Sequence[Column[R]], rows: Iterable[R]) -> Any:
    sheet = book.add_worksheet(name)
    widths = [len(column.header) + 3 for column in columns]  # room for the filter button
    for col, column in enumerate(columns):
        sheet.write_string(0, col, column.header, formats.header)
    last_row = 0
    for last_row, row in enumerate(rows, start=1):
        for col, column in enumerate(columns):
            shown = _write_cell(sheet, formats, last_row, col, kind=column.kind, value=column.value(row))
            widths[col] = max(widths[col], shown + 1)
    for col, width in enumerate(widths):
        sheet.set_column(col, col, min(width, _MAX_WIDTH))
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, last_row, len(columns) - 1)
    sheet.ccproc_last_row = last_row  # where a note under the table may go
    return sheet


def _total_row(
    sheet: Any, formats: _Formats, columns: Sequence[Column[R]], label: str, values: Mapping[str, Any]
) -> None:
    """A bold row right under the table (outside its filter): `label` first, then `values` by header."""
    row = sheet.ccproc_last_row + 1
    sheet.write_string(row, 0, label, formats.total)
    for col, column in enumerate(columns[1:], start=1):
        value = values.get(column.header)
        if value is None:
            sheet.write_blank(row, col, None, formats.total)
        elif column.kind == "money":
            sheet.write_number(row, col, float(Decimal(money(value))), formats.total_money)
        else:
            sheet.write_number(row, col, int(value), formats.total)
    sheet.ccproc_last_row = row


def _summary_total(sheet: Any, formats: _Formats, people: Sequence[EmployeeSummary]) -> None:
    """Summary's grand total: every count and amount summed over the employees."""
    values: dict[str, Any] = {}
    for column in SUMMARY[1:]:
        if column.kind in ("int", "money"):
            values[column.header] = sum((column.value(p) for p in people), Decimal(0))
    _total_row(sheet, formats, SUMMARY, "Total", values)


def _exceptions_total(sheet: Any, formats: _Formats, exceptions: Sequence[ExceptionLine]) -> None:
    """Exceptions' grand total, then the part of it waived and the part still to chase."""
    amount = "Transaction Amount"

    def total(lines: Iterable[ExceptionLine]) -> Decimal:
        return sum((x.rt.transaction.net for x in lines), Decimal(0))

    waived = [x for x in exceptions if x.follow_up.state is FollowUpState.WAIVED]
    _total_row(sheet, formats, EXCEPTIONS, f"Total ({len(exceptions)})", {amount: total(exceptions)})
    _total_row(sheet, formats, EXCEPTIONS, f"Waived ({len(waived)})", {amount: total(waived)})


def _files_not_read(sheet: Any, formats: _Formats, reconciliation: Reconciliation) -> None:
    """Under the Summary table: the files that could not be read, so nobody takes it for a clean run."""
    if not reconciliation.files_not_read:
        return
    row = sheet.ccproc_last_row + 2
    sheet.write_string(row, 0, "Files that could not be read (left out of every sheet):", formats.alert)
    for offset, found in enumerate(reconciliation.files_not_read, start=1):
        sheet.write_string(row + offset, 0, f"{found.file}: {found.reason}", formats.alert)


def _write_cell(sheet: Any, formats: _Formats, row: int, col: int, *, kind: Kind, value: Any) -> int:
    """Write one cell as its kind says; return how many characters it shows, for the column width."""
    if value is None or value == "":
        return 0
    if kind == "date":
        sheet.write_datetime(row, col, value, formats.date)
        return len(DATE_FORMAT)
    if kind == "money":
        # To the cent first: a 4-decimal printed amount (97.9849) is a 2-decimal number in the cell too.
        cents = Decimal(money(value))
        sheet.write_number(row, col, float(cents), formats.money)
        return len(f"{cents:,.2f}")
    if kind == "int":
        sheet.write_number(row, col, int(value))
        return len(str(value))
    text = redact(str(value))
    sheet.write_string(row, col, text, formats.status.get(value) if kind == "status" else None)
    return len(text)


def summarize(
    reconciliation: Reconciliation, follow_ups: Mapping[str, FollowUp] | None = None
) -> list[EmployeeSummary]:
    """One summary per employee on the statement, in statement order, then expense-only people."""
    recorded = follow_ups or {}
    names = display_names(reconciliation)
    people: dict[str, EmployeeSummary] = {}
    by_number: dict[str, str] = {}
    by_name: dict[str, str] = {}
    ready = complete_employees(reconciliation)
    for rt in reconciliation.transactions:
        tx, key = rt.transaction, employee_key(rt)
        person = people.setdefault(key, EmployeeSummary(tx.employee_id or "", tx.cardholder or ""))
        person.readable_name = person.readable_name or names.get(tx.cardholder or "", "")
        person.exported = key in ready
        if is_exception(rt):
            person.exceptions_total += tx.net
            if follow_up_of(rt, recorded).state is FollowUpState.WAIVED:
                person.waived += 1
                person.waived_total += tx.net
        card = mask_card(tx.card_last4)
        if card and card not in person.cards:
            person.cards.append(card)
        person.transactions += 1
        person.card_total += tx.net
        person.counts[rt.status] += 1
        if tx.cardholder:
            by_name.setdefault(tx.cardholder, key)
        if rt.expense is not None:
            person.expense_total += rt.expense.amount
            if rt.expense.employee_number:
                by_number.setdefault(rt.expense.employee_number, key)
    for expense in reconciliation.unmatched_expenses:
        owner = by_number.get(expense.employee_number or "") or by_name.get(expense_name_key(expense))
        if owner is None:
            owner = f"expenses of {expense.employee_number or expense_name_key(expense)}"
            name = expense.employee_name or ""
            people.setdefault(owner, EmployeeSummary("", name, readable_name=name))
        people[owner].expense_total += expense.amount
        people[owner].unmatched += 1
    return list(people.values())
