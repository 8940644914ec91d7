"""Stage 4 — report: one reconciliation in, the files finance staff get back out.

`REPORTS` names every report file and its media type (what an HTTP API serves); `write_reports`
writes them all into one folder, plus one receipt PDF per matched expense under `receipts/`:

| name | file | module |
|---|---|---|
| `exceptions` | `exceptions.xlsx` | `workbook` |
| `pvault` | `pvault.csv` | `csv_files` (what it holds and why: `pvault`) |
| `transactions` | `transactions.csv` | `csv_files` |
| `receipts` | `receipts.zip` | `receipt_pdfs` |
| `reconciliation` | `reconciliation.json` | `json_file` |

`pvault.csv`, the accounts-payable import, holds one row per transaction of the employees whose
transactions are all Complete. Its columns: Transaction ID (the statement's Transaction #),
Transaction Date and Amount (Net Cost), Transaction Name (expense title, else type, else merchant),
Vendor Invoice # (card last 4 + `MM01YY`) and Invoice Date (first of the statement month), Header
Description (`<cardholder> card ending <last 4> <MM/YYYY>`), Job, Phase, Cost Type or GL Account
(the codes of the expense's coding), Item Description (the purpose, else title, else merchant), UM
and Tax (conventions), Pay Type (job or GL), Card Holder, Credit Card Number (masked) and Credit
Card Vendor — the card vendor the invoice is owed to (`PVAULT_CARD_VENDOR`, default `WEX`), never
the merchant; `csv_files` says why. `write_reports` stores `pvault.pvault_summary` in the
reconciliation (`Reconciliation.pvault`): how many employees and rows the import holds, and which
employees are held back and by what, closest to complete first.

No report carries a full card number: cards print as `**** **** **** 0001`, and free text is
masked the same way wherever it holds a run of digits shaped like a card number.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from shared.models import Reconciliation
from shared.report.csv_files import write_pvault_csv, write_transactions_csv
from shared.report.cutting import Done, Forked, cutting
from shared.report.json_file import write_reconciliation_json
from shared.report.pvault import pvault_summary
from shared.report.receipt_pdfs import PrecutReceipts, ReceiptPdfs, planned_names
from shared.report.workbook import write_workbook
from shared.settings import Settings

RECEIPTS_DIR = "receipts"


@dataclass(frozen=True, slots=True)
class ReportFile:
    """One downloadable report: the name an API knows it by, its file name and media type."""

    name: str
    file_name: str
    media_type: str


REPORTS: Mapping[str, ReportFile] = MappingProxyType(
    {
        report.name: report
        for report in (
            ReportFile(
                "exceptions",
                "exceptions.xlsx",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
            ReportFile("pvault", "pvault.csv", "text/csv; charset=utf-8"),
            ReportFile("transactions", "transactions.csv", "text/csv; charset=utf-8"),
            ReportFile("receipts", "receipts.zip", "application/zip"),
            ReportFile("reconciliation", "reconciliation.json", "application/json"),
        )
    }
)


def write_reports(
    reconciliation: Reconciliation,
    out_dir: Path,
    *,
    settings: Settings,
    receipts_pdf: Path | None = None,
    password: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    keep_pdfs: bool = True,
    precut: PrecutReceipts | None = None,
    receipt_pdfs: ReceiptPdfs | None = None,
) -> list[Path]:
    """Write every report of `REPORTS` into `out_dir` and the receipt PDFs into `out_dir/receipts/`.

    Without a receipts report (`receipts_pdf` None) no receipt PDFs are cut and the ZIP is empty;
    every other report still comes out, and so it does if the receipts report cannot be opened
    (the reason is among the warnings of `reconciliation.json`). `password` opens an encrypted
    receipts report. `progress(done, total)` counts one step per matched expense and one per report
    file. Returns the paths written: the reports in `REPORTS` order, then the receipt PDFs.
    `keep_pdfs=False` leaves the receipt PDFs inside the ZIP only. `precut`: receipt PDFs already
    cut from `receipts_pdf` while it was read (`receipt_cutter`), read from there, not cut again.

    `receipt_pdfs`: the receipt PDFs are kept elsewhere, already named (the pipeline stores them,
    `shared.sessions.receipt_store`); nothing is cut, no ZIP is written, and the other reports name them.

    `reconciliation.pvault` is set to what the pVault import holds and why (`pvault_summary`), so a
    reconciliation stored or shown after its reports carries the explanation with it.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {name: out_dir / report.file_name for name, report in REPORTS.items()}
    if receipt_pdfs is not None:
        del paths["receipts"]  # kept elsewhere: no ZIP here
    matched = sum(rt.expense is not None for rt in reconciliation.transactions) if receipts_pdf else 0
    total = matched + len(REPORTS)
    step = 0

    def advance(done: int = 1) -> None:
        nonlocal step
        step += done
        if progress is not None:
            progress(step, total)

    # Cutting receipt pages (CPU-bound, the longest part) runs in a process of its own while this
    # one writes the other reports; both know the file names up front.
    planned = planned_names(reconciliation) if receipts_pdf is not None and matched else {}
    with ExitStack() as stack:
        pending: Forked | Done
        if receipt_pdfs is not None:
            planned, pending = receipt_pdfs.names, Done(receipt_pdfs)
        else:
            pending = stack.enter_context(
                cutting(
                    reconciliation,
                    receipts_pdf if planned else None,
                    out_dir / RECEIPTS_DIR,
                    password,
                    zip_path=paths["receipts"],
                    keep_files=keep_pdfs,
                    precut=precut,
                )
            )
        write_pvault_csv(reconciliation, paths["pvault"], settings.pvault)
        reconciliation.pvault = pvault_summary(reconciliation)
        advance()
        write_workbook(reconciliation, paths["exceptions"], planned)
        advance()
        write_transactions_csv(reconciliation, paths["transactions"], planned)
        advance()
        receipts = pending.result()
    advance(matched)
    names = receipts.names
    if names != planned:  # some pages could not be copied: name only the PDFs that exist
        write_workbook(reconciliation, paths["exceptions"], names)
        write_transactions_csv(reconciliation, paths["transactions"], names)
    pdfs = [receipts.files[index] for index in sorted(receipts.files)]
    advance()
    write_reconciliation_json(reconciliation, paths["reconciliation"], names, receipts.problems)
    advance()
    return [*paths.values(), *pdfs]
