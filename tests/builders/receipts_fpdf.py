"""Write a Receipt Images Report with fpdf2: the same form, pages and truth, another producer.

For small files only: fpdf2 holds the whole document, images included, in memory until it saves.
It draws the form (:mod:`tests.builders.receipts_form`) in the ``cells``, ``words`` and ``padded``
styles with one ``text()`` call per cell, word or line, measuring words with its own metrics.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF

from tests.builders.expenses import Expense
from tests.builders.receipts import PAGE_HEIGHT, ReceiptStyle, image_pages, jpeg_factory, pages_needed
from tests.builders.receipts_form import FORM_LEFT, FORM_SIZE, SLOT_X, cell_words, form_lines
from tests.builders.statement_fpdf import new_fpdf, use_font, width

FPDF_RECEIPT_STYLES: tuple[ReceiptStyle, ...] = ("cells", "words", "padded")
# PdfStream font keys as reportlab font names (the fpdf2 painter maps those to core fonts).
FONT_NAMES = {"F1": "Helvetica", "F2": "Helvetica-Bold", "F3": "Courier"}


def _text(pdf: FPDF, x: float, y: float, text: str, font: str) -> None:
    use_font(pdf, FONT_NAMES[font], FORM_SIZE)
    pdf.text(x, PAGE_HEIGHT - y, text)


def draw_form(pdf: FPDF, expense: Expense, style: ReceiptStyle) -> None:
    """The expense's form on the current page, one ``text()`` per cell, word or padded line."""

    def measure(text: str, font: str, size: float) -> float:
        return width(pdf, text, FONT_NAMES[font], size)

    for line in form_lines(expense):
        if style == "padded":
            _text(pdf, FORM_LEFT, line.y, line.padded(), "F3")
            continue
        for cell in line.cells:
            x = SLOT_X[cell.slot]
            if style == "words":
                for at, word in cell_words(cell, x, measure):
                    _text(pdf, at, line.y, word, cell.font)
            else:
                _text(pdf, x, line.y, cell.text, cell.font)


def render_receipts_fpdf(
    path: Path | str,
    expenses: Sequence[Expense],
    seed: int = 0,
    target_mb: float | None = None,
    *,
    style: ReceiptStyle = "cells",
) -> tuple[dict[str, list[int]], int]:
    """Write the report with fpdf2; return each expense's 1-based pages and the page count."""
    if style not in FPDF_RECEIPT_STYLES:
        raise ValueError(f"fpdf2 draws the receipts styles {FPDF_RECEIPT_STYLES}, not {style!r}")
    factory = jpeg_factory(expenses, seed, target_mb)
    counter = itertools.count()
    pdf = new_fpdf("P", "Receipt Images Report")
    page_map: dict[str, list[int]] = {}
    for expense in expenses:
        jpegs = [factory.make(next(counter)) for _ in range(expense.images)]
        numbers = []
        for index, places in enumerate(image_pages(jpegs, style)):
            pdf.add_page()
            numbers.append(pdf.page_no())
            if index == 0:
                draw_form(pdf, expense, style)
            for place in places:
                scale = min(place.width / place.jpeg.width, place.height / place.jpeg.height)
                w, h = place.jpeg.width * scale, place.jpeg.height * scale
                top = PAGE_HEIGHT - (place.y + place.height)
                pdf.image(io.BytesIO(place.jpeg.data), place.x, top, w, h)
        page_map[expense.expense_id] = numbers
    pdf.output(str(Path(path)))
    assert pdf.page_no() == sum(pages_needed(e) for e in expenses)
    return page_map, pdf.page_no()
