"""Parsing of printed values — money, numbers, dates, doubled text — and masking of card numbers."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

# Card numbers as people type them: 13 to 19 digits (a Luhn-valid number), in groups of two digits
# or more joined by one to three separators — spaces, dots, dashes, slashes, underscores, any
# punctuation, the same all along one number — but never by a letter or a line break. A chain is
# digit groups so joined; a card number is a run of whole groups in it. The same separator all along
# keeps a date, an amount and a number typed one after another (`03/14/2025 61.98 1234567`) apart.
_CHAIN = re.compile(r"\d+(?:[^0-9A-Za-z\n\r]{1,3}\d+)*")
_GROUP = re.compile(r"\d+")
CARD_MIN, CARD_MAX = 13, 19


def luhn_valid(digits: str) -> bool:
    """The Luhn check every payment card number passes."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def card_number_spans(text: str) -> list[tuple[int, int]]:
    """Where `text` shows card numbers, however their digits are grouped and separated: (start, end)
    of each, from its first digit to its last. Digit runs that are not one (transaction numbers,
    amounts, dates, phone numbers, ZIP+4) are too short, fail the Luhn check, or change separator.
    Where runs of groups overlap, the likelier card wins: groups of 3 digits or more, then 16 digits
    (most cards), then the longer."""
    spans: list[tuple[int, int]] = []
    for chain in _CHAIN.finditer(text):
        groups = [g.span() for g in _GROUP.finditer(text, chain.start(), chain.end())]
        if sum(end - start for start, end in groups) < CARD_MIN:
            continue
        candidates: list[tuple[tuple[bool, bool, int, int], int, int]] = []
        for first in range(len(groups)):
            digits, separator, shortest = "", None, CARD_MAX
            for last in range(first, len(groups)):
                start, end = groups[last]
                if last > first:
                    between = text[groups[last - 1][1] : start]
                    separator = between if separator is None else separator
                    if between != separator:
                        break
                digits += text[start:end]
                shortest = min(shortest, end - start)
                if len(digits) > CARD_MAX or shortest < 2:
                    break
                if len(digits) >= CARD_MIN and luhn_valid(digits):
                    key = (shortest >= 3, len(digits) == 16, len(digits), -first)
                    candidates.append((key, first, last))
        taken: set[int] = set()
        for _, first, last in sorted(candidates, reverse=True):
            if taken.isdisjoint(range(first, last + 1)):
                taken.update(range(first, last + 1))
                spans.append((groups[first][0], groups[last][1]))
    return sorted(spans)


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
    return bool(card_number_spans(text)) or _GROUPED.search(text) is not None


def mask_card_numbers(text: str) -> str:
    """Every card number in `text`, however typed, replaced by `****` and its last four digits."""
    if len(text) < CARD_MIN:
        return text
    spans = card_number_spans(text)
    if not spans:
        return text
    out, last = [], 0
    for start, end in spans:
        out += [text[last:start], "****", re.sub(r"\D", "", text[start:end])[-4:]]
        last = end
    out.append(text[last:])
    return "".join(out)


_NAME_DROP = re.compile(r"[\s.]+")


def without_invisibles(text: str) -> str:
    """`text` with control and format characters (bidirectional overrides, zero-width marks) turned
    into spaces: a name a person typed must read as it is, never reordered or hiding characters."""
    return "".join(" " if unicodedata.category(ch) in ("Cc", "Cf") else ch for ch in text)


def normalise_name(name: str) -> str:
    """Upper case, spaces, dots and invisible characters removed: `Jane Q. Doe` → `JANEQDOE`."""
    return _NAME_DROP.sub("", without_invisibles(name)).upper()
