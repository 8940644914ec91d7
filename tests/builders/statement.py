"""Draw a Cardholder Activity Report General with reportlab, and the public statement builder.

Every page repeats the card block and the column header; each transaction is a row plus its own
``Transaction Totals`` line. In the default ``cells`` style every cell is a separate text run at
its column's x (amounts right-aligned), like the report engine that produces the real file.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from reportlab.lib.pagesizes import landscape, letter  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]

from tests.builders import vocab
from tests.builders.formats import doubled, masked_card, mdy, money, short_mdy
from tests.builders.model import (
    Card,
    Mix,
    Statement,
    Transaction,
    break_one_total,
    make_people,
    make_statement,
)
from tests.builders.truth import statement_truth, write_json

RowStyle = Literal["cells", "line"]

PAGE_WIDTH, PAGE_HEIGHT = landscape(letter)
LEFT = 20.0
ROW_FONT, ROW_SIZE = "Helvetica", 7.0
HEAD_FONT = "Helvetica-Bold"
BLOCK_SIZE = 8.0
MAX_ROWS_PER_PAGE = 16


@dataclass(frozen=True)
class Column:
    """A statement column: header label, x of its text, and alignment at that x."""

    label: str
    x: float
    right: bool = False


MERCHANT_X = 176.0
# An 18-character merchant name is ~77-80 pt wide in 7 pt Helvetica: the city column starts at
# 77 pt so a full-length name touches or slightly overlaps the city (the "glued" case).
MERCHANT_CITY_GAP = 77.0
COLUMNS: dict[str, Column] = {
    "trans_date": Column("Trans Date", LEFT),
    "posted_date": Column("Posted Date", 64.0),
    "level": Column("Lvl", 110.0),
    "number": Column("Transaction #", 126.0),
    "merchant": Column("Merchant Name", MERCHANT_X),
    "city": Column("City, State", MERCHANT_X + MERCHANT_CITY_GAP),
    "group": Column("Merchant Group", 336.0),
    "product": Column("Product Description", 398.0),
    "ppu": Column("PPU/G", 556.0, right=True),
    "quantity": Column("Quantity", 600.0, right=True),
    "gross": Column("Gross Cost", 656.0, right=True),
    "discount": Column("Discount", 706.0, right=True),
    "net": Column("Net Cost", 772.0, right=True),
}


@dataclass(frozen=True)
class Line:
    """One printed line below the column header."""

    kind: Literal["row", "totals", "card_total"]
    transaction: Transaction | None = None


@dataclass
class Page:
    """One page: the card whose block it repeats and the lines under the header."""

    card: Card
    lines: list[Line]


def paginate(statement: Statement, rows_per_page: int) -> list[Page]:
    """Lay out lines on pages; a card starts a new page; split cards break between row and totals.

    A page holds ``rows_per_page`` transactions plus one line. That spare line takes the card
    total or, on a card marked ``split_totals``, the next row whose totals line then opens the
    following page.
    """
    capacity = 2 * rows_per_page + 1
    pages: list[Page] = []
    for card in statement.cards:
        page = Page(card, [])
        pages.append(page)
        for tx in card.transactions:
            room = capacity - len(page.lines)
            if room == 1 and card.split_totals:
                page.lines.append(Line("row", tx))
                page = Page(card, [Line("totals", tx)])
                pages.append(page)
                continue
            if room < 2:
                page = Page(card, [])
                pages.append(page)
            page.lines += [Line("row", tx), Line("totals", tx)]
        if len(page.lines) >= capacity:
            page = Page(card, [])
            pages.append(page)
        page.lines.append(Line("card_total"))
    return pages


def row_cells(tx: Transaction, double_spaces: bool) -> dict[str, str]:
    """The printed text of each cell of a transaction row (no entry for an empty product)."""
    merchant = tx.merchant
    cells = {
        "trans_date": mdy(tx.trans_date),
        "posted_date": mdy(tx.posted_date),
        "level": tx.level,
        "number": tx.number,
        "merchant": merchant.statement,
        "city": f"{merchant.city}, {merchant.state}",
        "group": merchant.group,
        "product": doubled(tx.product, double_spaces) if tx.product else "",
        "ppu": format(tx.unit_price, "f"),
        "quantity": format(tx.quantity, "f"),
        "gross": money(tx.gross),
        "discount": money(tx.discount),
        "net": money(tx.net),
    }
    return {key: text for key, text in cells.items() if text}


class StatementPainter:
    """Draws pages on a reportlab canvas."""

    def __init__(self, canvas: Canvas, statement: Statement, style: RowStyle, double_spaces: bool) -> None:
        self.c = canvas
        self.statement = statement
        self.style = style
        self.double_spaces = double_spaces

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
        """Draw one text run."""
        self.c.setFont(font, size)
        if right:
            self.c.drawRightString(x, y, text)
        else:
            self.c.drawString(x, y, text)

    def page(self, page: Page, first: bool) -> None:
        """Draw a whole page and close it."""
        y = PAGE_HEIGHT - 30
        if first:
            y = self.report_header(y) - 14
        y = self.card_block(page.card, y)
        y = self.column_header(y) - 14
        for line in page.lines:
            if line.kind == "row":
                assert line.transaction is not None
                self.row(line.transaction, y)
                y -= 10
            elif line.kind == "totals":
                assert line.transaction is not None
                self.totals(line.transaction, y)
                y -= 14
            else:
                self.card_total(page.card, y - 4)
        self.c.showPage()

    def report_header(self, y: float) -> float:
        """The page-1 block: title, production time, posted-date range and the filters."""
        st = self.statement
        produced = st.produced_on.strftime("%I:%M:%S%p").lstrip("0")
        self.text(LEFT, y, "Cardholder Activity Report General", font=HEAD_FONT, size=12)
        rows = (
            (f"Produced On: {short_mdy(st.produced_on.date())} {produced}", "Card Token: ALL"),
            (
                f"Posted Date between {short_mdy(st.period_start)} and {short_mdy(st.period_end)}",
                "Employee Number: ALL",
            ),
            ("Sort Order: Card Number, Trans Date", "Account Code: ALL"),
            (
                f"From Date: {short_mdy(st.period_start)}   To Date: {short_mdy(st.period_end)}",
                "Customer ID: ALL",
            ),
        )
        for left, right in rows:
            y -= 11
            self.text(LEFT, y, left, size=BLOCK_SIZE)
            self.text(300, y, right, size=BLOCK_SIZE)
        return y

    def card_block(self, card: Card, y: float) -> float:
        """The five lines naming the account, customer, card, holder and employee id."""
        co = vocab.COMPANY
        pairs = (
            ("Account Code:", f"{co.account_code} - {co.name}", co.name),
            ("Customer ID:", co.customer_id, co.street),
            ("Card Number:", masked_card(card.last4), co.city_line),
            ("Cardholder Name:", card.person.cardholder, ""),
            ("Employee ID:", card.person.employee_id, ""),
        )
        for label, value, extra in pairs:
            self.text(LEFT, y, label, font=HEAD_FONT, size=BLOCK_SIZE)
            self.text(LEFT + 80, y, value, size=BLOCK_SIZE)
            if extra:
                self.text(LEFT + 200, y, extra, size=BLOCK_SIZE)
            y -= 10
        return y - 6

    def column_header(self, y: float) -> float:
        """Each column label as its own run at its column's x, then a rule."""
        for col in COLUMNS.values():
            self.text(col.x, y, col.label, font=HEAD_FONT, right=col.right)
        self.c.setLineWidth(0.5)
        self.c.line(LEFT, y - 3, COLUMNS["net"].x, y - 3)
        return y

    def row(self, tx: Transaction, y: float) -> None:
        """A transaction row, cell by cell or as one string."""
        cells = row_cells(tx, self.double_spaces)
        if self.style == "line":
            self.text(LEFT, y, " ".join(cells[k] for k in COLUMNS if k in cells))
            return
        for key, text in cells.items():
            col = COLUMNS[key]
            self.text(col.x, y, text, right=col.right)

    def totals(self, tx: Transaction, y: float) -> None:
        """The ``Transaction Totals`` line under a row."""
        amounts = (money(tx.gross), money(tx.discount), money(tx.net))
        if self.style == "line":
            self.text(LEFT, y, "Transaction Totals: " + " ".join(amounts))
            return
        self.text(COLUMNS["product"].x, y, "Transaction Totals:")
        for key, text in zip(("gross", "discount", "net"), amounts, strict=True):
            self.text(COLUMNS[key].x, y, text, right=True)

    def card_total(self, card: Card, y: float) -> None:
        """``Totals For Card Nbr`` with the card's net total."""
        total = money(card.total_to_print)
        if self.style == "line":
            self.text(LEFT, y, f"Totals For Card Nbr: {masked_card(card.last4)} {total}", font=HEAD_FONT)
            return
        self.text(LEFT, y, "Totals For Card Nbr:", font=HEAD_FONT)
        self.text(LEFT + 78, y, masked_card(card.last4), font=HEAD_FONT)
        self.text(COLUMNS["net"].x, y, total, font=HEAD_FONT, right=True)


