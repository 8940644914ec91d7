"""Azurite, the local Azure Storage emulator: blob and queue services on free loopback ports,
for the tests and for `ccproc dev`.

The emulator comes from `package.json` (`npm ci` installs it into `node_modules/`). Each service
runs as its own process — in memory, or keeping its data in a folder — and stops when the
`Azurite` block ends.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from azure.storage.blob import BlobServiceClient, CorsRule

from shared.errors import LocalStackError

ROOT = Path(__file__).resolve().parents[2]  # the repository: package.json and node_modules
BIN = ROOT / "node_modules" / ".bin"  # the repository's pinned Azurite
HOST = "127.0.0.1"
# The emulator's fixed, publicly documented development account; not a secret.
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 5.0


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


class Azurite:
    """Azurite's blob and queue services, in memory, on free loopback ports."""

    def __init__(self, data: Path | None = None, *, blob_port: int = 0, queue_port: int = 0) -> None:
        """In memory unless `data` names a folder to keep the storage in (kept between runs)."""
        self.data = data
        self.blob_port = blob_port
        self.queue_port = queue_port
        self._processes: list[subprocess.Popen[bytes]] = []
        self._logs: list[IO[bytes]] = []
        self._workspace: Path | None = None

    @property
    def connection_string(self) -> str:
        """A connection string for the development account on this instance's ports."""
        if not self._processes:
            raise LocalStackError("Azurite is not running: call start() first")
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint=http://{HOST}:{self.blob_port}/{ACCOUNT};"
            f"QueueEndpoint=http://{HOST}:{self.queue_port}/{ACCOUNT};"
        )

    def allow_browser_uploads(self, origins: list[str]) -> None:
        """Let pages from `origins` PUT blocks to upload URLs (blob CORS), as the web page does.

        In Azure the same rule is set on the storage account (see the README); the emulator keeps it
        in its data folder.
        """
        rule = CorsRule(
            allowed_origins=origins,
            allowed_methods=["PUT", "OPTIONS"],
            allowed_headers=["content-type", "x-ms-*"],
            exposed_headers=["x-ms-*"],
            max_age_in_seconds=3600,
        )
        with BlobServiceClient.from_connection_string(self.connection_string) as client:
            client.set_service_properties(cors=[rule])

    def start(self) -> Self:
        """Start both services and wait until they accept connections."""
        for service in ("blob", "queue"):
            if not (BIN / f"azurite-{service}").exists():
                raise LocalStackError(
                    f"{BIN / f'azurite-{service}'} not found: run `npm ci` in {ROOT} to install Azurite"
                )
        self._workspace = Path(tempfile.mkdtemp(prefix="azurite-"))
        self.blob_port, self.queue_port = self.blob_port or free_port(), self.queue_port or free_port()
        try:
            self._spawn("blob", self.blob_port)
            self._spawn("queue", self.queue_port)
            self._wait_until_up()
        except BaseException:
            self.stop()
            raise
        return self

    def _spawn(self, service: str, port: int) -> None:
        assert self._workspace is not None
        log = (self._workspace / f"{service}.log").open("wb")
        self._logs.append(log)
        command = [
            str(BIN / f"azurite-{service}"),
            f"--{service}Host",
            HOST,
            f"--{service}Port",
            str(port),
            "--skipApiVersionCheck",
            "--loose",
            "--silent",
            "--disableTelemetry",  # nothing of a local run leaves the machine
        ]
        if self.data is None:
            command.append("--inMemoryPersistence")  # the workspace then only keeps output for errors
        else:
            self.data.mkdir(parents=True, exist_ok=True)
            command += ["--location", str(self.data.resolve())]
        self._processes.append(
            subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=self._workspace)
        )

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        ports = [self.blob_port, self.queue_port]
        while not all(_accepts(port) for port in ports):
            exited = [p for p in self._processes if p.poll() is not None]
            if exited or time.monotonic() > deadline:
                assert self._workspace is not None
                logs = "\n".join(
                    path.read_text(errors="replace") for path in sorted(self._workspace.glob("*.log"))
                )
                why = "exited early" if exited else f"did not listen within {START_TIMEOUT_SECONDS:.0f} s"
                raise LocalStackError(
                    f"Azurite {why} (is it installed? run `npm ci` in {ROOT}). Its output:\n{logs}"
                )
            time.sleep(0.1)

    def stop(self) -> None:
        """Stop both services (terminate, then kill) and remove their workspace."""
        for process in self._processes:
            if process.poll() is None:
                process.terminate()
        for process in self._processes:
            try:
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._processes.clear()
        for log in self._logs:
            log.close()
        self._logs.clear()
        if self._workspace is not None:
            shutil.rmtree(self._workspace, ignore_errors=True)
            self._workspace = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
