"""Receipt pages that show a card number are masked in place, or withheld when they cannot be."""

from __future__ import annotations

import io
from pathlib import Path

import pypdf
from PIL import Image
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from shared.report.redact import WITHHELD, Redaction, redact_page

PLANTED = "4111111111111111"


def _pdf(path: Path, draw: list[tuple[float, str]], image: bool = False) -> Path:
    """One page with each (x, text) drawn on the same line."""
    page = canvas.Canvas(str(path), pageCompression=1)
    for x, text in draw:
        page.drawString(x, 700, text)
    page.drawString(72, 650, "Purpose: parts for repair, total 1234.56 on 2025-03-14")
    if image:  # a scanned receipt
        page.drawImage(ImageReader(Image.new("L", (200, 100), 200)), 72, 300, 200, 100)
    page.save()
    return path


def _copy(path: Path) -> pypdf.PdfWriter:
    writer = pypdf.PdfWriter()
    writer.add_page(pypdf.PdfReader(path).pages[0])
    return writer


def _text(writer: pypdf.PdfWriter) -> str:
    buffer = io.BytesIO()
    writer.write(buffer)
    return pypdf.PdfReader(buffer).pages[0].extract_text()


def test_a_number_in_one_string_is_masked_in_place(tmp_path: Path) -> None:
    """`card 4111111111111111 declined` becomes `card ************1111 declined`; the rest stays."""
    writer = _copy(_pdf(tmp_path / "a.pdf", [(72, f"card {PLANTED} declined")]))
    assert redact_page(writer.pages[0]) is Redaction.MASKED
    text = _text(writer)
    assert "card ************1111 declined" in text
    assert PLANTED not in text
    assert "1234.56" in text  # amounts and dates are not card numbers


def test_a_spaced_number_is_masked_keeping_its_spaces(tmp_path: Path) -> None:
    """A number typed in groups keeps its shape: `**** **** **** 1111`."""
    writer = _copy(_pdf(tmp_path / "b.pdf", [(72, "paid with 4111 1111 1111 1111")]))
    assert redact_page(writer.pages[0]) is Redaction.MASKED
    assert "paid with **** **** **** 1111" in _text(writer)


def test_a_page_without_a_number_is_left_as_it_was(tmp_path: Path) -> None:
    """A clean page keeps its content stream byte for byte."""
    writer = _copy(_pdf(tmp_path / "c.pdf", [(72, "fuel for site visit")]))
    before = writer.pages[0].get_contents().get_data()  # type: ignore[union-attr]
    assert redact_page(writer.pages[0]) is Redaction.CLEAN
    assert writer.pages[0].get_contents().get_data() == before  # type: ignore[union-attr]


def test_a_number_split_over_operators_withholds_the_page(tmp_path: Path) -> None:
    """Digits drawn piece by piece cannot be masked one string at a time: the page is withheld, its
    image dropped, and it says why."""
    pieces = [(72 + 28 * i, PLANTED[4 * i : 4 * i + 4]) for i in range(4)]
    writer = _copy(_pdf(tmp_path / "d.pdf", pieces, image=True))
    assert "/XObject" in writer.pages[0]["/Resources"]
    assert redact_page(writer.pages[0]) is Redaction.WITHHELD
    text = _text(writer)
    assert WITHHELD in text
    assert "4111" not in text
    assert "/XObject" not in writer.pages[0]["/Resources"]
