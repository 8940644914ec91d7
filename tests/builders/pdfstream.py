"""A minimal PDF writer that streams pages to disk, for receipt files of hundreds of megabytes.

reportlab and fpdf2 keep the whole document, images included, in memory until they save it
(reportlab also wraps JPEGs in ASCII85 unless told otherwise). Receipt files are almost all JPEG
bytes, so this writer puts each image on disk as soon as it is drawn: memory stays at one image.

Output is a classic PDF 1.4 file: standard Type 1 fonts (Helvetica; Courier when asked;
WinAnsiEncoding), Flate-compressed content streams, JPEG image XObjects passed through untouched as
``/DCTDecode``, and a cross-reference table. Nothing time-dependent is written, so equal input gives
equal bytes. Text is drawn as :class:`TextRun` (one text object holding one string) or
:class:`TextObject` (one text object, several strings each placed by a ``Td`` or ``Tm`` move).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Literal, Self

from reportlab.pdfbase.pdfmetrics import stringWidth  # type: ignore[import-untyped]

from tests.builders.jpeg import Jpeg

FONTS = {"F1": b"Helvetica", "F2": b"Helvetica-Bold", "F3": b"Courier", "F4": b"Courier-Bold"}
# The fonts every page lists unless a writer asks for more (adding one would change the bytes of
# files written before Courier was offered).
DEFAULT_FONTS = ("F1", "F2")


def _num(value: float) -> bytes:
    return f"{value:.2f}".rstrip("0").rstrip(".").encode("ascii")


def string_width(text: str, font: str, size: float) -> float:
    """Width in points of ``text`` in one of :data:`FONTS` (the standard fonts' AFM metrics)."""
    return float(stringWidth(text, FONTS[font].decode("ascii"), size))


def pdf_string(text: str) -> bytes:
    """A PDF literal string in WinAnsi encoding."""
    raw = text.encode("cp1252")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


@dataclass(frozen=True)
class TextRun:
    """One line of text: its own ``BT ... ET`` at a fixed position."""

    x: float
    y: float
    text: str
    font: str = "F1"
    size: float = 9.0


@dataclass(frozen=True)
class TextObject:
    """One ``BT ... ET`` holding several runs, each placed by a text-positioning operator.

    ``Td`` moves are relative to the previous run's start (the first one relative to the origin);
    ``Tm`` sets an absolute matrix before each run. Fonts are set inside when they change.
    """

    runs: tuple[TextRun, ...]
    moves: Literal["Td", "Tm"] = "Td"

    def operators(self) -> bytes:
        """The text object's content-stream bytes."""
        ops = [b"BT"]
        font: tuple[str, float] | None = None
        x = y = 0.0
        for run in self.runs:
            if (run.font, run.size) != font:
                ops.append(b"/%s %s Tf" % (run.font.encode("ascii"), _num(run.size)))
                font = (run.font, run.size)
            if self.moves == "Tm":
                ops.append(b"1 0 0 1 %s %s Tm" % (_num(run.x), _num(run.y)))
            else:
                # Moves add up: each is taken from where the rounded moves before it really landed.
                dx, dy = round(run.x - x, 2) + 0.0, round(run.y - y, 2) + 0.0
                ops.append(b"%s %s Td" % (_num(dx), _num(dy)))
                x, y = x + dx, y + dy
            ops.append(pdf_string(run.text) + b" Tj")
        ops.append(b"ET")
        return b" ".join(ops)


@dataclass(frozen=True)
class Placement:
    """An image drawn into a box, scaled to fit with its aspect ratio kept."""

    jpeg: Jpeg
    x: float
    y: float
    width: float
    height: float


class PdfStream:
    """Write a PDF page by page; use as a context manager, or call ``close``."""

    def __init__(self, path: Path | str, title: str, fonts: Sequence[str] = DEFAULT_FONTS) -> None:
        self._file: BinaryIO = Path(path).open("wb")  # noqa: SIM115 - closed in close()
        self._offsets: dict[int, int] = {}
        self._next = 1
        self._pages: list[int] = []
        self._title = title
        self._file.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        self._catalog, self._tree = self._reserve(), self._reserve()
        self._fonts = {
            name: self._object(
                b"<< /Type /Font /Subtype /Type1 /BaseFont /" + base + b" /Encoding /WinAnsiEncoding >>"
            )
            for name, base in FONTS.items()
            if name in fonts
        }

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def pages(self) -> int:
        """Pages written so far."""
        return len(self._pages)

    def _reserve(self) -> int:
        number = self._next
        self._next += 1
        return number

    def _object(self, body: bytes, number: int | None = None) -> int:
        number = self._reserve() if number is None else number
        self._offsets[number] = self._file.tell()
        self._file.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
        return number

    def _stream(self, entries: bytes, data: bytes) -> int:
        number = self._reserve()
        self._offsets[number] = self._file.tell()
        head = b"%d 0 obj\n<< %s /Length %d >>\nstream\n" % (number, entries, len(data))
        self._file.write(head)
        self._file.write(data)
        self._file.write(b"\nendstream\nendobj\n")
        return number

    def _image(self, jpeg: Jpeg) -> int:
        space = b"/DeviceGray" if jpeg.gray else b"/DeviceRGB"
        entries = (
            b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace %s "
            b"/BitsPerComponent 8 /Filter /DCTDecode" % (jpeg.width, jpeg.height, space)
        )
        return self._stream(entries, jpeg.data)

    def add_page(
        self,
        width: float,
        height: float,
        texts: Sequence[TextRun | TextObject],
        images: Sequence[Placement] = (),
    ) -> int:
        """Write one page (its images first, then its content) and return its 1-based number."""
        ops: list[bytes] = []
        xobjects: list[bytes] = []
        for index, place in enumerate(images):
            number = self._image(place.jpeg)
            name = b"Im%d" % index
            xobjects.append(b"/%s %d 0 R" % (name, number))
            scale = min(place.width / place.jpeg.width, place.height / place.jpeg.height)
            w, h = place.jpeg.width * scale, place.jpeg.height * scale
            top = place.y + place.height - h
            ops.append(b"q %s 0 0 %s %s %s cm /%s Do Q" % (_num(w), _num(h), _num(place.x), _num(top), name))
        for run in texts:
            if isinstance(run, TextObject):
                ops.append(run.operators())
                continue
            ops.append(
                b"BT /%s %s Tf 1 0 0 1 %s %s Tm %s Tj ET"
                % (run.font.encode("ascii"), _num(run.size), _num(run.x), _num(run.y), pdf_string(run.text))
            )
        content = self._stream(b"/Filter /FlateDecode", zlib.compress(b"\n".join(ops), 6))
        fonts = b" ".join(b"/%s %d 0 R" % (n.encode("ascii"), o) for n, o in self._fonts.items())
        resources = b"/Font << " + fonts + b" >>"
        if xobjects:
            resources += b" /XObject << " + b" ".join(xobjects) + b" >>"
        page = self._object(
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %s %s] /Resources << %s >> "
            b"/Contents %d 0 R >>" % (self._tree, _num(width), _num(height), resources, content)
        )
        self._pages.append(page)
        return len(self._pages)

    def close(self) -> None:
        """Write the page tree, catalog, info and cross-reference table, then close the file."""
        if self._file.closed:
            return
        kids = b" ".join(b"%d 0 R" % p for p in self._pages)
        self._object(b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(self._pages)), self._tree)
        self._object(b"<< /Type /Catalog /Pages %d 0 R >>" % self._tree, self._catalog)
        info = self._object(b"<< /Title %s /Producer (ccproc test builders) >>" % pdf_string(self._title))
        xref = self._file.tell()
        rows = [b"0000000000 65535 f \n"]
        rows += [b"%010d 00000 n \n" % self._offsets[n] for n in range(1, self._next)]
        self._file.write(b"xref\n0 %d\n" % self._next + b"".join(rows))
        self._file.write(
            b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
            % (self._next, self._catalog, info, xref)
        )
        self._file.close()
