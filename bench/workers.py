"""Worker scaling benchmark: `make bench` (last part).

Eight statements wait in the uploads container of a fresh Azurite; `ccproc worker extract`
processes (one core each: EXTRACT_PROCESSES=1) take them — first one worker, then two — and the
time until every file is extracted is compared (target: two workers take at most 0.6 of one's time).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from shared.sessions import requests as sessions
from shared.sessions import store
from shared.sessions.models import FileStatus
from shared.settings import Settings
from shared.storage.azure import AzureStorage
from tests.azurite import Azurite
from tests.builders.statement import build_statement

FILES = 8
CCPROC = str(Path(sys.executable).with_name("ccproc"))


def run(azurite: Azurite, statements: list[Path], workers: int, scratch: Path) -> float:
    """Seconds from the workers' start until all statements are extracted."""
    tag = secrets.token_hex(3)
    settings = Settings(
        uploads_container=f"up-{tag}",
        sessions_container=f"se-{tag}",
        results_queue=f"re-{tag}",
        extract_processes=1,
    )
    storage = AzureStorage(azurite.connection_string)
    session = sessions.create_session(storage, settings)
    for path in statements:
        with path.open("rb") as body:
            sessions.accept_upload(
                storage, settings, session.id, path.name, body=body, length=path.stat().st_size
            )
    env = {
        **os.environ,
        "AzureWebJobsStorage": azurite.connection_string,
        "UPLOADS_CONTAINER": settings.uploads_container,
        "SESSIONS_CONTAINER": settings.sessions_container,
        "RESULTS_QUEUE": settings.results_queue,
        "EXTRACT_PROCESSES": "1",
        "TEMP_STORAGE_PATH": str(scratch),
    }
    started = time.perf_counter()
    processes = [
        subprocess.Popen(
            [
                CCPROC,
                "worker",
                "extract",
                "--poll-seconds",
                "0.2",
                "--health-file",
                str(scratch / f"health-{n}"),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for n in range(workers)
    ]
    try:
        # One light request per poll (each extracted file sends one results message), so the
        # watching takes no CPU from the workers being measured.
        while storage.peek_count(settings.results_queue) < len(statements):
            time.sleep(0.25)
        elapsed = time.perf_counter() - started
        records = store.load_records(storage, settings, session.id)
        assert all(r.status is FileStatus.EXTRACTED for r in records), "a file was not extracted"
        return elapsed
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder, Azurite() as azurite:
        scratch = Path(folder)
        statements = []
        for n in range(FILES):
            path = scratch / f"statement-{n}.pdf"
            build_statement(path, cards=20, per_card=40, seed=100 + n)
            statements.append(path)
        one = min(run(azurite, statements, 1, scratch) for _ in range(2))
        two = min(run(azurite, statements, 2, scratch) for _ in range(2))
    print(f"{FILES} statements (800 transactions, ~100 pages each), best of 2:")
    print(f"  1 extract worker:  {one:6.2f} s")
    print(f"  2 extract workers: {two:6.2f} s")
    ratio = two / one
    print(f"  {'PASS' if ratio <= 0.6 else 'MISS'}  2 workers / 1 worker: {ratio:.2f} (target <= 0.6)")


if __name__ == "__main__":
    main()
