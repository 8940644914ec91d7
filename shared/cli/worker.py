"""`ccproc worker extract|finalize|health`: the pipeline's background steps as long-running processes
(Kubernetes Deployments scaled by KEDA, `ccproc dev`), and the liveness probe that watches them.

Settings come from the environment, the names the Functions app reads (`AzureWebJobsStorage`,
`UPLOADS_CONTAINER`, `SESSIONS_CONTAINER`, `RESULTS_QUEUE`, `MAX_DEQUEUE_COUNT`, ...). SIGTERM or
SIGINT stops a worker taking new work; it finishes the item in hand and exits 0. A second signal
stops it at once (the item in hand is taken over by another worker later).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

from shared.cli.common import EXIT_FAILED, storage_settings
from shared.settings import Settings
from shared.storage.gateway import LEASE_SECONDS_MAX, LEASE_SECONDS_MIN

LOG_FORMAT = "%(asctime)s %(levelname)s %(message)s"


def _lease_seconds(text: str) -> int:
    try:
        seconds = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from exc
    if not LEASE_SECONDS_MIN <= seconds <= LEASE_SECONDS_MAX:
        raise argparse.ArgumentTypeError(f"a lease lasts {LEASE_SECONDS_MIN} to {LEASE_SECONDS_MAX} s")
    return seconds


def _positive(kind: type[int] | type[float]) -> Any:
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from exc
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be more than 0: {text!r}")
        return value

    return parse


def _configure_logging(service: str, settings: Settings) -> None:
    """Timestamped lines on stderr (JSON lines with `LOG_FORMAT=json`), card numbers masked whatever
    logged them, trace and session ids on each; the SDK's request lines only when something goes
    wrong; and the exporters the settings name (`shared.telemetry.setup`)."""
    from shared.telemetry.setup import start_process  # noqa: PLC0415

    start_process(service, settings, plain=LOG_FORMAT)


def cmd_run(args: argparse.Namespace) -> int:
    """Run the extract or finalize worker until stopped."""
    # The storage SDK loads only for the commands that use it.
    from shared.storage.azure import storage_from_settings  # noqa: PLC0415
    from shared.workers.loops import ExtractWorker, FinalizeWorker, Worker  # noqa: PLC0415

    settings = storage_settings()
    if settings is None:
        return EXIT_FAILED
    _configure_logging(args.worker, settings)
    storage = storage_from_settings(settings)
    worker: Worker
    if args.worker == "extract":
        worker = ExtractWorker(
            storage,
            settings,
            lease_seconds=args.lease_seconds,
            poll_seconds=args.poll_seconds,
            health_file=args.health_file,
        )
    else:
        worker = FinalizeWorker(
            storage,
            settings,
            visibility_seconds=args.visibility_seconds,
            poll_seconds=args.poll_seconds,
            health_file=args.health_file,
        )

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        # Nothing is written here: a handler that writes to stderr while the interrupted code is
        # writing there raises "reentrant call". The loop says when it stops.
        if worker.stop.is_set():
            raise KeyboardInterrupt  # asked twice: stop now
        worker.stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    logging.getLogger("ccproc.worker").info(
        "%s worker started (pid %d, health file %s)", worker.kind, os.getpid(), worker.health.path
    )
    try:
        worker.run(once=args.once)
    finally:
        storage.close()
    return 0


def cmd_health(args: argparse.Namespace) -> int:
    """Exit 0 when the health file was written within --max-age seconds, 1 otherwise."""
    from shared.workers.loops import health_age  # noqa: PLC0415

    age = health_age(args.file)
    if age is None:
        print(f"ccproc: no health file at {args.file}", file=sys.stderr)
        return EXIT_FAILED
    if age > args.max_age:
        print(f"ccproc: last sign of life {age:.0f} s ago (over {args.max_age:g} s)", file=sys.stderr)
        return EXIT_FAILED
    return 0


def register(sub: Any) -> None:
    """Add `worker extract|finalize|health` to the command line."""
    worker = sub.add_parser("worker", help="run a pipeline worker, or check one's health file")
    kinds = worker.add_subparsers(dest="worker", required=True)
    extract = kinds.add_parser(
        "extract", help="extract uploads, each under a renewed blob lease (a claim) until it is done"
    )
    extract.add_argument(
        "--lease-seconds",
        type=_lease_seconds,
        default=30,
        help=f"term of a claim, renewed every third of it; a dead worker's file is taken over "
        f"after it ({LEASE_SECONDS_MIN}-{LEASE_SECONDS_MAX}, default 30)",
    )
    finalize = kinds.add_parser(
        "finalize", help="finish sessions from the results queue; poison queue after the last try"
    )
    finalize.add_argument(
        "--visibility-seconds",
        type=_positive(int),
        default=30,
        help="how long a taken message stays hidden, extended every third of it (default 30)",
    )
    for parser in (extract, finalize):
        parser.add_argument(
            "--health-file",
            type=Path,
            default=None,
            help="written with a timestamp each round "
            "(default: <TEMP_STORAGE_PATH or the system temp folder>/ccproc/health-<kind>)",
        )
        parser.add_argument(
            "--once", action="store_true", help="handle the work waiting now, then exit (no waiting)"
        )
        parser.add_argument(
            "--poll-seconds",
            type=_positive(float),
            default=1.0,
            help="pause between rounds that find nothing to do (default 1)",
        )
        parser.set_defaults(run=cmd_run)
    health = kinds.add_parser("health", help="liveness probe: exit 0 when the health file is fresh")
    health.add_argument("--file", type=Path, required=True, help="the worker's --health-file")
    health.add_argument(
        "--max-age", type=_positive(float), required=True, help="seconds since the last beat allowed"
    )
    health.set_defaults(run=cmd_health)
