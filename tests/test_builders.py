"""Sanity tests of the fixture builders themselves (not of the product's parsers)."""

from __future__ import annotations

import datetime as dt
import json
import random
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader
from reportlab.pdfbase.pdfmetrics import stringWidth  # type: ignore[import-untyped]

from tests.builders import build_month, build_receipts, build_statement, vocab
from tests.builders.drawn import base_fonts, placed, producer, text_objects
from tests.builders.expenses import Expense, ExpenseMix, random_expenses
from tests.builders.formats import doubled, money
from tests.builders.golden import CASES, GOLDEN_DIR, _totals_open_a_page
from tests.builders.model import Mix
from tests.builders.receipts import ReceiptStyle, render_receipts
from tests.builders.receipts_form import SLOT_X, form_lines
from tests.builders.statement import (
    COLUMNS,
    MERCHANT_CITY_GAP,
    ROW_FONT,
    ROW_SIZE,
    LineMoves,
    Producer,
    RowStyle,
)
from tests.builders.statement_lines import (
    COURIER_EM,
    LEFT,
    PAGE_WIDTH,
    char_starts,
    padded_size,
)

SIXTEEN_DIGITS = re.compile(rb"(?<!\d)\d{16}(?!\d)")


def _text(pdf: Path, mode: Literal["plain", "layout"] = "plain") -> list[str]:
    return [p.extract_text(extraction_mode=mode) for p in PdfReader(pdf, strict=True).pages]


def _dec(value: str) -> Decimal:
    return Decimal(value)


def test_statement_same_seed_same_bytes(tmp_path: Path) -> None:
    """A statement is a pure function of its options: same seed, same bytes and truth."""
    a = build_statement(tmp_path / "a.pdf", cards=2, per_card=7, seed=5, bad_card_total=True)
    b = build_statement(tmp_path / "b.pdf", cards=2, per_card=7, seed=5, bad_card_total=True)
    c = build_statement(tmp_path / "c.pdf", cards=2, per_card=7, seed=6)
    assert a == b
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()
    assert a["transactions"] != c["transactions"]


def test_receipts_same_seed_same_bytes(tmp_path: Path) -> None:
    """A receipts file is a pure function of its options, target size included."""
    a = build_receipts(tmp_path / "a.pdf", expenses=6, seed=9, target_mb=0.3)
    b = build_receipts(tmp_path / "b.pdf", expenses=6, seed=9, target_mb=0.3)
    assert a == b
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()


def test_statement_truth_is_internally_consistent(tmp_path: Path) -> None:
    """Net = gross - discount, card totals add up, numbers are unique, PPU/G and levels agree."""
    truth = build_statement(tmp_path / "s.pdf", cards=4, per_card=[3, 20, 9, 12], seed=3)
    rows = truth["transactions"]
    numbers = [r["transaction_number"] for r in rows]
    assert len(set(numbers)) == len(numbers)
    assert all(re.fullmatch(r"\d{9}", n) for n in numbers)
    for r in rows:
        gross, qty, ppu = _dec(r["gross"]), _dec(r["quantity"]), _dec(r["unit_price"])
        assert _dec(r["net"]) == gross - _dec(r["discount"])
        assert (qty < 0) == (gross < 0)
        assert re.fullmatch(r"\d+\.\d{5}", r["unit_price"])
        assert re.fullmatch(r"-?\d+\.\d{2}", r["quantity"])
        if r["level"] == "N":
            assert ppu == abs(gross)
            assert abs(qty) == 1
        else:
            assert (ppu * qty).quantize(Decimal("0.01"), "ROUND_HALF_UP") == gross
            assert (r["level"] == "L") == (gross < 0)
        assert r["product"] is None or r["product"] == r["product"].upper()
    for card in truth["cards"]:
        nets = [_dec(r["net"]) for r in rows if r["card_last4"] == card["card_last4"]]
        assert _dec(card["total_net"]) == sum(nets)
    assert truth["expected_checks"] == []


