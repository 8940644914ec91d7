"""Pipeline benchmark: `make bench-pipeline` (also part of `make bench`).

A month-sized session (statement + ~200 MB receipts, from .bench/month) goes through the Functions
code on Azurite — upload, blob trigger, process, queue trigger — and is timed against
`reconcile_files` (what `ccproc reconcile` runs) on the same files, both in this process.
"""

from __future__ import annotations

import json
import secrets
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from azure.functions.queue import QueueMessage
from azure.storage.blob import BlobServiceClient

from bench.reconcile import CACHE, generate
from function_app import app
from functions import runtime
from shared import sessions
from shared.aliases import JsonFileAliasStore
from shared.azure_storage import AzureStorage
from shared.pipeline import reconcile_files
from shared.session_models import SessionStatus
from shared.settings import Settings
from shared.steps import BlobAliasStore
from tests.azurite import Azurite


def run_session(azurite: Azurite, settings: Settings, files: list[Path], aliases: dict[str, str]) -> float:
    storage = AzureStorage(azurite.connection_string)
    runtime.use(settings, storage)
    functions = {f.get_function_name(): f.get_user_function() for f in app.get_functions()}
    for name, cardholder in aliases.items():
        BlobAliasStore(storage, settings).add(name, cardholder)
    blobs = BlobServiceClient.from_connection_string(azurite.connection_string)
    started = time.perf_counter()
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
    # The host runs blob-triggered functions side by side (host.json blobs.maxDegreeOfParallelism: 2).
    with ThreadPoolExecutor(max_workers=2) as host:
        list(
            host.map(
                lambda item: functions["extract"](uploads.get_blob_client(item.name)), uploads.list_blobs()
            )
        )
    phases["extract (both files, side by side)"] = time.perf_counter() - mark
    sessions.request_processing(storage, settings, session.id)
    mark = time.perf_counter()
    while messages := storage.receive(settings.results_queue, visibility_seconds=600, limit=32):
        for m in messages:
            functions["finalize"](
                QueueMessage(id=m.id, body=m.content.encode(), dequeue_count=m.dequeue_count)
            )
            storage.remove(settings.results_queue, m)
    wall = time.perf_counter() - started
    phases["finalize"] = time.perf_counter() - mark
    print("  phases: " + ", ".join(f"{k} {v:.2f} s" for k, v in phases.items()))
    view = sessions.get_session(storage, settings, session.id)
    assert view.status is SessionStatus.COMPLETED, view.error
    left = list(storage.list(settings.uploads_container))
    print(f"  session: {view.summary.model_dump_json() if view.summary else '-'}; uploads left: {len(left)}")
    return wall


def main() -> None:
    truth = generate()
    files = [CACHE / "statement.pdf", CACHE / "receipts.pdf"]
    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings(temp_storage_path=Path(scratch), extract_processes=2)
        aliases_file = Path(scratch) / "aliases.json"
        aliases_file.write_text(json.dumps(truth["aliases"]))
        started = time.perf_counter()
        result, _ = reconcile_files(
            files, Path(scratch) / "out", settings=settings, aliases=JsonFileAliasStore(aliases_file)
        )
        local = time.perf_counter() - started
        print(f"month pair: {sum(p.stat().st_size for p in files) / 2**20:.0f} MB")
        count = len(result.transactions)
        print(f"  reconcile_files (ccproc reconcile):     {local:6.2f} s ({count} transactions)")
        with Azurite() as azurite:
            tag = secrets.token_hex(3)
            pipeline_settings = settings.model_copy(
                update={
                    # As deployed: one core per invocation, the host running two side by side.
                    "extract_processes": 1,
                    "uploads_container": f"uploads-{tag}",
                    "sessions_container": f"sessions-{tag}",
                    "results_queue": f"results-{tag}",
                }
            )
            wall = run_session(azurite, pipeline_settings, files, truth["aliases"])
        print(f"  Functions pipeline on Azurite:          {wall:6.2f} s")
        ratio = wall / local
        verdict = "PASS" if ratio <= 1.5 else "MISS"
        print(f"  {verdict}  overhead pipeline / reconcile: {ratio:.2f}x (target <= 1.5)")


if __name__ == "__main__":
    main()
