"""`ccproc`: the command-line face of the product. Each subcommand lives in its own module."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from shared.cli import aliases, dev, extract, reconcile, serve, submit, worker
from shared.cli.common import EXIT_FAILED
from shared.errors import CcprocError


def build_parser() -> argparse.ArgumentParser:
    """The command line, every subcommand."""
    parser = argparse.ArgumentParser(prog="ccproc", description="Credit Card Processor")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in (extract, reconcile, aliases, serve, submit, dev, worker):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `ccproc` command."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except CcprocError as exc:
        print(f"ccproc: {exc.message}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("ccproc: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    return code
