"""One trace per session, metrics an operator alerts on, logs that find their trace — against Azurite.

- in one process, with OpenTelemetry's in-memory exporters: a month sent through the HTTP app, the
  blob trigger and the queue trigger of the Function App is one trace from `POST /api/sessions` to
  the last report, the sandboxed child's phases inside it; the metrics count what happened; no span,
  event, attribute, metric point or JSON log line carries the card number planted in the month;
- across processes: `ccproc dev --trace` (API, extract and finalize workers, each exporting its own
  spans) makes one trace of a session too, and prints its timeline;
- the timeline API and its tenancy.
"""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from functions import runtime
from shared.http.app import build_app
from shared.sessions import requests, store
from shared.sessions.extract import _ProgressNotes, extract_upload
from shared.settings import Settings
from shared.storage.azure import AzureStorage
from shared.telemetry.logs import JsonFormatter
from tests.azurite import Azurite, free_port
from tests.builders.month import build_month
from tests.test_access import ALICE, BOB, KEYS
from tests.test_card_data import DASHED, PLANTED, _glued
from tests.test_functions_pipeline import drain_queue, run_blob_trigger
from tests.test_http_api import Client

CCPROC = str(Path(sys.executable).with_name("ccproc"))
SPANS = InMemorySpanExporter()
READER = InMemoryMetricReader()
SESSION_STEPS = {"open session", "upload file", "extract file", "download", "extract in sandbox",
                 "read pages", "write results", "process session", "finalize", "match", "write reports",
                 "report"}  # fmt: skip


@pytest.fixture(scope="module")
def exporters() -> tuple[InMemorySpanExporter, InMemoryMetricReader]:
    """In-memory exporters as this process's providers (OpenTelemetry allows one set-up a process)."""
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(SPANS))
        trace.set_tracer_provider(provider)
        metrics.set_meter_provider(MeterProvider(metric_readers=[READER]))
    return SPANS, READER


@pytest.fixture
def wired(settings: Settings, storage: AzureStorage) -> Iterator[tuple[Settings, AzureStorage]]:
    runtime.use(settings, storage)
    yield settings, storage
    runtime.reset()


def _points(reader: InMemoryMetricReader) -> dict[tuple[str, tuple[tuple[str, Any], ...]], float]:
    """Every metric point now: (name, labels) -> its sum, count (histograms) or value (gauges)."""
    found: dict[tuple[str, tuple[tuple[str, Any], ...]], float] = {}
    data = reader.get_metrics_data()
    for resource in data.resource_metrics if data else []:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    value = getattr(point, "count", None) if hasattr(point, "bucket_counts") else point.value
                    found[(metric.name, tuple(sorted((point.attributes or {}).items())))] = float(value or 0)
    return found


def _grew(before: dict[Any, float], after: dict[Any, float], name: str) -> Counter[tuple[Any, ...]]:
    return Counter(
        {labels: after[(n, labels)] - before.get((n, labels), 0) for (n, labels) in after if n == name}
    )


