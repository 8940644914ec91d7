"""Pipeline benchmark: `python -m bench.pipeline` (also part of `make bench`).

A month-sized session (statement + ~200 MB receipts, from .bench/month) goes through the Functions
code on Azurite — upload, blob trigger, process, queue trigger — and is timed against
`reconcile_files` (what `ccproc reconcile` runs) on the same files, both in this process,
alternating, best of `REPEAT`. Besides wall time it prints the machine's CPU time over each run
(every process: ours, Azurite's), and, apart from the ratio, how long the finished session's
receipts ZIP takes to download (the pipeline writes it as it is read; `ccproc reconcile` writes it
to disk within its time).
"""

from __future__ import annotations

import io
import json
import os
import secrets
import shutil
import tempfile
import time
import urllib.request
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from azure.functions.queue import QueueMessage
from azure.storage.blob import BlobServiceClient

from bench.reconcile import CACHE, generate
from function_app import app
from functions import runtime
from shared.extraction.extract import default_processes
from shared.matching.aliases import JsonFileAliasStore
from shared.offline import reconcile_files
from shared.sessions import requests as sessions
from shared.sessions.aliases import BlobAliasStore
from shared.sessions.models import SessionStatus
from shared.settings import Settings
from shared.storage.azure import AzureStorage
from tests.azurite import Azurite

# The host indexes the app once; so does this benchmark.
FUNCTIONS = {f.get_function_name(): f.get_user_function() for f in app.get_functions()}


ROOT = Path(__file__).resolve().parent.parent
HOST = json.loads((ROOT / "host.json").read_text())
BLOB_PARALLELISM = HOST["extensions"]["blobs"]["maxDegreeOfParallelism"]
# The app settings the Functions app runs with (`func start` reads them; the README's deployment
# sets the same): one process per extraction, as the host runs two extractions side by side.
APP_SETTINGS = json.loads((ROOT / "local.settings.sample.json").read_text())["Values"]
APP_EXTRACT_PROCESSES = int(APP_SETTINGS["EXTRACT_PROCESSES"])


def blob_names(container: Any) -> list[str]:
    """The uploads waiting, by name."""
    return [item.name for item in container.list_blobs()]


