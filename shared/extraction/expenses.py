"""Stage 3b — parse a Receipt Images Report: expense pages → validated `Expense`s with their pages.

An expense page's text is label/value lines in reading order; some values come *before* their
label (Expense Title, the coding type) and the amount follows the first address line. The page
arrives as its printed cells, row by row (`PageText.lines()`), so a label and its value printed on
one line by a fixed-width producer come as two lines, as they do when stacked. A line that still
holds a label after other text (a value printed just left of its label) is cut before the label.
The parser then cuts the lines at the labels it knows and reads each field from its segment, so a
value printed on the label's own line (`Merchant Name: GASMART`) is read as well. A page without
an expense header continues the previous expense (more receipt images).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from pydantic import ValidationError

from shared.models import Coding, Expense
from shared.pdf.read import PageText
from shared.values import holds_card_number, parse_date, parse_money

DATE_FORMATS = ("%m/%d/%Y", "%m/%d/%y", "%Y-%m-%d")
EXPENSE_START = re.compile(r"^Expense Transaction Date\b\s*:?\s*(?P<value>.*)$", re.IGNORECASE)
_AMOUNT = re.compile(r"^\(?-?\$?-?\d[\d,]*(?:\.\d+)?\)?$")
_NOTES_PREFIX = re.compile(r"^Receipts? Notes?\s*\(\d+\)\s*:\s*", re.IGNORECASE)
_DIGITS = re.compile(r"^\d+$")
_NUMBER_AND_NAME = re.compile(r"^(?P<number>\d{4,})\s+(?P<name>\D.*)$")

# Top-level labels in the order the report prints them.
_LABELS: dict[str, re.Pattern[str]] = {
    name: re.compile(rf"^{pattern}\s*:\s*(?P<value>.*)$", re.IGNORECASE)
    for name, pattern in {
        "transaction_id": r"Transaction\s+ID",
        "expense_title": r"Expense\s+Title",
        "amount": r"Amount",
        "address": r"Address",
        "purpose": r"Purpose",
        "merchant": r"Merchant\s+Name",
        "merchant_address": r"Merchant\s+Address",
        "coding_type": r"Accounts\s+Coding\s+Type",
        "attachment": r"Attachment\s+Name",
        "request_type": r"Request\s+Type",
    }.items()
}
# A top-level label after other text on its line: the line is cut before it.
_INLINE_LABEL = re.compile(
    r"(?<=\s)(?:Transaction\s+ID|Expense\s+Title|Amount|(?<!Merchant\s)Address|Purpose|Merchant\s+Name"
    r"|Merchant\s+Address|Accounts\s+Coding\s+Type|Attachment\s+Name|Request\s+Type)\s*:",
    re.IGNORECASE,
)
# Coding sub-labels stand alone on their line with the value on the next, or carry it after a colon
# or after spaces (`Job   55867. Tank Farm Repaint` from a fixed-width producer).
_CODING_LABELS: dict[str, re.Pattern[str]] = {
    name: re.compile(rf"^{pattern}(?:\s*:\s*(?P<value>.*)|\s+(?P<spaced>\S.*)|\s*)$", re.IGNORECASE)
    for name, pattern in {
        "job": r"Job",
        "phase": r"Phase",
        "cost_type": r"Cost\s+Type",
        "gl_account": r"(?:GL|G/L)\s+Account",
    }.items()
}
_CODING_KIND = re.compile(r"^(?P<kind>Job|GL|G/L)\s+Coding$", re.IGNORECASE)


@dataclass
class ExpensesResult:
    """What one receipts report yielded."""

    expenses: list[Expense] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _segments(lines: list[str]) -> tuple[list[str], dict[str, list[str]]]:
    """Lines before the first label, and the lines after each label up to the next one."""
    head: list[str] = []
    segments: dict[str, list[str]] = {}
    current: list[str] = head
    for line in lines:
        for name, pattern in _LABELS.items():
            if name not in segments and (m := pattern.match(line)):
                current = segments.setdefault(name, [])
                if m.group("value").strip():
                    current.append(m.group("value").strip())
                break
        else:
            current.append(line)
    return head, segments


def _coding(before_label: list[str], after_label: list[str]) -> tuple[Coding, list[str]]:
    """The coding block; returns it and the lines before it (the merchant address)."""
    kind: str | None = None
    address = before_label
    if before_label and (m := _CODING_KIND.match(before_label[-1])):
        kind = "job" if m.group("kind").lower() == "job" else "gl"
        address = before_label[:-1]
    values: dict[str, list[str]] = {}
    current: list[str] | None = None
    leading: list[str] = []
    for line in after_label:
        match = None
        if not _CODING_KIND.match(line):
            match = next(((n, m) for n, p in _CODING_LABELS.items() if (m := p.match(line))), None)
        if match:
            name, m = match
            current = values.setdefault(name, [])
            if value := (m.group("value") or m.group("spaced") or "").strip():
                current.append(value)
        elif current is not None:
            current.append(line)
        else:
            leading.append(line)
    if kind is None and leading and (m := _CODING_KIND.match(leading[0])):
        kind = "job" if m.group("kind").lower() == "job" else "gl"
    found = {n: " ".join(v) or None for n, v in values.items()}
    if kind is None:
        kind = "gl" if found.get("gl_account") else "job" if found.get("job") else None
    return Coding.model_validate({"type": kind, **found}), address


def _text(lines: list[str] | None) -> str | None:
    return " ".join(lines).strip() or None if lines else None


def split_labels(lines: list[str]) -> list[str]:
    """Each line cut before any label that follows other text on it."""
    out: list[str] = []
    for line in lines:
        last = 0
        for m in _INLINE_LABEL.finditer(line):
            if line[last : m.start()].strip():
                out.append(line[last : m.start()].strip())
                last = m.start()
        out.append(line[last:].strip())
    return out


def parse_expense_page(lines: list[str], page: int) -> Expense:
    """One expense from the lines of the page that starts it."""
    lines = split_labels(lines)
    start = EXPENSE_START.match(lines[0])
    if start is None:
        raise ValueError("the page does not start with 'Expense Transaction Date'")
    head, seg = _segments(lines[1:])
    date_text = start.group("value") or (head.pop(0) if head else "")
    employee_number = employee_name = None
    if head and (m := _NUMBER_AND_NAME.match(head[0])):  # `1234567 Jane Q. Doe` on one line
        head.pop(0)
        employee_number, employee_name = m.group("number"), m.group("name")
    else:
        employee_number = head.pop(0) if head and _DIGITS.match(head[0]) else None
        employee_name = head.pop(0) if head else None
    expense_type = _text(head)

    id_and_title = seg.get("transaction_id", [])
    if not id_and_title or not _DIGITS.match(id_and_title[0]):
        raise ValueError("no Transaction ID")
    expense_id, title_lines = id_and_title[0], id_and_title[1:] + seg.get("expense_title", [])

    # The amount is printed after the first address line; it may also sit on its own label's line.
    amount_lines = [line for line in seg.get("amount", []) if _AMOUNT.match(line)]
    address_lines = list(seg.get("address", []))
    if not amount_lines:
        amount_lines = [line for line in address_lines if _AMOUNT.match(line.replace(" ", ""))][-1:]
        address_lines = [line for line in address_lines if line not in amount_lines]
    if not amount_lines:
        raise ValueError("no amount")

    purpose = _text(seg.get("purpose"))
    if purpose:
        purpose = _NOTES_PREFIX.sub("", purpose).strip() or None
    coding, merchant_address = _coding(seg.get("merchant_address", []), seg.get("coding_type", []))
    return Expense(
        expense_id=expense_id,
        employee_number=employee_number,
        employee_name=employee_name,
        date=parse_date(date_text, DATE_FORMATS),
        amount=parse_money(amount_lines[0]),
        expense_type=expense_type,
        expense_title=_text(title_lines),
        purpose=purpose,
        merchant=_text(seg.get("merchant")),
        merchant_address=_text(merchant_address),
        coding=coding,
        attachments=[a for a in seg.get("attachment", []) if a],
        pages=[page],
    )


class ExpensesParser:
    """Expenses page after page; pages without an expense header extend the previous expense."""

    def __init__(self) -> None:
        self.result = ExpensesResult()
        self._orphans: list[int] = []

    def feed(self, page: PageText) -> None:
        """Parse one page."""
        lines = page.lines()
        # Read before the records mask it: the receipt PDF cut from this page must be masked too.
        sensitive = holds_card_number("\n".join(lines))
        starts = [i for i, line in enumerate(lines) if EXPENSE_START.match(line)]
        if not starts:
            self._continue(page.number, sensitive)
            return
        if starts[0] > 0 and self.result.expenses:
            self._continue(page.number, sensitive)
        for n, i in enumerate(starts):
            block = lines[i : starts[n + 1] if n + 1 < len(starts) else len(lines)]
            try:
                expense = parse_expense_page(block, page.number)
            except (ValueError, ValidationError) as exc:
                reason = str(exc).splitlines()[0][:160]
                self.result.warnings.append(f"page {page.number}: expense not understood ({reason})")
                continue
            if sensitive:
                expense = expense.model_copy(update={"card_number_pages": [page.number]})
            self.result.expenses.append(expense)

    def _continue(self, number: int, sensitive: bool) -> None:
        expenses = self.result.expenses
        if not expenses:
            self._orphans.append(number)
            return
        last = expenses[-1]
        if number not in last.pages:
            update: dict[str, list[int]] = {"pages": [*last.pages, number]}
            if sensitive:
                update["card_number_pages"] = [*last.card_number_pages, number]
            expenses[-1] = last.model_copy(update=update)

    def finish(self) -> ExpensesResult:
        """Return everything found."""
        if self._orphans:
            self.result.warnings.append(
                f"pages {', '.join(map(str, self._orphans))} come before the first expense and were skipped"
            )
        if not self.result.expenses:
            self.result.warnings.append("no expense pages were recognised in this receipts report")
        return self.result


def parse_expenses(pages: Iterable[PageText]) -> ExpensesResult:
    """Parse a receipts report's pages, in order."""
    parser = ExpensesParser()
    for page in pages:
        parser.feed(page)
    return parser.finish()
