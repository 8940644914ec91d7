"""Receipt PDFs cut from a built Receipt Images Report: pages, names, untouched images, the ZIP, and
the same PDFs cut ahead while the report is read."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

import pypdf
import pytest
from pypdf.generic import StreamObject

from shared.extraction.extract import extract_document
from shared.extraction.sandbox import extract_and_cut_sandboxed
from shared.models import Expense, Reconciliation
from shared.pdf.read import PdfSource
from shared.report import REPORTS, write_reports
from shared.report.receipt_pdfs import (
    CutFailure,
    PrecutReceipts,
    ReceiptCuts,
    cut_receipts,
    planned_names,
    receipt_file_name,
)
from shared.settings import Settings
from tests.builders import build_receipts
from tests.builders.expenses import ExpenseMix
from tests.reconciliations import receipts_reconciliation

NAME = re.compile(r"^[A-Za-z0-9.-]+_\d{4}-\d{2}-\d{2}_-?\d+\.\d{2}_[A-Za-z0-9.-]+\.pdf$")


@pytest.fixture(scope="module")
def receipts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A small receipts report with multi-page expenses, refunds and missing receipts, and its truth."""
    path = tmp_path_factory.mktemp("receipts") / "receipts.pdf"
    mix = ExpenseMix(multi_page_rate=0.4, missing_attachment_rate=0.2, refund_rate=0.3)
    return path, build_receipts(path, expenses=8, seed=5, mix=mix)


@pytest.fixture
def rec(receipts: tuple[Path, dict[str, Any]]) -> Reconciliation:
    """All expenses of the report but the last matched to a transaction of their own."""
    return receipts_reconciliation(receipts[1])


def _images(page: pypdf.PageObject) -> list[StreamObject]:
    xobjects = page["/Resources"].get("/XObject", {})
    return [xobjects[name].get_object() for name in sorted(xobjects)]


def test_one_pdf_per_matched_expense_with_its_pages(
    rec: Reconciliation, receipts: tuple[Path, Any], tmp_path: Path
) -> None:
    """Each matched expense gets a PDF of exactly its pages; the unmatched expense gets none."""
    result = cut_receipts(rec, receipts[0], tmp_path)
    matched = [i for i, rt in enumerate(rec.transactions) if rt.expense is not None]
    assert sorted(result.files) == matched
    assert result.problems == []
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in result.files.values())
    assert any(len(rec.transactions[i].expense.pages) > 1 for i in matched)  # type: ignore[union-attr]
    for index, path in result.files.items():
        expense = rec.transactions[index].expense
        assert expense is not None
        assert len(pypdf.PdfReader(path).pages) == len(expense.pages)


def test_images_are_copied_byte_for_byte(
    rec: Reconciliation, receipts: tuple[Path, Any], tmp_path: Path
) -> None:
    """Every receipt image stream in a cut PDF has the source's exact bytes and filter: nothing re-encoded."""
    source = pypdf.PdfReader(receipts[0])
    compared = 0
    for index, path in cut_receipts(rec, receipts[0], tmp_path).files.items():
        expense = rec.transactions[index].expense
        assert expense is not None
        cut = pypdf.PdfReader(path)
        for cut_page, number in zip(cut.pages, expense.pages, strict=True):
            originals, copies = _images(source.pages[number - 1]), _images(cut_page)
            assert len(copies) == len(originals)
            for original, copy in zip(originals, copies, strict=True):
                assert copy["/Filter"] == original["/Filter"] == "/DCTDecode"
                assert copy._data == original._data
                compared += 1
    assert compared >= len(rec.transactions)


def test_names_say_employee_date_amount_and_transaction(
    rec: Reconciliation, receipts: tuple[Path, Any], tmp_path: Path
) -> None:
    """Files are `<employee>_<date>_<amount>_<transaction#>.pdf` in safe ASCII, refunds keeping their sign."""
    names = [p.name for p in cut_receipts(rec, receipts[0], tmp_path).files.values()]
    assert all(NAME.match(name) for name in names), names
    rt = rec.transactions[0]
    tx = rt.transaction
    assert (
        names[0]
        == f"{tx.cardholder}_{tx.transaction_date.isoformat()}_{tx.net:.2f}_{tx.transaction_number}.pdf"
    )
    assert any("_-" in name for name in names)  # a refund


