"""Every failure said in a clerk's words: each error code the product sets has a sentence (`PROBLEMS`),
and the API shows it as `problem` on a file and on a session, the technical `error` kept beside it."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest

from shared import errors
from shared.errors import PROBLEMS, CcprocError, problem_of
from shared.http.app import build_app
from shared.sessions import requests as sessions
from shared.sessions.extract import extract_upload
from shared.sessions.finalize import finalize_failed
from shared.sessions.layout import results_message
from shared.sessions.models import FileRecord, FileStatus, SessionManifest, SessionStatus
from shared.sessions.requests import NO_STATEMENT_READ, file_view, session_problem
from shared.sessions.store import update_manifest
from shared.sessions.sweep import _fail_orphan  # the sweep's own way of failing an orphaned upload
from shared.settings import Settings
from shared.storage.azure import AzureStorage
from tests.builders.statement import build_statement
from tests.conftest import WritePdf
from tests.test_http_api import Client, _blobs, _drain

SHARED = Path(__file__).resolve().parents[1] / "shared"
# What a clerk should never have to read in a sentence meant for them.
JARGON = ("exception", "traceback", "blob", "%PDF", "sandbox", "extraction", "queue", "HTTP", "ETag", "_")


def _codes_raised() -> set[str]:
    """The code of every error class of the product."""
    found, todo = set(), [CcprocError]
    while todo:
        cls = todo.pop()
        found.add(cls.code)
        todo.extend(cls.__subclasses__())
    return found


def _codes_assigned() -> set[str]:
    """Every string literal assigned to an `error_code` anywhere in `shared/` (the sweep's, for one)."""
    found: set[str] = set()
    for path in SHARED.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Assign):
                continue
            targets = [t for target in node.targets for t in getattr(target, "elts", [target])]
            values = getattr(node.value, "elts", [node.value])
            for target, value in zip(targets, values, strict=False):
                named = getattr(target, "attr", getattr(target, "id", ""))
                if named == "error_code" and isinstance(value, ast.Constant) and isinstance(value.value, str):
                    found.add(value.value)
    return found


def test_every_code_the_product_sets_has_a_sentence() -> None:
    """Each error class's code and each code assigned to a file record has its own sentence, and the
    table holds no sentence for a code nothing sets."""
    codes = _codes_raised() | _codes_assigned()
    assert "orphaned_upload" in codes
    assert "unrecognised_document" in codes
    assert not codes - set(PROBLEMS), codes - set(PROBLEMS)
    assert not set(PROBLEMS) - codes, set(PROBLEMS) - codes


@pytest.mark.parametrize("code", sorted(PROBLEMS))
def test_each_sentence_reads_as_one_a_clerk_can_act_on(code: str) -> None:
    """A capitalised sentence or two ending in a full stop, short, without jargon or the code itself."""
    sentence = PROBLEMS[code]
    assert sentence[0].isupper()
    assert sentence.endswith(".")
    assert 30 <= len(sentence) <= 260, len(sentence)
    assert not [word for word in JARGON if word in sentence], sentence
    assert code not in sentence


def test_the_issue_s_own_examples() -> None:
    """A PDF that is neither report, and a password-protected one, are said as the issue asks."""
    assert PROBLEMS["unrecognised_document"].startswith(
        "This PDF is neither a Cardholder Activity Report nor a Receipt Images Report. Upload the statement"
    )
    assert PROBLEMS["encrypted_pdf"] == (
        "This PDF is password-protected. Download it again without a password, or remove the password, "
        "and upload it."
    )
    assert problem_of(None) is None
    assert problem_of("a code from a newer release") == PROBLEMS["error"]
    assert errors.PROBLEMS is PROBLEMS


def test_a_failed_file_without_a_code_still_gets_a_sentence() -> None:
    """A failed record stored before codes existed (an error, no code) reads the general sentence; a file
    that did not fail has none."""
    record = FileRecord(id="f1", name="a.pdf", status=FileStatus.FAILED, error="it broke")
    assert file_view(record).problem == PROBLEMS["error"]
    ok = FileRecord(id="f2", name="b.pdf", status=FileStatus.EXTRACTED)
    assert file_view(ok).problem is None
    assert file_view(ok).model_dump(exclude={"problem"}) == ok.model_dump()


@pytest.fixture
def client(storage: AzureStorage, settings: Settings) -> Client:
    """The app on Azurite, without API keys."""
    return Client(build_app(lambda: storage, settings))


NOT_A_REPORT = [["# Credit Card Processor notes", "Nothing here is a statement.", "Just words."]]


