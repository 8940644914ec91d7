"""What tracing costs: `python -m bench.tracing` (also part of `make bench`).

The month session of `bench.pipeline` (statement + ~200 MB receipts through the Functions code on
Azurite) runs with tracing off (no exporter: OpenTelemetry's no-op) and on (every span of every
step exported as it ends, to JSON-lines files: `TRACE_DIR`, the most eager exporter we have), each
run in a fresh process (a process sets up its exporters once), alternating, best of `REPEAT`.
Prints both wall times and the ratio; the target is tracing on within 3 % of off.
"""

from __future__ import annotations

import argparse
import json
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from bench.pipeline import APP_EXTRACT_PROCESSES, run_session
from bench.reconcile import CACHE, generate
from shared.extraction.extract import default_processes
from shared.matching.aliases import JsonFileAliasStore
from shared.offline import reconcile_files
from shared.settings import Settings
from shared.telemetry.setup import configure, flush
from tests.azurite import Azurite

REPEAT = 3
TARGET = 1.03


def _child(mode: str, connection: str, local: Path, scratch: Path) -> None:
    """One session in this process, traced or not; its wall time as the last line of output."""
    truth = json.loads((local / "truth.json").read_text())
    tag = secrets.token_hex(3)
    settings = Settings(
        temp_storage_path=scratch,
        extract_processes=APP_EXTRACT_PROCESSES,
        uploads_container=f"up-{tag}",
        sessions_container=f"se-{tag}",
        results_queue=f"re-{tag}",
        trace_dir=scratch / "traces" if mode == "on" else None,
    )
    assert configure("functions", settings) == ("files" if mode == "on" else None)
    files = [CACHE / "statement.pdf", CACHE / "receipts.pdf"]
    azurite = cast(Any, SimpleNamespace(connection_string=connection))
    wall, _ = run_session(azurite, settings, files, truth["aliases"], local)
    flush()
    spans = (
        sum(len(p.read_text().splitlines()) for p in (scratch / "traces").glob("*.jsonl"))
        if mode == "on"
        else 0
    )
    print(json.dumps({"wall": wall, "spans": spans}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", choices=["on", "off"])
    parser.add_argument("--connection")
    parser.add_argument("--local", type=Path)
    parser.add_argument("--scratch", type=Path)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.connection, args.local, args.scratch)
        return
    truth = generate()
    files = [CACHE / "statement.pdf", CACHE / "receipts.pdf"]
    walls: dict[str, list[float]] = {"off": [], "on": []}
    spans = 0
    with tempfile.TemporaryDirectory() as scratch, Azurite() as azurite:
        local = Path(scratch) / "local"
        aliases_file = Path(scratch) / "aliases.json"
        aliases_file.write_text(json.dumps(truth["aliases"]))
        settings = Settings(temp_storage_path=Path(scratch), extract_processes=default_processes())
        reconcile_files(files, local, settings=settings, aliases=JsonFileAliasStore(aliases_file))
        (local / "truth.json").write_text(json.dumps({"aliases": truth["aliases"]}))
        for i in range(REPEAT):
            for mode in ("off", "on") if i % 2 == 0 else ("on", "off"):
                run_scratch = Path(tempfile.mkdtemp(dir=scratch))
                started = time.perf_counter()
                done = subprocess.run(
                    [sys.executable, "-m", "bench.tracing", "--child", mode, "--connection",
                     azurite.connection_string, "--local", str(local), "--scratch", str(run_scratch)],
                    capture_output=True, text=True, check=True,
                )  # fmt: skip
                result = json.loads(done.stdout.strip().splitlines()[-1])
                walls[mode].append(result["wall"])
                spans = max(spans, result["spans"])
                total = time.perf_counter() - started
                print(f"  tracing {mode:3}: {result['wall']:.2f} s ({total:.0f} s with start-up)")
    off, on = min(walls["off"]), min(walls["on"])
    ratio = on / off
    print(f"  month session, tracing off: {off:6.2f} s")
    print(f"  month session, tracing on:  {on:6.2f} s  ({spans} spans exported)")
    verdict = "PASS" if ratio <= TARGET else "MISS"
    print(f"  {verdict}  tracing on / off: {ratio:.3f}x (target <= {TARGET})")


if __name__ == "__main__":
    main()
