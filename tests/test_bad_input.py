"""Bad input: a typed error and a one-line reason, never a traceback, never a silent empty result."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pypdf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.cli import main
from shared.errors import (
    DamagedPdfError,
    EncryptedPdfError,
    ImageOnlyPdfError,
    NotAPdfError,
    PermanentError,
    UnrecognisedDocumentError,
    WrongPasswordError,
)
from shared.extraction.extract import extract_document
from tests.builders.hostile import STATEMENT_LINES
from tests.conftest import WritePdf, write_image_only_pdf

# One page of a valid statement, as text lines (shared with the hostile corpus).
STATEMENT_PAGE = STATEMENT_LINES


@pytest.fixture
def statement(text_pdf: WritePdf) -> Path:
    return text_pdf([STATEMENT_PAGE], name="statement.pdf")


def encrypt(source: Path, target: Path, algorithm: str) -> Path:
    writer = pypdf.PdfWriter(clone_from=source)
    writer.encrypt("s3cret", algorithm=algorithm)
    with target.open("wb") as handle:
        writer.write(handle)
    return target


def test_not_a_pdf(tmp_path: Path) -> None:
    """A file that is not a PDF (here a PNG named .pdf) is refused by its bytes, not its name."""
    fake = tmp_path / "receipts.pdf"
    fake.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    with pytest.raises(NotAPdfError, match="not a PDF"):
        extract_document(fake)


def test_truncated_pdf(tmp_path: Path, statement: Path) -> None:
    """A PDF cut short in transfer is reported as truncated, not parsed into a partial result."""
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(statement.read_bytes()[: statement.stat().st_size // 2])
    with pytest.raises(DamagedPdfError, match="truncated"):
        extract_document(cut)


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-256"])
def test_encrypted_needs_its_password(tmp_path: Path, statement: Path, algorithm: str) -> None:
    """Encrypted PDFs: no password and a wrong one are distinct errors; the right one opens it."""
    locked = encrypt(statement, tmp_path / "locked.pdf", algorithm)
    with pytest.raises(EncryptedPdfError, match="encrypted") as no_password:
        extract_document(locked)
    assert not isinstance(no_password.value, WrongPasswordError)
    with pytest.raises(WrongPasswordError, match="password does not open"):
        extract_document(locked, password="wrong")
    assert len(extract_document(locked, password="s3cret").transactions) == 1


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-256"])
def test_owner_password_only_opens_without_asking(tmp_path: Path, statement: Path, algorithm: str) -> None:
    """Encrypted with an owner password only (printing and copying forbidden), as report engines
    do: any viewer opens it without a password, and so does extraction — with or without one given."""
    writer = pypdf.PdfWriter(clone_from=statement)
    writer.encrypt(user_password="", owner_password="owner-only", algorithm=algorithm, permissions_flag=0)
    locked = tmp_path / "locked.pdf"
    with locked.open("wb") as handle:
        writer.write(handle)
    assert pypdf.PdfReader(locked).is_encrypted
    assert len(extract_document(locked).transactions) == 1
    assert len(extract_document(locked, password="owner-only").transactions) == 1


def test_owner_password_only_from_reportlab(tmp_path: Path) -> None:
    """The same from another producer: reportlab's RC4-128 with printing and copying forbidden."""
    from reportlab.lib.pdfencrypt import StandardEncryption
    from reportlab.pdfgen.canvas import Canvas

    path = tmp_path / "locked.pdf"
    encryption = StandardEncryption("", "owner-only", canPrint=0, canCopy=0, canModify=0, strength=128)
    canvas = Canvas(str(path), encrypt=encryption)
    canvas.setFont("Helvetica", 7)
    for n, line in enumerate(STATEMENT_PAGE):
        canvas.drawString(20, 750 - 12 * n, line)
    canvas.save()
    assert pypdf.PdfReader(path).is_encrypted
    (row,) = extract_document(path).transactions
    assert row.net == row.gross - row.discount


