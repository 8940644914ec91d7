"""Card numbers typed into a receipt page are masked in the receipt PDF cut from it.

The receipt PDFs copy pages as they are (no re-rendering), so a card number someone typed into an
expense's purpose would be copied with them. For a page whose text shows one, the text-showing
operators of its content stream are rewritten: every digit of the number but the last four becomes
`*` — the same masking as every other output. Strings are read byte for byte, as the simple
(single-byte) fonts of text layers store digits; the page's text is then extracted again, and a page
that still shows a card number (a number drawn by a font with other codes, split over many operators,
or inside a form) is withheld: its content is replaced by a sentence saying why, and its images and
forms are dropped with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from pypdf import PageObject
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    ContentStream,
    DictionaryObject,
    NameObject,
    TextStringObject,
)

from shared.values import card_number_spans, holds_card_number

# Text-showing operators and where their string (or array of strings) is among the operands.
_SHOWS = {b"Tj": 0, b"'": 0, b'"': 2, b"TJ": 0}
WITHHELD = "Page withheld: it shows a card number. See this page in the Receipt Images Report."


class Redaction(StrEnum):
    """What became of one page."""

    CLEAN = "clean"  # no card number: the page is untouched
    MASKED = "masked"  # its card numbers were masked in place
    WITHHELD = "withheld"  # the number could not be masked in place: the page says so instead


@dataclass
class _Piece:
    """One string among a content stream's operands, and how to put a changed one back."""

    raw: bytes
    operands: list[object]
    index: int
    inner: int | None  # the position inside a TJ array


def _raw(value: object) -> bytes | None:
    if isinstance(value, TextStringObject):
        return bytes(value.get_original_bytes())
    if isinstance(value, ByteStringObject):
        return bytes(value)
    return None


def _pieces(content: ContentStream) -> list[list[_Piece]]:
    """The strings of each text-showing operator (a TJ array's strings belong to one group)."""
    groups: list[list[_Piece]] = []
    for operands, operator in content.operations:
        where = _SHOWS.get(operator)
        if where is None or len(operands) <= where:
            continue
        target = operands[where]
        if isinstance(target, ArrayObject):
            group = [
                _Piece(raw, target, i, None)
                for i, item in enumerate(target)
                if (raw := _raw(item)) is not None
            ]
        else:
            raw = _raw(target)
            group = [] if raw is None else [_Piece(raw, operands, where, None)]
        if group:
            groups.append(group)
    return groups


def _mask_group(group: list[_Piece]) -> bool:
    """Mask card numbers found in the joined strings of one operator; True when one was."""
    text = b"".join(piece.raw for piece in group).decode("latin-1")
    spans = card_number_spans(text)
    if not spans:
        return False
    chars = list(text)
    for start, end in spans:
        digits = [i for i in range(start, end) if chars[i].isdigit()]
        for i in digits[:-4]:
            chars[i] = "*"
    masked = "".join(chars).encode("latin-1")
    offset = 0
    for piece in group:
        piece.operands[piece.index] = ByteStringObject(masked[offset : offset + len(piece.raw)])
        offset += len(piece.raw)
    return True


def shows_card_number(page: PageObject) -> bool:
    """True when the page's extracted text holds a card-shaped number, in one piece or in groups."""
    return holds_card_number(page.extract_text() or "")


def redact_page(page: PageObject) -> Redaction:
    """Mask the card numbers a page shows, or withhold the page when they cannot be masked in place.

    `page` must belong to a `PdfWriter` (the copy being written), never to the source report.
    """
    if not shows_card_number(page):
        return Redaction.CLEAN
    content = page.get_contents()
    if content is not None:
        content = ContentStream(content, page.pdf)
        masked = False
        for group in _pieces(content):
            masked |= _mask_group(group)
        if masked:
            page.replace_contents(content)
            if not shows_card_number(page):
                return Redaction.MASKED
    _withhold(page)
    return Redaction.WITHHELD


def _withhold(page: PageObject) -> None:
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    # Only the notice's font stays: the page's images and forms are not drawn, so they are not kept.
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/FWithheld"): font})}
    )
    height = float(page.mediabox.height)
    text = re.sub(r"([()\\])", r"\\\1", WITHHELD)
    stream = ContentStream(None, page.pdf)
    stream.set_data(f"BT /FWithheld 11 Tf 36 {height - 60:.0f} Td ({text}) Tj ET".encode("latin-1"))
    page.replace_contents(stream)
