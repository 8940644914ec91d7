"""Documents drawn the ways other producers draw them read back exactly (format docs, "Producers differ").

Each statement and receipts report is drawn with one text object per cell (``cells``), one per line
with ``Td`` or ``Tm`` moves (``line``), one per word (``words``) or one padded Courier string per
line (``padded``), by reportlab or our streamed writer and by fpdf2; extraction must return exactly
the builders' truth, with no warnings, whichever way it was drawn.
"""

from __future__ import annotations

import datetime as dt
import random
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from reportlab.pdfbase.pdfmetrics import stringWidth  # type: ignore[import-untyped]

from shared.extraction.extract import extract_document
from tests.builders import vocab
from tests.builders.expenses import Expense, ExpenseMix, random_expenses
from tests.builders.formats import cents, money
from tests.builders.model import Card, Mix, Person, Statement, Transaction, make_people, make_statement
from tests.builders.receipts import render_receipts
from tests.builders.statement import LineMoves, Producer, render_statement
from tests.builders.statement_lines import (
    COLUMNS,
    HEAD_FONT,
    LEFT,
    PAGE_WIDTH,
    ROW_FONT,
    ROW_SIZE,
    Column,
    row_cells,
)
from tests.builders.truth import receipts_truth, statement_truth
from tests.builders.vocab import Merchant
from tests.scoring import MONEY_FIELDS

Style = Literal["cells", "line", "words", "padded"]  # the styles both documents are drawn in
Draw = tuple[Style, Producer, LineMoves]
DRAWS: tuple[Draw, ...] = (
    ("cells", "reportlab", "Td"),
    ("line", "reportlab", "Td"),
    ("line", "reportlab", "Tm"),
    ("words", "reportlab", "Td"),
    ("padded", "reportlab", "Td"),
    ("cells", "fpdf2", "Td"),
    ("words", "fpdf2", "Td"),
    ("padded", "fpdf2", "Td"),
)
IDS = [
    f"{style}-{moves}-{producer}" if style == "line" else f"{style}-{producer}"
    for style, producer, moves in DRAWS
]

# Full-length (18-character) merchants and cities of several words, as the vocabulary has too few.
ODD_MERCHANTS = (
    Merchant(
        "WIDGETWORKS LUMBER", "MISC", "misc", "FALLOWCREST", "TX", "1 MILL RD", "77001", ("Widgetworks",)
    ),
    Merchant(
        "CORVID FEED & SEED", "MISC", "misc", "NEW CORVIDHAVEN", "TX", "9 CROW LN", "77002", ("Corvid",)
    ),
    Merchant(
        "HARBOR MARINE SUPP", "MISC", "misc", "PORT SAN LUCIANA", "TX", "2 DOCK ST", "77003", ("Harbor",)
    ),
    Merchant("QUIK STOP #7", "FUEL", "fuel", "SAN LUIS DEL MAR", "NM", "7 HWY 1", "87001", ("Quik Stop",)),
)


def normal(record: Mapping[str, Any]) -> dict[str, Any]:
    """Money compared as Decimal, everything else as JSON."""
    return {k: Decimal(v) if k in MONEY_FIELDS and v is not None else v for k, v in record.items()}


def producer_statement() -> Statement:
    """Three cards on several pages: odd merchants and cities, amounts of every width, credits, no product."""
    rng = random.Random(31)
    mix = Mix(credit_rate=0.3, no_product_rate=0.3, long_merchant_rate=0.5)
    statement = make_statement(rng, make_people(rng, 3), [7, 5, 5], mix=mix)
    statement.cards[0].split_totals = True  # a Transaction Totals line opens a page
    rows = [tx for card in statement.cards for tx in card.transactions]
    for tx, merchant in zip(rows[::3], ODD_MERCHANTS, strict=False):
        tx.merchant = merchant
    for tx, amount in zip(rows[1::4], ("12345.67", "0.01", "-0.45", "-1234.50"), strict=False):
        tx.set_plain_amount(Decimal(amount))
    rows[2].product = None
    return statement


def producer_expenses() -> list[Expense]:
    """Twelve expenses: missing and several attachments, partial and missing coding, refunds, no purpose."""
    mix = ExpenseMix(
        missing_attachment_rate=0.25,
        multi_page_rate=0.25,
        refund_rate=0.2,
        no_purpose_rate=0.25,
        coding_weights=(0.3, 0.3, 0.25, 0.15),
    )
    expenses = random_expenses(random.Random(41), 12, mix=mix)
    expenses[0].employee_name = "María J. Garza"
    return expenses


