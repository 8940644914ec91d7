"""`ccproc reconcile`: a statement and a receipts report in, every report finance staff use out."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from shared.cli.aliases import store_for
from shared.cli.common import check_files, progress_bar, writable_folder
from shared.cli.extract import add_pdf_options
from shared.extraction.layouts import load_layouts
from shared.models import PvaultHeldBack, PvaultSummary, Reconciliation, Status
from shared.report.pvault import pvault_summary
from shared.settings import Settings

# Held-back employees the summary names; reconciliation.json lists them all.
CLOSEST_SHOWN = 5


def write_summary(result: Reconciliation, written: list[Path], out_dir: Path, out: TextIO) -> None:
    """Counts and totals per status, then what needs a person's attention."""
    out.write(f"{'STATUS':<18} {'COUNT':>6} {'AMOUNT':>14}\n")
    for status in Status:
        rows = [r for r in result.transactions if r.status is status]
        amount = sum((r.transaction.net for r in rows), Decimal(0))
        out.write(f"{status.value:<18} {len(rows):>6} {amount:>14,.2f}\n")
    total = sum((r.transaction.net for r in result.transactions), Decimal(0))
    out.write(f"{'Total':<18} {len(result.transactions):>6} {total:>14,.2f}\n")
    unmatched = sum((e.amount for e in result.unmatched_expenses), Decimal(0))
    out.write(f"\nUnmatched expenses: {len(result.unmatched_expenses)} ({unmatched:,.2f})\n")
    if result.unresolved_names:
        out.write(f"Unresolved names: {len(result.unresolved_names)}\n")
        for name in result.unresolved_names:
            hint = ""
            if name.side == "receipts" and name.suggestion:
                hint = f'  -> ccproc aliases add "{name.name}" {name.suggestion}'
            out.write(f"  {name.name} ({name.side}){hint}\n")
    if result.checks:
        out.write(f"Checks: {len(result.checks)} totals did not reconcile (see reconciliation.json)\n")
        for check in result.checks[:5]:
            out.write(f"  {check.message}\n")
    if not result.transactions:
        out.write("No statement transactions: every report lists expenses only.\n")
    else:
        out.write("\n")
        out.writelines(f"{line}\n" for line in pvault_lines(result.pvault or pvault_summary(result)))
    out.write(f"\nReports in {out_dir}: {', '.join(p.name for p in written if p.parent == out_dir)}\n")


def pvault_lines(summary: PvaultSummary) -> list[str]:
    """What pvault.csv holds, in words; when employees are held back, why, closest to complete first."""
    held = summary.held_back
    employees, rows = _count(summary.total_employees, "employee"), _count(summary.rows, "row")
    if not held:
        return [f"pVault: all {employees}, {rows} ({summary.amount:,.2f})."]
    if summary.rows == 0:
        everyone = (
            "the only employee has" if summary.total_employees == 1 else f"every one of the {employees} has"
        )
        lines = [
            f"pVault: 0 rows. pvault.csv is empty because {everyone} at least one transaction that is not "
            "Complete, and one such line holds back all of that employee's rows "
            f"({summary.complete_transactions} of {_count(summary.total_transactions, 'transaction')} "
            "are Complete)."
        ]
    else:
        lines = [
            f"pVault: {summary.employees} of {employees}, {rows} ({summary.amount:,.2f}); "
            f"{len(held)} held back by a transaction not Complete."
        ]
    lines.append("Closest to complete:")
    lines += [f"  {_held_back_line(h)}" for h in held[:CLOSEST_SHOWN]]
    if len(held) > CLOSEST_SHOWN:
        lines.append(f"  ... and {len(held) - CLOSEST_SHOWN} more (reconciliation.json lists them all)")
    return lines


def _held_back_line(held: PvaultHeldBack) -> str:
    """`JANEDOE (100001): 1 of 25 not Complete (1 Missing Receipt), 19.99 of 1,234.00`."""
    named = held.cardholder and held.cardholder != held.employee
    who = f"{held.cardholder} ({held.employee})" if named else held.employee
    statuses = ", ".join(f"{count} {status.value}" for status, count in held.not_complete.items())
    return (
        f"{who}: {held.exceptions} of {held.transactions} not Complete ({statuses}), "
        f"{held.not_complete_amount:,.2f} of {held.amount:,.2f}"
    )


def _count(n: int, noun: str) -> str:
    """`1 row`, `310 rows`, `1,500 transactions`."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def cmd_reconcile(args: argparse.Namespace) -> int:
    """Extract, match, write every report into --out, and summarise."""
    # Matching and report libraries load only for this command: `ccproc extract` stays lean.
    from shared.offline import reconcile_files  # noqa: PLC0415

    overrides: dict[str, Any] = {}
    if args.date_window is not None:
        overrides["date_window_days"] = args.date_window
    if args.credits_without_refund:
        overrides["credits_need_refund"] = False
    settings = Settings(**overrides)
    check_files(args.files)
    layouts = load_layouts(*args.layouts)
    writable_folder(args.out)
    with ExitStack() as stack:

        def stage(label: str) -> Callable[[int, int], None] | None:
            return stack.enter_context(progress_bar(not args.quiet, label))

        result, written = reconcile_files(
            args.files,
            args.out,
            settings=settings,
            aliases=store_for(args.aliases),
            password=args.password,
            layouts=layouts,
            stage=stage,
        )
    write_summary(result, written, args.out, sys.stdout)
    return 0


def register(sub: Any) -> None:
    """Add `reconcile` to the command line."""
    parser = sub.add_parser("reconcile", help="match a statement with a receipts report; write every report")
    add = parser.add_argument
    add("files", nargs="+", type=Path, metavar="PDF", help="the statement and/or the receipts report")
    add("--out", type=Path, required=True, metavar="DIR", help="folder for the reports")
    add("--aliases", type=Path, metavar="FILE", help="the alias file (default: from settings)")
    add("--date-window", type=int, metavar="DAYS", help="match dates within ± DAYS (default 3)")
    add(
        "--credits-without-refund",
        action="store_true",
        help="a credit needs no refund expense to be Complete",
    )
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bars")
    add_pdf_options(parser)
    parser.set_defaults(run=cmd_reconcile)
