"""Draw a Cardholder Activity Report General with reportlab, and the public statement builder.

Every page repeats the card block and the column header; each transaction is a row plus its own
``Transaction Totals`` line. :mod:`tests.builders.statement_lines` lays the lines out; this module
draws them in one of the producer styles (``cells``, the default, like the report engine that
produces the real file; ``line``, ``words``, ``padded``, ``joined``). ``producer="fpdf2"`` draws the
same lines with fpdf2 instead (:mod:`tests.builders.statement_fpdf`).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]

from tests.builders.model import Mix, Statement, break_one_total, make_people, make_statement
from tests.builders.statement_lines import (
    COLUMNS,
    HEAD_FONT,
    LEFT,
    MAX_ROWS_PER_PAGE,
    MERCHANT_CITY_GAP,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    ROW_FONT,
    ROW_SIZE,
    ROW_STYLES,
    Cell,
    Column,
    LineMoves,
    PageLines,
    Printed,
    RowStyle,
    StatementLayout,
)
from tests.builders.truth import statement_truth, write_json

Producer = Literal["reportlab", "fpdf2"]
__all__ = [
    "COLUMNS",
    "HEAD_FONT",
    "MAX_ROWS_PER_PAGE",
    "MERCHANT_CITY_GAP",
    "ROW_FONT",
    "ROW_SIZE",
    "Column",
    "LineMoves",
    "Producer",
    "RowStyle",
    "build_statement",
    "render_statement",
]


class StatementPainter:
    """Draws laid-out pages on a reportlab canvas in one style."""

    def __init__(self, canvas: Canvas, style: RowStyle, moves: LineMoves, pad_size: float) -> None:
        self.c = canvas
        self.style = style
        self.moves = moves
        self.pad_size = pad_size
        self._font: tuple[str, float] | None = None

    def text(
        self,
        x: float,
        y: float,
        text: str,
        *,
        font: str = ROW_FONT,
        size: float = ROW_SIZE,
        right: bool = False,
    ) -> None:
        """Draw one text run (its own text object), setting the font first."""
        self.c.setFont(font, size)
        if right:
            self.c.drawRightString(x, y, text)
        else:
            self.c.drawString(x, y, text)

    def set_font(self, font: str, size: float) -> None:
        """Set the font unless it is already set (the new styles need not repeat it per run)."""
        if self._font != (font, size):
            self.c.setFont(font, size)
            self._font = (font, size)

    def page(self, page: PageLines) -> None:
        """Draw a whole page and close it."""
        self._font = None
        for printed in page.lines:
            self.line(printed)
            if printed.kind == "header":
                x0, x1, y = page.rule
                self.c.setLineWidth(0.5)
                self.c.line(x0, y, x1, y)
        self.c.showPage()

    def line(self, printed: Printed) -> None:
        """One printed line in the painter's style (report header lines always as cells)."""
        style = "cells" if printed.kind == "report" else self.style
        y = printed.y
        if style == "joined" and printed.kind in ("row", "totals", "card_total"):
            cell = printed.joined()
            self.text(cell.x, y, cell.text, font=cell.font, size=cell.size)
        elif style in ("cells", "joined"):
            for cell in printed.cells:
                self.text(cell.x, y, cell.text, font=cell.font, size=cell.size, right=cell.right)
        elif style == "padded":
            self.set_font(printed.padded_font, self.pad_size)
            self.c.drawString(LEFT, y, printed.padded)
        elif style == "words":
            for cell in printed.cells:
                self.set_font(cell.font, cell.size)
                for x, word in cell.words():
                    self.c.drawString(x, y, word)
        else:
            self.text_object(printed.cells, y)

    def text_object(self, cells: Sequence[Cell], y: float) -> None:
        """One ``BT .. ET`` for the line: each cell placed by a ``Td`` (relative) or ``Tm`` move."""
        first = cells[0]
        self.set_font(first.font, first.size)
        obj = self.c.beginText(first.left(), y)
        font = (first.font, first.size)
        previous = first.left()
        for index, cell in enumerate(cells):
            if (cell.font, cell.size) != font:
                obj.setFont(cell.font, cell.size)
                font = (cell.font, cell.size)
            if index:
                if self.moves == "Tm":
                    obj.setTextOrigin(cell.left(), y)
                else:
                    obj.moveCursor(cell.left() - previous, 0)
                previous = cell.left()
            obj.textOut(cell.text)
        self.c.drawText(obj)
        if font != (first.font, first.size):
            self._font = None  # the canvas still believes in the first font: set it again next time


def render_statement(
    path: Path | str,
    statement: Statement,
    rows_per_page: int = 9,
    row_style: RowStyle = "cells",
    product_double_spaces: bool = False,
    *,
    producer: Producer = "reportlab",
    line_moves: LineMoves = "Td",
    columns: Mapping[str, Column] = COLUMNS,
) -> int:
    """Write ``statement`` as a PDF and return its page count.

    ``line_moves`` says how the ``line`` style places cells inside a line's text object: ``Td``
    (relative moves) or ``Tm`` (absolute matrices). ``columns`` moves the columns (x, and widths
    in characters for ``padded``).
    """
    if row_style not in ROW_STYLES:
        raise ValueError(f"unknown row_style {row_style!r}")
    layout = StatementLayout(statement, columns=columns, double_spaces=product_double_spaces)
    pages = layout.pages(rows_per_page)
    if producer == "fpdf2":
        from tests.builders.statement_fpdf import draw_statement_fpdf

        draw_statement_fpdf(path, pages, row_style, layout.pad_size)
        return len(pages)
    if producer != "reportlab":
        raise ValueError(f"unknown producer {producer!r}")
    canvas = Canvas(str(path), pagesize=(PAGE_WIDTH, PAGE_HEIGHT), invariant=True)
    canvas.setTitle("Cardholder Activity Report General")
    canvas.setCreator("ccproc test builders")
    painter = StatementPainter(canvas, row_style, line_moves, layout.pad_size)
    for page in pages:
        painter.page(page)
    canvas.save()
    return len(pages)


def build_statement(
    path: Path | str,
    *,
    cards: int = 3,
    per_card: int | Sequence[int] = 6,
    seed: int = 0,
    rows_per_page: int = 9,
    row_style: RowStyle = "cells",
    bad_card_total: bool = False,
    page_break_totals: float = 0.3,
    product_double_spaces: bool = False,
    mix: Mix | None = None,
    month: str = "2025-03",
    truth_path: Path | str | None = None,
    producer: Producer = "reportlab",
    line_moves: LineMoves = "Td",
) -> dict[str, Any]:
    """Write a random statement PDF to ``path`` and return (and optionally save) its truth.

    ``page_break_totals`` is the share of cards on which a page break falls between a row and
    its ``Transaction Totals`` line (1.0: every card long enough to need a second page).
    ``row_style`` and ``producer`` choose how the lines are drawn; the truth never depends on them.
    """
    rng = random.Random(seed)
    counts = [per_card] * cards if isinstance(per_card, int) else list(per_card)
    if len(counts) != cards:
        raise ValueError("per_card needs one count per card")
    people = make_people(rng, cards)
    statement = make_statement(rng, people, counts, month=month, mix=mix, split_rate=page_break_totals)
    broken = [break_one_total(rng, statement)] if bad_card_total else []
    pages = render_statement(
        path,
        statement,
        rows_per_page,
        row_style,
        product_double_spaces,
        producer=producer,
        line_moves=line_moves,
    )
    truth = statement_truth(statement, pages, broken)
    if truth_path is not None:
        write_json(truth_path, truth)
    return truth