def test_fixtures_cover_what_the_styles_must_survive() -> None:
    """The statement and expenses below hold every case the producer tests are named for."""
    rows = statement_truth(producer_statement(), 1, [])["transactions"]
    assert sum(len(r["merchant"]) == 18 for r in rows) >= 3
    assert any(r["city"] == "NEW CORVIDHAVEN" for r in rows)
    assert any(r["product"] is None for r in rows)
    assert any(r["net"].startswith("-") for r in rows)
    assert {"12345.67", "0.01"} <= {r["net"] for r in rows}
    expenses = producer_expenses()
    codings = [e.coding for e in expenses]
    assert {c.type for c in codings} == {"job", "gl", None}
    assert any(c.type and not c.complete for c in codings)
    assert any(not e.attachments for e in expenses)
    assert any(len(e.attachments) > 1 or e.images > 1 for e in expenses)
    assert any(e.amount < 0 for e in expenses)
    assert any(e.purpose is None for e in expenses)


@pytest.mark.parametrize(("style", "producer", "moves"), DRAWS, ids=IDS)
def test_statement_reads_back_in_every_style(
    tmp_path: Path, style: Style, producer: Producer, moves: LineMoves
) -> None:
    """Every row, every field, in order, from a statement drawn in this style; no checks, no warnings."""
    statement = producer_statement()
    pdf = tmp_path / "statement.pdf"
    pages = render_statement(pdf, statement, 4, style, producer=producer, line_moves=moves)
    truth = statement_truth(statement, pages, [])
    document = extract_document(pdf).model_dump(mode="json")
    assert (document["kind"], document["pages"]) == ("cardholder_activity", pages)
    assert [normal(t) for t in document["transactions"]] == [normal(t) for t in truth["transactions"]]
    assert document["checks"] == []
    assert document["warnings"] == []


@pytest.mark.parametrize(("style", "producer", "moves"), DRAWS, ids=IDS)
def test_receipts_read_back_in_every_style(
    tmp_path: Path, style: Style, producer: Producer, moves: LineMoves
) -> None:
    """Every expense, every field and page, from a receipts report drawn as a form in this style."""
    expenses = producer_expenses()
    pdf = tmp_path / "receipts.pdf"
    page_map, pages = render_receipts(pdf, expenses, 5, style=style, line_moves=moves, producer=producer)
    truth = receipts_truth(expenses, page_map, pages)
    document = extract_document(pdf).model_dump(mode="json")
    assert (document["kind"], document["pages"]) == ("receipt_images", pages)
    assert [normal(e) for e in document["receipts"]] == [normal(e) for e in truth["receipts"]]
    assert document["warnings"] == []


# --- any column positions, any merchant, any amount ----------------------------------------------------

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
PRODUCTS = sorted({p for products in vocab.PRODUCTS.values() for p in products})
GROUPS = sorted({m.group for m in vocab.MERCHANTS})
PERSON = Person("JANE", "DOE", "Jane Doe", "100001", "1000001")


@st.composite
def merchant_names(draw: st.DrawFn) -> str:
    """A merchant as printed: words of letters, digits and ``#&-``; half of them exactly 18 characters."""
    words = draw(st.lists(st.text(LETTERS + "0123456789#&-", min_size=1, max_size=8), min_size=1, max_size=4))
    name = " ".join(words)
    if draw(st.booleans()):
        name = (name + " " + draw(st.text(LETTERS, min_size=18, max_size=18)))[:18]
        return name[:-1] + "X" if name.endswith(" ") else name
    return name[:17].rstrip()


