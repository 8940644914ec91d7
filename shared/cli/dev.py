"""`ccproc dev`: the whole pipeline on this machine — Azurite, the API and both workers — in one
command, on loopback. Ctrl-C stops all of it (the workers finish what they hold first)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import FrameType
from typing import Any

from shared.cli.common import EXIT_FAILED, check_files, writable_folder
from shared.cli.submit import run_submit
from shared.errors import LocalStackError
from shared.sessions.timeline import Timeline, render
from shared.workers.devstack import HOST, Azurite

CCPROC = [sys.executable, "-m", "shared.cli"]
READY_SECONDS = 60.0


class DevStack:
    """The processes of a local pipeline, started in order and stopped in reverse."""

    def __init__(self, data: Path, port: int, *, trace: bool = False) -> None:
        self.data, self.port, self.trace = data, port, trace
        self.azurite = Azurite(data / "azurite")
        self.processes: list[tuple[str, subprocess.Popen[bytes]]] = []

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        self.azurite.start()
        self.azurite.allow_browser_uploads([self.url, f"http://localhost:{self.port}"])
        env = {
            **os.environ,
            "AzureWebJobsStorage": self.azurite.connection_string,
            "TEMP_STORAGE_PATH": str(self._folder("scratch")),
        }
        if self.trace:
            # Each process writes its spans there (shared.telemetry.setup); the timelines are printed.
            env["TRACE_DIR"] = str(self._folder("traces"))
        logs = self._folder("logs")
        commands = {
            "api": [*CCPROC, "api", "--host", HOST, "--port", str(self.port), "--no-keys"],
            "extract": [*CCPROC, "worker", "extract", "--health-file", str(self.data / "health-extract")],
            "finalize": [*CCPROC, "worker", "finalize", "--health-file", str(self.data / "health-finalize")],
        }
        env.pop("CCPROC_API_KEYS", None)  # loopback only: the local API takes no keys
        for name, command in commands.items():
            with (logs / f"{name}.log").open("ab") as log:
                process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
            self.processes.append((name, process))
        self._wait_for_api()

    def _folder(self, name: str) -> Path:
        folder = self.data / name
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _wait_for_api(self) -> None:
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            self.check()
            try:
                with urllib.request.urlopen(f"{self.url}/api/health", timeout=2):  # noqa: S310 — loopback
                    return
            except OSError:
                time.sleep(0.2)
        raise LocalStackError(
            f"the API did not answer within {READY_SECONDS:.0f} s; see {self.data / 'logs'}"
        )

    def check(self) -> None:
        """Raise if a process of the stack has exited."""
        for name, process in self.processes:
            if process.poll() is not None:
                raise LocalStackError(
                    f"{name} exited ({process.returncode}); see {self.data / 'logs' / name}.log"
                )

    def stop(self) -> None:
        """SIGTERM to every process (workers drain), then Azurite."""
        for _, process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for _, process in reversed(self.processes):
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.azurite.stop()


class _Timelines:
    """`--trace`: each session's timeline printed once it has finished (completed or failed)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.printed: set[str] = set()

    def _get(self, path: str) -> Any:
        with urllib.request.urlopen(f"{self.url}{path}", timeout=10) as answer:  # noqa: S310 — loopback
            return json.load(answer)

    def print_finished(self) -> None:
        try:
            sessions = self._get("/api/sessions")["sessions"]
            for session in sessions:
                if session["status"] in ("completed", "failed") and session["id"] not in self.printed:
                    self.printed.add(session["id"])
                    timeline = Timeline.model_validate(self._get(f"/api/sessions/{session['id']}/timeline"))
                    print(render(timeline), flush=True)
        except OSError:
            return  # the API is busy or stopping: the next look prints it


def cmd_dev(args: argparse.Namespace) -> int:
    """Run the local pipeline until Ctrl-C; optionally submit PDFs to it once it is up."""
    if args.submit:
        check_files(args.submit)  # before anything starts
        writable_folder(args.out)
    stack = DevStack(args.data, args.port, trace=args.trace)
    timelines = _Timelines(stack.url) if args.trace else None
    stopping = False

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        stack.start()
        print(
            f"Credit Card Processor is running at {stack.url}  (API docs: {stack.url}/api/docs)", flush=True
        )
        print(f"  open {stack.url}/ in a browser to upload PDFs and review the results")
        print(f"  submit PDFs:  ccproc submit STATEMENT.pdf RECEIPTS.pdf --out reports/ --api {stack.url}")
        print(f"  data: {args.data}   logs: {args.data / 'logs'}   stop: Ctrl-C", flush=True)
        if args.submit:
            code = run_submit(args.submit, args.out, api=stack.url, key=None, quiet=True)
            if timelines is not None:
                timelines.print_finished()
            # A failed submit stops the stack; a session that completed without a file that could not
            # be read keeps it running (fix the file, send it again), unless told to exit.
            if args.exit or code == EXIT_FAILED:
                return code
        while not stopping:
            stack.check()
            if timelines is not None:
                timelines.print_finished()
            time.sleep(0.5)
    except LocalStackError as exc:
        print(f"ccproc: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        print("stopping…", file=sys.stderr, flush=True)
        stack.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def register(sub: Any) -> None:
    """Add `dev` to the command line."""
    parser = sub.add_parser("dev", help="run Azurite, the API and both workers locally, in one command")
    parser.add_argument("--port", type=int, default=7071)
    parser.add_argument(
        "--data", type=Path, default=Path(".ccproc-dev"), help="where local storage and logs live"
    )
    parser.add_argument(
        "--submit", nargs="+", type=Path, metavar="PDF", help="submit these PDFs once it is up"
    )
    parser.add_argument("--out", type=Path, default=Path("out/reports"), help="reports of --submit go here")
    parser.add_argument("--exit", action="store_true", help="stop after --submit instead of running on")
    parser.add_argument(
        "--trace",
        action="store_true",
        help="trace every process (spans in DATA/traces) and print each finished session's timeline",
    )
    parser.set_defaults(run=cmd_dev)
