"""`ccproc`: the command-line face of the product. Each subcommand lives in its own module."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from shared.cli import aliases, dev, extract, reconcile, serve, submit, worker
from shared.cli.common import EXIT_FAILED, EXIT_USAGE
from shared.errors import CcprocError, UsageError


class _Parser(argparse.ArgumentParser):
    """argparse, answering a bad argument with one line (not the usage block) and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The command line, every subcommand (their parsers are of the same class)."""
    parser = _Parser(prog="ccproc", description="Credit Card Processor")
    sub = parser.add_subparsers(dest="command", required=True)
    for module in (extract, reconcile, aliases, serve, submit, dev, worker):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `ccproc` command."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except UsageError as exc:
        print(f"ccproc: {exc.message}", file=sys.stderr)
        return EXIT_USAGE
    except CcprocError as exc:
        print(f"ccproc: {exc.message}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as exc:
        # A file or folder the command could not use: one line, never a traceback.
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"ccproc: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("ccproc: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    return code
