"""A corpus of broken and hostile PDFs, written byte by byte at test time (nothing binary is committed).

Each `Case` names what an attacker (or a bad transfer) does and the outcome extraction owes us: a
`Document` with the statement's one transaction (the file is odd but the data is all there), or a
`PermanentError` subclass whose message matches `reason`. `build(folder)` writes `<name>.pdf`.

Most cases are raw PDF objects assembled by `RawPdf` (offsets computed, so the damage is exactly
the one intended); the cases that need a real document start from `build_statement` or from
`STATEMENT_LINES`, a one-transaction Cardholder Activity Report drawn in Helvetica.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pypdf

from shared.errors import (
    DamagedPdfError,
    EncryptedPdfError,
    ImageOnlyPdfError,
    NotAPdfError,
    PermanentError,
    ResourceLimitError,
)
from tests.builders.pdfstream import pdf_string
from tests.builders.statement import build_statement

STATEMENT_LINES = [
    "Cardholder Activity Report General",
    "Card Number: 999999XXXXXX0001 ANYTOWN, TX 77000-0000",
    "Cardholder Name: JANEDOE",
    "Employee ID: 100001",
    "03/03/2025 03/04/2025 N 000111001 WIDGETWORKS SUPPLY KATY, TX MISC OOTTHHEERR 412.50000 1.00 "
    "$412.50 $0.00 $412.50",
    "Transaction Totals: $412.50 $0.00 $412.50",
    "Totals For Card Nbr: 999999XXXXXX0001 $412.50",
]
FONT = b"<</Type/Font/Subtype/Type1/BaseFont/Helvetica/Encoding/WinAnsiEncoding>>"
MIB = 1 << 20
BOMB_BYTES = 2 << 30  # what the Flate bomb inflates to: 2 GiB from about 2 MB


class RawPdf:
    """Objects numbered from 1 in the order added; `bytes()` writes them with a correct xref."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    def add(self, body: bytes = b"null") -> int:
        self.bodies.append(body)
        return len(self.bodies)

    def set(self, number: int, body: bytes) -> None:
        self.bodies[number - 1] = body

    def bytes(self, root: int = 1, trailer: bytes = b"") -> bytes:
        out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for number, body in enumerate(self.bodies, 1):
            offsets.append(len(out))
            out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
        xref = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(self.bodies) + 1)
        out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
        out += b"trailer\n<</Size %d/Root %d 0 R%s>>\n" % (len(self.bodies) + 1, root, trailer)
        out += b"startxref\n%d\n%%%%EOF\n" % xref
        return bytes(out)


def ref(number: int) -> bytes:
    return b"%d 0 R" % number


def stream(data: bytes, extra: bytes = b"", *, length: bytes | None = None) -> bytes:
    declared = length if length is not None else b"%d" % len(data)
    return b"<</Length %s%s>>\nstream\n%s\nendstream" % (declared, extra, data)


def flate(data: bytes, extra: bytes = b"") -> bytes:
    return stream(zlib.compress(data), b"/Filter/FlateDecode" + extra)


def text_content(lines: Sequence[str] = STATEMENT_LINES) -> bytes:
    """The statement page as reportlab's test fixture draws it: one run per line, top to bottom."""
    runs = [
        b"BT /F1 8 Tf 24 %.1f Td %s Tj ET" % (580 - 11.2 * k, pdf_string(line))
        for k, line in enumerate(lines)
    ]
    return b"\n".join(runs)


