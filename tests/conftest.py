"""Shared fixtures: tiny PDFs written on the spot for the cases the builders do not cover."""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from reportlab.lib.pagesizes import landscape, letter
from reportlab.pdfgen import canvas

from shared.settings import Settings
from shared.storage.azure import AzureStorage
from tests.azurite import Azurite, AzuriteError
from tests.scenarios import fresh_settings

WritePdf = Callable[..., Path]


def write_text_pdf(path: Path, pages: Sequence[Sequence[str]], *, font_size: float = 8) -> Path:
    """A PDF whose pages draw the given lines, one run per line, top to bottom."""
    pdf = canvas.Canvas(str(path), pagesize=landscape(letter))
    for lines in pages:
        pdf.setFont("Helvetica", font_size)
        y = 580.0
        for line in lines:
            pdf.drawString(24, y, line)
            y -= font_size * 1.4
        pdf.showPage()
    pdf.save()
    return path


def write_image_only_pdf(path: Path, pages: int = 2) -> Path:
    """A scan-like PDF: every page one image, no text at all."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (120, 160), (200, 200, 200)).save(buffer, format="JPEG")
    buffer.seek(0)
    from reportlab.lib.utils import ImageReader

    image = ImageReader(buffer)
    pdf = canvas.Canvas(str(path), pagesize=letter)
    for _ in range(pages):
        pdf.drawImage(image, 50, 50, width=300, height=400)
        pdf.showPage()
    pdf.save()
    return path


@pytest.fixture
def text_pdf(tmp_path: Path) -> WritePdf:
    """Write a PDF of text lines: `text_pdf([["line", ...], ...], name="x.pdf")`."""

    def make(pages: Sequence[Sequence[str]], name: str = "doc.pdf") -> Path:
        return write_text_pdf(tmp_path / name, pages)

    return make


# -- storage against Azurite ------------------------------------------------------------------


@pytest.fixture(scope="session")
def azurite() -> Iterator[Azurite]:
    """Azurite's blob and queue services for the whole run; fails (never skips) when not installed."""
    instance = Azurite()
    try:
        instance.start()
    except AzuriteError as exc:
        failure = str(exc)
    else:
        failure = ""
    if failure:
        pytest.fail(failure, pytrace=False)
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture
def storage(azurite: Azurite) -> Iterator[AzureStorage]:
    """An `AzureStorage` on the session's Azurite (tests keep apart by container name)."""
    gateway = AzureStorage(azurite.connection_string)
    try:
        yield gateway
    finally:
        gateway.close()


@pytest.fixture(scope="session")
def indexed_functions() -> dict[str, Any]:
    """The Function App's functions as the host indexes them (an app may be indexed only once)."""
    from function_app import app

    return {f.get_function_name(): f for f in app.get_functions()}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Container and queue names of their own for each test, so tests never see each other's data."""
    return fresh_settings(tmp_path)


# The browser tests' screenshots (tests/test_web_page.py and the page modules that share its browser).
WEB_ARTIFACTS = Path(__file__).resolve().parent.parent / "out" / "test-artifacts" / "web"


@pytest.fixture(scope="session")
def web_artifacts() -> Path:
    """The screenshots folder, emptied once per run (not per module: every page module adds to it)."""
    shutil.rmtree(WEB_ARTIFACTS, ignore_errors=True)
    WEB_ARTIFACTS.mkdir(parents=True)
    return WEB_ARTIFACTS
