"""Receipt PDFs: each matched expense's pages cut out of the Receipt Images Report, and a ZIP of them.

Pages are *copied* (pypdf `PdfWriter.add_page`): the receipt images keep their original JPEG bytes,
nothing is decoded or re-encoded, so cutting is fast and the receipts look exactly as scanned.

Memory does not grow with the report: it is opened once, through `PdfSource` (a file handle, not
the whole file in memory), and after each expense the large streams pypdf resolved while copying
are dropped from the reader's cache, as the extraction stage does after each page. Each small PDF
is written and released before the next is started.

Files are named `<employee>_<date>_<amount>_<transaction#>.pdf` (employee = the statement's
cardholder, date = transaction date), using only ASCII letters, digits, `.` and `-` inside each
part, so they are safe on every filesystem; a name already taken (compared case-insensitively, for
Windows and macOS) gets `-2`, `-3`, ... before `.pdf`.

The ZIP stores the PDFs without compressing them (ZIP_STORED): they are almost entirely JPEG data,
already compressed, so deflating would cost time for a gain of a percent or two.
"""

from __future__ import annotations

import io
import logging
import re
import shutil
import unicodedata
import zipfile
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from shared.errors import CcprocError, PermanentError
from shared.models import ReconciledTransaction, Reconciliation
from shared.pdf.read import PdfSource
from shared.report.fields import employee_label, money, redact
from shared.report.redact import redact_page

logger = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9.-]+")
_PART_MAX = 40


@dataclass
class ReceiptPdfs:
    """What cutting produced: PDFs by position in `reconciliation.transactions`, and what went wrong."""

    files: dict[int, Path] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _part(text: str, fallback: str) -> str:
    """One filesystem-safe name part: ASCII letters, digits, `.` and `-` only."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    cleaned = _UNSAFE.sub("-", ascii_text).strip(".-")[:_PART_MAX].strip(".-")
    return cleaned or fallback


def receipt_file_name(rt: ReconciledTransaction) -> str:
    """`<employee>_<date>_<amount>_<transaction#>.pdf` for a transaction, filesystem-safe."""
    tx = rt.transaction
    parts = (
        _part(employee_label(rt), "unknown"),
        tx.transaction_date.isoformat(),
        money(tx.net),  # digits, a point and perhaps a minus: safe as it is
        _part(redact(tx.transaction_number), "no-number"),
    )
    return "_".join(parts) + ".pdf"


def _unique(name: str, taken: set[str]) -> str:
    stem, suffix, n = name.removesuffix(".pdf"), ".pdf", 1
    while name.lower() in taken:
        n += 1
        name = f"{stem}-{n}{suffix}"
    taken.add(name.lower())
    return name


def planned_names(reconciliation: Reconciliation) -> dict[int, str]:
    """The file name each matched transaction's receipt PDF gets, by position (unique, in order)."""
    taken: set[str] = set()
    return {
        index: _unique(receipt_file_name(rt), taken)
        for index, rt in enumerate(reconciliation.transactions)
        if rt.expense is not None
    }


class Cut(BaseModel):
    """One expense's receipt PDF cut ahead: the report pages it holds, and its file `<number>.pdf`."""

    model_config = ConfigDict(frozen=True)

    pages: tuple[int, ...]
    number: int = Field(ge=0)
    length: int = Field(gt=0)

    @property
    def file_name(self) -> str:
        return f"{self.number}.pdf"


class CutFailure(BaseModel):
    """An expense whose pages could not be copied, and why."""

    model_config = ConfigDict(frozen=True)

    pages: tuple[int, ...]
    reason: str


class ReceiptCuts(BaseModel):
    """The index of a folder of receipt PDFs cut while the receipts report was read: one per
    expense (one per set of pages: two expenses on one page share a PDF), numbered in the order
    they were cut (`0.pdf`, `1.pdf`, …; a number whose cut failed has no file)."""

    cuts: list[Cut] = Field(default_factory=list)
    failures: list[CutFailure] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)

    def extend(self, other: ReceiptCuts) -> None:
        """Add what a later batch cut."""
        self.cuts.extend(other.cuts)
        self.failures.extend(other.failures)
        self.warnings.extend(other.warnings)


# pages, expense id, pages showing a card number, the number of its file
Job = tuple[tuple[int, ...], str, tuple[int, ...], int]


def cut_into_files(source: PdfSource, jobs: Sequence[Job], folder: Path) -> ReceiptCuts:
    """Cut each job's pages out of `source` into `folder/<number>.pdf`; their index. Each file
    appears whole or not at all (written aside, then renamed). A job whose pages cannot be copied
    is a failure in the index, and the others still come out."""
    index = ReceiptCuts()
    before = len(source.warnings)
    for pages, expense_id, card_number_pages, number in jobs:
        try:
            data = cut_pages(source, pages, expense_id, card_number_pages)
        except CcprocError as exc:
            index.failures.append(CutFailure(pages=pages, reason=str(exc)))
            continue
        cut = Cut(pages=pages, number=number, length=len(data))
        partial = folder / f"{cut.file_name}.part"
        partial.write_bytes(data)
        partial.replace(folder / cut.file_name)
        index.cuts.append(cut)
    index.warnings.extend(source.warnings[before:])
    return index