def statement_pdf(
    *,
    catalog: bytes = b"",
    page: bytes = b"",
    resources: bytes = b"",
    extra: Callable[[RawPdf], None] | None = None,
    empty_pages: int = 0,
    blank_font: bool = False,
) -> RawPdf:
    """A one-page, one-transaction statement, then `empty_pages` sharing one empty content stream
    (object 6; with Helvetica when `blank_font`, else pypdf skips them as textless), with extras
    spliced in; `extra` may add objects, which `catalog`/`page` refer to by the numbers to come."""
    pdf = RawPdf()
    root, pages, font = pdf.add(), pdf.add(), pdf.add(FONT)
    content = pdf.add(flate(text_content()))
    first = pdf.add(
        b"<</Type/Page/Parent %s/MediaBox[0 0 792 612]/Resources<</Font<</F1 %s>>%s>>/Contents %s%s>>"
        % (ref(pages), ref(font), resources, ref(content), page)
    )
    blank = pdf.add(stream(b""))
    kids = [first] + [
        pdf.add(
            b"<</Type/Page/Parent %s/MediaBox[0 0 792 612]%s/Contents %s>>"
            % (ref(pages), b"/Resources<</Font<</F1 %s>>>>" % ref(font) if blank_font else b"", ref(blank))
        )
        for _ in range(empty_pages)
    ]
    pdf.set(root, b"<</Type/Catalog/Pages %s%s>>" % (ref(pages), catalog))
    pdf.set(pages, b"<</Type/Pages/Kids[%s]/Count %d>>" % (b" ".join(map(ref, kids)), len(kids)))
    if extra:
        extra(pdf)
    return pdf


def single_page(content: bytes, resources: bytes = b"", pages_extra: bytes = b"") -> RawPdf:
    """Catalog 1, Pages 2, Page 3 whose /Contents is object 4 (`content`, a stream body), Helvetica as
    /F1 in object 5 (a page without fonts is skipped by text extraction); extras from 6 on."""
    pdf = RawPdf()
    pdf.add(b"<</Type/Catalog/Pages 2 0 R>>")
    pdf.add(b"<</Type/Pages/Kids[3 0 R]/Count 1%s>>" % pages_extra)
    pdf.add(
        b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Resources<</Font<</F1 5 0 R>>%s>>/Contents 4 0 R>>"
        % resources
    )
    pdf.add(content)
    pdf.add(FONT)
    return pdf