def test_bad_card_total_is_printed_and_listed(tmp_path: Path) -> None:
    """With bad_card_total one card prints a wrong total, and the truth lists that card."""
    truth = build_statement(tmp_path / "s.pdf", cards=3, per_card=4, seed=1, bad_card_total=True)
    (check,) = truth["expected_checks"]
    card = next(c for c in truth["cards"] if c["card_last4"] == check["card_last4"])
    assert check["computed_total"] == card["total_net"] != check["printed_total"]
    text = "\n".join(_text(tmp_path / "s.pdf"))
    assert money(_dec(check["printed_total"])) in text.splitlines()


@pytest.mark.parametrize("style", ["cells", "joined"])
def test_statement_text_is_extractable(tmp_path: Path, style: Literal["cells", "joined"]) -> None:
    """pypdf reads back every row's number, the totals lines, card blocks and column header."""
    pdf = tmp_path / "s.pdf"
    truth = build_statement(pdf, cards=3, per_card=[4, 12, 2], seed=8, row_style=style)
    pages = _text(pdf)
    assert len(pages) == truth["pages"]
    text = "\n".join(pages)
    assert text.count("Transaction Totals:") == len(truth["transactions"])
    assert text.count("Totals For Card Nbr:") == len(truth["cards"])
    assert text.count("Net Cost") == truth["pages"]
    for page in pages:
        assert "Cardholder Name:" in page
        assert "Employee ID:" in page
    for r in truth["transactions"]:
        assert r["transaction_number"] in text
    if style == "joined":
        first = truth["transactions"][0]
        row = next(line for line in text.splitlines() if first["transaction_number"] in line)
        assert row.startswith(dt.date.fromisoformat(first["transaction_date"]).strftime("%m/%d"))
        assert row.endswith(money(_dec(first["net"])))


def test_page_break_can_separate_row_and_totals(tmp_path: Path) -> None:
    """page_break_totals=1.0 puts some row's totals line at the top of the next page."""
    pdf = tmp_path / "s.pdf"
    build_statement(pdf, cards=1, per_card=14, seed=2, page_break_totals=1.0)
    assert _totals_open_a_page({}, pdf)


def test_full_length_merchants_touch_the_city_column() -> None:
    """Every 18-character merchant name ends within 3.5 pt past the city column's x."""
    gap = COLUMNS["city"].x - COLUMNS["merchant"].x
    assert gap == MERCHANT_CITY_GAP
    for merchant in vocab.MERCHANTS:
        assert len(merchant.statement) <= 18
        if len(merchant.statement) == 18:
            width = stringWidth(merchant.statement, ROW_FONT, ROW_SIZE)
            assert gap <= width <= gap + 3.5, merchant.statement


def test_typed_merchants_differ_from_the_statement() -> None:
    """Employees never type a merchant exactly as the statement prints it."""
    for merchant in vocab.MERCHANTS:
        assert merchant.statement not in merchant.typed


def test_no_sixteen_digit_number_anywhere(tmp_path: Path) -> None:
    """No full card number in the PDF bytes or their extracted text, nor in any truth."""
    truth = build_month(tmp_path, seed=4)
    for name in ("statement.pdf", "receipts.pdf"):
        pdf = tmp_path / name
        assert not SIXTEEN_DIGITS.search(pdf.read_bytes())
        assert not SIXTEEN_DIGITS.search("\n".join(_text(pdf)).encode())
    assert not SIXTEEN_DIGITS.search(json.dumps(truth).encode())


def test_receipt_text_block_in_reading_order(tmp_path: Path) -> None:
    """Each expense's first page extracts to exactly its text lines, in the report's order."""
    expenses = random_expenses(random.Random(7), 10)
    page_map, _ = render_receipts(tmp_path / "r.pdf", expenses)
    pages = _text(tmp_path / "r.pdf")
    for expense in expenses:
        first, *rest = page_map[expense.expense_id]
        assert pages[first - 1].splitlines() == expense.text_lines()
        assert all(pages[p - 1] == "" for p in rest)