def machine_cpu_seconds() -> float:
    """CPU time the whole machine has spent busy since boot (all processes, every core)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields) - idle) / os.sysconf("SC_CLK_TCK")


def run_session(
    azurite: Azurite, settings: Settings, files: list[Path], aliases: dict[str, str], local: Path
) -> tuple[float, float]:
    """Wall and machine CPU seconds from the first upload to the session completed; checks that the
    session has the counts and receipt PDFs `ccproc reconcile` wrote into `local`, and that the
    uploads container is left empty."""
    storage = AzureStorage(azurite.connection_string)
    runtime.use(settings, storage)
    for name, cardholder in aliases.items():
        BlobAliasStore(storage, settings).add(name, cardholder)
    blobs = BlobServiceClient.from_connection_string(azurite.connection_string)
    started, cpu = time.perf_counter(), machine_cpu_seconds()
    session = sessions.create_session(storage, settings)
    for path in files:
        size = path.stat().st_size
        with path.open("rb") as body:
            if size <= settings.max_upload_bytes:
                sessions.accept_upload(storage, settings, session.id, path.name, body=body, length=size)
            else:  # the large-file path: a SAS URL, then one PUT straight to Blob
                grant = sessions.upload_url(storage, settings, session.id, path.name)
                headers = {**grant["headers"], "Content-Length": str(size)}  # type: ignore[dict-item]
                url = str(grant["url"])  # http(s) only: the SAS URL of our own storage
                put = urllib.request.Request(url, data=body, headers=headers, method="PUT")  # noqa: S310
                with urllib.request.urlopen(put) as answer:  # noqa: S310
                    assert answer.status == 201
    phases = {"upload": time.perf_counter() - started}
    uploads = blobs.get_container_client(settings.uploads_container)
    mark = time.perf_counter()
    # As the host runs them: blob-trigger invocations side by side on the worker's threads, as many
    # as host.json's blobs.maxDegreeOfParallelism. Each extraction runs in a child process (the
    # sandbox), so two of them use both cores.
    with ThreadPoolExecutor(max_workers=BLOB_PARALLELISM) as pool:
        list(pool.map(lambda name: FUNCTIONS["extract"](uploads.get_blob_client(name)), blob_names(uploads)))
    phases["extract (both files)"] = time.perf_counter() - mark
    sessions.request_processing(storage, settings, session.id)
    mark = time.perf_counter()
    while messages := storage.receive(settings.results_queue, visibility_seconds=600, limit=32):
        for m in messages:
            FUNCTIONS["finalize"](
                QueueMessage(id=m.id, body=m.content.encode(), dequeue_count=m.dequeue_count)
            )
            storage.remove(settings.results_queue, m)
    wall, cpu = time.perf_counter() - started, machine_cpu_seconds() - cpu
    phases["finalize"] = time.perf_counter() - mark
    print("  phases: " + ", ".join(f"{k} {v:.2f} s" for k, v in phases.items()))
    view = sessions.get_session(storage, settings, session.id)
    assert view.status is SessionStatus.COMPLETED, view.error
    left = list(storage.list(settings.uploads_container))
    print(f"  session: {view.summary.model_dump_json() if view.summary else '-'}; uploads left: {len(left)}")
    mark = time.perf_counter()
    _, _, chunks = sessions.report(storage, settings, session.id, "receipts")
    data = b"".join(chunks)
    size = len(data)
    with zipfile.ZipFile(io.BytesIO(data)) as served, zipfile.ZipFile(local / "receipts.zip") as written:
        assert sorted(served.namelist()) == sorted(written.namelist()), "receipt PDFs differ"
    expected = json.loads((local / "reconciliation.json").read_text())
    assert view.summary is not None
    assert view.summary.transactions == len(expected["transactions"]), "transaction counts differ"
    assert view.summary.unmatched_expenses == len(expected["unmatched_expenses"]), "expenses differ"
    assert not left, "uploads left behind"
    took = time.perf_counter() - mark
    print(f"  receipts.zip download (not in the ratio): {size / 2**20:.0f} MB in {took:.2f} s")
    return wall, cpu


REPEAT = 3


def main() -> None:
    truth = generate()
    files = [CACHE / "statement.pdf", CACHE / "receipts.pdf"]
    print(f"month pair: {sum(p.stat().st_size for p in files) / 2**20:.0f} MB; best of {REPEAT}, alternating")
    print(
        f"  ccproc reconcile with {default_processes()} extraction processes (its default: one per core); "
        f"the Functions app with its app settings: EXTRACT_PROCESSES={APP_EXTRACT_PROCESSES}, "
        f"{BLOB_PARALLELISM} blob-trigger invocations side by side"
    )
    locals_, pipelines, local_cpu, pipeline_cpu = [], [], [], []
    with tempfile.TemporaryDirectory() as scratch, Azurite() as azurite:
        settings = Settings(temp_storage_path=Path(scratch), extract_processes=default_processes())
        aliases_file = Path(scratch) / "aliases.json"
        aliases_file.write_text(json.dumps(truth["aliases"]))
        for _ in range(REPEAT):
            # Each run starts with the previous one's writes on disk, so its write-back (and CPU)
            # is not counted against the next.
            os.sync()
            started, cpu = time.perf_counter(), machine_cpu_seconds()
            out = Path(tempfile.mkdtemp(dir=scratch))
            reconcile_files(files, out, settings=settings, aliases=JsonFileAliasStore(aliases_file))
            locals_.append(time.perf_counter() - started)
            local_cpu.append(machine_cpu_seconds() - cpu)
            print(f"  reconcile: {locals_[-1]:.2f} s, machine CPU {local_cpu[-1]:.2f} s")
            tag = secrets.token_hex(3)
            names = {
                "uploads_container": f"up-{tag}",
                "sessions_container": f"se-{tag}",
                "results_queue": f"re-{tag}",
                "extract_processes": APP_EXTRACT_PROCESSES,
            }
            os.sync()
            wall, cpu = run_session(azurite, settings.model_copy(update=names), files, truth["aliases"], out)
            shutil.rmtree(out)
            pipelines.append(wall)
            pipeline_cpu.append(cpu)
            print(f"  pipeline: {wall:.2f} s, machine CPU {cpu:.2f} s")
    local, wall = min(locals_), min(pipelines)
    print(f"  reconcile_files (ccproc reconcile):     {local:6.2f} s  (CPU {min(local_cpu):.2f} s)")
    print(f"  Functions pipeline on Azurite:          {wall:6.2f} s  (CPU {min(pipeline_cpu):.2f} s)")
    ratio = wall / local
    verdict = "PASS" if ratio <= 1.5 else "MISS"
    print(f"  {verdict}  overhead pipeline / reconcile: {ratio:.2f}x (target <= 1.5)")


if __name__ == "__main__":
    main()
