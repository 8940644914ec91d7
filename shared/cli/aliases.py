"""`ccproc aliases list|add|edit|remove`: the name alias table that persists between runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from shared.cli.common import EXIT_FAILED
from shared.matching.aliases import JsonFileAliasStore
from shared.settings import Settings
from shared.values import normalise_name


def store_for(path: Path | None) -> JsonFileAliasStore:
    """The alias file given, or the one the settings name."""
    return JsonFileAliasStore(path or Settings().aliases_file)


def cmd_aliases(args: argparse.Namespace) -> int:
    """List, add, edit or remove aliases."""
    store = store_for(args.aliases)
    if args.action == "add":
        name, cardholder = store.add(args.name, args.cardholder)
        print(f"{name} -> {cardholder}")
    elif args.action == "edit":
        name, cardholder, previous = store.edit(args.name, args.cardholder, args.rename)
        print(f"{name} -> {cardholder} (was {normalise_name(args.name)} -> {previous})")
    elif args.action == "remove":
        if not store.remove(args.name):
            print(f"ccproc: no alias for {args.name}", file=sys.stderr)
            return EXIT_FAILED
    else:
        for name, cardholder in sorted(store.load().items()):
            print(f"{name} -> {cardholder}")
    return 0


def register(sub: Any) -> None:
    """Add `aliases` to the command line."""
    parser = sub.add_parser(
        "aliases", help="list, add, edit or remove name aliases (expense name to cardholder)"
    )
    parser.add_argument(
        "--aliases", type=Path, metavar="FILE", help="the alias file (default: from settings)"
    )
    actions = parser.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="show every alias")
    add = actions.add_parser("add", help="map an expense-system name to a statement cardholder")
    add.add_argument("name", help='the name as typed in expenses, e.g. "Jane Q. Doe" or JANEQDOE')
    add.add_argument("cardholder", help="the statement's cardholder name, e.g. JANEDOE")
    edit = actions.add_parser("edit", help="point an alias at another cardholder, or correct its name")
    edit.add_argument("name", help="the alias's name as stored or as typed")
    edit.add_argument("cardholder", help="the statement cardholder it belongs to")
    edit.add_argument("--rename", metavar="NAME", help="correct the alias's name as well")
    remove = actions.add_parser("remove", help="forget an alias")
    remove.add_argument("name")
    parser.set_defaults(run=cmd_aliases)