@st.composite
def transactions(draw: st.DrawFn, number: str) -> Transaction:
    """A row at any merchant and city, charging $0.01 ... $12,345.67, maybe a credit, maybe no product."""
    words = draw(st.lists(st.text(LETTERS, min_size=2, max_size=11), min_size=1, max_size=3))
    city = " ".join(words)[:22].rstrip()
    merchant = Merchant(
        draw(merchant_names()),
        draw(st.sampled_from(GROUPS)),
        "misc",
        city,
        draw(st.sampled_from(["TX", "LA", "NM"])),
        "",
        "",
        (),
    )
    day = dt.date(2025, 3, draw(st.integers(1, 28)))
    posted = day + dt.timedelta(days=draw(st.integers(0, 3)))
    product = draw(st.none() | st.sampled_from(PRODUCTS))
    zero = Decimal("0.00")
    tx = Transaction(number, day, posted, "N", merchant, product, zero, zero, zero, zero)
    credit = draw(st.booleans())
    if draw(st.booleans()):  # fuel: price per gallon, gallons, maybe a discount
        ppu = (Decimal(draw(st.integers(2_799, 3_899))) / 1000).quantize(Decimal("0.00001"))
        quantity = Decimal(draw(st.integers(1, 400_000))).scaleb(-2)
        tx.level, tx.unit_price, tx.quantity = (
            ("L" if credit else "F"),
            ppu,
            -quantity if credit else quantity,
        )
        tx.gross = cents(ppu * tx.quantity)
        assume(tx.gross != 0)
        tx.discount = zero if credit or draw(st.booleans()) else cents(quantity * Decimal("0.05"))
    else:
        gross = Decimal(draw(st.integers(1, 1_234_567))).scaleb(-2)
        tx.set_plain_amount(-gross if credit else gross)
    return tx


def spread_columns(
    rows: Sequence[Mapping[str, str]], total: str, room: Sequence[int], glue: float, extra: Sequence[int]
) -> tuple[dict[str, Column], float]:
    """Columns as wide as their widest text plus ``room``; the city starts ``glue`` pt past the widest
    merchant's end (negative: overlapping it); padded widths ``extra`` characters wider than needed."""
    x, out = LEFT, {}
    for (key, col), space, more in zip(COLUMNS.items(), room, extra, strict=True):
        texts = [r[key] for r in rows if key in r] + ([total] if key == "net" else [])
        label = stringWidth(col.label, HEAD_FONT, ROW_SIZE)
        widest = max([label, *(stringWidth(t, ROW_FONT, ROW_SIZE) for t in texts)])
        chars = max(len(t) for t in [col.label, *texts]) + more
        if key == "merchant":
            out[key] = replace(col, x=x, chars=18, gap=0)
            merchants = [stringWidth(t, ROW_FONT, ROW_SIZE) for t in texts]
            x += max(label + 3, max(merchants) + glue)
            continue
        out[key] = replace(col, x=x + widest if col.right else x, chars=chars)
        x += widest + space
    return out, x


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    count=st.integers(1, 6),
    draw_as=st.sampled_from(DRAWS),
    room=st.lists(st.integers(3, 14), min_size=13, max_size=13),
    glue=st.floats(-1.5, 6),
    extra=st.lists(st.integers(0, 3), min_size=13, max_size=13),
    rows_per_page=st.integers(2, 9),
    split=st.booleans(),
)
def test_any_layout_reads_back(
    *,
    data: st.DataObject,
    count: int,
    draw_as: Draw,
    room: list[int],
    glue: float,
    extra: list[int],
    rows_per_page: int,
    split: bool,
) -> None:
    """One card in any style, columns anywhere, 18-character merchants, any city and amount: rows exact."""
    style, producer, moves = draw_as
    rows = [data.draw(transactions(f"{500_000_000 + i * 1_234_567:09d}")) for i in range(count)]
    rows.sort(key=lambda t: (t.trans_date, t.posted_date, t.number))
    card = Card("0042", PERSON, rows, split_totals=split)
    statement = Statement(
        dt.date(2025, 3, 1), dt.date(2025, 3, 31), dt.datetime(2025, 4, 2, 8, 14, 7), [card]
    )
    cells = [row_cells(tx, False) for tx in rows]
    columns, right_edge = spread_columns(cells, money(card.total_net), room, glue, extra)
    assume(right_edge <= PAGE_WIDTH - LEFT)
    with tempfile.TemporaryDirectory() as folder:
        pdf = Path(folder) / "statement.pdf"
        pages = render_statement(
            pdf, statement, rows_per_page, style, producer=producer, line_moves=moves, columns=columns
        )
        document = extract_document(pdf).model_dump(mode="json")
    truth = statement_truth(statement, pages, [])
    assert [normal(t) for t in document["transactions"]] == [normal(t) for t in truth["transactions"]]
    assert document["checks"] == []
    assert document["warnings"] == []
