"""The `ccproc` command line: output shapes users and scripts rely on."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from shared.cli import main
from tests.builders.statement import build_statement


@pytest.fixture(scope="module")
def statement(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    path = tmp_path_factory.mktemp("cli") / "statement.pdf"
    truth = build_statement(path, cards=2, per_card=4, seed=5)
    return path, truth


TRANSACTION_FIELDS = [
    "transaction_number", "transaction_date", "posted_date", "level", "cardholder", "employee_id",
    "card_last4", "merchant", "city", "state", "merchant_group", "product", "unit_price", "quantity",
    "gross", "discount", "net",
]  # fmt: skip


def test_extract_json_shape(
    statement: tuple[Path, dict[str, object]], capsys: pytest.CaptureFixture[str]
) -> None:
    """JSON on stdout: documents with file, kind, pages, rows (decimals as strings) and lists."""
    path, truth = statement
    assert main(["extract", str(path), "--quiet"]) == 0
    payload = json.loads(capsys.readouterr().out)
    (document,) = payload["documents"]
    assert {"file", "kind", "pages", "transactions", "receipts", "checks", "warnings"} <= set(document)
    assert document["kind"] == "cardholder_activity"
    assert document["pages"] == truth["pages"]
    assert list(document["transactions"][0]) == TRANSACTION_FIELDS
    assert all(isinstance(t["net"], str) for t in document["transactions"])


def test_extract_csv(statement: tuple[Path, dict[str, object]], capsys: pytest.CaptureFixture[str]) -> None:
    """CSV output has a file column, then every transaction field, one row per transaction."""
    path, truth = statement
    assert main(["extract", str(path), "--format", "csv", "-q"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == len(truth["transactions"])  # type: ignore[arg-type]
    assert list(rows[0]) == ["file", *TRANSACTION_FIELDS]


def test_text_shows_rows(
    statement: tuple[Path, dict[str, object]], capsys: pytest.CaptureFixture[str]
) -> None:
    """`ccproc text` prints the rows the parser matches, page by page, for the asked pages only."""
    path, _ = statement
    assert main(["text", str(path), "--pages", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("--- page 1 ---\n")
    assert "--- page 2 ---" not in out
    assert "Transaction Totals:" in out


def test_bad_page_range_is_a_usage_error(statement: tuple[Path, dict[str, object]]) -> None:
    """A malformed --pages value is refused by the argument parser (exit 2)."""
    path, _ = statement
    with pytest.raises(SystemExit) as exit_info:
        main(["text", str(path), "--pages", "3-1"])
    assert exit_info.value.code == 2


def test_summary_and_save(
    statement: tuple[Path, dict[str, object]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--format summary` prints a table a person reads; `--save` keeps the full JSON beside it."""
    path, truth = statement
    saved = tmp_path / "result.json"
    assert main(["extract", str(path), "--format", "summary", "--save", str(saved), "-q"]) == 0
    header, row = capsys.readouterr().out.splitlines()[:2]
    assert header.split()[:4] == ["FILE", "KIND", "PAGES", "ITEMS"]
    assert row.split()[:4] == [
        path.name,
        "cardholder_activity",
        str(truth["pages"]),
        str(len(truth["transactions"])),
    ]  # type: ignore[arg-type]
    assert len(json.loads(saved.read_text())["documents"][0]["transactions"]) == len(truth["transactions"])  # type: ignore[arg-type]


class _Terminal:
    """A stderr that says it is a terminal and keeps what is written."""

    def __init__(self) -> None:
        self.text = ""

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.text += text
        return len(text)

    def flush(self) -> None:
        """Nothing is buffered."""


@pytest.mark.parametrize(("quiet", "drawn"), [([], True), (["--quiet"], False)])
def test_progress_bar_only_on_a_terminal_unless_quiet(
    statement: tuple[Path, dict[str, object]],
    monkeypatch: pytest.MonkeyPatch,
    quiet: list[str],
    drawn: bool,
) -> None:
    """On a terminal a page counter is drawn on stderr; --quiet turns it off (a pipe never sees it)."""
    path, _ = statement
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert main(["extract", str(path), *quiet]) == 0
    assert ("page" in terminal.text) is drawn
