"""`ccproc reconcile` and `ccproc aliases` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.cli import main
from tests.builders.month import build_month

REPORT_FILES = {"exceptions.xlsx", "pvault.csv", "transactions.csv", "receipts.zip", "reconciliation.json"}


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("pair")
    return folder, build_month(folder, size="small", seed=5)


def test_reconcile_writes_every_report_and_a_summary(
    month: tuple[Path, dict], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Receipts given first, statement second: kinds are detected, every report written, counts summed."""
    folder, truth = month
    aliases = tmp_path / "aliases.json"
    aliases.write_text(json.dumps(truth["aliases"]))
    out = tmp_path / "out"
    args = ["reconcile", str(folder / "receipts.pdf"), str(folder / "statement.pdf"), "--out", str(out)]
    code = main([*args, "--aliases", str(aliases), "-q"])
    assert code == 0
    assert {p.name for p in out.iterdir()} >= REPORT_FILES
    summary = capsys.readouterr().out
    total_line = next(line for line in summary.splitlines() if line.startswith("Total"))
    assert int(total_line.split()[1]) == len(truth["statement"]["transactions"])
    matched = sum(1 for n in truth["matches"].values() if n)
    assert len(list((out / "receipts").glob("*.pdf"))) == matched


def test_reconcile_says_why_pvault_is_empty(
    month: tuple[Path, dict], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 19: every employee of this month has a transaction not Complete, so pvault.csv holds its
    header only; the summary says so and why, naming the employee closest to complete, as
    reconciliation.json does."""
    folder, truth = month
    aliases = tmp_path / "aliases.json"
    aliases.write_text(json.dumps(truth["aliases"]))
    out = tmp_path / "out"
    files = [str(folder / "statement.pdf"), str(folder / "receipts.pdf")]
    assert main(["reconcile", *files, "--out", str(out), "--aliases", str(aliases), "-q"]) == 0
    summary = capsys.readouterr().out
    pvault = json.loads((out / "reconciliation.json").read_text())["pvault"]
    employees = {t["employee_id"] for t in truth["statement"]["transactions"]}
    complete = sum(s == "Complete" for s in truth["statuses"].values())
    assert (pvault["rows"], pvault["total_employees"], len(pvault["held_back"])) == (
        0,
        len(employees),
        len(employees),
    )
    assert len((out / "pvault.csv").read_bytes().split(b"\r\n")) == 2  # the header and its line end
    assert (
        f"pVault: 0 rows. pvault.csv is empty because every one of the {len(employees)} employees has at "
        "least one transaction that is not Complete, and one such line holds back all of that employee's "
        f"rows ({complete} of {len(truth['statuses'])} transactions are Complete)."
    ) in summary
    closest = pvault["held_back"][0]
    assert f"Closest to complete:\n  {closest['cardholder']} ({closest['employee']}): " in summary


def test_statement_alone_is_all_missing_both(month: tuple[Path, dict], tmp_path: Path) -> None:
    """Without a receipts report every transaction is Missing Both, and the reports still come out."""
    folder, truth = month
    out = tmp_path / "out"
    assert main(["reconcile", str(folder / "statement.pdf"), "--out", str(out), "-q"]) == 0
    result = json.loads((out / "reconciliation.json").read_text())
    assert {t["status"] for t in result["transactions"]} == {"Missing Both"}
    assert len(result["transactions"]) == len(truth["statement"]["transactions"])
    assert {p.name for p in out.iterdir()} >= REPORT_FILES


def test_two_statements_are_refused(
    month: tuple[Path, dict], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two documents of one kind: one line saying so, exit 1."""
    folder, _ = month
    statement = str(folder / "statement.pdf")
    assert main(["reconcile", statement, statement, "--out", str(tmp_path / "o"), "-q"]) == 1
    assert "both a cardholder_activity document" in capsys.readouterr().err


def test_aliases_add_list_remove(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Aliases persist in their file: added normalised, listed, removed; removing twice says so."""
    store = ["--aliases", str(tmp_path / "a.json")]
    assert main(["aliases", *store, "add", "Jane Q. Doe", "janedoe"]) == 0
    assert main(["aliases", *store, "list"]) == 0
    assert capsys.readouterr().out.splitlines() == ["JANEQDOE -> JANEDOE", "JANEQDOE -> JANEDOE"]
    assert main(["aliases", *store, "remove", "jane q. doe"]) == 0
    assert main(["aliases", *store, "remove", "JANEQDOE"]) == 1
    assert json.loads((tmp_path / "a.json").read_text()) == {}


def test_an_alias_to_itself_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Mapping a name to itself is a mistake worth one clear line, not a stored no-op."""
    assert main(["aliases", "--aliases", str(tmp_path / "a.json"), "add", "Jane Doe", "JANEDOE"]) == 1
    assert "no alias needed" in capsys.readouterr().err
