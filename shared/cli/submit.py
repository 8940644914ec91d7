"""`ccproc submit`: send PDFs to a running API (local or deployed), wait, download every report.

A plain HTTP client (the standard library's): large files go through the upload-URL path, straight
to Blob Storage, never through the API's request size limit.
"""

from __future__ import annotations

import argparse
import email.message
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any, BinaryIO

from shared.cli.common import EXIT_FAILED, EXIT_PARTIAL, check_files, progress_bar, writable_folder
from shared.errors import ApiError

DEFAULT_API = "http://127.0.0.1:7071"
DIRECT_MAX_BYTES = 100 * 1024 * 1024  # the Functions request limit; larger files use an upload URL
CHUNK = 1024 * 1024


class Client:
    """The API's routes, as this command needs them."""

    def __init__(self, base: str, key: str | None) -> None:
        parsed = urllib.parse.urlsplit(base)
        if parsed.scheme not in ("http", "https"):
            raise ApiError(f"the API address must start with http:// or https://, not {base!r}")
        self.base = base.rstrip("/")
        # Both headers: `ccproc api` reads x-api-key; Azure Functions reads x-functions-key.
        self.headers = {"x-api-key": key, "x-functions-key": key} if key else {}

    def call(
        self,
        method: str,
        path: str,
        *,
        body: BinaryIO | None = None,
        length: int | None = None,
        upload_id: str | None = None,
    ) -> dict[str, Any]:
        headers = dict(self.headers)
        if upload_id is not None:
            headers["Idempotency-Key"] = upload_id
        if body is not None:
            headers |= {"Content-Type": "application/pdf", "Content-Length": str(length)}
        with self._open(self.base + path, method, headers, body) as answer:
            data: dict[str, Any] = json.loads(answer.read() or b"{}")
            return data

    def download(self, path: str, folder: Path, fallback: str) -> Path:
        with self._open(self.base + path, "GET", dict(self.headers), None) as answer:
            message = email.message.Message()
            message["content-disposition"] = answer.headers.get("Content-Disposition", "")
            name = Path(message.get_filename() or fallback).name
            target = folder / name
            with target.open("wb") as out:
                while chunk := answer.read(CHUNK):
                    out.write(chunk)
        return target

    @staticmethod
    def _open(url: str, method: str, headers: dict[str, str], body: BinaryIO | None) -> Any:
        request = urllib.request.Request(url, data=body, headers=headers, method=method)  # noqa: S310 — http(s) checked
        try:
            return urllib.request.urlopen(request, timeout=300)  # noqa: S310
        except urllib.error.HTTPError as error:
            try:
                detail = json.loads(error.read())["error"]["message"]
            except (ValueError, KeyError, TypeError):
                detail = error.reason
            raise ApiError(f"{method} {urllib.parse.urlsplit(url).path}: {error.code} {detail}") from error
        except urllib.error.URLError as error:
            raise ApiError(f"cannot reach {url.split('/api/', 1)[0]}: {error.reason}") from error


def _upload(client: Client, session_id: str, path: Path, direct_max: int, *, allow_duplicate: bool) -> None:
    size = path.stat().st_size
    name = urllib.parse.quote(path.name, safe="")
    query = "?allow_duplicate=true" if allow_duplicate else ""
    upload_id = uuid.uuid4().hex  # one per file: a retried upload of it is recognised, not doubled
    with path.open("rb") as body:
        if size <= direct_max:
            files = f"/api/sessions/{session_id}/files/{name}{query}"
            client.call("PUT", files, body=body, length=size, upload_id=upload_id)
            return
        grant = client.call(
            "POST", f"/api/sessions/{session_id}/files/{name}/upload-url{query}", upload_id=upload_id
        )
        headers = {**grant["headers"], "Content-Length": str(size)}
        with Client._open(grant["url"], "PUT", headers, body):
            pass


def cmd_submit(args: argparse.Namespace) -> int:
    """Create a session, upload, process, wait, download every report into --out."""
    return run_submit(
        args.files,
        args.out,
        api=args.api,
        key=args.key or os.environ.get("CCPROC_API_KEY"),
        quiet=args.quiet,
        direct_max=args.direct_max,
        timeout=args.timeout,
        poll=args.poll,
        allow_duplicate=args.allow_duplicate,
    )


def run_submit(
    files: list[Path],
    out: Path,
    *,
    api: str,
    key: str | None,
    quiet: bool,
    direct_max: int = DIRECT_MAX_BYTES,
    timeout: float = 1800,
    poll: float = 1.0,
    allow_duplicate: bool = False,
) -> int:
    """Submit `files` to the API at `api` and download the reports into `out`; the exit code."""
    check_files(files)
    writable_folder(out)
    client = Client(api, key)
    session = client.call("POST", "/api/sessions")
    session_id = session["id"]
    for path in files:
        _upload(client, session_id, path, direct_max, allow_duplicate=allow_duplicate)
    client.call("POST", f"/api/sessions/{session_id}/process")
    deadline = time.monotonic() + timeout
    with progress_bar(not quiet, "processing") as progress:
        while session["status"] not in ("completed", "failed"):
            if time.monotonic() > deadline:
                print(
                    f"ccproc: session {session_id} still {session['status']} after {timeout} s",
                    file=sys.stderr,
                )
                return EXIT_FAILED
            time.sleep(poll)
            session = client.call("GET", f"/api/sessions/{session_id}")
            if progress:
                progress(int(session["progress"] * 100), 100)
    if session["status"] == "failed":
        print(f"ccproc: session {session_id} failed: {session.get('error')}", file=sys.stderr)
        return EXIT_FAILED
    out.mkdir(parents=True, exist_ok=True)
    written = [
        client.download(f"/api/sessions/{session_id}/reports/{name}", out, name)
        for name in session["reports"]
    ]
    summary = session.get("summary") or {}
    print(f"session {session_id} completed: {summary.get('transactions', 0)} transactions, "
          f"{summary.get('expenses', 0)} expenses")  # fmt: skip
    for status, count in (summary.get("statuses") or {}).items():
        print(f"  {status:<18} {count:>6}")
    print(f"reports in {out}: {', '.join(p.name for p in written)}")
    not_read = summary.get("files_not_read") or []
    for line in not_read:
        print(f"ccproc: not read, left out of the reports: {line}", file=sys.stderr)
    return EXIT_PARTIAL if not_read else 0


def register(sub: Any) -> None:
    """Add `submit` to the command line."""
    parser = sub.add_parser("submit", help="send PDFs to the API, wait, and download every report")
    add = parser.add_argument
    add("files", nargs="+", type=Path, metavar="PDF", help="the statement and/or the receipts report")
    add("--out", type=Path, required=True, metavar="DIR", help="folder for the reports")
    add(
        "--api",
        default=os.environ.get("CCPROC_API", DEFAULT_API),
        help=f"the API's address (default {DEFAULT_API})",
    )
    add("--key", help="API or function key (default: CCPROC_API_KEY)")
    add("--direct-max", type=int, default=DIRECT_MAX_BYTES, help="larger files go through an upload URL")
    add("--timeout", type=float, default=1800, help="seconds to wait for the session")
    add("--poll", type=float, default=1.0, help=argparse.SUPPRESS)
    add("--quiet", "-q", action="store_true", help="no progress bar")
    add(
        "--allow-duplicate",
        action="store_true",
        help="send a file even when another of your sessions already holds it (refused otherwise)",
    )
    parser.set_defaults(run=cmd_submit)
