"""`ccproc dev` and `ccproc submit`: the whole local pipeline as a user runs it, real processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.azurite import free_port
from tests.builders.month import build_month

CCPROC = str(Path(sys.executable).with_name("ccproc"))


def test_dev_runs_the_pipeline_and_submit_downloads_every_report(tmp_path: Path) -> None:
    """Azurite, API and both workers start; PDFs go in over HTTP; every report comes back; all stops."""
    truth = build_month(tmp_path / "month", size="small", seed=8)
    out = tmp_path / "reports"
    pdfs = [str(tmp_path / "month" / "statement.pdf"), str(tmp_path / "month" / "receipts.pdf")]
    args = ["dev", "--data", str(tmp_path / "data"), "--port", str(free_port()), "--exit", "--out", str(out)]
    done = subprocess.run(
        [CCPROC, *args, "--submit", *pdfs],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "is running at http://127.0.0.1:" in done.stdout
    count = len(truth["statement"]["transactions"])
    assert f"completed: {count} transactions" in done.stdout
    assert {p.name for p in out.iterdir()} == {
        "exceptions.xlsx",
        "pvault.csv",
        "transactions.csv",
        "receipts.zip",
        "reconciliation.json",
    }
    assert (tmp_path / "data" / "logs" / "extract.log").exists()