def _images(pdf: Path) -> list[tuple[int, Any]]:
    found = []
    for number, page in enumerate(PdfReader(pdf).pages, start=1):
        resources: Any = page["/Resources"]
        xobjects = resources.get("/XObject", {})
        found += [(number, xobjects[name].get_object()) for name in xobjects]
    return found


def test_images_are_distinct_passthrough_jpegs(tmp_path: Path) -> None:
    """Images are DCTDecode streams holding whole JPEGs, all different, on the truth's pages."""
    pdf = tmp_path / "r.pdf"
    truth = build_receipts(pdf, expenses=12, seed=4)
    images = _images(pdf)
    datas = [obj.get_data() for _, obj in images]
    assert all(obj["/Filter"] == "/DCTDecode" for _, obj in images)
    assert all(d[:2] == b"\xff\xd8" and d[-2:] == b"\xff\xd9" for d in datas)
    assert len(set(datas)) == len(datas) > 12
    assert all(len(d) < 20_000 for d in datas)
    with_images = {p for e in truth["receipts"] for p in e["pages"] if e["attachments"]}
    assert {p for p, _ in images} == with_images


def test_target_size_is_honoured(tmp_path: Path) -> None:
    """target_mb lands the file within 5 % of the asked size."""
    pdf = tmp_path / "r.pdf"
    build_receipts(pdf, expenses=30, seed=2, target_mb=4)
    assert abs(pdf.stat().st_size - 4_000_000) < 200_000


def test_month_pair_matches_are_true(tmp_path: Path) -> None:
    """Matched expenses share employee and amount, dates are within 2 days; extras hold."""
    truth = build_month(tmp_path, seed=11)
    rows = {r["transaction_number"]: r for r in truth["statement"]["transactions"]}
    holder_of = {}
    for e in truth["receipts"]["receipts"]:
        key = e["employee_name"].upper().replace(" ", "").replace(".", "")
        holder_of[e["expense_id"]] = truth["aliases"].get(key, key)
    for e in truth["receipts"]["receipts"]:
        number = truth["matches"][e["expense_id"]]
        same_person = [r for r in rows.values() if r["cardholder"] == holder_of[e["expense_id"]]]
        near = [
            r
            for r in same_person
            if _dec(r["net"]) == _dec(e["amount"])
            and abs((dt.date.fromisoformat(r["transaction_date"]) - dt.date.fromisoformat(e["date"])).days)
            <= 2
        ]
        if number is None:
            assert near == []
        else:
            assert rows[number] in near
    matched = [n for n in truth["matches"].values() if n]
    assert len(matched) == len(set(matched)) < len(rows)
    assert truth["aliases"]
    assert truth["unmatched_expenses"]
    per_person = Counter((r["cardholder"], r["net"]) for r in rows.values())
    assert max(per_person.values()) == 2
    refunds = [
        e
        for e in truth["receipts"]["receipts"]
        if e["amount"].startswith("-") and truth["matches"][e["expense_id"]]
    ]
    assert refunds
    assert set(truth["statuses"]) == set(rows)


def test_golden_cases_are_current(tmp_path: Path) -> None:
    """Every golden expected.json equals what its recorded builder call produces today."""
    total = 0
    for case in CASES:
        folder = GOLDEN_DIR / case.layout / case.name
        truth = case.build(tmp_path / case.layout / case.name)
        committed = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
        assert json.loads(json.dumps(truth, ensure_ascii=False)) == committed, case.name
        total += (folder / "input.pdf").stat().st_size
    assert total < 1_000_000