def test_a_pdf_that_is_neither_report_is_said_so_and_the_session_too(
    client: Client, storage: AzureStorage, settings: Settings, text_pdf: WritePdf
) -> None:
    """Regression (the issue's "unrecognised document: expected a Cardholder Activity Report General
    statement…"): the file's `problem` is the sentence, `error` still the detail; the session that had
    nothing to reconcile says so in `problem` and keeps its `error`."""
    session_id = client.json("POST", "/api/sessions")[1]["id"]
    data = text_pdf(NOT_A_REPORT, name="notes.pdf").read_bytes()
    status, record = client.upload(session_id, "notes.pdf", data)
    assert status == 202
    assert record["problem"] is None
    for blob in _blobs(storage, settings.uploads_container):
        extract_upload(storage, settings, blob)
    _, session = client.json("GET", f"/api/sessions/{session_id}")
    (file,) = session["files"]
    assert file["error_code"] == "unrecognised_document"
    assert file["problem"] == PROBLEMS["unrecognised_document"]
    assert "unrecognised document" in file["error"]
    assert session["problem"] is None
    assert client.json("POST", f"/api/sessions/{session_id}/process")[0] == 202
    _drain(storage, settings)
    _, session = client.json("GET", f"/api/sessions/{session_id}")
    assert session["status"] == "failed"
    assert session["problem"] == NO_STATEMENT_READ
    assert session["error"].startswith("notes.pdf: ")
    listed = client.json("GET", "/api/sessions")[1]["sessions"]
    assert [s["problem"] for s in listed if s["id"] == session_id] == [NO_STATEMENT_READ]


def test_a_file_not_read_is_said_in_the_summary(
    client: Client, storage: AzureStorage, settings: Settings, tmp_path: Path
) -> None:
    """A completed session's summary names the file it left out with the clerk's sentence first and the
    technical detail after it."""
    session_id = client.json("POST", "/api/sessions")[1]["id"]
    build_statement(tmp_path / "statement.pdf", cards=1, per_card=2)
    assert client.upload(session_id, "statement.pdf", (tmp_path / "statement.pdf").read_bytes())[0] == 202
    assert client.upload(session_id, "bad.pdf", b"%PDF-1.7\n" + b"\x00garbage" * 50)[0] == 202
    for blob in _blobs(storage, settings.uploads_container):
        extract_upload(storage, settings, blob)
    assert client.json("POST", f"/api/sessions/{session_id}/process")[0] == 202
    _drain(storage, settings)
    _, session = client.json("GET", f"/api/sessions/{session_id}")
    assert session["status"] == "completed"
    bad = next(f for f in session["files"] if f["name"] == "bad.pdf")
    (line,) = session["summary"]["files_not_read"]
    assert line == f"bad.pdf: {bad['problem']} (technical detail: {bad['error']})"
    assert bad["problem"] == PROBLEMS[bad["error_code"]]


def _processing(storage: AzureStorage, settings: Settings) -> str:
    session_id = sessions.create_session(storage, settings).id

    def change(m: SessionManifest) -> bool:
        m.status = SessionStatus.PROCESSING
        return True

    update_manifest(storage, settings, session_id, change)
    return session_id


def test_a_session_stopped_by_our_fault_or_an_orphaned_upload_says_what_to_do(
    storage: AzureStorage, settings: Settings
) -> None:
    """The reasons finalize and the sweep record when they fail a session read, to a clerk, as a
    sentence that says to start again (a failed session takes no more files)."""
    gave_up = _processing(storage, settings)
    message = results_message(gave_up)
    assert finalize_failed(
        storage, settings, message, RuntimeError("boom"), dequeue_count=settings.max_dequeue_count
    )
    view = sessions.get_session(storage, settings, gave_up)
    assert view.status is SessionStatus.FAILED
    assert view.problem is not None
    assert view.problem.startswith("The reconciliation could not be finished because of a fault on our side.")
    assert "boom" in (view.error or "")

    orphaned = _processing(storage, settings)
    record = FileRecord(id="0123456789abcdef", name="late.pdf", status=FileStatus.AWAITING_UPLOAD)
    _fail_orphan(storage, settings, orphaned, record, "its upload URL expired unused")
    view = sessions.get_session(storage, settings, orphaned)
    assert view.problem == "A file's upload never finished. Start a new session and upload the files again."
    (file,) = view.files
    assert file.problem == PROBLEMS["orphaned_upload"]
    stamp = dt.datetime.now(dt.UTC)
    fine = SessionManifest(id="x", created=stamp, updated=stamp)
    assert session_problem(fine) is None
