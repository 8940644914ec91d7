"""The extraction driver: one PDF in, one `Document` out — read, detect, parse, in that order."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from shared.errors import DamagedPdfError
from shared.extraction.detect import detect
from shared.extraction.expenses import ExpensesParser
from shared.extraction.layouts import StatementLayout, load_layouts
from shared.extraction.statement import parse_statement
from shared.models import Check, Document, Expense
from shared.pdf.read import (
    PageText,
    PdfSource,
    first_text_page,
    open_worker_source,
    read_page_rows,
)
from shared.processes import pool_context

Progress = Callable[[int, int], None]
# Told each expense with the open report it was read from (its pages can be copied without re-opening).
ExpenseSink = Callable[[PdfSource, Expense], None]
# Below this many pages a process pool costs more than it saves.
PARALLEL_MIN_PAGES = 24


def default_processes() -> int:
    """One process per core this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _pages_in_pool(
    *, path: str, password: str | None, count: int, processes: int, sink: PdfSource, progress: Progress | None
) -> Iterator[PageText]:
    """Pages read and grouped into rows by `processes` workers in contiguous ranges, in page order."""
    chunk = max(8, -(-count // (processes * 3)))
    ranges = [(start, min(start + chunk, count)) for start in range(0, count, chunk)]
    # fork where safe: workers inherit the loaded modules, so a pool starts in milliseconds.
    context = pool_context()
    with ProcessPoolExecutor(
        max_workers=processes, mp_context=context, initializer=open_worker_source, initargs=(path, password)
    ) as pool:
        futures = [pool.submit(read_page_rows, a, b) for a, b in ranges]
        done = 0
        for future in futures:
            batch = future.result()
            sink.warnings.extend(batch.warnings)
            sink.unreadable_pages.extend(batch.unreadable_pages)
            for page in batch.pages:
                done += 1
                if progress:
                    progress(done, count)
                yield page


def _pages_in_order(source: PdfSource, progress: Progress | None) -> Iterator[PageText]:
    for page in source.pages():
        if progress:
            progress(page.number, source.page_count)
        yield page


def _parse_expenses(source: PdfSource, progress: Progress | None, sink: ExpenseSink | None) -> ExpensesParser:
    """Feed every page to the receipts parser; each expense goes to `sink` once its pages are all
    read. Only the newest expense can still gain pages, so the ones before it are final."""
    parser = ExpensesParser()
    given = 0
    for page in _pages_in_order(source, progress):
        parser.feed(page)
        if sink is not None:
            final = len(parser.result.expenses) - 1
            for expense in parser.result.expenses[given:final]:
                sink(source, expense)
            given = max(given, final)
    if sink is not None:
        for expense in parser.result.expenses[given:]:
            sink(source, expense)
    return parser


def extract_document(
    path: str | Path,
    *,
    password: str | None = None,
    layouts: Sequence[StatementLayout] | None = None,
    processes: int | None = None,
    progress: Progress | None = None,
    name: str | None = None,
    expenses: ExpenseSink | None = None,
) -> Document:
    """Extract every transaction or expense of the PDF at `path`.

    Raises a `PermanentError` subclass for input that cannot be read; problems that leave the rest
    readable (a page that fails, totals that do not reconcile) are listed in the result instead.
    `expenses` (receipts reports only) is handed each expense as soon as its last page is read,
    with the open report, so a caller can start work on it while the rest is still being read.
    """
    layouts = load_layouts() if layouts is None else layouts
    processes = default_processes() if processes is None else processes
    with PdfSource(path, password) as source:
        kind, layout = detect(first_text_page(source), layouts)
        document = Document(file=name or Path(path).name, kind=kind, pages=source.page_count)
        if layout is not None:  # a statement
            pages: Iterator[PageText]
            if processes > 1 and source.page_count >= PARALLEL_MIN_PAGES:
                pages = _pages_in_pool(
                    path=str(path),
                    password=password,
                    count=source.page_count,
                    processes=processes,
                    sink=source,
                    progress=progress,
                )
            else:
                pages = _pages_in_order(source, progress)
            result = parse_statement(pages, layout)
            document.layout = layout.name
            document.transactions = result.transactions
            document.checks = result.checks
            document.warnings = result.warnings
            if result.period_start:
                document.period_start, document.period_end = result.period_start, result.period_end
        else:
            found = _parse_expenses(source, progress, expenses).finish()
            document.expenses = found.expenses
            document.warnings = found.warnings
        if len(source.unreadable_pages) == source.page_count:
            raise DamagedPdfError("no page of the PDF could be read")
        if source.unreadable_pages:
            document.checks.append(
                Check(
                    code="unreadable_pages",
                    message=f"{len(source.unreadable_pages)} page(s) could not be read: "
                    + ", ".join(map(str, source.unreadable_pages[:20])),
                )
            )
        document.warnings.extend(dict.fromkeys(source.warnings))
    return document