def test_a_session_is_one_trace_from_its_request_to_its_last_report(
    exporters: tuple[InMemorySpanExporter, InMemoryMetricReader],
    wired: tuple[Settings, AzureStorage],
    azurite: Azurite,
    indexed_functions: dict[str, Any],
    tmp_path: Path,
) -> None:
    """Through the HTTP app, the blob trigger and the queue trigger: every step's span is in the
    trace the opening request began, the sandbox's phases under its span; the metrics count two files
    read and one session completed; no span, metric point or JSON log line holds the planted card."""
    spans, reader = exporters
    settings, storage = wired
    truth = build_month(tmp_path / "month", size="small", seed=5, plant=PLANTED)
    before = _points(reader)
    spans.clear()
    logged = io.StringIO()
    handler = logging.StreamHandler(logged)
    handler.setFormatter(JsonFormatter())
    ccproc = logging.getLogger("ccproc")
    level = ccproc.level
    ccproc.addHandler(handler)
    ccproc.setLevel(logging.INFO)
    try:
        client = Client(build_app(lambda: storage, settings, api_keys=KEYS))
        status, session = client.json("POST", "/api/sessions", {"name": f"March {PLANTED}"}, headers=ALICE)
        assert status == 201
        for name in ("statement.pdf", "receipts.pdf"):
            data = (tmp_path / "month" / name).read_bytes()
            assert client.upload(session["id"], f"{DASHED} {name}", data, **ALICE)[0] == 202
        assert run_blob_trigger(indexed_functions, azurite, settings) == 2
        assert client.json("POST", f"/api/sessions/{session['id']}/process", headers=ALICE)[0] == 202
        drain_queue(indexed_functions, settings, storage)
    finally:
        ccproc.removeHandler(handler)
        ccproc.setLevel(level)
    finished: list[ReadableSpan] = list(spans.get_finished_spans())
    ours = [s for s in finished if s.name in SESSION_STEPS]
    assert {s.name for s in ours} == SESSION_STEPS
    assert len({s.context.trace_id for s in ours}) == 1, Counter((s.name, s.context.trace_id) for s in ours)
    by_id = {s.context.span_id: s for s in ours}
    for child, parent in [("read pages", "extract in sandbox"), ("extract in sandbox", "extract file"),
                          ("match", "finalize"), ("report", "write reports")]:  # fmt: skip
        assert {by_id[s.parent.span_id].name for s in ours if s.name == child and s.parent} == {parent}
    assert Counter(s.name for s in ours)["extract file"] == 2
    assert Counter(s.name for s in ours)["report"] >= 4
    kinds = {s.attributes.get("ccproc.kind") for s in ours if s.name == "extract file"}
    assert kinds == {"cardholder_activity", "receipt_images"}
    root = next(s for s in ours if s.name == "open session")
    assert root.attributes["ccproc.session"] == session["id"]
    # The request that opened it is the trace's root: a span named by the route, not the path.
    request = next(s for s in finished if root.parent and s.context.span_id == root.parent.span_id)
    assert (request.name, request.parent) == ("POST /api/sessions", None)
    assert set(request.attributes) == {"http.request.method", "http.route", "http.response.status_code"}
    assert str(root.attributes["ccproc.tenant"]).startswith("key-")

    after = _points(reader)
    extracted = _grew(before, after, "ccproc.files.extracted")
    assert extracted == Counter({(("kind", "cardholder_activity"),): 1, (("kind", "receipt_images"),): 1})
    assert _grew(before, after, "ccproc.sessions.finished") == Counter({(("outcome", "completed"),): 1})
    assert sum(_grew(before, after, "ccproc.extraction.duration").values()) == 2
    assert sum(_grew(before, after, "ccproc.finalize.duration").values()) == 1
    assert sum(_grew(before, after, "ccproc.files.failed").values()) == 0

    timeline = client.json("GET", f"/api/sessions/{session['id']}/timeline", headers=ALICE)[1]
    steps = Counter(e["step"] for e in timeline["entries"])
    assert steps == Counter({"session opened": 1, "upload": 2, "extraction": 2, "processing asked for": 1,
                             "reconciliation": 1, "reports": 1})  # fmt: skip
    assert all(e["seconds"] is not None and e["seconds"] >= 0 for e in timeline["entries"])
    assert timeline["seconds"] > 0
    assert client.json("GET", f"/api/sessions/{session['id']}/timeline", headers=BOB)[0] == 404

    # The month's documents and names carried the planted number: nothing exported holds it.
    exported = [s.to_json() for s in finished] + [reader.get_metrics_data().to_json()]
    lines = logged.getvalue().splitlines()
    assert any(json.loads(line).get("trace_id") == f"{root.context.trace_id:032x}" for line in lines)
    assert any(json.loads(line).get("session") == session["id"] for line in lines)
    assert truth["statement"]["transactions"]
    leaks = [text[:1500] for text in [*exported, *lines] if _glued(text)]
    assert leaks == []


