"""The statement laid out as data: every printed line, its cells with their x, the same line padded
to fixed-width columns. The producers (reportlab in :mod:`statement`, fpdf2 in :mod:`statement_fpdf`)
only draw what this module lays out, so every producer and style prints the same text in the same
places.

Styles, for every line below the page-1 report header (see the format doc's "Producers differ"):

- ``cells``: each cell its own text object at its column's x (amounts right-aligned);
- ``line``: one text object per line, each cell placed by a ``Td`` (or ``Tm``) move inside it;
- ``words``: each word its own text object, at the x where it falls in its cell;
- ``padded``: Courier, the whole line one string, cells padded with spaces to fixed columns; the
  merchant column is exactly 18 characters with no space after it, so a full-length merchant runs
  straight into the city;
- ``joined``: rows, totals lines and card totals as one string joined by single spaces (card block
  and column header as cells).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal, get_args

from reportlab.lib.pagesizes import landscape, letter  # type: ignore[import-untyped]
from reportlab.pdfbase.pdfmetrics import stringWidth  # type: ignore[import-untyped]

from tests.builders import vocab
from tests.builders.formats import doubled, masked_card, mdy, money, short_mdy
from tests.builders.model import Card, Statement, Transaction

RowStyle = Literal["cells", "line", "words", "padded", "joined"]
ROW_STYLES: tuple[RowStyle, ...] = get_args(RowStyle)
LineMoves = Literal["Td", "Tm"]
Kind = Literal["report", "block", "header", "row", "totals", "card_total"]
Width = Callable[[str, str, float], float]
PadPart = tuple[int, int, str, bool]

PAGE_WIDTH, PAGE_HEIGHT = landscape(letter)
LEFT = 20.0
ROW_FONT, ROW_SIZE = "Helvetica", 7.0
HEAD_FONT = "Helvetica-Bold"
PAD_FONT, PAD_HEAD_FONT = "Courier", "Courier-Bold"
COURIER_EM = 0.6  # every Courier glyph is 600/1000 of the font size wide
BLOCK_SIZE = 8.0
MAX_ROWS_PER_PAGE = 16
# Card block in the padded style: label, value and the company's extra at these characters.
BLOCK_CHARS = (0, 18, 44)
CARD_NUMBER_CHAR = 22  # where the masked card number starts on a padded ``Totals For Card Nbr`` line


@dataclass(frozen=True)
class Column:
    """A statement column: header label, x of its text and alignment at that x; in the padded style
    its width in characters and the spaces after it."""

    label: str
    x: float
    right: bool = False
    chars: int = 10
    gap: int = 2


MERCHANT_X = 176.0
# An 18-character merchant name is ~77-80 pt wide in 7 pt Helvetica: the city column starts at
# 77 pt so a full-length name touches or slightly overlaps the city (the "glued" case).
MERCHANT_CITY_GAP = 77.0
COLUMNS: dict[str, Column] = {
    "trans_date": Column("Trans Date", LEFT, chars=10),
    "posted_date": Column("Posted Date", 64.0, chars=11),
    "level": Column("Lvl", 110.0, chars=3),
    "number": Column("Transaction #", 126.0, chars=13),
    "merchant": Column("Merchant Name", MERCHANT_X, chars=18, gap=0),
    "city": Column("City, State", MERCHANT_X + MERCHANT_CITY_GAP, chars=20),
    "group": Column("Merchant Group", 336.0, chars=14),
    "product": Column("Product Description", 398.0, chars=22),
    "ppu": Column("PPU/G", 556.0, right=True, chars=11),
    "quantity": Column("Quantity", 600.0, right=True, chars=8),
    "gross": Column("Gross Cost", 656.0, right=True, chars=11),
    "discount": Column("Discount", 706.0, right=True, chars=10),
    "net": Column("Net Cost", 772.0, right=True, chars=11),
}


@dataclass(frozen=True)
class Cell:
    """One printed cell: ``x`` is its left edge, or its right edge when ``right``."""

    x: float
    text: str
    font: str = ROW_FONT
    size: float = ROW_SIZE
    right: bool = False

    def left(self, width: Width = stringWidth) -> float:
        """Where the cell's text starts, measured with ``width`` (font metrics)."""
        return self.x - width(self.text, self.font, self.size) if self.right else self.x

    def words(self, width: Width = stringWidth) -> Iterator[tuple[float, str]]:
        """Each word with the x where it falls: the cell's start plus the text before it, spaces included."""
        start = self.left(width)
        for word in re.finditer(r"\S+", self.text):
            yield start + width(self.text[: word.start()], self.font, self.size), word.group()


