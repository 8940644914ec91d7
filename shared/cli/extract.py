"""`ccproc extract` and `ccproc text`: documents in, their rows out."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from shared.cli.common import EXIT_FAILED, fail, progress_bar
from shared.errors import CcprocError
from shared.extraction.detect import detect
from shared.extraction.extract import extract_document
from shared.extraction.layouts import load_layouts
from shared.extraction.sandbox import extract_sandboxed
from shared.models import Document, DocumentKind, Expense, Transaction
from shared.pdf.read import PdfSource, first_text_page
from shared.settings import Settings

TRANSACTION_COLUMNS = list(Transaction.model_fields)
TRANSACTION_COLUMNS.remove("page")
EXPENSE_COLUMNS = [
    "expense_id", "employee_number", "employee_name", "date", "amount", "expense_type", "expense_title",
    "purpose", "merchant", "merchant_address", "coding_type", "job", "phase", "cost_type", "gl_account",
    "attachments", "pages",
]  # fmt: skip


def _page_range(text: str) -> tuple[int, int]:
    """`3` or `1-3` → 1-based inclusive range."""
    first, _, last = text.partition("-")
    try:
        start, stop = int(first), int(last or first)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a page range: {text!r} (use 2 or 1-3)") from exc
    if start < 1 or stop < start:
        raise argparse.ArgumentTypeError(f"not a page range: {text!r}")
    return start, stop


def cmd_extract(args: argparse.Namespace) -> int:
    """Extract every document given, each in a child process under the extraction limits (EXTRACT_CPU_SECONDS,
    EXTRACT_MEMORY_BYTES, EXTRACT_WALL_SECONDS); JSON or CSV on stdout, one line per failure on stderr."""
    layouts = load_layouts(*args.layouts)
    documents: list[Document] = []
    failed = False
    for file in args.files:
        try:
            with progress_bar(not args.quiet, Path(file).name) as progress:
                if args.no_sandbox:  # for a debugger or a profiler: the same code in this process
                    document = extract_document(
                        file,
                        password=args.password,
                        layouts=layouts,
                        processes=args.processes,
                        progress=progress,
                    )
                else:
                    settings = Settings().model_copy(update={"extract_processes": args.processes})
                    document = extract_sandboxed(
                        file, settings, password=args.password, layouts=layouts, progress=progress
                    )
                documents.append(document)
        except CcprocError as exc:
            fail(file, exc)
            failed = True
        except OSError as exc:
            print(f"ccproc: {file}: cannot open: {exc.strerror}", file=sys.stderr)
            failed = True
    payload = {"documents": [d.model_dump(mode="json") for d in documents]}
    if args.save:
        args.save.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    if args.format == "csv":
        _write_csv(documents, sys.stdout)
    elif args.format == "summary":
        _write_summary(documents, sys.stdout)
    else:
        json.dump(payload, sys.stdout, indent=2)
        sys.stdout.write("\n")
    return EXIT_FAILED if failed else 0


def _write_summary(documents: Sequence[Document], out: TextIO, listed: int = 10) -> None:
    """A table a person reads: one line per document, then its checks and warnings."""
    header = (
        f"{'FILE':<32} {'KIND':<20} {'PAGES':>6} {'ITEMS':>6} {'NET TOTAL':>14} {'CHECKS':>7} {'WARNINGS':>9}"
    )
    out.write(header + "\n")
    for d in documents:
        items = len(d.transactions) if d.kind is DocumentKind.CARDHOLDER_ACTIVITY else len(d.expenses)
        total = sum((t.net for t in d.transactions), Decimal(0)) + sum(
            (e.amount for e in d.expenses), Decimal(0)
        )
        out.write(
            f"{d.file[:32]:<32} {d.kind.value:<20} {d.pages:>6} {items:>6} {total:>14,.2f} "
            f"{len(d.checks):>7} {len(d.warnings):>9}\n"
        )
    for d in documents:
        for check in d.checks[:listed]:
            out.write(f"  check   {d.file}: {check.message}\n")
        for warning in d.warnings[:listed]:
            out.write(f"  warning {d.file}: {warning}\n")
        hidden = max(0, len(d.checks) - listed) + max(0, len(d.warnings) - listed)
        if hidden:
            out.write(f"  … {hidden} more for {d.file} in the JSON output\n")


def _expense_row(expense: Expense) -> dict[str, Any]:
    row = expense.model_dump(mode="json", exclude={"coding", "attachments", "pages"})
    coding = expense.coding
    row |= {
        "coding_type": coding.type or "",
        "job": coding.job,
        "phase": coding.phase,
        "cost_type": coding.cost_type,
        "gl_account": coding.gl_account,
        "attachments": ";".join(expense.attachments),
        "pages": ";".join(map(str, expense.pages)),
    }
    return row


def _write_csv(documents: Sequence[Document], out: TextIO) -> None:
    """Transactions, then expenses (each table with its own header), a `file` column first."""
    sections = [
        (DocumentKind.CARDHOLDER_ACTIVITY, TRANSACTION_COLUMNS),
        (DocumentKind.RECEIPT_IMAGES, EXPENSE_COLUMNS),
    ]
    first = True
    for kind, columns in sections:
        chosen = [d for d in documents if d.kind is kind]
        if not chosen:
            continue
        if not first:
            out.write("\r\n")
        first = False
        writer = csv.DictWriter(out, fieldnames=["file", *columns], extrasaction="ignore")
        writer.writeheader()
        for document in chosen:
            if kind is DocumentKind.CARDHOLDER_ACTIVITY:
                rows = [t.model_dump(mode="json") for t in document.transactions]
            else:
                rows = [_expense_row(e) for e in document.expenses]
            for row in rows:
                writer.writerow({"file": document.file, **row})


def cmd_text(args: argparse.Namespace) -> int:
    """Print page text exactly as the parser sees it: rows for statements, lines for receipts, or
    with --cells every row's cells with the x (points from the left edge) each begins at."""
    layouts = load_layouts(*args.layouts)
    try:
        with PdfSource(args.file, args.password) as source:
            try:
                kind, _ = detect(first_text_page(source), layouts)
            except CcprocError as exc:
                kind = None
                print(f"ccproc: {args.file}: {exc.message} — showing rows", file=sys.stderr)
            start, stop = args.pages or (1, source.page_count)
            for page in source.pages(start - 1, min(stop, source.page_count)):
                print(f"--- page {page.number} ---")
                if args.cells:
                    lines = ["  ".join(f"@{c.x0:.1f} {c.text}" for c in row.cells()) for row in page.rows()]
                elif kind is DocumentKind.RECEIPT_IMAGES:
                    lines = page.lines()
                else:
                    lines = [r.text for r in page.rows()]
                for line in lines:
                    print(line)
    except CcprocError as exc:
        fail(args.file, exc)
        return EXIT_FAILED
    except OSError as exc:
        print(f"ccproc: {args.file}: cannot open: {exc.strerror}", file=sys.stderr)
        return EXIT_FAILED
    return 0


