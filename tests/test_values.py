"""Printed values: money, dates, doubled text and card masking."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.values import is_doubled, mask_card_numbers, parse_date, parse_money, undouble

cents = st.decimals(min_value=Decimal("-99999999.99"), max_value=Decimal("99999999.99"), places=2)


def statement_money(value: Decimal) -> str:
    """How the statement prints an amount: `$1,234.50`, credits `-$0.45`."""
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"


@given(cents)
def test_statement_money_round_trips(value: Decimal) -> None:
    """Every amount the statement can print parses back to the exact Decimal, sign included."""
    assert parse_money(statement_money(value)) == value


@given(st.decimals(min_value=Decimal("-99999.9999"), max_value=Decimal("99999.9999"), places=4))
def test_receipt_amounts_keep_four_decimals(value: Decimal) -> None:
    """Receipt amounts (no $, up to 4 decimals, may be negative) parse exactly."""
    assert parse_money(str(value)) == value


@pytest.mark.parametrize(
    ("text", "expected"),
    [("($12.00)", Decimal("-12.00")), ("$-0.59", Decimal("-0.59")), ("1,000", Decimal(1000))],
)
def test_other_sign_conventions(text: str, expected: Decimal) -> None:
    """Parenthesised and minus-after-dollar credits are negative too."""
    assert parse_money(text) == expected


@pytest.mark.parametrize("text", ["", "$", "abc", "NaN", "Infinity"])
def test_non_amounts_are_refused(text: str) -> None:
    """Text that is not a finite amount raises ValueError instead of becoming a number."""
    with pytest.raises(ValueError, match="not an amount"):
        parse_money(text)


@given(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2099, 12, 31)))
def test_dates_parse_in_us_order(day: dt.date) -> None:
    """MM/DD/YYYY dates parse to the same ISO date, with or without leading zeros."""
    assert parse_date(day.strftime("%m/%d/%Y"), ["%m/%d/%Y"]) == day
    assert parse_date(f"{day.month}/{day.day}/{day.year}", ["%m/%d/%Y"]) == day


def test_impossible_dates_are_refused() -> None:
    """02/30/2025 is not a date, in any listed format."""
    with pytest.raises(ValueError, match="not a date"):
        parse_date("02/30/2025", ["%m/%d/%Y", "%d/%m/%Y"])


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789#", min_size=1, max_size=12))
def test_doubled_words_undouble(word: str) -> None:
    """A word printed with every character twice reads back as the word."""
    doubled = "".join(c * 2 for c in word)
    assert is_doubled(doubled)
    assert undouble(f"{doubled} {doubled}") == f"{word} {word}"


def test_plain_words_stay() -> None:
    """Words that are not doubled (`MISC`, `FOOD`) are left alone."""
    assert undouble("MISC FOOD DD22") == "MISC FOOD D2"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("card 4111111111111111 used", "card ****1111 used"),
        ("4111 1111 1111 1111", "****1111"),
        ("4111-1111-1111-1111", "****1111"),
        ("transaction 000111003 for $61.98", "transaction 000111003 for $61.98"),
        # Any separator between groups, one or more, any grouping (Issue: typed other ways).
        ("4111.1111.1111.1111", "****1111"),
        ("4012  8888  8888  1881", "****1881"),
        ("5105/1051/0510/5100", "****5100"),
        ("4111_1111_1111_1111", "****1111"),
        ("4111 / 1111 / 1111 / 1111", "****1111"),
        ("3782 822463 10005", "****0005"),
        ("378282246310005", "****0005"),
        ("ref4111111111111111x", "ref****1111x"),
        ("6011-1111-1111-1117 and 4111 1111 1111 1111", "****1117 and ****1111"),
        ("paid 2025-03-14 4111 1111 1111 1111", "paid 2025-03-14 ****1111"),
        # Not card numbers: left alone.
        ("4111111111111112", "4111111111111112"),  # fails the Luhn check
        ("call 555-123-4567", "call 555-123-4567"),
        ("ZIP 77001-1234", "ZIP 77001-1234"),
        ("03/14/2025 61.98 1234567", "03/14/2025 61.98 1234567"),  # a date, an amount, a number
        ("Job 55867. Tank Farm, phase 100.10", "Job 55867. Tank Farm, phase 100.10"),
        ("4111\n1111 1111 1111", "4111\n1111 1111 1111"),  # not one value: a line break between
    ],
)
def test_card_numbers_are_masked(text: str, expected: str) -> None:
    """Full card numbers in messages keep only their last four; short numbers are untouched."""
    assert mask_card_numbers(text) == expected


@given(
    number=st.sampled_from(["4111111111111111", "5500005555555559", "378282246310005", "6011000990139424"]),
    separator=st.sampled_from([" ", "  ", ".", "-", "/", "_", " - ", ", ", "*"]),
    size=st.integers(min_value=2, max_value=6),
    before=st.sampled_from(["", "card ", "paid on 03/14/2025 with ", "ref:"]),
    after=st.sampled_from(["", " declined", " exp 12/27", "."]),
)
def test_a_card_number_in_any_spelling_keeps_its_last_four(
    number: str, separator: str, size: int, before: str, after: str
) -> None:
    """Any grouping, any separator: only the last four digits stay, and the text around is kept."""
    groups = [number[i : i + size] for i in range(0, len(number), size)]
    if len(groups[-1]) < 2:  # a lone last digit is no group people type
        groups[-2:] = [groups[-2] + groups[-1]]
    masked = mask_card_numbers(before + separator.join(groups) + after)
    assert masked == f"{before}****{number[-4:]}{after}"
