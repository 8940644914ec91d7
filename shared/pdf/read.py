"""Stage 1 — read: a PDF's pages as printed rows of words and cells, one page at a time, never
decoding images. Where each word is printed comes from `shared.pdf.text`; rows and cells from
`shared.pdf.rows`.

pypdf reads a *path* whole into memory and keeps every object it resolves (receipt images
included) until the reader is dropped. So a large file is handed over as an open file handle (pypdf
seeks and reads only what it needs; an mmap would count every touched page in RSS), a small one as
bytes in memory (faster), and after every page the large streams it resolved are dropped. Memory
then stays flat whatever the file's size; `make bench` measures path vs handle vs mmap.
"""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import pypdf
from pypdf.errors import FileNotDecryptedError, PdfReadError, PyPdfError
from pypdf.generic import StreamObject

from shared.errors import (
    CcprocError,
    DamagedPdfError,
    EncryptedPdfError,
    ImageOnlyPdfError,
    NotAPdfError,
    WrongPasswordError,
)
from shared.pdf.rows import Row, rows_from_pieces
from shared.pdf.text import FontMetrics, page_pieces

PDF_MAGIC = b"%PDF-"
# Streams above this size are dropped from pypdf's cache after each page: images, content streams.
_KEEP_STREAM_BYTES = 16 * 1024
# Files up to this size are read into memory whole; larger ones are read through a file handle.
IN_MEMORY_MAX_BYTES = 16 * 1024 * 1024
# A PDF's trailer ends in %%EOF; a file without one in its last bytes was cut short in transfer.
_TAIL_BYTES = 2048


@dataclass(frozen=True, slots=True)
class PageText:
    """The text of one page as printed: rows top to bottom, each with its words and cells."""

    number: int
    grouped: tuple[Row, ...]

    @property
    def has_text(self) -> bool:
        """True when the page draws any visible character."""
        return bool(self.grouped)

    def rows(self) -> tuple[Row, ...]:
        """Rows top to bottom; each row's words left to right, joined by one space."""
        return self.grouped

    def lines(self) -> list[str]:
        """Every cell, row after row, left to right: labels and values as separate lines, however
        the producer grouped them."""
        return [cell.text for row in self.grouped for cell in row.cells()]


