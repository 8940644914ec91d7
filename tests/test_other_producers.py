"""Documents written by another PDF library (fpdf2) read the same: the parser follows the format,
not the way our own builders happen to draw it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from fpdf import FPDF

from shared.extraction.extract import extract_document
from tests.test_parse_expenses import EXAMPLE

CARD_BLOCK = [
    "Cardholder Activity Report General",
    "Posted Date between 3/1/2025 and 3/31/2025",
    "Account Code: Z-11Q - EXAMPLE CO, LLC",
    "Card Number: 999999XXXXXX0001 ANYTOWN, TX 77000-0000",
    "Cardholder Name: JANEDOE",
    "Employee ID: 100001",
]
LEFT = (
    20,
    64,
    110,
    126,
    176,
    253,
    336,
    398,
)  # left edges: dates, level, number, merchant, city, group, product
RIGHT = (556, 600, 656, 706, 772)  # right edges: PPU/G, quantity, gross, discount, net


def test_statement_cells_from_fpdf2(tmp_path: Path) -> None:
    """Cells placed one by one with text(), amounts right-aligned: the row reads whole and exact."""
    pdf = FPDF(orientation="L", unit="pt", format="letter")
    pdf.add_page()
    pdf.set_font("Helvetica", size=7)
    y = 30.0
    for line in CARD_BLOCK:
        pdf.text(20, y, line)
        y += 10
    cells = (
        "03/07/2025",
        "03/08/2025",
        "F",
        "000111003",
        "TRUCK PARTS DIRECT",
        "HOUSTON, TX",
        "FUEL",
        "DD22 LLSS",
    )
    amounts = ("3.10900", "20.00", "$1,062.18", "$0.20", "$1,061.98")
    for x, text in zip(LEFT, cells, strict=True):
        pdf.text(x, y, text)
    for x, text in zip(RIGHT, amounts, strict=True):
        pdf.text(x - pdf.get_string_width(text), y, text)
    pdf.text(398, y + 10, "Transaction Totals:")
    for x, text in zip(RIGHT[2:], amounts[2:], strict=True):
        pdf.text(x - pdf.get_string_width(text), y + 10, text)
    pdf.text(20, y + 24, "Totals For Card Nbr: 999999XXXXXX0001")
    pdf.text(772 - pdf.get_string_width("$1,061.98"), y + 24, "$1,061.98")
    path = tmp_path / "statement.pdf"
    pdf.output(str(path))

    document = extract_document(path)
    (row,) = document.transactions
    assert (row.merchant, row.city, row.state, row.merchant_group, row.product) == (
        "TRUCK PARTS DIRECT",
        "HOUSTON",
        "TX",
        "FUEL",
        "D2 LS",
    )
    assert (row.net, row.gross, row.card_last4, row.cardholder) == (
        Decimal("1061.98"),
        Decimal("1062.18"),
        "0001",
        "JANEDOE",
    )
    assert document.checks == []


def test_receipts_block_from_fpdf2_multi_cell(tmp_path: Path) -> None:
    """An expense page written as one text block (multi_cell) reads like the format's example."""
    pdf = FPDF(unit="pt", format="letter")
    for _ in range(2):
        pdf.add_page()
        pdf.set_font("Helvetica", size=9)
        pdf.multi_cell(300, 11, "\n".join(EXAMPLE))
    path = tmp_path / "receipts.pdf"
    pdf.output(str(path))

    document = extract_document(path)
    assert [(e.expense_id, e.amount, e.pages) for e in document.expenses] == [
        ("90000001", Decimal("61.98"), [1]),
        ("90000001", Decimal("61.98"), [2]),
    ]
    assert document.expenses[0].coding.complete
    assert document.warnings == []