def test_unsafe_and_duplicate_names(rec: Reconciliation, receipts: tuple[Path, Any], tmp_path: Path) -> None:
    """Accents, spaces and slashes become safe ASCII; a name already taken gets -2 (case-insensitively)."""
    first = rec.transactions[0]
    odd = first.transaction.model_copy(
        update={"cardholder": "JOSÉ O/NEIL JR.", "transaction_number": "12/34"}
    )
    rec.transactions[0] = first.model_copy(update={"transaction": odd})
    assert receipt_file_name(rec.transactions[0]).startswith("JOSE-O-NEIL-JR_")
    assert receipt_file_name(rec.transactions[0]).endswith("_12-34.pdf")
    twin = rec.transactions[0].model_copy(
        update={"transaction": odd.model_copy(update={"cardholder": "josé o/neil jr."})}
    )
    rec.transactions.insert(1, twin)
    files = cut_receipts(rec, receipts[0], tmp_path).files
    assert files[1].name.lower() == files[0].name.lower().replace(".pdf", "-2.pdf")


def test_pages_outside_the_report_are_reported_not_fatal(
    rec: Reconciliation, receipts: tuple[Path, Any], tmp_path: Path
) -> None:
    """An expense naming pages the report lacks gets no PDF and a problem line; the others are cut."""
    first = rec.transactions[0]
    assert first.expense is not None
    wrong = first.expense.model_copy(update={"pages": [9999]})
    rec.transactions[0] = first.model_copy(update={"expense": wrong})
    result = cut_receipts(rec, receipts[0], tmp_path)
    assert 0 not in result.files
    assert len(result.files) == sum(rt.expense is not None for rt in rec.transactions) - 1
    assert any("9999" in p for p in result.problems)


def test_zip_holds_exactly_the_pdfs(rec: Reconciliation, receipts: tuple[Path, Any], tmp_path: Path) -> None:
    """receipts.zip has one stored member per receipt PDF, byte-identical, and nothing else."""
    paths = write_reports(rec, tmp_path, receipts_pdf=receipts[0], settings=Settings())
    pdfs = [p for p in paths if p.parent.name == "receipts"]
    assert len(pdfs) == sum(rt.expense is not None for rt in rec.transactions)
    with zipfile.ZipFile(tmp_path / REPORTS["receipts"].file_name) as archive:
        assert sorted(archive.namelist()) == sorted(p.name for p in pdfs)
        for info in archive.infolist():
            assert info.compress_type == zipfile.ZIP_STORED
            assert archive.read(info) == (tmp_path / "receipts" / info.filename).read_bytes()


def test_empty_zip_without_receipts(rec: Reconciliation, tmp_path: Path) -> None:
    """Without a receipts report the archive is still a valid, empty ZIP."""
    write_reports(rec, tmp_path, receipts_pdf=None, settings=Settings())
    with zipfile.ZipFile(tmp_path / REPORTS["receipts"].file_name) as archive:
        assert archive.namelist() == []


def test_unreadable_receipts_report_still_gives_the_other_reports(
    rec: Reconciliation, tmp_path: Path
) -> None:
    """A receipts 'report' that is not a PDF costs the receipt PDFs only, and says so in the JSON."""
    bogus = tmp_path / "bogus.pdf"
    bogus.write_bytes(b"not a pdf at all")
    seen: list[tuple[int, int]] = []
    paths = write_reports(
        rec, tmp_path / "out", receipts_pdf=bogus, settings=Settings(), progress=lambda *a: seen.append(a)
    )
    assert [p.name for p in paths] == [r.file_name for r in REPORTS.values()]
    assert "receipt PDFs not cut" in (tmp_path / "out" / "reconciliation.json").read_text("utf-8")
    assert seen[-1][0] == seen[-1][1]