# -- the attacks ---------------------------------------------------------------------------------
def zero_bomb(size: int = BOMB_BYTES) -> bytes:
    """A zlib stream of `size` zero bytes built without compressing them: after a full flush every
    MiB of zeros compresses to the same bytes, so the middle is one block repeated."""
    packer = zlib.compressobj(9)
    zeros = bytes(MIB)
    first = packer.compress(zeros) + packer.flush(zlib.Z_FULL_FLUSH)
    block = packer.compress(zeros) + packer.flush(zlib.Z_FULL_FLUSH)
    end = packer.flush()[:-4]  # the final empty block; the checksum is recomputed for `size`
    adler = ((size % 65521) << 16) | 1  # Adler-32 of zeros: a stays 1, b adds 1 per byte
    return first + block * (size // MIB - 1) + end + struct.pack(">I", adler)


def truncated(folder: Path) -> bytes:
    whole = folder / "whole.pdf"
    build_statement(whole, cards=1, per_card=4, seed=3)
    data = whole.read_bytes()
    return data[: len(data) // 2]


def middle_cut_out(folder: Path) -> bytes:
    """Head and tail kept (so %%EOF is there), the middle lost: every xref offset after it is wrong."""
    whole = folder / "whole.pdf"
    build_statement(whole, cards=1, per_card=4, seed=3)
    data = whole.read_bytes()
    return data[: len(data) // 3] + data[2 * len(data) // 3 :]


def xref_garbage(_: Path) -> bytes:
    data = statement_pdf().bytes()
    start = data.rindex(b"\nxref\n") + 1
    end = data.index(b"trailer", start)
    return data[:start] + bytes((7 * i) % 251 for i in range(end - start)) + data[end:]


def xref_offsets_wrong(_: Path) -> bytes:
    data = statement_pdf().bytes()
    start = data.rindex(b"\nxref\n") + 1
    end = data.index(b"trailer", start)
    table = data[start:end].split(b"\n")
    shifted = [
        line if not line.endswith(b" n ") else b"%010d 00000 n " % (int(line[:10]) + 13) for line in table
    ]
    return data[:start] + b"\n".join(shifted) + data[end:]


def encrypted(_: Path) -> bytes:
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(statement_pdf().bytes()))
    writer.encrypt("a password nobody gave us", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def image_only(_: Path) -> bytes:
    gray = bytes(range(256)) * 64  # a 128 by 128 grey ramp, uncompressed
    pdf = single_page(stream(b"q 400 0 0 400 100 200 cm /Im0 Do Q"), b"/XObject<</Im0 6 0 R>>")
    pdf.add(
        flate(
            gray, b"/Type/XObject/Subtype/Image/Width 128/Height 128/ColorSpace/DeviceGray/BitsPerComponent 8"
        )
    )
    return pdf.bytes()


def flate_bomb(_: Path) -> bytes:
    return single_page(stream(zero_bomb(), b"/Filter/FlateDecode")).bytes()


def form_fanout(_: Path) -> bytes:
    """One Form XObject of 400,000 text operators, drawn 64 times by one page: each drawing is ten
    seconds of honest text extraction, and the file is 20 KB."""
    draws = 64
    pdf = single_page(stream(b" ".join([b"/X0 Do"] * draws)), b"/XObject<</X0 6 0 R>>")
    form = b"BT /F1 1 Tf " + b"(x) Tj " * 400_000 + b"ET"
    pdf.add(flate(form, b"/Type/XObject/Subtype/Form/BBox[0 0 1 1]/Resources<</Font<</F1 5 0 R>>>>"))
    return pdf.bytes()


def zero_fanout(_: Path) -> bytes:
    """40 distinct Form XObjects of 64 MiB of zeros each (under pypdf's 75 MB cap per stream, 64 KB
    each compressed): one page that needs 2.5 GiB held at once."""
    forms = 40
    names = b"".join(b"/X%d %d 0 R" % (i, 6 + i) for i in range(forms))
    pdf = single_page(stream(b" ".join(b"/X%d Do" % i for i in range(forms))), b"/XObject<<%s>>" % names)
    bomb = zero_bomb(64 * MIB)
    extra = b"/Filter/FlateDecode/Type/XObject/Subtype/Form/BBox[0 0 1 1]/Resources<</Font<</F1 5 0 R>>>>"
    for _ in range(forms):
        pdf.add(stream(bomb, extra))
    return pdf.bytes()


def nested(opening: bytes, closing: bytes, depth: int = 100_000) -> Callable[[Path], bytes]:
    def build(_: Path) -> bytes:
        return statement_pdf(catalog=b"/Deep " + opening * depth + closing * depth).bytes()

    return build


def self_referencing_resources(_: Path) -> bytes:
    def extra(pdf: RawPdf) -> None:
        me = len(pdf.bodies) + 1
        pdf.add(b"<</Self %s/XObject %s/Font %s>>" % (ref(me), ref(me), ref(me)))

    # The page's /ExtGState and /Properties point at a dict that contains itself.
    after = 7  # catalog, pages, font, content, page, blank → the extra object is number 7
    return statement_pdf(
        resources=b"/ExtGState %s/Properties %s" % (ref(after), ref(after)), extra=extra
    ).bytes()


def kids_self_loop(_: Path) -> bytes:
    pdf = RawPdf()
    pdf.add(b"<</Type/Catalog/Pages 2 0 R>>")
    pdf.add(b"<</Type/Pages/Kids[2 0 R]/Count 1>>")
    return pdf.bytes()


def kids_ancestor_loop(_: Path) -> bytes:
    """Pages → Pages → (a real page, and the root Pages again)."""
    pdf = RawPdf()
    pdf.add(b"<</Type/Catalog/Pages 2 0 R>>")
    pdf.add(b"<</Type/Pages/Kids[3 0 R]/Count 2>>")
    pdf.add(b"<</Type/Pages/Parent 2 0 R/Kids[4 0 R 2 0 R]/Count 2>>")
    pdf.add(
        b"<</Type/Page/Parent 3 0 R/MediaBox[0 0 612 792]/Resources<</Font<</F1 5 0 R>>>>/Contents 6 0 R>>"
    )
    pdf.add(FONT)
    pdf.add(flate(text_content()))
    return pdf.bytes()


def deep_page_tree(_: Path) -> bytes:
    depth = 1000
    pdf = RawPdf()
    pdf.add(b"<</Type/Catalog/Pages 2 0 R>>")
    for level in range(depth):
        pdf.add(b"<</Type/Pages/Kids[%d 0 R]/Count 1>>" % (level + 3))
    pdf.add(b"<</Type/Page/MediaBox[0 0 612 792]>>")
    return pdf.bytes()


def many_pages(empty: int, with_statement: bool) -> Callable[[Path], bytes]:
    def build(_: Path) -> bytes:
        if with_statement:
            return statement_pdf(empty_pages=empty).bytes()
        pdf = statement_pdf(empty_pages=empty)
        pdf.set(5, pdf.bodies[4].replace(b"/Contents 4 0 R", b"/Contents 6 0 R"))  # page 1 blank too
        return pdf.bytes()

    return build


def javascript_and_attachment(_: Path) -> bytes:
    def extra(pdf: RawPdf) -> None:
        payload = pdf.add(stream(b"MZ\x90\x00" + b"\x00" * 60 + b"PE\x00\x00", b"/Type/EmbeddedFile"))
        pdf.add(b"<</Type/Filespec/F(invoice.exe)/UF(invoice.exe)/EF<</F %s>>>>" % ref(payload))
        script = (
            b"app.launchURL\\('https://example.invalid/x'\\);"
            b" this.exportDataObject\\({cName: 'invoice.exe', nLaunch: 2}\\);"
        )
        pdf.add(b"<</S/JavaScript/JS(%s)>>" % script)

    # Objects 7-9 come from `extra`: payload, file spec, action.
    catalog = (
        b"/OpenAction 9 0 R/AA<</WC 9 0 R>>"
        b"/Names<</EmbeddedFiles<</Names[(invoice.exe) 8 0 R]>>/JavaScript<</Names[(go) 9 0 R]>>>>"
    )
    return statement_pdf(catalog=catalog, page=b"/AA<</O 9 0 R>>", extra=extra).bytes()


def operator_flood(_: Path) -> bytes:
    """A statement page, then 200 pages sharing one content stream of ten million path operators
    (40 KB compressed): pypdf's parsing budget stops each page after seconds, for every page."""
    pdf = statement_pdf(empty_pages=200, blank_font=True)
    pdf.set(6, flate(b"0 0 m\n" * 10_000_000))  # the stream the blank pages share
    return pdf.bytes()


def objstm_absurd_n(_: Path) -> bytes:
    """The font lives in an object stream that claims two billion objects (an xref stream says so)."""
    pdf = statement_pdf()
    objstm = pdf.add(flate(b"3 0 " + FONT, b"/Type/ObjStm/N 2147483647/First 4"))
    pdf.set(3, b"null")
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    rows = [struct.pack(">BIH", 0, 0, 65535)]
    for number, body in enumerate(pdf.bodies, 1):
        if number == 3:  # compressed: in object stream `objstm`, index 0
            rows.append(struct.pack(">BIH", 2, objstm, 0))
            continue
        rows.append(struct.pack(">BIH", 1, len(out), 0))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    number = len(pdf.bodies) + 1
    rows.append(struct.pack(">BIH", 1, xref, 0))
    out += b"%d 0 obj\n%s\nendobj\n" % (
        number,
        flate(b"".join(rows), b"/Type/XRef/W[1 4 2]/Size %d/Root 1 0 R" % (number + 1)),
    )
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def length_2_63(_: Path) -> bytes:
    return single_page(stream(text_content(), length=b"9223372036854775808")).bytes()


def prev_loop(_: Path) -> bytes:
    """The trailer's /Prev points back at its own xref table: an endless chain of updates."""
    data = statement_pdf().bytes()
    xref = int(data.rsplit(b"startxref\n", 1)[1].split(b"\n")[0])
    padded = b"%010d" % xref
    return data.replace(b"/Root 1 0 R", b"/Root 1 0 R/Prev " + padded, 1)


def page_count_lies(_: Path) -> bytes:
    pdf = statement_pdf()
    pdf.set(2, pdf.bodies[1].replace(b"/Count 1", b"/Count 2147483647"))
    return pdf.bytes()


def png_named_pdf(_: Path) -> bytes:
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 200


# -- the table -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """One corpus file: how to make it, and what extraction must answer."""

    name: str
    attack: str
    make: Callable[[Path], bytes]
    error: type[PermanentError] | None  # None: a Document with the statement's one transaction
    reason: str = ""  # a regular expression the error's message must match

    def build(self, folder: Path) -> Path:
        path = folder / f"{self.name}.pdf"
        path.write_bytes(self.make(folder))
        return path


# fmt: off
CASES = [  # two lines a case, read as a table
    Case("truncated", "a real statement cut in half in transfer",
         truncated, DamagedPdfError, "truncated"),
    Case("middle_cut_out", "a real statement with its middle third lost, %%EOF intact",
         middle_cut_out, DamagedPdfError, "."),
    Case("xref_garbage", "the cross-reference table overwritten with junk",
         xref_garbage, None),
    Case("xref_offsets_wrong", "every xref offset 13 bytes off",
         xref_offsets_wrong, None),
    Case("prev_loop", "the trailer's /Prev points at its own xref",
         prev_loop, None),
    Case("encrypted", "AES-256 with a password nobody gave",
         encrypted, EncryptedPdfError, "encrypted"),
    Case("image_only", "one page, one image, no text layer",
         image_only, ImageOnlyPdfError, "OCR"),
    Case("flate_bomb", "a content stream inflating to 2 GiB of zeros",
         flate_bomb, DamagedPdfError, "."),
    Case("form_fanout", "a 400,000-operator form drawn 64 times",
         form_fanout, ResourceLimitError, "CPU"),
    Case("zero_fanout", "40 forms of 64 MiB of zeros on one page",
         zero_fanout, ResourceLimitError, "(CPU|memory)"),
    Case("deep_arrays", "100,000 nested arrays in the catalog",
         nested(b"[", b"]"), DamagedPdfError, "."),
    Case("deep_dicts", "100,000 nested dictionaries in the catalog",
         nested(b"<</A ", b">>"), None),
    Case("cyclic_resources", "a resource dictionary that contains itself",
         self_referencing_resources, None),
    Case("kids_self_loop", "a /Pages node that is its own kid",
         kids_self_loop, DamagedPdfError, "."),
    Case("kids_ancestor_loop", "a /Pages node whose kid lists the root again",
         kids_ancestor_loop, DamagedPdfError, "."),
    Case("deep_page_tree", "a page tree 1,000 levels deep",
         deep_page_tree, DamagedPdfError, "."),
    Case("blank_10k", "10,000 empty pages",
         many_pages(10_000, with_statement=False), ImageOnlyPdfError, "OCR"),
    Case("statement_and_10k_blank", "a statement page then 10,000 empty pages",
         many_pages(10_000, with_statement=True), None),
    Case("page_count_lies", "/Count of two billion over one page",
         page_count_lies, None),
    Case("png_named_pdf", "PNG bytes named .pdf",
         png_named_pdf, NotAPdfError, "not a PDF"),
    Case("empty_file", "zero bytes",
         lambda _: b"", NotAPdfError, "not a PDF"),
    Case("javascript_and_attachment", "/OpenAction JavaScript and an embedded .exe on a valid statement",
         javascript_and_attachment, None),
    Case("operator_flood", "200 pages sharing ten million operators",
         operator_flood, ResourceLimitError, "CPU"),
    Case("objstm_absurd_n", "the font in an object stream claiming /N 2^31-1",
         objstm_absurd_n, DamagedPdfError, "page 1"),
    Case("length_2_63", "a content stream whose /Length is 2^63",
         length_2_63, DamagedPdfError, "."),
]
# fmt: on
