"""Parsing of printed values — money, numbers, dates, doubled text — and masking of card numbers."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

# A card number as typed: 13 to 19 digits, single spaces or dashes allowed between them.
CARD_DIGITS = re.compile(r"(?<![\d])(?:\d[ -]?){12,18}\d(?![\d])")


def parse_money(text: str) -> Decimal:
    """`$1,234.50`, `-$0.45`, `$-0.45`, `(0.45)` or `61.98` → Decimal, sign kept."""
    raw = text.strip()
    negative = (raw.startswith("(") and raw.endswith(")")) or "-" in raw
    digits = raw.strip("()").replace("$", "").replace(",", "").replace("-", "").strip()
    try:
        value = Decimal(digits)
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {text!r}") from exc
    if not value.is_finite():
        raise ValueError(f"not an amount: {text!r}")
    return -value if negative else value


def parse_date(text: str, formats: Sequence[str]) -> dt.date:
    """A printed date in the first of `formats` that fits."""
    for fmt in formats:
        try:
            return dt.datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    raise ValueError(f"not a date in {', '.join(formats)}: {text!r}")


def is_doubled(word: str) -> bool:
    """True for a word printed with every character twice (`OOTTHHEERR`)."""
    return len(word) >= 2 and len(word) % 2 == 0 and word[0::2] == word[1::2]


def undouble(text: str) -> str:
    """`DD22 LLSS PPRREEMM` → `D2 LS PREM`; words not doubled are kept as they are."""
    return " ".join(w[0::2] if is_doubled(w) else w for w in text.split())


# A number drawn in groups by separate operators comes out of text extraction one group per line.
_GROUPED = re.compile(r"(?<!\d)(?:\d{4}(?:\s+\d{4}){2}\s+\d{1,4}|\d{4}\s+\d{6}\s+\d{5})(?!\d)")


def holds_card_number(text: str) -> bool:
    """True when `text` shows a card number, in one piece or in groups on separate lines."""
    return CARD_DIGITS.search(text) is not None or _GROUPED.search(text) is not None


def mask_card_numbers(text: str) -> str:
    """Replace any 13 to 19 digit run (spaces or dashes allowed) by its last four, for logs and messages."""
    return CARD_DIGITS.sub(lambda m: "****" + re.sub(r"\D", "", m.group(0))[-4:], text)


_NAME_DROP = re.compile(r"[\s.]+")


def normalise_name(name: str) -> str:
    """Upper case, spaces and dots removed: `Jane Q. Doe` → `JANEQDOE`."""
    return _NAME_DROP.sub("", name).upper()