class _ListHandler(logging.Handler):
    def __init__(self, sink: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(record.getMessage())


@contextmanager
def _pypdf_log_into(sink: list[str]) -> Iterator[None]:
    """pypdf reports repairs through logging; collect them as the document's warnings instead."""
    logger = logging.getLogger("pypdf")
    handler = _ListHandler(sink)
    logger.addHandler(handler)
    propagate, logger.propagate = logger.propagate, False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def check_pdf_file(handle: IO[bytes], size: int) -> None:
    """Reject what is not a PDF, or a PDF cut short, by its bytes, before pypdf parses anything."""
    handle.seek(0)
    head = handle.read(1024)
    if PDF_MAGIC not in head:
        raise NotAPdfError("not a PDF: the file does not start with the %PDF- signature")
    handle.seek(max(0, size - _TAIL_BYTES))
    if b"%%EOF" not in handle.read(_TAIL_BYTES):
        raise DamagedPdfError("the PDF is truncated (no end-of-file marker): upload the complete file again")
    handle.seek(0)


class PdfSource:
    """An open PDF read page by page from a file handle, with pypdf's cache kept small."""

    def __init__(self, path: str | Path, password: str | None = None) -> None:
        self.path = Path(path)
        self.warnings: list[str] = []
        self.unreadable_pages: list[int] = []
        self._handle: IO[bytes] = self.path.open("rb")
        try:
            size = self.path.stat().st_size
            check_pdf_file(self._handle, size)
            if size <= IN_MEMORY_MAX_BYTES:
                # Small files (statements) are read from memory: pypdf's many small reads and
                # seeks cost more on a file handle; large ones (receipts) stay on disk.
                self._handle.close()
                self._handle = io.BytesIO(self.path.read_bytes())
            self._reader = self._open(password)
            self.page_count = self._guard(lambda: len(self._reader.pages))
        except BaseException:
            self._handle.close()
            raise
        self._cache_seen = len(self._reader.resolved_objects)
        self._last: PageText | None = None
        self._fonts: dict[int, FontMetrics] = {}

    def _open(self, password: str | None) -> pypdf.PdfReader:
        reader: pypdf.PdfReader = self._guard(lambda: pypdf.PdfReader(self._handle, strict=False))
        if reader.is_encrypted:
            # A PDF encrypted with an owner password only (to stop printing or copying) opens with
            # the empty user password, as in any viewer; only a user password needs asking for.
            try:
                opened = reader.decrypt(password or "")
                if not opened and password:
                    opened = reader.decrypt("")
            except (PyPdfError, NotImplementedError, ValueError) as exc:
                raise EncryptedPdfError(f"the PDF's encryption cannot be opened: {exc}") from exc
            if not opened:
                if not password:
                    raise EncryptedPdfError("the PDF is encrypted: give its password (--password)")
                raise WrongPasswordError("the password does not open this PDF")
        return reader

    def _guard(self, call: Any) -> Any:
        """Run a pypdf call, turning its failures into our errors and its warnings into ours."""
        with warnings.catch_warnings(record=True) as caught, _pypdf_log_into(self.warnings):
            warnings.simplefilter("always")
            try:
                result = call()
            except FileNotDecryptedError as exc:
                raise EncryptedPdfError("the PDF is encrypted: give its password (--password)") from exc
            except (PdfReadError, PyPdfError) as exc:
                raise DamagedPdfError(f"the PDF cannot be read: {exc}") from exc
            except RecursionError as exc:
                raise DamagedPdfError("the PDF's object structure nests too deeply to read") from exc
            except CcprocError:
                raise
            except MemoryError as exc:
                raise DamagedPdfError("the PDF needs more memory to read than is allowed") from exc
            except Exception as exc:
                raise DamagedPdfError(f"the PDF is damaged: {type(exc).__name__}: {exc}") from exc
        self.warnings.extend(str(w.message) for w in caught)
        return result

    def page(self, index: int) -> PageText:
        """The text of page `index` (0-based); large streams it resolved are dropped after."""
        if self._last is not None and self._last.number == index + 1:
            return self._last  # detection read it just before the parser asks for it
        try:
            pieces = self._guard(lambda: page_pieces(self._reader, self._reader.pages[index], self._fonts))
        finally:
            self._trim_cache()
        self._last = PageText(index + 1, tuple(rows_from_pieces(pieces)))
        return self._last

    def copy_pages(self, numbers: Sequence[int]) -> pypdf.PdfWriter:
        """A new PDF of the given 1-based pages, copied as stored (images are not re-encoded);
        what the copy made pypdf cache is dropped after, as for text."""
        reader = self._reader

        def copy() -> pypdf.PdfWriter:
            writer = pypdf.PdfWriter()
            for number in numbers:
                writer.add_page(reader.pages[number - 1])
            return writer

        try:
            writer: pypdf.PdfWriter = self._guard(copy)
        finally:
            self._trim_cache()
        return writer

    def pages(self, start: int = 0, stop: int | None = None) -> Iterator[PageText]:
        """Pages `start`..`stop` (0-based, stop exclusive) in order; an unreadable page is reported
        in `warnings` and yields no text, so one bad page does not cost the rest of the file."""
        for index in range(start, self.page_count if stop is None else stop):
            try:
                yield self.page(index)
            except DamagedPdfError as exc:
                self.unreadable_pages.append(index + 1)
                self.warnings.append(f"page {index + 1} could not be read: {exc}")
                yield PageText(index + 1, ())

    def _trim_cache(self) -> None:
        # Entries are only ever added at the end, so the newest ones are walked from the back.
        cache = self._reader.resolved_objects
        fresh = len(cache) - self._cache_seen
        drop = []
        for key in reversed(cache):
            if fresh <= 0:
                break
            fresh -= 1
            obj = cache[key]
            if isinstance(obj, StreamObject) and len(obj._data or b"") > _KEEP_STREAM_BYTES:
                drop.append(key)
        for key in drop:
            del cache[key]
        self._cache_seen = len(cache)

    def own_handle(self) -> None:
        """Read through a file handle of this process's own, keeping all pypdf has parsed: for a
        forked process, whose inherited handle shares its read position with the parent's."""
        if isinstance(self._handle, io.BytesIO):
            return  # a small file is in memory, which the fork copied rather than shared
        self._handle = self.path.open("rb")
        self._reader.stream = self._handle

    def close(self) -> None:
        """Release the file handle."""
        self._handle.close()

    def __enter__(self) -> PdfSource:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def first_text_page(source: PdfSource, limit: int = 5) -> PageText:
    """The first page with text among the first `limit`; none means the PDF is scanned images."""
    for page in source.pages(0, min(limit, source.page_count)):
        if page.has_text:
            return page
    raise ImageOnlyPdfError(
        "the PDF has no text layer (scanned images only): OCR would be needed before it can be read"
    )


@dataclass(frozen=True, slots=True)
class PageBatch:
    """Pages read by a worker process, with what went wrong on the way."""

    pages: list[PageText]
    warnings: list[str]
    unreadable_pages: list[int]


_worker_source: PdfSource | None = None


def open_worker_source(path: str, password: str | None) -> None:
    """Worker initialiser: open the PDF once per process, not once per page range."""
    global _worker_source  # noqa: PLW0603 — one open file per worker process is the point
    _worker_source = PdfSource(path, password)


def read_page_rows(start: int, stop: int) -> PageBatch:
    """Worker task: pages `start`..`stop` of the worker's PDF, grouped into rows where they are read."""
    source = _worker_source
    if source is None:
        raise RuntimeError("open_worker_source was not run in this process")
    warnings_before, unreadable_before = len(source.warnings), len(source.unreadable_pages)
    pages = list(source.pages(start, stop))
    return PageBatch(pages, source.warnings[warnings_before:], source.unreadable_pages[unreadable_before:])
