"""A session with a file that cannot be read completes with what could be read — and says which file
and why in the API, the reports and `ccproc submit` — unless no statement was read."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from shared.sessions import requests as sessions
from shared.sessions.models import SessionStatus
from shared.settings import Settings
from shared.storage.azure import AzureStorage
from tests.azurite import free_port
from tests.builders.month import build_month
from tests.scenarios import run_steps

CCPROC = str(Path(sys.executable).with_name("ccproc"))


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("month")
    truth = build_month(folder, size="small", seed=31)
    whole = (folder / "statement.pdf").read_bytes()
    (folder / "bad.pdf").write_bytes(whole[: len(whole) // 2])  # cut short in transfer
    return folder, truth


def submit(storage: AzureStorage, settings: Settings, files: list[Path]) -> str:
    session = sessions.create_session(storage, settings)
    for pdf in files:
        with pdf.open("rb") as body:
            sessions.accept_upload(storage, settings, session.id, pdf.name, body=body, length=None)
    sessions.request_processing(storage, settings, session.id)
    run_steps(storage, storage, settings, session.id)
    return session.id


def test_a_bad_file_leaves_the_rest_reconciled_and_says_so(
    storage: AzureStorage, settings: Settings, month: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """Statement, receipts report and a truncated PDF: completed with every transaction, the bad
    file named with its reason in the summary, the reconciliation and the workbook's Summary sheet."""
    folder, truth = month
    session_id = submit(
        storage, settings, [folder / "statement.pdf", folder / "receipts.pdf", folder / "bad.pdf"]
    )
    view = sessions.get_session(storage, settings, session_id)
    assert view.status is SessionStatus.COMPLETED, view.error
    assert view.summary is not None
    assert view.summary.transactions == len(truth["statement"]["transactions"])
    (line,) = view.summary.files_not_read
    assert line.startswith("bad.pdf: ")
    assert "truncated" in line
    reconciled = sessions.reconciliation(storage, settings, session_id)
    assert [(f.file, "truncated" in f.reason) for f in reconciled.files_not_read] == [("bad.pdf", True)]
    _, _, chunks = sessions.report(storage, settings, session_id, "exceptions")
    workbook = tmp_path / "exceptions.xlsx"
    workbook.write_bytes(b"".join(chunks))
    book = openpyxl.load_workbook(workbook, read_only=True)
    try:
        rows = book["Summary"].iter_rows(values_only=True)
        texts = [str(cell) for row in rows for cell in row if cell]
    finally:
        book.close()
    assert any(t.startswith("Files that could not be read") for t in texts)
    assert any(t.startswith("bad.pdf: ") for t in texts)


def test_a_clean_session_names_no_file(
    storage: AzureStorage, settings: Settings, month: tuple[Path, dict[str, Any]]
) -> None:
    """Regression guard: without a bad file nothing is reported as not read."""
    folder, _ = month
    session_id = submit(storage, settings, [folder / "statement.pdf"])
    view = sessions.get_session(storage, settings, session_id)
    assert view.status is SessionStatus.COMPLETED
    assert view.summary is not None
    assert view.summary.files_not_read == []


def test_a_session_whose_only_statement_failed_fails_with_the_reason(
    storage: AzureStorage, settings: Settings, month: tuple[Path, dict[str, Any]]
) -> None:
    """Nothing to reconcile against: failed, naming the file and its reason."""
    folder, _ = month
    session_id = submit(storage, settings, [folder / "bad.pdf", folder / "receipts.pdf"])
    view = sessions.get_session(storage, settings, session_id)
    assert view.status is SessionStatus.FAILED
    assert "bad.pdf" in (view.error or "")
    assert "truncated" in (view.error or "")


def test_submit_exits_3_and_names_the_file(month: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    """`ccproc dev --submit` with a bad third file: reports written, the file named on stderr, exit 3
    (completed, not a clean run)."""
    folder, _ = month
    out = tmp_path / "reports"
    pdfs = [str(folder / "statement.pdf"), str(folder / "receipts.pdf"), str(folder / "bad.pdf")]
    args = ["dev", "--data", str(tmp_path / "data"), "--port", str(free_port()), "--exit", "--out", str(out)]
    done = subprocess.run(
        [CCPROC, *args, "--submit", *pdfs], capture_output=True, text=True, timeout=240, check=False
    )
    assert done.returncode == 3, done.stderr[-2000:]
    assert "not read, left out of the reports: bad.pdf: " in done.stderr
    assert (out / "exceptions.xlsx").exists()
