"""Load: sessions submitted at once over HTTP to a real `ccproc dev` (Azurite, API, both workers):
no 5xx answer, every session completes with each transaction of its month exactly once.
`make soak` runs `run_load` with 50 sessions and prints throughput and p50/p95."""

from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.azurite import free_port
from tests.builders.month import build_month

CCPROC = str(Path(sys.executable).with_name("ccproc"))
READY_SECONDS = 90.0


@dataclass
class Session:
    """One submitted session as the client saw it."""

    id: str = ""
    status: str = "not created"
    error: str | None = None
    seconds: float = 0.0
    missing: int = 0
    duplicates: int = 0
    unexpected: int = 0


@dataclass
class LoadResult:
    """What a load run measured."""

    sessions: list[Session]
    wall_seconds: float
    server_errors: Counter[str] = field(default_factory=Counter)  # "METHOD route status" of each 5xx

    @property
    def completed(self) -> int:
        return sum(s.status == "completed" for s in self.sessions)

    @property
    def failed(self) -> int:
        return sum(s.status == "failed" for s in self.sessions)

    @property
    def lost(self) -> int:
        """Transactions missing from completed sessions, plus each session that never finished."""
        return sum(s.missing + (s.status not in ("completed", "failed")) for s in self.sessions)

    @property
    def duplicates(self) -> int:
        return sum(s.duplicates for s in self.sessions)

    def percentile(self, share: float) -> float:
        """Seconds to completion that `share` of the completed sessions took at most."""
        return percentile([s.seconds for s in self.sessions if s.status == "completed"], share)

    @property
    def throughput(self) -> float:
        """Completed sessions per minute, over the whole run."""
        return 60 * self.completed / self.wall_seconds


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (NaN for no values): the smallest value with `share` at or below it."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


class Api:
    """A plain HTTP client that records every 5xx answer (and retries nothing)."""

    def __init__(self, base: str, errors: Counter[str]) -> None:
        self.base, self.errors = base, errors
        self._lock = threading.Lock()

    def call(self, method: str, path: str, body: bytes | None = None, route: str = "") -> Any:
        headers = {"Content-Type": "application/pdf"} if body is not None else {}
        request = urllib.request.Request(self.base + path, data=body, headers=headers, method=method)  # noqa: S310 — loopback
        try:
            with urllib.request.urlopen(request, timeout=120) as answer:  # noqa: S310
                return json.loads(answer.read() or b"{}")
        except urllib.error.HTTPError as error:
            if error.code >= 500:
                with self._lock:
                    self.errors[f"{method} {route or path} {error.code}"] += 1
            raise


def one_session(api: Api, month: Path, truth: dict[str, Any], poll: float, timeout: float) -> Session:
    """Create, upload both PDFs, process, wait; then count the transactions in its reconciliation."""
    found = Session()
    started = time.monotonic()
    try:
        found.id = api.call("POST", "/api/sessions", route="/sessions")["id"]
        for name in ("statement.pdf", "receipts.pdf"):
            # Every session of the load sends the same month: twins on purpose.
            path = f"/api/sessions/{found.id}/files/{name}?allow_duplicate=true"
            api.call("PUT", path, (month / name).read_bytes(), "/files")
        api.call("POST", f"/api/sessions/{found.id}/process", route="/process")
        deadline = started + timeout
        view: dict[str, Any] = {"status": "processing"}
        while view["status"] not in ("completed", "failed") and time.monotonic() < deadline:
            time.sleep(poll)
            view = api.call("GET", f"/api/sessions/{found.id}", route="/sessions/{id}")
        found.status, found.error = view["status"], view.get("error")
        found.seconds = time.monotonic() - started
        if found.status == "completed":
            document = api.call("GET", f"/api/sessions/{found.id}/reports/reconciliation", route="/reports")
            seen = Counter(t["transaction_number"] for t in document["transactions"])
            expected = set(truth["statuses"])
            found.missing = len(expected - set(seen))
            found.duplicates = sum(n - 1 for n in seen.values() if n > 1)
            found.unexpected = len(set(seen) - expected)
        elif found.status != "failed":
            found.status = "stuck"
    except urllib.error.HTTPError as error:
        found.status, found.error = "refused", f"{error.code} {error.reason}"
    return found


def run_load(
    count: int, months: list[tuple[Path, dict[str, Any]]], data: Path, *, timeout: float = 300
) -> LoadResult:
    """`count` sessions submitted at once (round-robin over `months`) to a `ccproc dev` of its own."""
    port = free_port()
    data.mkdir(parents=True, exist_ok=True)
    with (data / "dev.log").open("wb") as log:
        dev = subprocess.Popen(
            [CCPROC, "dev", "--data", str(data), "--port", str(port)], stdout=log, stderr=subprocess.STDOUT
        )
    errors: Counter[str] = Counter()
    api = Api(f"http://127.0.0.1:{port}", errors)
    try:
        deadline = time.monotonic() + READY_SECONDS
        while True:
            try:
                api.call("GET", "/api/health")
                break
            except OSError:
                if dev.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"ccproc dev did not come up; see {data / 'dev.log'}") from None
                time.sleep(0.3)
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=count) as pool:
            futures = [
                pool.submit(one_session, api, *months[n % len(months)], 0.5, timeout) for n in range(count)
            ]
            done = [f.result() for f in futures]
        return LoadResult(done, time.monotonic() - started, errors)
    finally:
        dev.send_signal(signal.SIGTERM)  # workers drain, then Azurite stops
        try:
            dev.wait(timeout=90)
        except subprocess.TimeoutExpired:
            dev.kill()
            dev.wait()


def test_concurrent_sessions_all_complete_without_5xx(tmp_path: Path) -> None:
    """Eight sessions at once against `ccproc dev`: no 5xx, all completed, each transaction once."""
    months = [
        (tmp_path / f"m{seed}", build_month(tmp_path / f"m{seed}", size="small", seed=seed))
        for seed in (41, 42)
    ]
    result = run_load(8, months, tmp_path / "dev")
    assert result.server_errors == Counter()
    assert [s.status for s in result.sessions] == ["completed"] * 8, [s.error for s in result.sessions]
    assert [(s.missing, s.duplicates, s.unexpected) for s in result.sessions] == [(0, 0, 0)] * 8
    assert result.percentile(0.95) >= result.percentile(0.5) > 0
