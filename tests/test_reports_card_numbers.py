"""No report carries a full card number: every output byte is scanned, inside ZIPs, XLSX and PDF streams.

The scanner is written here, apart from the product's masking, and is shown to catch numbers
planted where they hide: in a deflated XLSX part, in a Flate-compressed PDF content stream, in a ZIP.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pypdf
import xlsxwriter
from pypdf.generic import IndirectObject, StreamObject
from reportlab.pdfgen import canvas

from shared.report import write_reports
from shared.settings import Settings
from tests.builders import build_receipts
from tests.reconciliations import receipts_reconciliation

# A card number as it would be printed: 13-16 digits in a row, or 4-4-4-4 / 4-6-5 groups joined the
# same way all along (spaces, dashes, dots, slashes, any punctuation, up to three characters), not
# part of a longer number or word, nor the fraction of a decimal.
# A PDF date (`D:20250314120000`) is 14 digits too, and is not a card number.
CARD = re.compile(
    rb"(?<![0-9A-Za-z.])(?<!D:)"
    rb"(?:[0-9]{13,16}|[0-9]{4}([^0-9A-Za-z\n]{1,3})[0-9]{4}\1[0-9]{4}\1[0-9]{1,4}"
    rb"|[0-9]{4}([^0-9A-Za-z\n]{1,3})[0-9]{6}\2[0-9]{5})"
    rb"(?![0-9A-Za-z])"
)
# Image encodings: their bytes are scanned as stored, decoding them would only give pixels.
IMAGE_FILTERS = {"/DCTDecode", "/JPXDecode", "/CCITTFaxDecode", "/JBIG2Decode"}
PLANTED = "4111111111111111"


def _decoded_streams(pdf: bytes) -> Iterator[bytes]:
    """Every non-image stream of a PDF, decoded through all its filters (object streams included)."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    for generation, table in reader.xref.items():
        for number in table:
            obj = reader.get_object(IndirectObject(number, generation, reader))
            if not isinstance(obj, StreamObject):
                continue
            filters = obj.get("/Filter", [])
            names = {str(f) for f in (filters if isinstance(filters, list) else [filters])}
            if not names & IMAGE_FILTERS:
                yield obj.get_data()


def card_numbers(name: str, data: bytes) -> list[str]:
    """Every card-shaped number in a file, looking inside ZIP/XLSX members and PDF streams."""
    found = [f"{name}: {m.group().decode()}" for m in CARD.finditer(data)]
    if data.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for member in archive.namelist():
                found += card_numbers(f"{name}/{member}", archive.read(member))
    elif data.startswith(b"%PDF"):
        # A bundle of receipt PDFs stored end to end is read one PDF at a time.
        starts = [m.start() for m in re.finditer(rb"%PDF-", data)]
        for k, (start, end) in enumerate(zip(starts, [*starts[1:], len(data)], strict=True)):
            label = name if len(starts) == 1 else f"{name} pdf {k}"
            for n, stream in enumerate(_decoded_streams(data[start:end])):
                found += [f"{label} stream {n}: {m.group().decode()}" for m in CARD.finditer(stream)]
    return found


def scan_tree(root: Path) -> list[str]:
    """Card-shaped numbers in every file under `root`."""
    return [
        hit
        for path in sorted(root.rglob("*"))
        if path.is_file()
        for hit in card_numbers(str(path), path.read_bytes())
    ]


def test_scanner_finds_numbers_planted_where_they_hide(tmp_path: Path) -> None:
    """The scanner finds a card number in plain text, a deflated XLSX part and a compressed PDF stream."""
    (tmp_path / "plain.csv").write_text(f"a,{PLANTED},b\r\n", encoding="utf-8")
    (tmp_path / "dotted.txt").write_text(
        "card 4111.1111.1111.1111 and 4012 / 8888 / 8888 / 1881", encoding="utf-8"
    )
    book = xlsxwriter.Workbook(str(tmp_path / "planted.xlsx"))
    book.add_worksheet().write_string(0, 0, "card 4111 1111 1111 1111")
    book.close()
    pdf = canvas.Canvas(str(tmp_path / "planted.pdf"), pageCompression=1)
    pdf.drawString(72, 720, f"paid with {PLANTED}")
    pdf.save()
    with zipfile.ZipFile(tmp_path / "nested.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(tmp_path / "planted.pdf", "inside.pdf")
    for hidden in ("planted.xlsx", "planted.pdf", "nested.zip"):
        assert PLANTED.encode() not in (tmp_path / hidden).read_bytes()  # only found by looking inside
    hits = scan_tree(tmp_path)
    assert len([hit for hit in hits if "dotted.txt" in hit]) == 2
    for name in (
        "plain.csv",
        "planted.xlsx/xl/sharedStrings.xml",
        "planted.pdf stream",
        "nested.zip/inside.pdf",
    ):
        assert any(name in hit for hit in hits), (name, hits)


def test_scanner_ignores_what_only_looks_long(tmp_path: Path) -> None:
    """Floats in XLSX XML, PDF coordinates, dates and ids are not taken for card numbers."""
    text = b"<v>1303.8299999999999</v> 456 0 0 256 320 300 cm 2025-03-14 90000001 **** **** **** 0001"
    assert card_numbers("x", text) == []


def test_no_output_holds_a_card_number(tmp_path: Path) -> None:
    """All reports and receipt PDFs, planted numbers in free text included, hold no full card number."""
    receipts = tmp_path / "in" / "receipts.pdf"
    receipts.parent.mkdir()
    rec = receipts_reconciliation(build_receipts(receipts, expenses=6, seed=11))
    first = rec.transactions[0]
    assert first.expense is not None
    tx = first.transaction.model_copy(update={"merchant": f"SHOP {PLANTED}"})
    ex = first.expense.model_copy(
        update={"purpose": "paid with 4111-1111-1111-2222", "amount": Decimal("1.00")}
    )
    rec.transactions[0] = first.model_copy(update={"transaction": tx, "expense": ex})
    rec.warnings.append(f"card {PLANTED} seen on page 2")
    out = tmp_path / "out"
    paths = write_reports(rec, out, receipts_pdf=receipts, settings=Settings())
    assert {p.suffix for p in paths} == {".xlsx", ".csv", ".zip", ".json", ".pdf"}
    assert scan_tree(out) == []
    assert "SHOP **** **** **** 1111" in (out / "transactions.csv").read_text("utf-8-sig")
