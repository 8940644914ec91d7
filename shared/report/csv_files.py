"""The two CSV reports: the pVault import file and the every-transaction CSV.

Both are UTF-8 with CRLF line ends, exactly one CR per line: the file is opened with `newline=""`
(so the platform adds nothing) and the writer ends lines with `\\r\\n` itself.

**pVault import** (accounts payable). Only employees whose transactions are all Complete are
written; one incomplete line holds back every row of that employee (all of their cards), and
`shared.report.pvault` says how many employees and rows that leaves and why the others are held
back. One row per transaction, in statement order. Fixed values come from `PvaultConventions` in
the settings. What each column holds, where the replaced export's layout leaves it open too:

- *Transaction ID*: the statement's Transaction #, the number the card issuer knows the charge by.
- *Transaction Date*, *Transaction Amount*: the statement's Trans Date (ISO) and Net Cost (2 decimals).
- *Transaction Name*: the expense title (`Fuel - truck 12`), else the expense type, else the merchant.
- *Vendor Invoice #*: `vendor_invoice_format` with the card's last 4 and the statement month, so each
  card's month is one invoice (`0001` + `030125`), owed to the *Credit Card Vendor*.
- *Invoice Date*: the first day of the statement month: the date the invoice number itself names,
  the same for every line of that invoice.
- *Header Description*: the invoice's header, the same on all its lines:
  `<cardholder> card ending <last 4> <MM/YYYY>`.
- *Job, Phase, Cost Type, GL Account*: the code at the start of each coding value (`12345` of
  `12345. Sample Plant Expansion`, `6100.200` of `6100.200 (Office Supplies)`); a value without a
  code is written whole. Job-coded lines leave GL Account empty and GL-coded lines the job columns.
- *Item Description*: the line's business purpose as the employee gave it, else the expense title,
  else the merchant.
- *UM*, *Tax*: `unit_of_measure` and `tax` of the conventions (`LS`, `XX`).
- *Pay Type*: `pay_type_job` for job-coded, `pay_type_gl` for GL-coded lines; empty for a credit made
  Complete without a refund expense (settings allow that), which has no coding to pay by.
- *Card Holder*: the statement's cardholder name; *Credit Card Number*: masked to the last 4.
- *Credit Card Vendor*: the card vendor, `card_vendor` of the conventions (the `PVAULT_CARD_VENDOR`
  setting, default `WEX`, the issuer of the statement layout), the same on every row: the vendor
  the card invoice is owed to. The format description (`shared/formats/reports.md`) says "merchant
  name" here; the replaced export's data model (its example is `Visa`) and its import requirements
  (the card vendor's id is fixed) say card vendor, and the merchant is not the payee of a card
  transaction, so the merchant is never written here: it reaches pVault only as the *Transaction
  Name* or *Item Description* when the expense gives neither.
- Free text a spreadsheet would run as a formula (starting `=`, `+`, `-`, `@`, a tab or a carriage
  return: a merchant or a purpose as typed) is prefixed with `'`, as in the transactions CSV.

**Transactions CSV**: every transaction with its status, matched expense and the evidence for the
match, for people who prefer their own spreadsheet. The evidence is said once, in words
(`shared.report.words`: `Strong match: same person, same amount, 1 day apart, similar merchant`), beside
its *Confidence (0-100)*; amounts are to the cent, a 4-decimal printed expense amount (`97.9800`)
included: the stored reconciliation keeps it as printed. It starts with a byte-order mark so that Excel
reads it as UTF-8, and free text that a spreadsheet would run as a formula is prefixed with `'`.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from shared.models import ReconciledTransaction, Reconciliation
from shared.report.fields import (
    coding_kind,
    complete_employees,
    employee_key,
    mask_card,
    money,
    redact,
    statement_month,
)
from shared.report.words import match_confidence, match_words
from shared.settings import PvaultConventions

PVAULT_COLUMNS = (
    "Transaction ID",
    "Transaction Date",
    "Transaction Amount",
    "Transaction Name",
    "Vendor Invoice #",
    "Invoice Date",
    "Header Description",
    "Job",
    "Phase",
    "Cost Type",
    "GL Account",
    "Item Description",
    "UM",
    "Tax",
    "Pay Type",
    "Card Holder",
    "Credit Card Number",
    "Credit Card Vendor",
)

TRANSACTION_COLUMNS = (
    "Transaction #",
    "Transaction Date",
    "Posted Date",
    "Employee ID",
    "Card Holder",
    "Card",
    "Merchant",
    "City",
    "State",
    "Product",
    "Amount",
    "Status",
    "Expense ID",
    "Employee Number",
    "Employee Name",
    "Expense Date",
    "Expense Amount",
    "Expense Type",
    "Expense Title",
    "Purpose",
    "Expense Merchant",
    "Coding Type",
    "Job",
    "Phase",
    "Cost Type",
    "GL Account",
    "Attachments",
    "Receipt Pages",
    "Receipt PDF",
    "Confidence (0-100)",
    "Evidence",
    "Note",
)

# A spreadsheet runs a cell starting with these as a formula; a leading quote makes it text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _write(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]], *, bom: bool = False) -> Path:
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def code_of(value: str | None) -> str:
    """The code a coding value starts with (`12345. Plant` → `12345`), or the whole value if none."""
    if not value:
        return ""
    first = value.split()[0].rstrip(".")
    return first if any(ch.isdigit() for ch in first) else value.strip()


def write_pvault_csv(reconciliation: Reconciliation, path: Path, conventions: PvaultConventions) -> Path:
    """Write the pVault import CSV of all-Complete employees to `path`; return `path`."""
    ready = complete_employees(reconciliation)
    month = statement_month(reconciliation)
    rows = (
        []
        if month is None  # no transactions at all
        else [
            _pvault_row(rt, month, conventions)
            for rt in reconciliation.transactions
            if employee_key(rt) in ready
        ]
    )
    return _write(path, PVAULT_COLUMNS, rows)


def _pvault_row(rt: ReconciledTransaction, month: dt.date, conventions: PvaultConventions) -> list[str]:
    tx, expense = rt.transaction, rt.expense
    last4 = tx.card_last4 or ""
    coding = expense.coding if expense else None
    kind = coding_kind(coding) if coding else None
    job = coding if coding and kind == "job" else None
    gl = coding.gl_account if coding and kind == "gl" else None
    pay_type = {"job": conventions.pay_type_job, "gl": conventions.pay_type_gl}.get(kind or "", "")
    name = (expense.expense_title or expense.expense_type) if expense else None
    item = (expense.purpose or expense.expense_title) if expense else None
    header = f"{tx.cardholder or ''} card ending {last4} {month:%m/%Y}".strip()
    return [
        redact(tx.transaction_number),
        tx.transaction_date.isoformat(),
        money(tx.net),
        _text(name or tx.merchant),
        conventions.vendor_invoice_format.format(card_last4=last4, month=month),
        month.isoformat(),
        _text(header),
        code_of(job.job) if job else "",
        code_of(job.phase) if job else "",
        code_of(job.cost_type) if job else "",
        code_of(gl),
        _text(item or tx.merchant),
        conventions.unit_of_measure,
        conventions.tax,
        pay_type,
        _text(tx.cardholder),
        mask_card(tx.card_last4),
        _text(conventions.card_vendor),
    ]


def _text(value: str | None) -> str:
    """Free text for a spreadsheet: card-like numbers masked, formula-like starts made literal."""
    text = redact(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_transactions_csv(
    reconciliation: Reconciliation, path: Path, receipt_files: Mapping[int, str] | None = None
) -> Path:
    """Write every transaction with its status and match to `path`; return `path`.

    `receipt_files` maps a transaction's position in `reconciliation.transactions` to the name of
    its receipt PDF, when those were cut.
    """
    files = receipt_files or {}
    rows = [_transaction_row(rt, files.get(i, "")) for i, rt in enumerate(reconciliation.transactions)]
    return _write(path, TRANSACTION_COLUMNS, rows, bom=True)


def _transaction_row(rt: ReconciledTransaction, receipt_file: str) -> list[str]:
    tx, ex, ev = rt.transaction, rt.expense, rt.evidence
    coding = ex.coding if ex else None
    return [
        redact(tx.transaction_number),
        tx.transaction_date.isoformat(),
        tx.posted_date.isoformat() if tx.posted_date else "",
        redact(tx.employee_id),
        _text(tx.cardholder),
        mask_card(tx.card_last4),
        _text(tx.merchant),
        _text(tx.city),
        _text(tx.state),
        _text(tx.product),
        money(tx.net),
        rt.status.value,
        redact(ex.expense_id) if ex else "",
        redact(ex.employee_number) if ex else "",
        _text(ex.employee_name) if ex else "",
        ex.date.isoformat() if ex else "",
        money(ex.amount) if ex else "",
        _text(ex.expense_type) if ex else "",
        _text(ex.expense_title) if ex else "",
        _text(ex.purpose) if ex else "",
        _text(ex.merchant) if ex else "",
        (coding.type or "") if coding else "",
        _text(coding.job) if coding else "",
        _text(coding.phase) if coding else "",
        _text(coding.cost_type) if coding else "",
        _text(coding.gl_account) if coding else "",
        _text("; ".join(ex.attachments)) if ex else "",
        ", ".join(str(p) for p in ex.pages) if ex else "",
        receipt_file,
        str(confidence) if (confidence := match_confidence(ev)) is not None else "",
        _text(match_words(rt)),
        _text(rt.note),
    ]
