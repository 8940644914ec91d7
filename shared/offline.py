"""The offline use case: PDFs on disk in, reconciliation and every report out."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from shared.errors import TooManyDocumentsError
from shared.extraction.extract import extract_document
from shared.extraction.layouts import StatementLayout
from shared.matching.aliases import AliasStore
from shared.matching.match import reconcile
from shared.models import Document, DocumentKind, Reconciliation
from shared.report import write_reports
from shared.report.receipt_cutter import ReceiptCutter
from shared.settings import Settings

Stage = Callable[[str], Callable[[int, int], None] | None]


def reconcile_files(
    files: Sequence[Path],
    out_dir: Path,
    *,
    settings: Settings,
    aliases: AliasStore,
    password: str | None = None,
    layouts: Sequence[StatementLayout] | None = None,
    stage: Stage | None = None,
) -> tuple[Reconciliation, list[Path]]:
    """Extract a statement and/or a receipts report (kinds detected), match them, write the reports."""
    documents: dict[DocumentKind, tuple[Path, Document]] = {}
    out_dir.mkdir(parents=True, exist_ok=True)
    # Receipt pages are cut while the receipts report is still being read (see receipt_cutter), into
    # a scratch folder in out_dir (so moving a PDF into place is a rename), removed at the end.
    with (
        tempfile.TemporaryDirectory(prefix=".receipts-", dir=out_dir) as scratch,
        ReceiptCutter(Path(scratch)) as cutter,
    ):
        for path in files:
            progress = stage(f"reading {path.name}") if stage else None
            document = extract_document(
                path, password=password, layouts=layouts, progress=progress, expenses=cutter.sink
            )
            if document.kind in documents:
                raise TooManyDocumentsError(
                    f"{path.name} and {documents[document.kind][0].name} are both a {document.kind.value} "
                    "document: give one statement and one receipts report"
                )
            documents[document.kind] = (path, document)
        statement = documents.get(DocumentKind.CARDHOLDER_ACTIVITY)
        receipts = documents.get(DocumentKind.RECEIPT_IMAGES)
        result = reconcile(
            statement[1] if statement else None,
            receipts[1] if receipts else None,
            aliases=aliases.load(),
            settings=settings,
        )
        written = write_reports(
            result,
            out_dir,
            receipts_pdf=receipts[0] if receipts else None,
            settings=settings,
            password=password,
            progress=stage("cutting receipts") if stage else None,
            precut=cutter.finish(),
        )
    return result, written