def add_pdf_options(p: argparse.ArgumentParser) -> None:
    """--password and --layouts, for every subcommand that opens PDFs."""
    p.add_argument("--password", help="password of an encrypted PDF")
    p.add_argument(
        "--layouts", type=Path, action="append", default=[], metavar="DIR",
        help="a folder of extra statement layouts (JSON); may be repeated",
    )  # fmt: skip


def register(sub: Any) -> None:
    """Add `extract` and `text` to the command line."""
    extract = sub.add_parser("extract", help="extract transactions and expenses from PDFs")
    extract.add_argument("files", nargs="+", metavar="FILE")
    extract.add_argument("--format", choices=("json", "csv", "summary"), default="json")
    extract.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    extract.add_argument("--save", type=Path, metavar="FILE", help="also write the full JSON result to FILE")
    extract.add_argument("--processes", type=int, default=None, help="processes for long statements")
    extract.add_argument(
        "--no-sandbox",
        action="store_true",
        help="extract in this process, without the CPU and memory limits (for debugging)",
    )
    add_pdf_options(extract)
    extract.set_defaults(run=cmd_extract)

    text = sub.add_parser("text", help="show page text as the parser sees it")
    text.add_argument("file", metavar="FILE")
    text.add_argument("--pages", type=_page_range, help="pages to show, e.g. 2 or 1-3")
    text.add_argument(
        "--cells", action="store_true", help="each row's cells with where each begins (x in points)"
    )
    add_pdf_options(text)
    text.set_defaults(run=cmd_text)
