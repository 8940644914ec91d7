"""Draw a Receipt Images Report, and the public receipts builder.

One expense per page: its text block, then its first receipt image; further images go two per
continuation page holding images only. In the default ``stacked`` style the text block runs down
the left, one line per text run in the format doc's reading order, with the first image on the
right; the other styles draw the two-dimensional form of :mod:`tests.builders.receipts_form` with
the image below it. Written with :class:`PdfStream` so size is bounded by disk, not memory;
``producer="fpdf2"`` writes small files with fpdf2 instead (:mod:`tests.builders.receipts_fpdf`).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

from tests.builders.expenses import Expense, ExpenseMix, random_expenses
from tests.builders.jpeg import Jpeg, JpegFactory
from tests.builders.pdfstream import DEFAULT_FONTS, PdfStream, Placement, TextObject, TextRun
from tests.builders.receipts_form import FORM_IMAGE_BOX, RECEIPT_STYLES, ReceiptStyle, form_texts
from tests.builders.truth import receipts_truth, write_json

Producer = Literal["reportlab", "fpdf2"]
PAGE_WIDTH, PAGE_HEIGHT = 612.0, 792.0
TEXT_X, TEXT_TOP, TEXT_PITCH, TEXT_SIZE = 36.0, 756.0, 12.0, 9.0
FIRST_PAGE_BOX = (320.0, 300.0, 256.0, 456.0)
CONTINUATION_BOXES = ((36.0, 414.0, 540.0, 342.0), (36.0, 36.0, 540.0, 342.0))
# A page's text and structure cost roughly this many bytes; used to aim at a total size.
PAGE_OVERHEAD = 1_500
__all__ = ["RECEIPT_STYLES", "ReceiptStyle", "build_receipts", "render_receipts"]


def pages_needed(expense: Expense) -> int:
    """The first page carries one image; continuation pages carry two each."""
    extra = max(0, expense.images - 1)
    return 1 + (extra + 1) // 2


def text_runs(expense: Expense) -> list[TextRun]:
    """The expense's text block as runs from the top of the page down."""
    return [
        TextRun(TEXT_X, TEXT_TOP - i * TEXT_PITCH, line, "F2" if i == 0 else "F1", TEXT_SIZE)
        for i, line in enumerate(expense.text_lines())
    ]


def expense_texts(
    expense: Expense, style: ReceiptStyle, line_moves: Literal["Td", "Tm"] = "Td"
) -> list[TextRun | TextObject]:
    """The text of an expense's first page in ``style``."""
    if style == "stacked":
        return list(text_runs(expense))
    return form_texts(expense, style, line_moves)


def first_box(style: ReceiptStyle) -> tuple[float, float, float, float]:
    """Where the first image goes: right of the stacked text, or below the form."""
    return FIRST_PAGE_BOX if style == "stacked" else FORM_IMAGE_BOX


def image_pages(jpegs: Sequence[Jpeg], style: ReceiptStyle) -> Iterator[list[Placement]]:
    """The images of one expense, page by page: the first one on its first page, then two a page."""
    yield [Placement(jpegs[0], *first_box(style))] if jpegs else []
    rest = jpegs[1:]
    for start in range(0, len(rest), 2):
        yield [
            Placement(j, *box) for j, box in zip(rest[start : start + 2], CONTINUATION_BOXES, strict=False)
        ]


def jpeg_factory(expenses: Sequence[Expense], seed: int, target_mb: float | None) -> JpegFactory:
    """Images sized so the file lands near ``target_mb`` (10^6 bytes), else a few kilobytes each."""
    images = sum(e.images for e in expenses)
    pages = sum(pages_needed(e) for e in expenses)
    budget = None
    if target_mb is not None:
        budget = max(images * 2_000, int(target_mb * 1_000_000) - pages * PAGE_OVERHEAD)
    return JpegFactory(seed, images, budget)


def render_receipts(
    path: Path | str,
    expenses: Sequence[Expense],
    seed: int = 0,
    target_mb: float | None = None,
    *,
    style: ReceiptStyle = "stacked",
    line_moves: Literal["Td", "Tm"] = "Td",
    producer: Producer = "reportlab",
) -> tuple[dict[str, list[int]], int]:
    """Write the report; return each expense's 1-based pages and the page count.

    ``target_mb`` (megabytes of 10^6 bytes) sizes the images so the file lands near it;
    without it images are a few kilobytes each. ``producer="reportlab"`` (the default name for
    our own writer) streams with :class:`PdfStream`; ``"fpdf2"`` holds the file in memory.
    """
    if style not in RECEIPT_STYLES:
        raise ValueError(f"unknown receipts style {style!r}")
    if producer == "fpdf2":
        from tests.builders.receipts_fpdf import render_receipts_fpdf

        return render_receipts_fpdf(path, expenses, seed, target_mb, style=style)
    if producer != "reportlab":
        raise ValueError(f"unknown producer {producer!r}")
    factory = jpeg_factory(expenses, seed, target_mb)
    counter = itertools.count()
    page_map: dict[str, list[int]] = {}
    fonts = (*DEFAULT_FONTS, "F3") if style == "padded" else DEFAULT_FONTS
    with PdfStream(path, "Receipt Images Report", fonts) as pdf:
        for expense in expenses:
            jpegs = [factory.make(next(counter)) for _ in range(expense.images)]
            numbers = []
            for index, places in enumerate(image_pages(jpegs, style)):
                texts = expense_texts(expense, style, line_moves) if index == 0 else []
                numbers.append(pdf.add_page(PAGE_WIDTH, PAGE_HEIGHT, texts, places))
            page_map[expense.expense_id] = numbers
        total = pdf.pages
    assert total == sum(pages_needed(e) for e in expenses)
    return page_map, total


def build_receipts(
    path: Path | str,
    *,
    expenses: int = 8,
    seed: int = 0,
    target_mb: float | None = None,
    mix: ExpenseMix | None = None,
    month: str = "2025-03",
    truth_path: Path | str | None = None,
    style: ReceiptStyle = "stacked",
    line_moves: Literal["Td", "Tm"] = "Td",
    producer: Producer = "reportlab",
) -> dict[str, Any]:
    """Write a random Receipt Images Report to ``path`` and return (and optionally save) truth.

    ``style`` and ``producer`` choose how the text block is drawn; the truth never depends on them.
    """
    rng = random.Random(seed)
    items = random_expenses(rng, expenses, month, mix)
    page_map, pages = render_receipts(
        path, items, seed, target_mb, style=style, line_moves=line_moves, producer=producer
    )
    truth = receipts_truth(items, page_map, pages)
    if truth_path is not None:
        write_json(truth_path, truth)
    return truth