@given(st.decimals(min_value=-99_999, max_value=99_999, places=2, allow_nan=False))
def test_money_prints_like_the_statement(value: Decimal) -> None:
    """Money reads back to its value; credits print the minus before the dollar sign."""
    text = money(value)
    assert re.fullmatch(r"-?\$\d{1,3}(,\d{3})*\.\d{2}", text)
    assert Decimal(text.replace("$", "").replace(",", "")) == value


def test_doubled_products() -> None:
    """Products print each character twice; spaces once unless asked."""
    assert doubled("D2 LS PREM") == "DD22 LLSS PPRREEMM"
    assert doubled("D2 LS", double_spaces=True) == "DD22  LLSS"


# --- producer styles: how the documents are drawn, read back from the content streams ----------------

STYLE_MIX = Mix(long_merchant_rate=0.6, credit_rate=0.2, no_product_rate=0.3)
# The second page of a two-card statement has no report header: every line on it takes the style.
# 5 card block lines, the column header, 5 rows with their totals lines, the card total.
PAGE2_LINES = 5 + 1 + 5 * 2 + 1


def _statement(
    tmp_path: Path, style: RowStyle, producer: Producer = "reportlab", moves: LineMoves = "Td"
) -> tuple[Path, dict[str, Any]]:
    pdf = tmp_path / f"{style}-{producer}-{moves}.pdf"
    truth = build_statement(
        pdf,
        cards=2,
        per_card=5,
        seed=21,
        row_style=style,
        producer=producer,
        line_moves=moves,
        mix=STYLE_MIX,
    )
    return pdf, truth


def _same_places(a: list[tuple[float, float, str]], b: list[tuple[float, float, str]]) -> bool:
    """The same strings in the same order at the same places (within fpdf2's 0.01 pt rounding)."""
    return len(a) == len(b) and all(
        sa == sb and abs(xa - xb) <= 0.011 and abs(ya - yb) <= 0.011
        for (xa, ya, sa), (xb, yb, sb) in zip(a, b, strict=True)
    )


def _card2_rows(truth: dict[str, Any]) -> list[dict[str, Any]]:
    last4 = truth["cards"][1]["card_last4"]
    return [r for r in truth["transactions"] if r["card_last4"] == last4]


def test_cells_style_draws_each_cell_alone(tmp_path: Path) -> None:
    """cells: every text object below the report header holds exactly one cell."""
    pdf, truth = _statement(tmp_path, "cells")
    objects = text_objects(pdf, 1)
    assert all(len(o.strings) == 1 for o in objects)
    strings = [o.strings[0] for o in objects]
    for row in _card2_rows(truth):
        assert {row["transaction_number"], row["merchant"], f"{row['city']}, {row['state']}"} <= set(strings)


@pytest.mark.parametrize("moves", ["Td", "Tm"])
def test_line_style_draws_one_object_per_line(tmp_path: Path, moves: LineMoves) -> None:
    """line: one text object per printed line, its cells placed by Td (or Tm) moves, where cells puts them."""
    pdf, truth = _statement(tmp_path, "line", moves=moves)
    cells, _ = _statement(tmp_path, "cells")
    objects = text_objects(pdf, 1)
    assert len(objects) == PAGE2_LINES
    for obj in objects:
        assert obj.moves[1:] == [moves] * (len(obj.strings) - 1)
    rows = [o for o in objects if len(o.strings) >= 12 and o.strings[0] != "Trans Date"]
    assert [o.strings[3] for o in rows] == [r["transaction_number"] for r in _card2_rows(truth)]
    assert _same_places(placed(pdf, 1), placed(cells, 1))


def test_words_style_draws_one_object_per_word(tmp_path: Path) -> None:
    """words: each word its own text object, at its cell's x plus the width of the text before it."""
    pdf, _ = _statement(tmp_path, "words")
    cells, _ = _statement(tmp_path, "cells")
    objects = text_objects(pdf, 1)
    assert all(len(o.strings) == 1 and " " not in o.strings[0] for o in objects)
    fonts = base_fonts(cells, 1)
    expected = []
    for obj in text_objects(cells, 1):
        (x, y), text, font, size = obj.at[0], obj.strings[0], fonts[obj.fonts[0]], obj.sizes[0]
        for word in re.finditer(r"\S+", text):
            expected.append((x + stringWidth(text[: word.start()], font, size), y, word.group()))
    assert _same_places(placed(pdf, 1), expected)