@pytest.fixture(scope="module")
def large_receipts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A receipts report over the in-memory limit, so it is read through a file handle."""
    path = tmp_path_factory.mktemp("large") / "receipts.pdf"
    mix = ExpenseMix(multi_page_rate=0.4, missing_attachment_rate=0.2, refund_rate=0.3)
    return path, build_receipts(path, expenses=12, seed=8, target_mb=20, mix=mix)


def test_each_expense_reaches_the_sink_once_with_all_its_pages(receipts: tuple[Path, Any]) -> None:
    """The extraction hands over every expense exactly once, only when its last page has been read."""
    seen: list[Expense] = []

    def sink(source: PdfSource, expense: Expense) -> None:
        seen.append(expense)

    document = extract_document(receipts[0], expenses=sink)
    assert seen == document.expenses
    assert any(len(e.pages) > 1 for e in seen)


def test_pdfs_cut_while_the_report_is_read_equal_those_cut_after(
    large_receipts: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """PDFs cut ahead by a process forked from the extraction (reading the report through a handle
    of its own), numbered in order, have the pages and images of those cut after matching, under the
    same names; every expense's pages are in the index, each with its file. Run where the pipeline
    runs it, in the extraction's sandboxed child: a single thread, so the cutter may fork (this test
    process has threads of its own, and there the cutter rightly declines to fork)."""
    path, truth = large_receipts
    assert path.stat().st_size > 16 * 2**20
    rec = receipts_reconciliation(truth)
    ahead, after = tmp_path / "ahead", tmp_path / "after"
    ahead.mkdir()
    folder = tmp_path / "cuts"
    extraction = extract_and_cut_sandboxed(path, Settings(extract_processes=1), cuts_folder=folder)
    document = extraction.document
    assert extraction.cuts is not None
    precut = PrecutReceipts(folder, extraction.cuts)
    assert {c.pages for c in precut.index.cuts} == {tuple(e.pages) for e in document.expenses}
    numbers = sorted(int(p.stem) for p in folder.iterdir())
    assert numbers == list(range(len(precut.index.cuts)))
    for cut in precut.index.cuts:
        assert (folder / cut.file_name).stat().st_size == cut.length
    cut_ahead = write_reports(rec, ahead, receipts_pdf=path, settings=Settings(), precut=precut)
    cut_after = write_reports(rec, after, receipts_pdf=path, settings=Settings())
    assert [p.relative_to(ahead) for p in cut_ahead] == [p.relative_to(after) for p in cut_after]
    assert sorted(p.name for p in ahead.iterdir()) == sorted(p.name for p in after.iterdir())
    for one, other in zip(cut_ahead, cut_after, strict=True):
        if one.suffix == ".pdf":
            pages = zip(pypdf.PdfReader(one).pages, pypdf.PdfReader(other).pages, strict=True)
            for page, twin in pages:
                assert [i._data for i in _images(page)] == [i._data for i in _images(twin)]
    with zipfile.ZipFile(ahead / "receipts.zip") as archive:
        assert sorted(archive.namelist()) == sorted(planned_names(rec).values())


def test_a_pdf_that_could_not_be_cut_ahead_is_a_problem_line(
    rec: Reconciliation, receipts: tuple[Path, Any], tmp_path: Path
) -> None:
    """An expense whose cut failed ahead gets no PDF and its transaction's problem line; the rest
    are cut as usual."""
    first = rec.transactions[0]
    assert first.expense is not None
    failure = CutFailure(pages=tuple(first.expense.pages), reason="the page is damaged")
    precut = PrecutReceipts(index=ReceiptCuts(failures=[failure]))
    result = cut_receipts(rec, receipts[0], tmp_path, precut=precut)
    assert 0 not in result.files
    assert len(result.files) == sum(rt.expense is not None for rt in rec.transactions) - 1
    number = first.transaction.transaction_number
    assert f"transaction {number}: no receipt PDF: the page is damaged" in result.problems
