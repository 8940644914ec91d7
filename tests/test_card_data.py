"""Card numbers typed where they do not belong never leave the product in full.

A month is generated with a card number in a merchant name, an expense purpose and an expense merchant;
it is uploaded under file names and a session name that hold card numbers too, with an alias typed with
one, and taken through the whole pipeline (HTTP API → extract step → finalize step) on Azurite. Then
everything the product wrote or said is searched: every log line at DEBUG, every queue message, every
blob name, blob metadata and blob content (inside ZIPs, workbooks and PDF streams) but the user's own
uploaded PDFs, and every API answer, reports and receipt PDFs included.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from shared.http.app import build_app
from shared.report import REPORTS
from shared.sessions.extract import extract_upload
from shared.settings import Settings
from shared.storage.azure import AzureStorage
from tests.builders.month import build_month
from tests.test_http_api import Client, _drain
from tests.test_reports_card_numbers import CARD, card_numbers, scan_tree

CCPROC = str(Path(sys.executable).with_name("ccproc"))
PLANTED = "4111111111111111"
DASHED = "4111-1111-1111-1111"


class Recording:
    """The real gateway, with every queue message it sends kept for inspection (nothing else changes)."""

    def __init__(self, storage: AzureStorage) -> None:
        self._storage = storage
        self.messages: list[str] = []

    def send(self, queue: str, content: str) -> None:
        self.messages.append(content)
        self._storage.send(queue, content)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._storage, name)


def _glued(text: str) -> bool:
    """The planted digits however they are joined — glued to letters (`CARD4111...`), or split by
    spaces, dots, slashes or any other punctuation — found by dropping all but letters and digits."""
    return PLANTED in re.sub(r"[^0-9A-Za-z]", "", text)


def _inputs(settings: Settings, container: str, name: str) -> bool:
    """The user's own PDFs as uploaded (kept to cut receipts from, or set aside as unreadable)."""
    return container == settings.uploads_container or any(
        f"/{part}/" in name for part in ("sources", "failed")
    )