def test_padded_style_is_one_courier_string_per_line(tmp_path: Path) -> None:
    """padded: Courier, one string per line, labels at their columns, 18-character merchants glued."""
    pdf, truth = _statement(tmp_path, "padded")
    objects = text_objects(pdf, 1)
    fonts = base_fonts(pdf, 1)
    assert len(objects) == PAGE2_LINES
    assert all(len(o.strings) == 1 for o in objects)
    assert {fonts[f] for o in objects for f in o.fonts} == {"Courier", "Courier-Bold"}
    strings = [o.strings[0] for o in objects]
    header = next(s for s in strings if s.startswith("Trans Date"))
    assert [header.index(c.label) for c in COLUMNS.values()] == list(char_starts(COLUMNS).values())
    rows = {r["transaction_number"]: r for r in _card2_rows(truth)}
    lines = {s.split()[3]: s for s in strings if s[:2].isdigit()}
    assert set(lines) == set(rows)
    glued = [r for r in rows.values() if len(r["merchant"]) == 18]
    assert glued
    for row in glued:
        assert f"{row['merchant']}{row['city']}, {row['state']}" in lines[row["transaction_number"]]
    assert all("  " in line for line in lines.values())
    size = padded_size(COLUMNS)
    assert LEFT + max(len(s) for s in strings) * COURIER_EM * size <= PAGE_WIDTH


@pytest.mark.parametrize("style", ["cells", "words", "padded"])
def test_fpdf2_draws_the_same_strings_in_the_same_places(tmp_path: Path, style: RowStyle) -> None:
    """fpdf2 writes the same strings where reportlab does, with fpdf2 as the Producer, and the same truth."""
    ours, truth = _statement(tmp_path, style)
    theirs, fpdf2_truth = _statement(tmp_path, style, producer="fpdf2")
    assert "fpdf2" in producer(theirs)
    assert "fpdf2" not in producer(ours)
    assert fpdf2_truth == truth
    for page in range(truth["pages"]):
        assert _same_places(placed(theirs, page), placed(ours, page))


def test_fpdf2_refuses_the_styles_it_cannot_draw(tmp_path: Path) -> None:
    """fpdf2 text() makes one object per call: asking it for a line or stacked style is an error."""
    with pytest.raises(ValueError, match="fpdf2"):
        build_statement(tmp_path / "s.pdf", row_style="line", producer="fpdf2")
    with pytest.raises(ValueError, match="fpdf2"):
        build_receipts(tmp_path / "r.pdf", style="stacked", producer="fpdf2")


def test_truth_does_not_depend_on_how_it_is_drawn(tmp_path: Path) -> None:
    """A month pair's truth is the same in every style and producer: only the drawing changes."""
    plain = build_month(tmp_path / "plain", seed=4)
    drawings: tuple[tuple[RowStyle, ReceiptStyle, Producer], ...] = (
        ("line", "line", "reportlab"),
        ("padded", "words", "fpdf2"),
    )
    for statement_style, receipts_style, maker in drawings:
        folder = tmp_path / f"{statement_style}-{maker}"
        truth = build_month(
            folder,
            seed=4,
            statement_style=statement_style,
            receipts_style=receipts_style,
            producer=maker,
        )
        assert truth == plain
        assert ("fpdf2" in producer(folder / "receipts.pdf")) == (maker == "fpdf2")


def _form_expenses() -> list[Expense]:
    mix = ExpenseMix(missing_attachment_rate=0.25, multi_page_rate=0.3, coding_weights=(0.3, 0.3, 0.2, 0.2))
    return random_expenses(random.Random(12), 10, mix=mix)


