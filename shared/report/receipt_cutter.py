"""Receipt PDFs cut while the receipts report is still being read, on a core that would sit idle.

A receipts report is read page after page in one process (the parser needs its pages in order), so
on a machine with more cores than that the others wait, and cutting every expense's pages afterwards
was the longest part of writing the reports. The cut PDF does not depend on the match, only its file
name does; so `ReceiptCutter` takes each expense from the extraction as soon as its last page is read
(`extract_document(expenses=...)`) and cuts it in a forked process into a folder, as `0.pdf`,
`1.pdf`, … in the order the expenses came (`cut_into_files`). Once matching has named the matched
expenses' PDFs, `cut_receipts` only moves those files into place (`PrecutReceipts`); in the pipeline,
the files are uploaded end to end as one blob while they are cut, and the receipts ZIP is served
from it (`shared.sessions.receipt_store`).

The process is forked from the extraction with the report already open and its page tree parsed
(a third of a second for a month's report), and only takes a file handle of its own.

Nothing here is needed for a correct result: an expense that was not cut ahead (the process could
not be started, or broke) is cut the ordinary way at the end, and a failure never stops the
extraction; an expense whose pages could not be copied is reported as it would have been then.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from types import TracebackType

from shared.models import Expense
from shared.pdf.read import PdfSource
from shared.processes import can_fork
from shared.report.receipt_pdfs import Job, PrecutReceipts, ReceiptCuts, cut_into_files

logger = logging.getLogger(__name__)

_source: PdfSource | None = None


def _adopt_source(source: PdfSource) -> None:
    """Worker initialiser: the extraction's open report, inherited through the fork (initializer
    arguments are not pickled when a process is forked), read through a handle of its own."""
    global _source  # noqa: PLW0603 — one open report per worker process is the point
    source.own_handle()
    _source = source


# Expenses go to the process in small batches: one task each would cost a fifth of a second of
# pickling and wake-ups for a month's report; a batch is a few milliseconds of cutting.
BATCH = 8


def _cut_batch(jobs: list[Job], folder: str) -> ReceiptCuts:
    """Worker task: each expense's pages into its numbered file (one worker: in order)."""
    if _source is None:
        raise RuntimeError("_adopt_source was not run in this process")
    return cut_into_files(_source, jobs, Path(folder))


class ReceiptCutter:
    """Expenses in as the extraction finds them, cut by one forked process into numbered files;
    `finish()` hands the folder and its index over. Used as a context manager: leaving it stops the
    process (the folder is the caller's)."""

    def __init__(self, folder: Path) -> None:
        """PDFs go into `folder` (made when the first expense comes), which should be empty."""
        self._folder = folder
        self._report: PdfSource | None = None
        self._pool: ProcessPoolExecutor | None = None
        self._seen: set[tuple[int, ...]] = set()
        self._batch: list[Job] = []
        self._futures: list[Future[ReceiptCuts]] = []

    @property
    def sink(self) -> Callable[[PdfSource, Expense], None] | None:
        """What `extract_document(expenses=...)` is given: None where a process cannot be forked
        safely — no fork, or other threads running (the PDFs are then all cut at the end)."""
        return self._add if can_fork() else None

    def _add(self, report: PdfSource, expense: Expense) -> None:
        if self._report is None:
            self._start(report)
        if report is not self._report or self._pool is None:
            return  # not cutting ahead: a second receipts report (refused once read), or no process
        key = tuple(expense.pages)
        if key in self._seen:
            return  # two expenses on one page: one PDF serves both
        self._batch.append((key, expense.expense_id, tuple(expense.card_number_pages), len(self._seen)))
        self._seen.add(key)
        if len(self._batch) >= BATCH:
            self._submit()

    def _submit(self) -> None:
        if self._pool is not None and self._batch:
            try:
                self._futures.append(self._pool.submit(_cut_batch, self._batch, str(self._folder)))
            except Exception as exc:  # noqa: BLE001 — a broken pool: the rest are cut at the end
                logger.warning("receipt PDFs no longer cut ahead: %s", exc)
                self._shutdown()
        self._batch = []

    def _start(self, report: PdfSource) -> None:
        self._report = report
        try:
            self._folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            logger.warning("receipt PDFs not cut ahead: %s", exc)
            return
        if not can_fork():
            return  # a thread started meanwhile (a progress bar's monitor): cut at the end instead
        self._pool = ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_adopt_source,
            initargs=(report,),
        )

    def finish(self) -> PrecutReceipts:
        """Wait for every cut; the folder and its index (empty when nothing was cut ahead)."""
        self._submit()
        index = ReceiptCuts()
        for future in self._futures:
            try:
                index.extend(future.result())
            except Exception as exc:  # noqa: BLE001 — anything left uncut is cut again at the end
                logger.warning("receipt PDFs not cut ahead, to be cut at the end: %s", exc)
        self._shutdown()
        self._report = None  # closed by the extraction by now; nothing of it is needed here
        return PrecutReceipts(self._folder if index.cuts else None, index)

    def _shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def close(self) -> None:
        """Stop the process."""
        self._shutdown()

    def __enter__(self) -> ReceiptCutter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
