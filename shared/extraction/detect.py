"""Stage 2 — detect what a PDF is from its first page of text."""

from __future__ import annotations

from collections.abc import Sequence

from shared.errors import UnrecognisedDocumentError
from shared.extraction.expenses import EXPENSE_START
from shared.extraction.layouts import StatementLayout
from shared.models import DocumentKind
from shared.pdf.read import PageText
from shared.values import mask_card_numbers


def detect(page: PageText, layouts: Sequence[StatementLayout]) -> tuple[DocumentKind, StatementLayout | None]:
    """The kind of document (and the statement layout) `page` begins."""
    lines = page.lines()
    if any(EXPENSE_START.match(line) for line in lines[:40]):
        return DocumentKind.RECEIPT_IMAGES, None
    text = "\n".join(row.text for row in page.rows())
    for layout in layouts:
        if all(pattern.search(text) for pattern in layout.compiled.detect):
            return DocumentKind.CARDHOLDER_ACTIVITY, layout
    expected = " or ".join(f"a {layout.title}" for layout in layouts)
    opening = mask_card_numbers(" ".join(lines[:3]))[:80]
    raise UnrecognisedDocumentError(
        f"unrecognised document: expected {expected} statement or a Receipt Images Report "
        f"(page {page.number} begins {opening!r})"
    )