def test_form_prints_what_the_stacked_block_prints() -> None:
    """The form's cells hold exactly the stacked text lines (the date line split into label and date)."""
    for expense in _form_expenses():
        stacked = expense.text_lines()
        label, date = stacked[0].rsplit(" ", 1)
        cells = [c.text for line in form_lines(expense) for c in line.cells]
        assert Counter(cells) == Counter([label, date, *stacked[1:]])


@pytest.mark.parametrize(
    ("style", "moves"), [("cells", "Td"), ("line", "Td"), ("line", "Tm"), ("words", "Td")]
)
def test_form_styles_place_cells_in_columns(tmp_path: Path, style: ReceiptStyle, moves: LineMoves) -> None:
    """cells, line and words put labels and values in their columns; title and coding type before labels."""
    expenses = _form_expenses()
    render_receipts(tmp_path / "r.pdf", expenses, style=style, line_moves=moves)
    render_receipts(tmp_path / "cells.pdf", expenses, style="cells")
    objects = text_objects(tmp_path / "r.pdf")
    first = expenses[0]
    if style == "line":
        assert len(objects) == len(form_lines(first))
        employee = next(o for o in objects if o.strings[0] == first.employee_number)
        assert employee.strings == [first.employee_number, first.employee_name, first.expense_type]
        assert employee.moves == [moves] * 3
        assert _same_places(placed(tmp_path / "r.pdf"), placed(tmp_path / "cells.pdf"))
    elif style == "words":
        assert all(len(o.strings) == 1 and " " not in o.strings[0] for o in objects)
    else:
        assert all(len(o.strings) == 1 for o in objects)
        at = {text: xy for x, y, text in placed(tmp_path / "r.pdf") for xy in [(x, y)]}
        assert at["Amount :"] == (SLOT_X["label"], at[first.amount_text][1])
        assert at[first.amount_text][0] == round(SLOT_X["value"], 2)
        assert at[first.title][0] == SLOT_X["label"] < at["Expense Title:"][0] == round(SLOT_X["value"], 2)
        assert at[first.title][1] == at["Expense Title:"][1]


def test_padded_form_is_one_courier_string_per_line(tmp_path: Path) -> None:
    """padded: each form line one Courier string, values after runs of spaces, the employee line whole."""
    expenses = _form_expenses()
    render_receipts(tmp_path / "r.pdf", expenses, style="padded")
    first = expenses[0]
    objects = text_objects(tmp_path / "r.pdf")
    assert all(len(o.strings) == 1 for o in objects)
    assert set(base_fonts(tmp_path / "r.pdf").values()) >= {"Courier"}
    assert {base_fonts(tmp_path / "r.pdf")[f] for o in objects for f in o.fonts} == {"Courier"}
    strings = [o.strings[0] for o in objects]
    assert f"{first.employee_number:<15}{first.employee_name:<31}{first.expense_type}" in strings
    assert f"{'Amount :':<29}{first.amount_text}" in strings
    assert f"{first.title:<29}Expense Title:" in strings


@pytest.mark.parametrize("style", ["cells", "words", "padded"])
def test_fpdf2_receipts_match_the_streamed_ones(tmp_path: Path, style: ReceiptStyle) -> None:
    """fpdf2 draws each expense page's strings where PdfStream does, on the same pages, same truth."""
    ours = build_receipts(tmp_path / "ours.pdf", expenses=6, seed=3, style=style)
    theirs = build_receipts(tmp_path / "theirs.pdf", expenses=6, seed=3, style=style, producer="fpdf2")
    assert theirs == ours
    assert "fpdf2" in producer(tmp_path / "theirs.pdf")
    assert len(_images(tmp_path / "theirs.pdf")) == len(_images(tmp_path / "ours.pdf"))
    for page in range(ours["pages"]):
        assert _same_places(placed(tmp_path / "theirs.pdf", page), placed(tmp_path / "ours.pdf", page))
