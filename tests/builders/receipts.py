"""Draw a Receipt Images Report, and the public receipts builder.

One expense per page: the text block down the left, one line per text run in reading order,
the first receipt image on the right; further images go two per continuation page holding
images only. Written with :class:`PdfStream` so size is bounded by disk, not memory.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.builders.expenses import Expense, ExpenseMix, random_expenses
from tests.builders.jpeg import JpegFactory
from tests.builders.pdfstream import PdfStream, Placement, TextRun
from tests.builders.truth import receipts_truth, write_json

PAGE_WIDTH, PAGE_HEIGHT = 612.0, 792.0
TEXT_X, TEXT_TOP, TEXT_PITCH, TEXT_SIZE = 36.0, 756.0, 12.0, 9.0
FIRST_PAGE_BOX = (320.0, 300.0, 256.0, 456.0)
CONTINUATION_BOXES = ((36.0, 414.0, 540.0, 342.0), (36.0, 36.0, 540.0, 342.0))
# A page's text and structure cost roughly this many bytes; used to aim at a total size.
PAGE_OVERHEAD = 1_500


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


def render_receipts(
    path: Path | str, expenses: Sequence[Expense], seed: int = 0, target_mb: float | None = None
) -> tuple[dict[str, list[int]], int]:
    """Write the report; return each expense's 1-based pages and the page count.

    ``target_mb`` (megabytes of 10^6 bytes) sizes the images so the file lands near it;
    without it images are a few kilobytes each.
    """
    images = sum(e.images for e in expenses)
    pages = sum(pages_needed(e) for e in expenses)
    budget = None
    if target_mb is not None:
        budget = max(images * 2_000, int(target_mb * 1_000_000) - pages * PAGE_OVERHEAD)
    factory = JpegFactory(seed, images, budget)
    counter = itertools.count()
    page_map: dict[str, list[int]] = {}
    with PdfStream(path, "Receipt Images Report") as pdf:
        for expense in expenses:
            jpegs = [factory.make(next(counter)) for _ in range(expense.images)]
            first = [Placement(jpegs[0], *FIRST_PAGE_BOX)] if jpegs else []
            numbers = [pdf.add_page(PAGE_WIDTH, PAGE_HEIGHT, text_runs(expense), first)]
            rest = jpegs[1:]
            for start in range(0, len(rest), 2):
                places = [
                    Placement(j, *box)
                    for j, box in zip(rest[start : start + 2], CONTINUATION_BOXES, strict=False)
                ]
                numbers.append(pdf.add_page(PAGE_WIDTH, PAGE_HEIGHT, [], places))
            page_map[expense.expense_id] = numbers
        total = pdf.pages
    assert total == pages
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
) -> dict[str, Any]:
    """Write a random Receipt Images Report to ``path`` and return (and optionally save) truth."""
    rng = random.Random(seed)
    items = random_expenses(rng, expenses, month, mix)
    page_map, pages = render_receipts(path, items, seed, target_mb)
    truth = receipts_truth(items, page_map, pages)
    if truth_path is not None:
        write_json(truth_path, truth)
    return truth
