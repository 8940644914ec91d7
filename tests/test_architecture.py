"""The shape of `shared/` holds: no package imports one above it, the Azure SDK only at the edges,
and no module but the storage layout spells a blob path."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT / "shared"
BASE = {"errors", "values", "models", "settings", "processes"}
# Each part of `shared` and the parts it may import (besides BASE), as shared/__init__.py says.
MAY_IMPORT: dict[str, set[str]] = {
    "errors": set(),
    "values": {"errors"},
    "models": {"values", "errors"},
    "settings": {"errors"},
    "processes": set(),
    "pdf": set(),
    "report": {"pdf"},
    "extraction": {"pdf", "report"},
    "matching": set(),
    "storage": set(),
    "telemetry": set(),
    "offline": {"extraction", "matching", "report"},
    "sessions": {"pdf", "report", "extraction", "matching", "storage", "telemetry"},
    "http": {"pdf", "report", "extraction", "matching", "storage", "sessions", "telemetry"},
    "workers": {"storage", "sessions", "http", "telemetry"},
    "cli": {
        "pdf",
        "report",
        "extraction",
        "matching",
        "storage",
        "sessions",
        "http",
        "workers",
        "offline",
        "telemetry",
    },
}
# Where the Azure SDK may be imported: the gateway's implementation, the exporters' set-up (the
# Azure Monitor distro) and the runtimes.
AZURE_ALLOWED = (
    "shared/storage/azure",
    "shared/telemetry/setup",
    "shared/workers/",
    "functions/",
    "function_app.py",
)


def modules() -> list[Path]:
    return sorted(p for p in SHARED.rglob("*.py") if "__pycache__" not in p.parts)


def part_of(path: Path) -> str:
    relative = path.relative_to(SHARED)
    return relative.parts[0].removesuffix(".py") if relative.parts[0] != "__init__.py" else "__init__"


def imported(path: Path) -> set[str]:
    """Every module `path` imports, at the top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            if node.module == "shared":
                names |= {f"shared.{alias.name}" for alias in node.names}
    return names


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_import_runs_up(path: Path) -> None:
    """A module imports only its own package, the base modules, and the packages below its own."""
    part = part_of(path)
    if part == "__init__":
        return
    allowed = MAY_IMPORT[part] | BASE | {part}
    parts = {name.split(".")[1] for name in imported(path) if name.startswith("shared.")}
    assert parts <= allowed, f"{part} imports {sorted(parts - allowed)}"


def test_every_part_has_a_rule() -> None:
    """A new package or top-level module is placed in the rule before it lands."""
    assert {part_of(p) for p in modules()} - {"__init__"} <= set(MAY_IMPORT)


def test_azure_sdk_only_at_the_edges() -> None:
    """Only the Azure gateway and the runtimes import the Azure SDK."""
    offenders = []
    for path in [*modules(), *(ROOT / "functions").glob("*.py"), ROOT / "function_app.py"]:
        relative = path.relative_to(ROOT).as_posix()
        uses = any(name.split(".")[0] in ("azure", "azurefunctions") for name in imported(path))
        if uses and not relative.startswith(AZURE_ALLOWED):
            offenders.append(relative)
    assert offenders == []


def test_functions_adapters_call_shared_only() -> None:
    """A Functions blueprint imports the Functions SDK, the runtime helper and `shared`: no step of
    the pipeline is written there."""
    for path in (ROOT / "functions").glob("*.py"):
        roots = {name.split(".")[0] for name in imported(path)}
        assert roots <= {"azure", "azurefunctions", "functions", "shared", "__future__", "logging", "os",
                         "functools", "urllib", "typing", "dataclasses", "json"}, path.name  # fmt: skip


def test_only_the_layout_spells_blob_paths() -> None:
    """Blob names are built in `shared/sessions/layout.py` alone: no other module writes a path of a
    session's folders."""
    # A blob path begins with the session id (an API route begins with a slash and says /sessions/).
    spelled = re.compile(
        r"""f["']\{session(_id)?\}/|["'](manifest\.json|/files/|/results/|/failed/|cuts/|claims/|aliases/)"""
    )
    offenders = [
        str(path.relative_to(ROOT))
        for path in modules()
        if path.name != "layout.py" and spelled.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