def test_dev_trace_makes_one_trace_across_processes_and_prints_the_timeline(tmp_path: Path) -> None:
    """`ccproc dev --trace`: the API and both workers, each a process exporting its own spans, put
    a submitted session's steps in one trace; the session's timeline is printed when it finishes."""
    build_month(tmp_path / "month", size="small", seed=9)
    data = tmp_path / "dev"
    month = tmp_path / "month"
    env = {k: v for k, v in os.environ.items() if k not in ("TRACE_DIR", "CCPROC_API_KEYS")}
    pdfs = [str(month / "statement.pdf"), str(month / "receipts.pdf")]
    done = subprocess.run(
        [CCPROC, "dev", "--port", str(free_port()), "--data", str(data), "--trace", "--exit",
         "--out", str(tmp_path / "out"), "--submit", *pdfs],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "reconciliation" in done.stdout
    assert "extraction  statement.pdf" in done.stdout
    spans = [
        json.loads(line)
        for path in (data / "traces").glob("*.jsonl")
        for line in path.read_text().splitlines()
    ]
    services = Counter(
        s["resource"]["attributes"]["service.name"] for s in spans if s["name"] in SESSION_STEPS
    )
    assert {"ccproc-api", "ccproc-extract", "ccproc-finalize"} <= set(services)
    opened = [s for s in spans if s["name"] == "open session"]
    assert len(opened) == 1
    traces = {s["context"]["trace_id"] for s in spans if s["name"] in SESSION_STEPS}
    assert len(traces) == 1, traces


def test_while_a_file_is_read_its_record_says_how_far(
    storage: AzureStorage, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The extract step writes "page N of M" to the file's record as it reads (here as often as the
    child reports), and clears it once the file is read; a file taken back meanwhile stays gone."""
    monkeypatch.setattr(_ProgressNotes, "EVERY_SECONDS", 0.0)
    build_month(tmp_path / "month", size="small", seed=3)
    session = requests.create_session(storage, settings)
    pdf = tmp_path / "month" / "receipts.pdf"
    with pdf.open("rb") as body:
        record = requests.accept_upload(
            storage, settings, session.id, "receipts.pdf", body=body, length=pdf.stat().st_size
        )
    seen: list[tuple[int | None, int | None]] = []
    worker = threading.Thread(target=extract_upload, args=(storage, settings, _upload_of(storage, settings)))
    worker.start()
    while worker.is_alive():
        found = store.load_record(storage, settings, session.id, record.id)
        if found is not None and found.pages_read is not None:
            seen.append((found.pages_read, found.pages))
        time.sleep(0.02)
    worker.join()
    done = store.load_record(storage, settings, session.id, record.id)
    assert done is not None
    assert done.status.value == "extracted"
    assert done.pages_read is None
    assert seen, "no progress was written while the file was read"
    assert all(total == done.pages and 0 < read < total for read, total in seen)
    assert [read for read, _ in seen] == sorted(read for read, _ in seen)


def _upload_of(storage: AzureStorage, settings: Settings) -> str:
    (info,) = list(storage.list(settings.uploads_container))
    return info.name


def test_a_file_that_cannot_be_read_is_counted_by_its_reason(
    exporters: tuple[InMemorySpanExporter, InMemoryMetricReader],
    storage: AzureStorage,
    settings: Settings,
    tmp_path: Path,
) -> None:
    """A truncated PDF fails its file; `ccproc.files.failed` grows by one under the file's error code,
    and its `extract file` span ends with that outcome."""
    spans, reader = exporters
    before = _points(reader)
    spans.clear()
    session = requests.create_session(storage, settings)
    broken = b"%PDF-1.7\n" + b"0" * 2000
    requests.accept_upload(
        storage, settings, session.id, "statement.pdf", body=io.BytesIO(broken), length=len(broken)
    )
    record = extract_upload(storage, settings, _upload_of(storage, settings))
    assert record is not None
    assert record.status.value == "failed"
    assert record.error_code
    failed = _grew(before, _points(reader), "ccproc.files.failed")
    assert +failed == Counter({(("reason", record.error_code),): 1})
    (span,) = [s for s in spans.get_finished_spans() if s.name == "extract file"]
    assert span.attributes["ccproc.outcome"] == record.error_code


def test_a_file_sent_through_an_upload_url_has_its_upload_before_its_reading(
    storage: AzureStorage, settings: Settings, tmp_path: Path
) -> None:
    """Regression: a file sent through an upload URL showed an upload that began after it was read
    and took a negative time on the timeline; its upload now begins when its URL is asked for."""
    from azure.storage.blob import BlobClient

    from shared.sessions.store import ANYONE
    from shared.sessions.timeline import session_timeline

    build_month(tmp_path / "month", size="small", seed=4)
    session = requests.create_session(storage, settings)
    answer = requests.upload_url(storage, settings, session.id, "statement.pdf")
    data = (tmp_path / "month" / "statement.pdf").read_bytes()
    BlobClient.from_blob_url(str(answer["url"])).upload_blob(data, content_type="application/pdf")
    extract_upload(storage, settings, _upload_of(storage, settings))
    entries = session_timeline(storage, settings, session.id, owner=ANYONE).entries
    (upload,) = [e for e in entries if e.step == "upload"]
    (reading,) = [e for e in entries if e.step == "extraction"]
    assert upload.seconds is not None
    assert upload.seconds >= 0
    assert upload.started <= reading.started
    assert all(e.seconds is None or e.seconds >= 0 for e in entries)
