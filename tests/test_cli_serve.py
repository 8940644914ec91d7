"""`ccproc api` and `ccproc sweep` as real processes against Azurite."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.azurite import Azurite, free_port

CCPROC = str(Path(sys.executable).with_name("ccproc"))


def env_for(azurite: Azurite, **extra: str) -> dict[str, str]:
    tag = os.urandom(3).hex()
    return {
        **os.environ,
        "AzureWebJobsStorage": azurite.connection_string,
        "UPLOADS_CONTAINER": f"up-{tag}",
        "SESSIONS_CONTAINER": f"se-{tag}",
        "RESULTS_QUEUE": f"re-{tag}",
        **extra,
    }


def request(url: str, method: str = "GET", headers: dict[str, str] | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(url, method=method, headers=headers or {})  # noqa: S310 — loopback only
    try:
        with urllib.request.urlopen(req, timeout=10) as answer:  # noqa: S310
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


# Keys as `ccproc keys new` makes them: weak ones are refused at start-up.
K1 = "k1-Zq8Xw2Lm4Np6Rt0Vy3Bc5Df7Gh9Jk1Ms"
K2 = "k2-Aa1Bb2Cc3Dd4Ee5Ff6Gg7Hh8Ii9Jj0Kk"


@contextmanager
def serving(azurite: Azurite, keys: str, **settings: str) -> Iterator[str]:
    """`ccproc api` on a free loopback port with CCPROC_API_KEYS=`keys` (and any other `settings`),
    until the block ends."""
    port = free_port()
    process = subprocess.Popen(
        [CCPROC, "api", "--port", str(port)],
        env=env_for(azurite, CCPROC_API_KEYS=keys, **settings),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while not _up(base):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("ccproc api did not start")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


def _up(base: str) -> bool:
    try:
        return request(f"{base}/api/health")[0] == 200
    except OSError:
        return False


@pytest.fixture
def api(azurite: Azurite) -> Iterator[str]:
    """`ccproc api` on a free loopback port, keys from CCPROC_API_KEYS."""
    with serving(azurite, f"{K1},{K2}") as base:
        yield base


def test_api_serves_the_same_routes_with_keys(api: str) -> None:
    """Health is open; a session needs a key from CCPROC_API_KEYS, and with one it is created."""
    assert request(f"{api}/api/health") == (200, {"status": "ok"})
    status, body = request(f"{api}/api/sessions", "POST")
    assert status == 401
    assert body["error"]["code"]
    status, body = request(f"{api}/api/sessions", "POST", {"x-api-key": K2})
    assert (status, body["status"]) == (201, "open")


def _head_only(base: str, method: str, path: str, headers: dict[str, str]) -> tuple[int, dict, bytes]:
    """Send a request's head announcing a body, never the body; (status, JSON answer, first line)."""
    host, port = base.removeprefix("http://").split(":")
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", *(f"{k}: {v}" for k, v in headers.items())]
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        first = sock.recv(16, socket.MSG_PEEK)  # what the server said first (not "100 Continue")
        answer = http.client.HTTPResponse(sock)
        answer.begin()
        return answer.status, json.loads(answer.read()), first


def test_a_body_over_the_limit_is_refused_before_it_is_sent(api: str) -> None:
    """Under uvicorn, a request announcing a Content-Length over its route's limit is answered 413
    while the client has sent only the head (even one that waits for 100 Continue); without a key,
    401 first. The session gets no file."""
    key = {"x-api-key": K1}
    status, created = request(f"{api}/api/sessions", "POST", key)
    assert status == 201
    upload = f"/api/sessions/{created['id']}/files/big.pdf"
    huge = {"Content-Type": "application/pdf", "Content-Length": str(200 * 1024 * 1024)}
    status, body, first = _head_only(api, "PUT", upload, {**key, **huge})
    assert (status, body["error"]["code"]) == (413, "too_large")
    assert "upload-url" in body["error"]["message"]
    status, body, first = _head_only(api, "PUT", upload, {**key, **huge, "Expect": "100-continue"})
    assert (status, first[:12]) == (413, b"HTTP/1.1 413")
    status, body, _ = _head_only(api, "PUT", upload, huge)
    assert (status, body["error"]["code"]) == (401, "unauthorized")
    json_body = {"Content-Type": "application/json", "Content-Length": str(1024 * 1024)}
    status, body, _ = _head_only(api, "POST", "/api/sessions", {**key, **json_body})
    assert (status, body["error"]["code"]) == (413, "too_large")
    status, view = request(f"{api}/api/sessions/{created['id']}", headers=key)
    assert (status, view["files"]) == (200, [])


def test_api_refuses_to_start_without_keys(azurite: Azurite) -> None:
    """Deployed, keys are required: without CCPROC_API_KEYS (and no --no-keys) it exits 1 saying so."""
    env = env_for(azurite)
    env.pop("CCPROC_API_KEYS", None)
    done = subprocess.run([CCPROC, "api"], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert "CCPROC_API_KEYS" in done.stderr


def test_sweep_runs_once_and_reports(azurite: Azurite) -> None:
    """`ccproc sweep` prints what it removed and the storage used, as JSON."""
    done = subprocess.run(
        [CCPROC, "sweep"], env=env_for(azurite), capture_output=True, text=True, timeout=60, check=True
    )
    counts = json.loads(done.stdout)
    assert counts["expired_sessions"] == 0
    assert "storage used" in done.stderr


def test_weak_or_empty_keys_are_refused_at_start(azurite: Azurite) -> None:
    """A short key, one of few characters, or an empty entry (`a, ,b`) stops `ccproc api` with one
    line saying how to make a strong one."""
    for keys in ("a, ,b", "short-key", "a" * 40, f"{K1},,{K2}"):
        env = env_for(azurite, CCPROC_API_KEYS=keys)
        done = subprocess.run(
            [CCPROC, "api"], capture_output=True, text=True, timeout=30, env=env, check=False
        )
        assert done.returncode == 2, keys
        (line,) = done.stderr.strip().splitlines()
        assert "ccproc keys new" in line


def test_keys_new_makes_a_key_the_api_takes() -> None:
    """`ccproc keys new` prints a key strong enough, different every time."""
    from shared.http.auth import weak_key_reason

    made = {
        subprocess.run([CCPROC, "keys", "new"], capture_output=True, text=True, check=True).stdout.strip()
        for _ in range(2)
    }
    assert len(made) == 2
    assert all(weak_key_reason(key) is None for key in made)
