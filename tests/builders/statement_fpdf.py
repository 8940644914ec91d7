"""Draw a laid-out statement with fpdf2: a second producer for the same lines and the same truth.

fpdf2's ``text()`` writes one ``BT x y Td (..) Tj ET`` per call, so it draws the ``cells``,
``words`` and ``padded`` styles; a line as one text object with several moves is reportlab's.
Widths come from fpdf2's own core-font metrics (``get_string_width``), as a user of fpdf2 would
measure them. The creation date is fixed so equal input gives equal bytes (for one fpdf2 version,
which the Producer names).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF, FPDF_VERSION

from tests.builders.statement_lines import LEFT, PAGE_HEIGHT, PageLines, Printed, RowStyle

FPDF_STYLES: tuple[RowStyle, ...] = ("cells", "words", "padded")
# reportlab's standard font names as fpdf2 core font family and style.
FONTS = {
    "Helvetica": ("helvetica", ""),
    "Helvetica-Bold": ("helvetica", "B"),
    "Courier": ("courier", ""),
    "Courier-Bold": ("courier", "B"),
}
CREATED = dt.datetime(2025, 4, 2, 8, 14, 7, tzinfo=dt.UTC)


def new_fpdf(orientation: str, title: str) -> FPDF:
    """An fpdf2 document in points on US letter, without automatic page breaks, with fixed dates."""
    pdf = FPDF(orientation=orientation, unit="pt", format="letter")
    pdf.set_auto_page_break(False)
    pdf.set_creation_date(CREATED)
    pdf.set_title(title)
    pdf.set_creator("ccproc test builders")
    # What fpdf2 wrote by default before 2.8: a reader can tell the producer as in the field.
    pdf.set_producer(f"PyFPDF/fpdf{FPDF_VERSION}")
    return pdf


def use_font(pdf: FPDF, font: str, size: float) -> None:
    """Select a reportlab-named standard font."""
    family, style = FONTS[font]
    pdf.set_font(family, style, size)


def width(pdf: FPDF, text: str, font: str, size: float) -> float:
    """``text``'s width in points by fpdf2's metrics."""
    use_font(pdf, font, size)
    return float(pdf.get_string_width(text))


class FpdfStatementPainter:
    """Draws laid-out pages with fpdf2 ``text()`` calls; y is measured from the top there."""

    def __init__(self, pdf: FPDF, style: RowStyle, pad_size: float) -> None:
        self.pdf = pdf
        self.style = style
        self.pad_size = pad_size

    def _measure(self, text: str, font: str, size: float) -> float:
        return width(self.pdf, text, font, size)

    def text(self, x: float, y: float, text: str, font: str, size: float) -> None:
        """One ``text()`` call at PDF coordinates (``y`` up from the bottom)."""
        use_font(self.pdf, font, size)
        self.pdf.text(x, PAGE_HEIGHT - y, text)

    def page(self, page: PageLines) -> None:
        """Draw a whole page."""
        self.pdf.add_page()
        for printed in page.lines:
            self.line(printed)
            if printed.kind == "header":
                x0, x1, y = page.rule
                self.pdf.set_line_width(0.5)
                self.pdf.line(x0, PAGE_HEIGHT - y, x1, PAGE_HEIGHT - y)

    def line(self, printed: Printed) -> None:
        """One printed line in the painter's style (report header lines always as cells)."""
        style = "cells" if printed.kind == "report" else self.style
        if style == "padded":
            self.text(LEFT, printed.y, printed.padded, printed.padded_font, self.pad_size)
            return
        for cell in printed.cells:
            if style == "words":
                for x, word in cell.words(self._measure):
                    self.text(x, printed.y, word, cell.font, cell.size)
            else:
                self.text(cell.left(self._measure), printed.y, cell.text, cell.font, cell.size)


def draw_statement_fpdf(
    path: Path | str, pages: Sequence[PageLines], style: RowStyle, pad_size: float
) -> None:
    """Write laid-out ``pages`` with fpdf2 in ``style`` (``cells``, ``words`` or ``padded``)."""
    if style not in FPDF_STYLES:
        raise ValueError(f"fpdf2 draws the styles {FPDF_STYLES}, not {style!r}")
    pdf = new_fpdf("L", "Cardholder Activity Report General")
    painter = FpdfStatementPainter(pdf, style, pad_size)
    for page in pages:
        painter.page(page)
    pdf.output(str(Path(path)))
