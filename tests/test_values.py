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
    ],
)
def test_card_numbers_are_masked(text: str, expected: str) -> None:
    """Full card numbers in messages keep only their last four; short numbers are untouched."""
    assert mask_card_numbers(text) == expected