def test_no_full_card_number_leaves_the_product(
    storage: AzureStorage, settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Logs, queue messages, blob names, metadata, stored results, reports and API answers hold no
    full card number, though the documents, file names, session name and an alias carried them."""
    caplog.set_level(logging.DEBUG)
    truth = build_month(tmp_path / "month", size="small", seed=5, plant=PLANTED)
    files = {
        f"{PLANTED} statement.pdf": tmp_path / "month" / "statement.pdf",
        f"receipts {DASHED}.pdf": tmp_path / "month" / "receipts.pdf",
    }
    recording = Recording(storage)
    client = Client(build_app(lambda: recording, settings))  # type: ignore[arg-type, return-value]
    answers: list[tuple[str, bytes]] = []

    def call(method: str, path: str, **kwargs: Any) -> Any:
        response = client.request(method, path, **kwargs)
        answers.append((f"{method} {path}", response.get_body()))
        assert response.status_code < 300, (path, response.get_body()[:300])
        return response

    def call_json(method: str, path: str, payload: Any) -> Any:
        body = json.dumps(payload).encode()
        return json.loads(
            call(method, path, body=body, headers={"Content-Type": "application/json"}).get_body()
        )

    session_id = call_json("POST", "/api/sessions", {"name": f"March card {PLANTED}"})["id"]
    for name, path in files.items():
        data = path.read_bytes()
        call(
            "PUT",
            f"/api/sessions/{session_id}/files/{name}",
            body=data,
            headers={"Content-Length": str(len(data))},
        )
    call("POST", f"/api/sessions/{session_id}/files/late {PLANTED}.pdf/upload-url")
    call("DELETE", f"/api/sessions/{session_id}/files/{_file_id(recording, settings, session_id, 'late')}")
    for name, cardholder in truth["aliases"].items():
        call_json("POST", "/api/aliases", {"name": name, "cardholder": cardholder})
    # A name typed with a card number is refused (never stored, so never listed), and says why.
    refused = client.request(
        "POST",
        "/api/aliases",
        body=json.dumps(
            {"name": f"Card {PLANTED}", "cardholder": next(iter(truth["aliases"].values()))}
        ).encode(),
        headers={"Content-Type": "application/json"},
    )
    answers.append(("POST /api/aliases (refused)", refused.get_body()))
    assert refused.status_code == 400
    assert json.loads(refused.get_body())["error"]["message"] == "a name cannot hold a card number"

    for info in list(recording.list(settings.uploads_container)):
        extract_upload(recording, settings, info.name)  # type: ignore[arg-type]
    call("POST", f"/api/sessions/{session_id}/process")
    _drain(recording, settings)  # type: ignore[arg-type]
    view = json.loads(call("GET", f"/api/sessions/{session_id}").get_body())
    assert view["status"] == "completed", view
    call("GET", "/api/sessions")
    call("GET", "/api/aliases")
    review = json.loads(call("GET", f"/api/sessions/{session_id}/transactions").get_body())
    for name in REPORTS:
        call("GET", f"/api/sessions/{session_id}/reports/{name}")
    for item in review["transactions"]:
        if item["receipt_pdf"]:
            call("GET", f"/api/sessions/{session_id}/reports/receipts/{item['receipt_pdf']}")
    # The planted text went all the way through, masked: the test looked where the numbers were.
    merchants = [t["transaction"]["merchant"] for t in review["transactions"]]
    assert any(m.endswith("****1111") for m in merchants), merchants

    found: list[str] = []
    found += [
        f"log {r.name}: {m.group()}" for r in caplog.records if (m := CARD.search(r.getMessage().encode()))
    ]
    found += [f"message: {m}" for m in recording.messages if CARD.search(m.encode())]
    containers = {settings.uploads_container, settings.sessions_container}
    for container in containers:
        for info in recording.list(container):
            if CARD.search(info.name.encode()) or _glued(info.name):
                found.append(f"blob name {container}/{info.name}")
            found += [f"metadata {info.name}: {v}" for v in info.metadata.values() if CARD.search(v.encode())]
            if not _inputs(settings, container, info.name):
                data, _ = recording.get_bytes(container, info.name)
                found += card_numbers(f"{container}/{info.name}", data)
                if info.name.endswith(".json") and _glued(data.decode()):
                    found.append(f"{container}/{info.name}: the planted digits")
    for what, body in answers:
        found += card_numbers(what, body)
        if not body.startswith((b"%PDF", b"PK")) and _glued(body.decode("utf-8", "replace")):
            found.append(f"{what}: the planted digits")
    assert found == [], "\n".join(found)


def _file_id(storage: Recording, settings: Settings, session_id: str, stem: str) -> str:
    records = [
        json.loads(storage.get_bytes(settings.sessions_container, info.name)[0])
        for info in storage.list(settings.sessions_container, f"{session_id}/files/")
    ]
    (record,) = [r for r in records if r["name"].startswith(stem)]
    return str(record["id"])


def test_the_search_finds_what_it_looks_for(tmp_path: Path) -> None:
    """The same search, over a stored result that holds a planted number, finds it (it can fail)."""
    assert card_numbers("result.json", json.dumps({"merchant": f"SHOP {PLANTED}"}).encode())
    assert CARD.search(f"log line {DASHED}".encode())
    assert _glued(f"CARD{PLANTED}")
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_reconcile_on_the_command_line_writes_no_full_card_number(tmp_path: Path) -> None:
    """`ccproc reconcile` (receipt pages cut while the report is still read) on the same planted month:
    every file it writes, receipt PDFs inside the ZIP included, and its output hold no full number."""
    build_month(tmp_path / "month", size="small", seed=5, plant=PLANTED)
    out = tmp_path / "out"
    done = subprocess.run(
        [
            CCPROC,
            "reconcile",
            *(str(tmp_path / "month" / n) for n in ("statement.pdf", "receipts.pdf")),
            "--out",
            str(out),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-1000:]
    assert (out / "receipts.zip").exists()
    found = (
        scan_tree(out)
        + card_numbers("stdout", done.stdout.encode())
        + card_numbers("stderr", done.stderr.encode())
    )
    assert found == []
    assert not _glued(done.stdout + done.stderr)