@dataclass(frozen=True)
class PrecutReceipts:
    """Receipt PDFs cut ahead of matching (`receipt_cutter`): their folder and its index."""

    folder: Path | None = None
    index: ReceiptCuts = field(default_factory=ReceiptCuts)


def cut_receipts(
    reconciliation: Reconciliation,
    receipts_pdf: Path,
    out_dir: Path,
    *,
    password: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    archive: zipfile.ZipFile | None = None,
    keep_files: bool = True,
    precut: PrecutReceipts | None = None,
) -> ReceiptPdfs:
    """Write one PDF per matched expense into `out_dir`, its pages copied from `receipts_pdf`.

    An expense whose pages cannot be copied (outside the file, or damaged) gets no PDF and a line
    in `problems`; the others still come out. `password` opens an encrypted report.
    `progress(done, total)` is called after each expense. With `archive`, each PDF also goes into
    that ZIP as it is made (no second read); `keep_files=False` writes the ZIP only. PDFs in
    `precut` are moved into place rather than cut again; the report is opened only for the rest.
    """
    names = planned_names(reconciliation)
    matched = [(i, reconciliation.transactions[i]) for i in names]
    result = ReceiptPdfs()
    out_dir.mkdir(parents=True, exist_ok=True)
    ready = _Precut(precut or PrecutReceipts())
    with ExitStack() as stack:
        # Opened (once) only when some PDF is still to be cut; a report that cannot be opened
        # raises here, before any PDF is written.
        uncut = any(rt.expense and not ready.has(rt.expense.pages) for _, rt in matched)
        source = stack.enter_context(PdfSource(receipts_pdf, password)) if uncut else None
        for done, (index, rt) in enumerate(matched, start=1):
            path = out_dir / names[index]
            assert rt.expense is not None  # only matched transactions are named
            try:
                if source is None or ready.has(rt.expense.pages):
                    data = ready.take(rt.expense.pages, path if keep_files else None)
                else:
                    data = cut_pages(
                        source, rt.expense.pages, rt.expense.expense_id, rt.expense.card_number_pages
                    )
                    if keep_files:
                        path.write_bytes(data)
            except CcprocError as exc:
                problem = f"transaction {rt.transaction.transaction_number}: no receipt PDF: {exc}"
                logger.warning(problem)
                result.problems.append(problem)
            else:
                result.names[index] = path.name
                if keep_files:
                    result.files[index] = path
                if archive is not None:
                    archive.writestr(path.name, data)
            if progress is not None:
                progress(done, len(matched))
        warnings = [*ready.warnings, *(source.warnings if source is not None else [])]
        result.problems.extend(f"receipts report: {w}" for w in warnings)
    return result


class _Precut:
    """The precut PDFs handed out to transactions: a PDF moves to its first transaction's file and is
    copied from there for any later one (two transactions matched to one expense)."""

    def __init__(self, precut: PrecutReceipts) -> None:
        folder = precut.folder
        self._where = {c.pages: folder / c.file_name for c in precut.index.cuts} if folder else {}
        self._failures = {f.pages: f.reason for f in precut.index.failures}
        self._placed: set[tuple[int, ...]] = set()
        self.warnings = precut.index.warnings

    def has(self, pages: list[int]) -> bool:
        key = tuple(pages)
        return key in self._where or key in self._failures

    def take(self, pages: list[int], path: Path | None) -> bytes:
        """The PDF's bytes (small: one expense); with `path`, the PDF is also moved or copied there."""
        key = tuple(pages)
        if key in self._failures:
            raise PermanentError(self._failures[key])
        where = self._where[key]
        if path is None:
            return where.read_bytes()
        if key in self._placed:
            shutil.copyfile(where, path)
        else:
            shutil.move(where, path)  # a rename when both folders are on one filesystem
            self._where[key] = path
            self._placed.add(key)
        return path.read_bytes()


def cut_pages(
    source: PdfSource, pages: Sequence[int], expense_id: str, card_number_pages: Sequence[int] = ()
) -> bytes:
    """A new PDF of the given 1-based pages of `source`, as bytes (one expense's pages: small).

    Pages listed in `card_number_pages` (those the extraction saw a card number on) have it masked, or are
    withheld when it cannot be masked in place (`shared.report.redact`).
    """
    outside = [p for p in pages if p > source.page_count]
    if outside:
        raise PermanentError(
            f"expense {expense_id} names pages {outside} of a {source.page_count}-page report"
        )
    # The report is opened once; the source keeps no large stream from one expense to the next.
    writer = source.copy_pages(pages)
    for position, number in enumerate(pages):
        if number in card_number_pages:
            outcome = redact_page(writer.pages[position])
            logger.info("expense %s: page %d shows a card number: %s", expense_id, number, outcome.value)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()
