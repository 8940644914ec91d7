"""The expense page as a two-dimensional form, laid out as data for every producer and style.

The stacked layout (one line per text run down the left, in the format doc's reading order) stays
in :mod:`tests.builders.receipts`. The form puts labels in one column and values in another, the
employee number, name and expense type on one line, and, as the doc says, the Expense Title and the
Accounts Coding Type *before* their labels::

    Expense Transaction Date     03/14/2025
    2909564        Felix F. Thorne                Fuel
    Transaction ID:              90000001
    Fuel - truck 12              Expense Title:
    Amount :                     61.98
    ...

Styles: ``cells`` (each cell its own text object), ``line`` (one text object per line, cells placed
by ``Td`` or ``Tm`` moves), ``words`` (each word its own text object where it falls in its cell),
``padded`` (Courier, the whole line one string, values after runs of spaces).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal, get_args

from tests.builders.expenses import Expense
from tests.builders.formats import mdy
from tests.builders.pdfstream import TextObject, TextRun, string_width

ReceiptStyle = Literal["stacked", "cells", "line", "words", "padded"]
RECEIPT_STYLES: tuple[ReceiptStyle, ...] = get_args(ReceiptStyle)
FormStyle = Literal["cells", "line", "words", "padded"]
Slot = Literal["label", "value", "name", "type"]
Width = Callable[[str, str, float], float]

FORM_LEFT, FORM_TOP, FORM_PITCH, FORM_SIZE = 36.0, 756.0, 12.0, 9.0
# Where each slot starts, in characters of the padded style; the other styles put it at the same
# place in points (a 9 pt Courier character is 5.4 pt wide).
SLOT_CHARS: dict[Slot, int] = {"label": 0, "name": 15, "type": 46, "value": 29}
COURIER_CHAR = 0.6 * FORM_SIZE
SLOT_X: dict[Slot, float] = {slot: FORM_LEFT + chars * COURIER_CHAR for slot, chars in SLOT_CHARS.items()}
# The form leaves the top of the page to text: the first image goes below it.
FORM_IMAGE_BOX = (36.0, 36.0, 540.0, 500.0)


@dataclass(frozen=True)
class FormCell:
    """One printed cell of the form: its slot, text and whether it is bold."""

    slot: Slot
    text: str
    bold: bool = False

    @property
    def font(self) -> str:
        """The PdfStream font key (Helvetica or Helvetica-Bold)."""
        return "F2" if self.bold else "F1"


@dataclass(frozen=True)
class FormLine:
    """One printed line of the form: its baseline and cells left to right."""

    y: float
    cells: tuple[FormCell, ...]

    def padded(self) -> str:
        """The line as one fixed-width string: each cell at its slot's character, runs of spaces between."""
        line = ""
        for cell in self.cells:
            start = SLOT_CHARS[cell.slot]
            if line and len(line) > start - 2:
                raise ValueError(f"{line!r} leaves no two spaces before the {cell.slot} column")
            line = line.ljust(start) + cell.text
        return line


def _coding(expense: Expense) -> list[list[FormCell]]:
    """The coding type left of its label, then the coding labels with their values, if any."""
    coding = expense.coding
    head = {"gl": "GL Coding", "job": "Job Coding"}.get(coding.type or "")
    first = [FormCell("label", head)] if head else []
    lines = [[*first, FormCell("value", "Accounts Coding Type :")]]
    if coding.type == "gl":
        pairs = [("GL Account", coding.gl_account)]
    else:
        pairs = [("Job", coding.job), ("Phase", coding.phase), ("Cost Type", coding.cost_type)]
    lines += [[FormCell("label", label), *_value(value)] for label, value in pairs]
    return lines


def _value(text: str | None) -> list[FormCell]:
    return [FormCell("value", text)] if text else []


def form_lines(expense: Expense) -> list[FormLine]:
    """The expense's text block as form lines from the top of the page down."""
    notes = f"Receipts Notes ({expense.notes_index}): {expense.purpose}" if expense.purpose else None
    names = [a.name for a in expense.attachments]
    rows: list[list[FormCell]] = [
        [FormCell("label", "Expense Transaction Date", bold=True), FormCell("value", mdy(expense.date))],
        [
            FormCell("label", expense.employee_number),
            FormCell("name", expense.employee_name),
            FormCell("type", expense.expense_type),
        ],
        [FormCell("label", "Transaction ID:"), FormCell("value", expense.expense_id)],
        [FormCell("label", expense.title), FormCell("value", "Expense Title:")],
        [FormCell("label", "Amount :"), FormCell("value", expense.amount_text)],
        [FormCell("label", "Address:"), *_value(expense.address)],
        [FormCell("label", "Purpose:"), *_value(notes)],
        [FormCell("label", "Merchant Name:"), *_value(expense.merchant)],
        [FormCell("label", "Merchant Address:"), *_value(expense.merchant_address)],
        *_coding(expense),
        [FormCell("label", "Attachment Name:"), *_value(names[0] if names else None)],
        *([FormCell("value", name)] for name in names[1:]),
        [FormCell("label", "Request Type:")],
    ]
    return [
        FormLine(FORM_TOP - i * FORM_PITCH, tuple(c for c in row if c.text)) for i, row in enumerate(rows)
    ]


def cell_words(cell: FormCell, x: float, width: Width = string_width) -> Iterator[tuple[float, str]]:
    """Each word of a cell starting at ``x``, with the x where it falls (text before it measured)."""
    for word in re.finditer(r"\S+", cell.text):
        yield x + width(cell.text[: word.start()], cell.font, FORM_SIZE), word.group()


def form_texts(
    expense: Expense, style: FormStyle, moves: Literal["Td", "Tm"] = "Td"
) -> list[TextRun | TextObject]:
    """The expense's form drawn in ``style`` as PdfStream text (``F3`` is Courier)."""
    out: list[TextRun | TextObject] = []
    for line in form_lines(expense):
        if style == "padded":
            out.append(TextRun(FORM_LEFT, line.y, line.padded(), "F3", FORM_SIZE))
            continue
        runs = [TextRun(SLOT_X[c.slot], line.y, c.text, c.font, FORM_SIZE) for c in line.cells]
        if style == "line":
            out.append(TextObject(tuple(runs), moves))
        elif style == "words":
            for cell, run in zip(line.cells, runs, strict=True):
                out += [TextRun(x, line.y, word, run.font, FORM_SIZE) for x, word in cell_words(cell, run.x)]
        else:
            out += runs
    return out