@dataclass(frozen=True)
class Printed:
    """One printed line: its cells left to right, and the same line padded to fixed-width columns."""

    kind: Kind
    y: float
    cells: tuple[Cell, ...]
    # (first character, width, text, right-aligned) of each cell in the padded style
    pad_parts: tuple[PadPart, ...] = ()
    padded_font: str = PAD_FONT

    @property
    def padded(self) -> str:
        """The line as one fixed-width string (laid out on demand: only the padded style needs it fit)."""
        return pad(self.pad_parts)

    def joined(self) -> Cell:
        """The line as one string with single spaces, in its first cell's font, at the left margin."""
        first = self.cells[0]
        return Cell(LEFT, " ".join(c.text for c in self.cells), first.font, first.size)


@dataclass(frozen=True)
class PageLines:
    """Everything one page prints, top to bottom, and the rule under its column header."""

    card: Card
    lines: tuple[Printed, ...]
    rule: tuple[float, float, float]  # x from, x to, y


def pad(parts: Iterable[PadPart]) -> str:
    """Place ``(start, width, text, right)`` parts on one fixed-width line; a part never overflows."""
    line = ""
    for start, width, text, right in parts:
        if len(text) > width or len(line) > start:
            raise ValueError(f"{text!r} does not fit its {width}-character column at {start}: {line!r}")
        line = line.ljust(start) + (text.rjust(width) if right else text)
    return line


def char_starts(columns: Mapping[str, Column]) -> dict[str, int]:
    """The first character of each column in the padded style."""
    starts, at = {}, 0
    for key, col in columns.items():
        starts[key] = at
        at += col.chars + col.gap
    return starts


def padded_size(columns: Mapping[str, Column]) -> float:
    """The Courier size (at most the row size, in tenths) at which the widest line fits the page."""
    last = list(columns)[-1]
    chars = char_starts(columns)[last] + columns[last].chars
    fits: float = (PAGE_WIDTH - 2 * LEFT) / (COURIER_EM * chars)
    return min(ROW_SIZE, math.floor(fits * 10) / 10)


@dataclass(frozen=True)
class Line:
    """One line under the column header, before it is laid out."""

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


