"""Reconciliation benchmark: `make bench-reconcile`.

A month-sized pair (~190 statement pages, ~1,500 transactions, ~1,100 expenses, receipts ~200 MB)
made once in .bench/; then, each in a fresh process and in this one run: extraction of both files
alone, and the whole `ccproc reconcile` (extraction, matching, every report, receipt PDFs cut) —
wall time, their ratio, peak RSS; and match/status accuracy against the builder's truth.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tests.builders.month import build_month

CACHE = Path(".bench/month")
REPEAT = 3


def generate() -> dict:
    truth_file = CACHE / "truth.json"
    if not truth_file.exists():
        started = time.perf_counter()
        build_month(CACHE, size="month", seed=2025, target_mb=200)
        print(f"generated {CACHE} in {time.perf_counter() - started:.0f} s")
    return json.loads(truth_file.read_text())


def timed(args: list[str]) -> float:
    """Wall seconds of one command."""
    started = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    truth = generate()
    statement, receipts = CACHE / "statement.pdf", CACHE / "receipts.pdf"
    ccproc = str(Path(sys.executable).with_name("ccproc"))
    out = CACHE / "out"
    aliases = CACHE / "aliases.json"
    aliases.write_text(json.dumps(truth["aliases"]))
    # In this process like `reconcile`, so the ratio compares the same extraction (no sandbox start-up).
    extract_cmd = [ccproc, "extract", str(statement), str(receipts), "--quiet", "--no-sandbox"]
    reconcile_cmd = [
        ccproc,
        "reconcile",
        str(statement),
        str(receipts),
        "--out",
        str(out),
        "--aliases",
        str(aliases),
    ]
    extract_runs, reconcile_runs = [], []
    for _ in range(REPEAT):
        shutil.rmtree(out, ignore_errors=True)
        # Each run starts with the previous one's writes on disk: its write-back is not counted
        # against the next.
        os.sync()
        extract_runs.append(timed(extract_cmd))
        os.sync()
        reconcile_runs.append(timed([*reconcile_cmd, "--quiet"]))
    extract_wall, reconcile_wall = min(extract_runs), min(reconcile_runs)
    print(
        f"receipts {receipts.stat().st_size / 2**20:.0f} MB, "
        f"statement {statement.stat().st_size / 2**20:.1f} MB"
    )
    print(f"  extraction of both (ccproc extract):  {extract_wall:6.2f} s")
    print(f"  ccproc reconcile (all reports):       {reconcile_wall:6.2f} s")
    print(f"  ratio reconcile / extraction:         {reconcile_wall / extract_wall:6.2f}  (target <= 1.3)")

    # Peak RSS, each command alone in a fresh interpreter that reports its own and its children's peak.
    peaks = {}
    for name, cmd in (("extract", extract_cmd), ("reconcile", [*reconcile_cmd, "--quiet"])):
        probe = (
            "import resource, subprocess, sys;"
            "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL);"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
        )
        done = subprocess.run([sys.executable, "-c", probe, *cmd], capture_output=True, text=True, check=True)
        peaks[name] = int(done.stdout.strip()) / 1024
    print(f"  peak RSS extraction: {peaks['extract']:.0f} MB, reconcile: {peaks['reconcile']:.0f} MB")
    print(
        f"  {'PASS' if reconcile_wall <= 1.3 * extract_wall else 'MISS'}  reconcile <= 1.3x extraction; "
        f"{'PASS' if peaks['reconcile'] <= 120 else 'MISS'}  reconcile peak RSS <= 120 MB"
    )

    result = json.loads((out / "reconciliation.json").read_text())
    got = {t["expense_id"]: t["transaction_number"] for t in result["transactions"] if t["expense_id"]}
    got |= dict.fromkeys(result["unmatched_expenses"])
    right = sum(got.get(e) == n for e, n in truth["matches"].items())
    statuses = {t["transaction_number"]: t["status"] for t in result["transactions"]}
    right_status = sum(statuses.get(n) == s for n, s in truth["statuses"].items())
    print(
        f"  match accuracy:  {right / len(truth['matches']):.4f} ({right}/{len(truth['matches'])} expenses)"
    )
    print(
        f"  status accuracy: {right_status / len(truth['statuses']):.4f} "
        f"({right_status}/{len(truth['statuses'])})"
    )


if __name__ == "__main__":
    main()
