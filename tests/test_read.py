"""Reading pages: rows by baseline, cells by position, and a cache that does not keep images."""

from __future__ import annotations

import io
import os
from pathlib import Path

from PIL import Image
from pypdf.generic import StreamObject
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from shared.pdf.read import PdfSource


def test_rows_follow_position_not_drawing_order(tmp_path: Path) -> None:
    """Cells drawn right-to-left and bottom-up still come out as left-to-right rows, top first."""
    path = tmp_path / "cells.pdf"
    pdf = canvas.Canvas(str(path))
    pdf.setFont("Helvetica", 8)
    pdf.drawString(200, 500, "LAKEVILLE, LA")
    pdf.drawString(100, 500, "COOL AIR SERVICE C")
    pdf.drawString(100, 700, "first row")
    pdf.save()
    with PdfSource(path) as source:
        page = source.page(0)
    rows = page.rows()
    assert [r.text for r in rows] == ["first row", "COOL AIR SERVICE C LAKEVILLE, LA"]
    assert rows[1].breaks == (0, rows[1].text.split().index("LAKEVILLE,"))
    assert [c.text for c in rows[1].cells()] == ["COOL AIR SERVICE C", "LAKEVILLE, LA"]
    assert page.lines() == ["first row", "COOL AIR SERVICE C", "LAKEVILLE, LA"]


def test_images_are_not_kept_between_pages(tmp_path: Path) -> None:
    """After each page, pypdf's cache holds no large stream: memory does not grow with the file."""
    path = tmp_path / "images.pdf"
    pdf = canvas.Canvas(str(path))
    for n in range(4):
        buffer = io.BytesIO()
        Image.frombytes("RGB", (256, 256), os.urandom(256 * 256 * 3)).save(buffer, format="JPEG", quality=95)
        buffer.seek(0)
        pdf.drawString(72, 750, f"page {n}")
        pdf.drawImage(ImageReader(buffer), 72, 300, width=256, height=256)
        pdf.showPage()
    pdf.save()
    with PdfSource(path) as source:
        texts = [p.lines() for p in source.pages()]
        cache = source._reader.resolved_objects
        big = [o for o in cache.values() if isinstance(o, StreamObject) and len(o._data or b"") > 16384]
    assert texts == [[f"page {n}"] for n in range(4)]
    assert big == []
