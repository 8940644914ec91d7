"""Command line: ``python -m tests.builders {statement,receipts,month,golden} ...``."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.builders.golden import GOLDEN_DIR, regenerate
from tests.builders.month import build_month
from tests.builders.receipts import RECEIPT_STYLES, build_receipts
from tests.builders.statement import build_statement
from tests.builders.statement_lines import ROW_STYLES

PRODUCERS = ("reportlab", "fpdf2")
PRODUCER_HELP = (
    "reportlab: our own writers (reportlab statement, streamed receipts); "
    "fpdf2: cells, words and padded styles only"
)


def _drawing(parser: argparse.ArgumentParser) -> None:
    """The options every document command shares: who draws it and how the line style moves."""
    parser.add_argument("--producer", choices=PRODUCERS, default="reportlab", help=PRODUCER_HELP)
    parser.add_argument(
        "--line-moves", choices=("Td", "Tm"), default="Td", help="how the line style places its cells"
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tests.builders", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    st = sub.add_parser("statement", help="a Cardholder Activity Report General")
    st.add_argument("out")
    st.add_argument("--truth", help="where to write the ground truth JSON")
    st.add_argument("--cards", type=int, default=3)
    st.add_argument("--per-card", type=int, default=6)
    st.add_argument("--seed", type=int, default=0)
    st.add_argument("--rows-per-page", type=int, default=9)
    st.add_argument("--row-style", choices=ROW_STYLES, default="cells")
    _drawing(st)
    st.add_argument("--bad-card-total", action="store_true")
    st.add_argument(
        "--page-break-totals",
        type=float,
        default=0.3,
        help="share of cards whose page breaks fall between a row and its totals",
    )
    st.add_argument(
        "--double-spaces", action="store_true", help="double the spaces of product descriptions too"
    )

    rc = sub.add_parser("receipts", help="a Receipt Images Report")
    rc.add_argument("out")
    rc.add_argument("--truth", help="where to write the ground truth JSON")
    rc.add_argument("--expenses", type=int, default=8)
    rc.add_argument("--seed", type=int, default=0)
    rc.add_argument("--target-mb", type=float, help="aim the file at this size (10^6 bytes)")
    rc.add_argument("--style", choices=RECEIPT_STYLES, default="stacked")
    _drawing(rc)

    mo = sub.add_parser("month", help="statement.pdf, receipts.pdf and truth.json of one month")
    mo.add_argument("out_dir")
    mo.add_argument("--seed", type=int, default=0)
    mo.add_argument("--size", choices=("small", "month"), default="small")
    mo.add_argument("--target-mb", type=float, help="receipts file size (10^6 bytes)")
    mo.add_argument("--statement-style", "--row-style", choices=ROW_STYLES, default="cells")
    mo.add_argument("--receipts-style", choices=RECEIPT_STYLES, default="stacked")
    _drawing(mo)

    gd = sub.add_parser("golden", help="regenerate tests/golden")
    gd.add_argument("--out", default=str(GOLDEN_DIR))
    return parser


def _summary(truth: dict[str, Any]) -> str:
    return (
        f"{truth['kind']}: {truth['pages']} pages, {len(truth['transactions'])} "
        f"transactions, {len(truth['receipts'])} expenses"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and print what was written."""
    args = _parser().parse_args(argv)
    started = time.perf_counter()
    if args.command == "statement":
        truth = build_statement(
            args.out,
            cards=args.cards,
            per_card=args.per_card,
            seed=args.seed,
            rows_per_page=args.rows_per_page,
            row_style=args.row_style,
            bad_card_total=args.bad_card_total,
            page_break_totals=args.page_break_totals,
            product_double_spaces=args.double_spaces,
            truth_path=args.truth,
            producer=args.producer,
            line_moves=args.line_moves,
        )
        print(f"{args.out}: {_summary(truth)}")
    elif args.command == "receipts":
        truth = build_receipts(
            args.out,
            expenses=args.expenses,
            seed=args.seed,
            target_mb=args.target_mb,
            truth_path=args.truth,
            style=args.style,
            producer=args.producer,
            line_moves=args.line_moves,
        )
        print(f"{args.out}: {_summary(truth)}")
    elif args.command == "month":
        truth = build_month(
            args.out_dir,
            seed=args.seed,
            size=args.size,
            target_mb=args.target_mb,
            statement_style=args.statement_style,
            receipts_style=args.receipts_style,
            producer=args.producer,
            line_moves=args.line_moves,
        )
        print(f"{args.out_dir}/statement.pdf: {_summary(truth['statement'])}")
        print(f"{args.out_dir}/receipts.pdf: {_summary(truth['receipts'])}")
    else:
        for folder in regenerate(Path(args.out)):
            print(folder)
    print(f"done in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