def test_image_only_pdf_says_ocr(tmp_path: Path) -> None:
    """A scanned PDF with no text layer is refused with a reason that names OCR."""
    with pytest.raises(ImageOnlyPdfError, match="OCR"):
        extract_document(write_image_only_pdf(tmp_path / "scan.pdf"))


def test_unknown_document_names_what_was_expected(text_pdf: WritePdf) -> None:
    """A readable PDF of another kind is refused, naming both documents the product reads."""
    pdf = text_pdf([["Quarterly newsletter", "Card 4111111111111111 was lost"]])
    with pytest.raises(
        UnrecognisedDocumentError, match=r"Cardholder Activity Report.*Receipt Images Report"
    ) as err:
        extract_document(pdf)
    assert "4111111111111111" not in str(err.value)


def test_garbage_after_header_is_damaged(tmp_path: Path) -> None:
    """A file with a PDF signature but no readable structure is a damaged PDF."""
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 20 + b"\n%%EOF\n")
    with pytest.raises(DamagedPdfError):
        extract_document(junk)


def test_unreconciled_totals_are_listed_not_fatal(text_pdf: WritePdf) -> None:
    """A card total that does not match its rows keeps the rows and lists the mismatch as a check."""
    page = [*STATEMENT_PAGE[:-1], "Totals For Card Nbr: 999999XXXXXX0001 $400.00"]
    document = extract_document(text_pdf([page]))
    assert len(document.transactions) == 1
    assert [c.code for c in document.checks] == ["card_total_mismatch"]
    assert "400.00" in document.checks[0].message
    assert "412.50" in document.checks[0].message


def test_statement_without_rows_says_why(text_pdf: WritePdf) -> None:
    """A statement with no recognisable rows is never a silent success: a check says so."""
    document = extract_document(text_pdf([STATEMENT_PAGE[:4]]))
    assert document.transactions == []
    assert [c.code for c in document.checks] == ["no_transactions"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(min_value=0, max_value=2**32 - 1), flips=st.integers(min_value=1, max_value=40))
def test_corrupted_pdfs_fail_cleanly(tmp_path: Path, statement: Path, seed: int, flips: int) -> None:
    """Random byte damage gives a Document or a PermanentError, never any other exception."""
    data = bytearray(statement.read_bytes())
    rng = random.Random(seed)
    for _ in range(flips):
        data[rng.randrange(len(data))] = rng.randrange(256)
    damaged = tmp_path / f"damaged-{seed}.pdf"
    damaged.write_bytes(bytes(data))
    try:
        extract_document(damaged, processes=1)
    except PermanentError as exc:
        message = exc.message
        assert message


HOSTILE = {
    # A page tree whose Kids point back at itself.
    "loop": b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[2 0 R]/Count 1>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n",
    # Arrays nested far deeper than any real document.
    "nesting": b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R/X "
    + b"[" * 100000
    + b"]" * 100000
    + b">>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n",
    # A page that claims a huge stream length.
    "length": b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/Contents 4 0 R>>endobj\n"
    b"4 0 obj<</Length 99999999999>>stream\n"
    b"BT (x) Tj ET\nendstream endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n",
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_pdfs_fail_cleanly(tmp_path: Path, name: str) -> None:
    """Hostile structures (loops, deep nesting, lying lengths) end as a PermanentError."""
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(HOSTILE[name])
    with pytest.raises(PermanentError):
        extract_document(path, processes=1)


def test_cli_gives_one_line_and_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The CLI prints one line naming the file and the reason, and exits 1, with no traceback."""
    fake = tmp_path / "statement.pdf"
    fake.write_text("hello")
    assert main(["extract", str(fake), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == f"ccproc: {fake}: not a PDF: the file does not start with the %PDF- signature"


def test_cli_in_a_real_process_has_no_traceback(tmp_path: Path) -> None:
    """Run as users run it: a bad file leaves exit status 1 and a single stderr line."""
    fake = tmp_path / "x.pdf"
    fake.write_bytes(b"%PDF-1.4\nnothing else")
    ccproc = Path(sys.executable).with_name("ccproc")
    done = subprocess.run([str(ccproc), "extract", str(fake)], capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1
    assert "truncated" in done.stderr
