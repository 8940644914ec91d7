"""Statement layouts are data: validated at load, and a new issuer needs no code."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from shared.errors import LayoutError
from shared.extraction.extract import extract_document
from shared.extraction.layouts import load_layouts
from tests.conftest import WritePdf
from tests.test_pdf_text import raw_pdf

SIMPLE_LAYOUT = {
    "name": "simple_bank",
    "title": "Simple Bank Card Statement",
    "detect": ["^SIMPLE BANK CARD STATEMENT"],
    "date_formats": ["%d.%m.%Y"],
    "patterns": {
        "card": ["^Card ending (?P<card_last4>\\d{4}) - (?P<cardholder>.+)$"],
        "transaction": "^(?P<transaction_date>{date}) (?P<transaction_number>\\d{6}) "
        "(?P<merchant>.+?) (?P<net>{money})$",
        "card_totals": "^Total for card (?P<card_last4>\\d{4}): (?P<total>{money})$",
    },
}


def write_layout(folder: Path, layout: dict[str, object]) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / f"{layout['name']}.json"
    path.write_text(json.dumps(layout), encoding="utf-8")
    return path


def test_builtin_layouts_load() -> None:
    """The shipped layouts validate and include the cardholder activity report."""
    names = [layout.name for layout in load_layouts()]
    assert "wex_cardholder_activity" in names


def test_second_layout_needs_no_code(tmp_path: Path, text_pdf: WritePdf) -> None:
    """A layout file alone teaches the extractor a new issuer's statement, totals checked."""
    folder = tmp_path / "layouts"
    write_layout(folder, SIMPLE_LAYOUT)
    pdf = text_pdf(
        [
            [
                "SIMPLE BANK CARD STATEMENT",
                "Card ending 4242 - ALEX ROE",
                "03.02.2025 100001 Corner Bakery 12.40",
                "28.02.2025 100002 Refund Hardware Store -5.00",
                "Total for card 4242: 7.40",
            ]
        ]
    )
    document = extract_document(pdf, layouts=load_layouts(folder))
    assert document.layout == "simple_bank"
    assert [
        (t.transaction_number, t.merchant, t.net, t.cardholder, t.card_last4) for t in document.transactions
    ] == [
        ("100001", "Corner Bakery", Decimal("12.40"), "ALEX ROE", "4242"),
        ("100002", "Refund Hardware Store", Decimal("-5.00"), "ALEX ROE", "4242"),
    ]
    assert document.transactions[1].transaction_date.isoformat() == "2025-02-28"
    assert document.checks == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"transaction": "^(?P<transaction_date>{date}) (?P<transaction_number>\\d+) (?P<merchant>.+)$"},
            "net",
        ),
        ({"transaction": "^(?P<net>{money})$"}, "transaction_date"),
        ({"card": ["^Card (?P<cardholder>.+)$"]}, "card_last4"),
        ({"transaction": "^(?P<transaction_date>[unclosed"}, "invalid regular expression"),
        ({"card_totals": "^Total (?P<sum>{money})$"}, "total"),
    ],
)
def test_incomplete_layouts_fail_at_load(tmp_path: Path, change: dict[str, object], message: str) -> None:
    """A layout missing a required group, or with a broken regex, is refused when it loads."""
    broken = {**SIMPLE_LAYOUT, "patterns": {**SIMPLE_LAYOUT["patterns"], **change}}  # type: ignore[dict-item]
    write_layout(tmp_path / "bad", broken)
    with pytest.raises(LayoutError, match=message):
        load_layouts(tmp_path / "bad")


def test_duplicate_layout_names_are_refused(tmp_path: Path) -> None:
    """Two layouts with one name would shadow each other silently; loading refuses."""
    write_layout(tmp_path / "dup", {**SIMPLE_LAYOUT, "name": "wex_cardholder_activity"})
    with pytest.raises(LayoutError, match="defined twice"):
        load_layouts(tmp_path / "dup")


def test_second_issuer_columns_cut_a_fixed_width_row(tmp_path: Path) -> None:
    """A second issuer's layout names its column header: a fixed-width row whose full-width merchant
    runs into the location is cut where the header puts the location column, with no code."""
    layout = {
        **SIMPLE_LAYOUT,
        "name": "fixed_width_bank",
        "detect": ["^FIXED BANK STATEMENT"],
        "columns": [
            {"label": "Date"},
            {"label": "Ref"},
            {"label": "Merchant", "field": "merchant", "max_chars": 12},
            {"label": "Location", "field": "city"},
            {"label": "Amount", "align": "right"},
        ],
        "patterns": {
            **SIMPLE_LAYOUT["patterns"],  # type: ignore[dict-item]
            "transaction": "^(?P<transaction_date>{date}) (?P<transaction_number>\\d{6}) "
            "(?P<merchant_city>.+?), ?(?P<state>[A-Z]{2}) (?P<net>{money})$",
            "skip": ["^FIXED BANK", "^Date\\b"],
        },
    }
    folder = tmp_path / "layouts"
    write_layout(folder, layout)
    lines = [
        "FIXED BANK STATEMENT",
        "Card ending 4321 - ANA LIMA",
        "Date        Ref     Merchant    Location          Amount",
        "01.03.2025  123456  ACME HARDWARSAN JOSE, CA      $12.00",
        "02.03.2025  123457  CAFE        NEW YORK, NY       $3.50",
        "Total for card 4321: $15.50",
    ]
    content = " ".join(f"BT /C 8 Tf 30 {700 - 12 * n} Td ({line}) Tj ET" for n, line in enumerate(lines))
    pdf = raw_pdf(tmp_path / "fixed.pdf", content)
    document = extract_document(pdf, layouts=load_layouts(folder))
    assert [(t.merchant, t.city, t.state, t.net) for t in document.transactions] == [
        ("ACME HARDWAR", "SAN JOSE", "CA", Decimal("12.00")),
        ("CAFE", "NEW YORK", "NY", Decimal("3.50")),
    ]
    assert document.checks == []


def test_columns_name_known_fields_only(tmp_path: Path) -> None:
    """A column given a field the parser does not position is refused when the layout loads."""
    folder = tmp_path / "layouts"
    write_layout(folder, {**SIMPLE_LAYOUT, "columns": [{"label": "Amount", "field": "amount"}]})
    with pytest.raises(LayoutError, match="unknown fields"):
        load_layouts(folder)
