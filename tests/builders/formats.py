"""How the two reports print values: money, dates, doubled product text, expense amounts."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
CARD_PREFIX = "999999XXXXXX"


def cents(value: Decimal) -> Decimal:
    """Round to cents the way the card processor does (half up)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def money(value: Decimal) -> str:
    """Statement money: ``$1,234.50``; credits ``-$0.45`` (minus before the dollar sign)."""
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"


def masked_card(last4: str) -> str:
    """The masked card number the statement prints: 6 digits, 6 ``X``, last 4."""
    return CARD_PREFIX + last4


def mdy(day: dt.date) -> str:
    """Zero-padded ``MM/DD/YYYY``."""
    return day.strftime("%m/%d/%Y")


def short_mdy(day: dt.date) -> str:
    """Unpadded ``M/D/YYYY`` as used in the statement's report header."""
    return f"{day.month}/{day.day}/{day.year}"


def doubled(text: str, double_spaces: bool = False) -> str:
    """Print every character twice (``OTHER`` -> ``OOTTHHEERR``); spaces once unless asked."""
    return "".join(ch if ch == " " and not double_spaces else ch * 2 for ch in text)


def expense_amount(value: Decimal, style: str) -> str:
    """Print an expense amount without ``$``, as the expense system does.

    ``style`` is ``"plain"`` (trailing zeros dropped: ``61.98``, ``-12.5``, ``100``) or
    ``"fixed"`` (exactly as the value's own exponent says: ``61.90``, ``1234.5678``).
    """
    if style == "fixed":
        return format(value, "f")
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text
