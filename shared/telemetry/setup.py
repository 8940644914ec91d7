"""Where traces, metrics and logs go: chosen by settings, no code change, once per process.

- `APPLICATIONINSIGHTS_CONNECTION_STRING` (the Functions convention): Application Insights through
  `azure-monitor-opentelemetry`, the Azure Monitor distro (traces, metrics and the `ccproc` logs);
- `OTEL_EXPORTER_OTLP_ENDPOINT` (AKS: an in-cluster collector): OTLP over HTTP, the exporters reading
  the standard `OTEL_EXPORTER_OTLP_*` variables themselves;
- `TRACE_DIR`: each process writes its finished spans as JSON lines to a file of its own there
  (`<service>-<pid>.jsonl`): `ccproc dev --trace` reads them back, and so do the tests;
- none of these (the local default): nothing is set up, and every span and metric is OpenTelemetry's
  no-op (measured by `bench.pipeline`: tracing on costs a few percent, off nothing).

The sandboxed extraction child does not export: it reports its phases back to the parent, which
records them as spans (`shared.sessions.extract`).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)

from shared.settings import Settings

log = logging.getLogger("ccproc")
_lock = threading.Lock()
_configured: str | None = None


class JsonLinesSpanExporter(SpanExporter):
    """Each finished span as one JSON line in `<folder>/<service>-<pid>.jsonl` (a file per process,
    so processes never interleave lines)."""

    def __init__(self, folder: Path, service: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{service}-{os.getpid()}.jsonl"
        self._out: IO[str] = self.path.open("a", encoding="utf-8")
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = "".join(span.to_json(indent=None) + "\n" for span in spans)
        with self._lock:
            self._out.write(lines)
            self._out.flush()
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        with self._lock:
            self._out.close()


def configure(service: str, settings: Settings) -> str | None:
    """Set up the exporters the settings name for this process (`service`: api, extract, finalize,
    sweep, functions); returns which ("azure-monitor", "otlp", "files") or None. Once per process:
    a second call answers what the first set up."""
    global _configured  # noqa: PLW0603 — one set-up per process, as OpenTelemetry's own globals
    with _lock:
        if _configured is not None:
            return _configured
        resource = Resource.create({"service.name": f"ccproc-{service}", "service.namespace": "ccproc"})
        if settings.applicationinsights_connection_string:
            from azure.monitor.opentelemetry import configure_azure_monitor  # noqa: PLC0415

            configure_azure_monitor(
                connection_string=settings.applicationinsights_connection_string,
                resource=resource,
                logger_name="ccproc",
            )
            _configured = "azure-monitor"
        elif settings.otel_exporter_otlp_endpoint:
            from opentelemetry.exporter.otlp.proto.http.metric_exporter import (  # noqa: PLC0415
                OTLPMetricExporter,
            )
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # noqa: PLC0415
                OTLPSpanExporter,
            )

            _install(resource, BatchSpanProcessor(OTLPSpanExporter()), [
                PeriodicExportingMetricReader(OTLPMetricExporter())
            ])  # fmt: skip
            _configured = "otlp"
        elif settings.trace_dir is not None:
            _install(resource, SimpleSpanProcessor(JsonLinesSpanExporter(settings.trace_dir, service)), [])
            _configured = "files"
        if _configured:
            log.info("telemetry: %s, as %s", _configured, f"ccproc-{service}")
        return _configured


def start_process(service: str, settings: Settings, *, plain: str) -> None:
    """A long-running process's logging (`LOG_FORMAT`: JSON lines, or `plain` lines, each with the
    trace and session ids, card numbers masked) and its exporters (`configure`)."""
    from shared.telemetry.logs import formatter  # noqa: PLC0415

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(settings.log_format, plain))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    logging.getLogger("azure").setLevel(logging.WARNING)
    configure(service, settings)


def _install(resource: Resource, processor: object, readers: list[MetricReader]) -> None:
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(processor)  # type: ignore[arg-type]
    trace.set_tracer_provider(provider)
    if readers:
        metrics.set_meter_provider(MeterProvider(resource=resource, metric_readers=readers))


def flush() -> None:
    """Export what is buffered (before a process ends, or a test reads the files)."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        provider.force_flush()
    meter_provider = metrics.get_meter_provider()
    if isinstance(meter_provider, MeterProvider):
        meter_provider.force_flush()