class StatementLayout:
    """Lays out a statement's pages line by line, for given columns."""

    def __init__(
        self,
        statement: Statement,
        *,
        columns: Mapping[str, Column] = COLUMNS,
        double_spaces: bool = False,
    ) -> None:
        if list(columns) != list(COLUMNS):
            raise ValueError(f"columns must be {list(COLUMNS)} in that order")
        self.statement = statement
        self.columns = dict(columns)
        self.double_spaces = double_spaces
        self.starts = char_starts(columns)
        self.pad_size = padded_size(columns)

    def pages(self, rows_per_page: int) -> list[PageLines]:
        """Every page's printed lines."""
        if not 1 <= rows_per_page <= MAX_ROWS_PER_PAGE:
            raise ValueError(f"rows_per_page must be 1..{MAX_ROWS_PER_PAGE}")
        return [self.page(p, first=i == 0) for i, p in enumerate(paginate(self.statement, rows_per_page))]

    def page(self, page: Page, first: bool) -> PageLines:
        """One page: report header (page 1), card block, column header, then rows and totals."""
        out: list[Printed] = []
        y = PAGE_HEIGHT - 30
        if first:
            y = self.report_header(out, y) - 14
        y = self.card_block(out, page.card, y)
        out.append(self.column_header(y))
        rule = (LEFT, self.columns["net"].x, y - 3)
        y -= 14
        for line in page.lines:
            if line.kind == "row":
                assert line.transaction is not None
                out.append(self.row(line.transaction, y))
                y -= 10
            elif line.kind == "totals":
                assert line.transaction is not None
                out.append(self.totals(line.transaction, y))
                y -= 14
            else:
                out.append(self.card_total(page.card, y - 4))
        return PageLines(page.card, tuple(out), rule)

    def report_header(self, out: list[Printed], y: float) -> float:
        """The page-1 block: title, production time, posted-date range and the filters."""
        st = self.statement
        produced = st.produced_on.strftime("%I:%M:%S%p").lstrip("0")
        out.append(Printed("report", y, (Cell(LEFT, "Cardholder Activity Report General", HEAD_FONT, 12),)))
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
            cells = (Cell(LEFT, left, size=BLOCK_SIZE), Cell(300, right, size=BLOCK_SIZE))
            out.append(Printed("report", y, cells))
        return y

    def card_block(self, out: list[Printed], card: Card, y: float) -> float:
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
            cells = [Cell(LEFT, label, HEAD_FONT, BLOCK_SIZE), Cell(LEFT + 80, value, size=BLOCK_SIZE)]
            if extra:
                cells.append(Cell(LEFT + 200, extra, size=BLOCK_SIZE))
            texts = (label, value, extra)
            parts = tuple((at, 200, text, False) for at, text in zip(BLOCK_CHARS, texts, strict=True) if text)
            out.append(Printed("block", y, tuple(cells), parts))
            y -= 10
        return y - 6

    def column_header(self, y: float) -> Printed:
        """Each column label at its column's x; padded, each label at its column's first character."""
        cells = tuple(Cell(c.x, c.label, HEAD_FONT, right=c.right) for c in self.columns.values())
        parts = tuple((self.starts[k], c.chars, c.label, False) for k, c in self.columns.items())
        return Printed("header", y, cells, parts, PAD_HEAD_FONT)

    def _cells(self, y: float, kind: Kind, texts: Mapping[str, str], lead: Cell | None = None) -> Printed:
        """A line of column cells (after ``lead``, drawn at the product column), cells and padded."""
        cells = [lead] if lead else []
        parts = [(self.starts["product"], self.columns["product"].chars, lead.text, False)] if lead else []
        for key, text in texts.items():
            col = self.columns[key]
            cells.append(Cell(col.x, text, right=col.right))
            parts.append((self.starts[key], col.chars, text, col.right))
        return Printed(kind, y, tuple(cells), tuple(parts))

    def row(self, tx: Transaction, y: float) -> Printed:
        """A transaction row."""
        return self._cells(y, "row", row_cells(tx, self.double_spaces))

    def totals(self, tx: Transaction, y: float) -> Printed:
        """The ``Transaction Totals`` line under a row."""
        amounts = {"gross": money(tx.gross), "discount": money(tx.discount), "net": money(tx.net)}
        lead = Cell(self.columns["product"].x, "Transaction Totals:")
        return self._cells(y, "totals", amounts, lead)

    def card_total(self, card: Card, y: float) -> Printed:
        """``Totals For Card Nbr`` with the card's net total."""
        total, card_number, net = money(card.total_to_print), masked_card(card.last4), self.columns["net"]
        cells = (
            Cell(LEFT, "Totals For Card Nbr:", HEAD_FONT),
            Cell(LEFT + 78, card_number, HEAD_FONT),
            Cell(net.x, total, HEAD_FONT, right=True),
        )
        # A card's total may be wider than any of its rows' amounts: it runs left from the column's end.
        width = max(net.chars, len(total))
        parts = (
            (0, 20, "Totals For Card Nbr:", False),
            (CARD_NUMBER_CHAR, 16, card_number, False),
            (self.starts["net"] + net.chars - width, width, total, True),
        )
        return Printed("card_total", y, cells, parts, PAD_HEAD_FONT)
