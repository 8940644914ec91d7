"""Every `ccproc` command answers bad arguments with one line on stderr and a non-zero exit — a
missing file, an unreadable folder, a bad URL, a refused key, a missing setting — never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

CCPROC = str(Path(sys.executable).with_name("ccproc"))
STATEMENT = Path(__file__).parent / "golden" / "cardholder_activity" / "basic" / "input.pdf"
NO_STORAGE = {
    k: v for k, v in os.environ.items() if k not in ("AzureWebJobsStorage", "AZURE_STORAGE_ACCOUNT_URL")
}


class _Refusing(BaseHTTPRequestHandler):
    """An API that refuses every key, as a deployed one does a wrong key."""

    def _refuse(self) -> None:
        body = json.dumps({"error": {"code": "unauthorized", "message": "a valid access key is required"}})
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    do_GET = do_POST = do_PUT = _refuse  # noqa: N815 — the handler's method names

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture(scope="module")
def refusing_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refusing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CCPROC, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
        stdin=subprocess.DEVNULL,
    )


CASES: dict[str, tuple[list[str], str]] = {
    "extract a missing file": (["extract", "missing.pdf"], "missing.pdf"),
    "extract a folder": (["extract", "{tmp}"], "Is a directory"),
    "extract with a missing layouts folder": (
        ["extract", "--layouts", "{tmp}/none", str(STATEMENT)],
        "layouts folder",
    ),
    "text a missing file": (["text", "missing.pdf"], "missing.pdf"),
    "reconcile a missing file": (
        ["reconcile", "missing.pdf", "--out", "{tmp}/r"],
        "missing.pdf: no such file",
    ),
    "reconcile into a folder that cannot be made": (
        ["reconcile", str(STATEMENT), "--out", "/proc/none/r"],
        "cannot create",
    ),
    "submit a missing file": (["submit", "missing.pdf", "--out", "{tmp}/r"], "missing.pdf: no such file"),
    "submit to a bad URL": (["submit", str(STATEMENT), "--out", "{tmp}/r", "--api", "ftp://host"], "http://"),
    "submit to nothing listening": (
        ["submit", str(STATEMENT), "--out", "{tmp}/r", "--api", "http://127.0.0.1:9"],
        "cannot reach",
    ),
    "dev with a missing file": (
        ["dev", "--submit", "missing.pdf", "--exit", "--data", "{tmp}/d"],
        "missing.pdf",
    ),
    "aliases without a cardholder": (["aliases", "add", "JANE"], "required"),
    "aliases from an unreadable table": (["aliases", "list", "--aliases", "{tmp}"], "{tmp}"),
    "api without storage": (["api"], "AzureWebJobsStorage"),
    "worker without storage": (["worker", "extract"], "AzureWebJobsStorage"),
    "sweep without storage": (["sweep"], "AzureWebJobsStorage"),
    "an unknown command": (["reconcilee"], "invalid choice"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_arguments_get_one_line(case: str, tmp_path: Path) -> None:
    """One line on stderr naming what is wrong, a non-zero exit, no traceback."""
    args, expected = CASES[case]
    done = run(*(a.replace("{tmp}", str(tmp_path)) for a in args), env=NO_STORAGE)
    lines = done.stderr.strip().splitlines()
    assert done.returncode != 0, done.stderr
    assert "Traceback" not in done.stderr
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("ccproc"), lines
    assert expected.replace("{tmp}", str(tmp_path)) in lines[0]


def test_a_refused_key_gets_one_line(refusing_api: str, tmp_path: Path) -> None:
    """An API that refuses the key: its own message, one line, exit 1."""
    done = run(
        "submit", str(STATEMENT), "--out", str(tmp_path / "r"), "--api", refusing_api, "--key", "wrong"
    )
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert "401" in line
    assert "a valid access key is required" in line


def test_a_keyless_api_serves_this_machine_only() -> None:
    """`--no-keys` on an address other machines reach is refused: keyless, anyone there would own
    every session."""
    env = {**NO_STORAGE, "AzureWebJobsStorage": "UseDevelopmentStorage=true"}
    env.pop("CCPROC_API_KEYS", None)
    done = run("api", "--no-keys", "--host", "0.0.0.0", env=env)  # noqa: S104 — the address refused
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert "loopback" in line