def render_statement(
    path: Path | str,
    statement: Statement,
    rows_per_page: int = 9,
    row_style: RowStyle = "cells",
    product_double_spaces: bool = False,
) -> int:
    """Write ``statement`` as a PDF and return its page count."""
    if not 1 <= rows_per_page <= MAX_ROWS_PER_PAGE:
        raise ValueError(f"rows_per_page must be 1..{MAX_ROWS_PER_PAGE}")
    if row_style not in ("cells", "line"):
        raise ValueError(f"unknown row_style {row_style!r}")
    canvas = Canvas(str(path), pagesize=(PAGE_WIDTH, PAGE_HEIGHT), invariant=True)
    canvas.setTitle("Cardholder Activity Report General")
    canvas.setCreator("ccproc test builders")
    painter = StatementPainter(canvas, statement, row_style, product_double_spaces)
    pages = paginate(statement, rows_per_page)
    for index, page in enumerate(pages):
        painter.page(page, first=index == 0)
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
) -> dict[str, Any]:
    """Write a random statement PDF to ``path`` and return (and optionally save) its truth.

    ``page_break_totals`` is the share of cards on which a page break falls between a row and
    its ``Transaction Totals`` line (1.0: every card long enough to need a second page).
    """
    rng = random.Random(seed)
    counts = [per_card] * cards if isinstance(per_card, int) else list(per_card)
    if len(counts) != cards:
        raise ValueError("per_card needs one count per card")
    people = make_people(rng, cards)
    statement = make_statement(rng, people, counts, month=month, mix=mix, split_rate=page_break_totals)
    broken = [break_one_total(rng, statement)] if bad_card_total else []
    pages = render_statement(path, statement, rows_per_page, row_style, product_double_spaces)
    truth = statement_truth(statement, pages, broken)
    if truth_path is not None:
        write_json(truth_path, truth)
    return truth
