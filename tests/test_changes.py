"""Before and after: a completed session finalized again says what changed, checked against the
builders' truth, against Azurite through the app as the Functions host drives it.

A month is built; its first receipts report lacks three expenses, the newer one has them and lacks
another. After the newer report, the comparison names exactly those four transactions: the three
as their true status (Complete or less missing), the fourth as worse (Missing Both). Reconciling
again after aliases were added compares as well.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader, PdfWriter

from shared.http.app import build_app
from shared.models import Reconciliation
from shared.sessions.changes import ChangeKind, compare
from shared.sessions.extract import extract_upload
from shared.settings import Settings
from shared.storage.azure import AzureStorage
from tests.builders.month import build_month
from tests.test_http_api import Client, _blobs, _drain, _error, _new_session

NOT_MISSING_BOTH = ("Complete", "Missing Receipt", "Missing Coding")


def _without(source: Path, target: Path, pages: set[int]) -> Path:
    """`source` without the given 1-based pages (the expenses on them gone from the report)."""
    writer = PdfWriter()
    for number, page in enumerate(PdfReader(source).pages, start=1):
        if number not in pages:
            writer.add_page(page)
    with target.open("wb") as fh:
        writer.write(fh)
    return target


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A month, an older receipts report lacking three matched expenses, a newer one lacking a fourth,
    and which transaction each of the four belongs to."""
    folder = tmp_path_factory.mktemp("changes-month")
    truth = build_month(folder, size="small", seed=11)
    receipts = {r["expense_id"]: r for r in truth["receipts"]["receipts"]}
    amounts = Counter(r["amount"] for r in receipts.values())
    # Matched expenses whose amount no other expense has: taking one away cannot move another match.
    chosen = [
        eid
        for eid, number in truth["matches"].items()
        if number is not None
        and truth["statuses"][number] in NOT_MISSING_BOTH
        and amounts[receipts[eid]["amount"]] == 1
    ]
    assert len(chosen) >= 4
    statuses = Counter(truth["statuses"][truth["matches"][eid]] for eid in chosen[:3])
    assert statuses  # (which statuses the three have is the truth's to say)
    added, removed = chosen[:3], chosen[3]

    def pages(ids: list[str]) -> set[int]:
        return {p for eid in ids for p in receipts[eid]["pages"]}

    return {
        "folder": folder,
        "truth": truth,
        "older": _without(folder / "receipts.pdf", folder / "older.pdf", pages(added)),
        "newer": _without(folder / "receipts.pdf", folder / "newer.pdf", pages([removed])),
        "added": {truth["matches"][eid]: truth["statuses"][truth["matches"][eid]] for eid in added},
        "removed": truth["matches"][removed],
    }


@pytest.fixture
def client(storage: AzureStorage, settings: Settings) -> Client:
    """The app on Azurite, without API keys (as under the Functions host)."""
    return Client(build_app(lambda: storage, settings))


def _run(client: Client, storage: AzureStorage, settings: Settings, session_id: str) -> dict[str, Any]:
    """Extract what was uploaded, finalize, and answer the completed session."""
    for blob in _blobs(storage, settings.uploads_container):
        extract_upload(storage, settings, blob)
    _drain(storage, settings)
    status, view = client.json("GET", f"/api/sessions/{session_id}")
    assert (status, view["status"]) == (200, "completed"), view
    return dict(view)


def _aliases(client: Client, truth: dict[str, Any]) -> None:
    for name, cardholder in truth["aliases"].items():
        assert client.json("POST", "/api/aliases", {"name": name, "cardholder": cardholder})[0] == 201


def test_a_newer_receipts_report_names_exactly_what_changed(
    client: Client, storage: AzureStorage, settings: Settings, month: dict[str, Any]
) -> None:
    """Older report, then a newer one on the completed session: the comparison lists the three
    transactions whose expenses came (as their true status) and the one whose expense went (worse,
    Missing Both), nothing else changed, and its counts and dollars add up."""
    _aliases(client, month["truth"])
    session_id = _new_session(client)
    assert (
        client.upload(session_id, "statement.pdf", (month["folder"] / "statement.pdf").read_bytes())[0] == 202
    )
    assert client.upload(session_id, "receipts.pdf", month["older"].read_bytes())[0] == 202
    for blob in _blobs(storage, settings.uploads_container):
        extract_upload(storage, settings, blob)
    assert client.json("POST", f"/api/sessions/{session_id}/process")[0] == 202
    _drain(storage, settings)
    first = client.json("GET", f"/api/sessions/{session_id}")[1]
    assert first["status"] == "completed"
    assert first["summary"]["changes"] is None
    status, body = client.json("GET", f"/api/sessions/{session_id}/changes")
    assert (status, _error(body)) == (404, "no_changes")

    status, record = client.upload(session_id, "receipts-newer.pdf", month["newer"].read_bytes())
    assert (status, record["status"]) == (202, "uploaded")
    assert client.json("GET", f"/api/sessions/{session_id}")[1]["status"] == "processing"
    after = _run(client, storage, settings, session_id)

    status, changes = client.json("GET", f"/api/sessions/{session_id}/changes")
    assert status == 200
    listed = {t["transaction_number"]: t for t in changes["transactions"] if t["kind"] != "still_missing"}
    expected = set(month["added"]) | {month["removed"]}
    assert set(listed) == expected
    for number, true_status in month["added"].items():
        kind = "became_complete" if true_status == "Complete" else "improved"
        assert (listed[number]["before"], listed[number]["after"], listed[number]["kind"]) == (
            "Missing Both",
            true_status,
            kind,
        )
    gone = listed[month["removed"]]
    assert (gone["before"], gone["after"], gone["kind"]) == (month["truth"]["statuses"][month["removed"]],
                                                             "Missing Both", "worse")  # fmt: skip
    # Still missing: exactly the transactions missing something before and after, each listed once.
    still = {t["transaction_number"] for t in changes["transactions"] if t["kind"] == "still_missing"}
    truth_missing = {n for n, s in month["truth"]["statuses"].items() if s != "Complete"}
    assert still == truth_missing - expected
    # Counts and dollars: each kind's tally is its listed transactions; before/after are the summaries.
    for kind in ChangeKind:
        mine = [t for t in changes["transactions"] if t["kind"] == kind.value]
        if kind is not ChangeKind.STILL_COMPLETE:
            assert changes["tallies"][kind.value]["count"] == len(mine)
            assert Decimal(changes["tallies"][kind.value]["amount"]) == sum(
                (Decimal(t["amount"]) for t in mine), Decimal(0)
            )
    assert {k: v["count"] for k, v in changes["before"].items()} == first["summary"]["statuses"]
    assert {k: v["count"] for k, v in changes["after"].items()} == after["summary"]["statuses"]
    truth_after = Counter(month["truth"]["statuses"].values())
    truth_after[month["truth"]["statuses"][month["removed"]]] -= 1
    truth_after["Missing Both"] += 1
    assert after["summary"]["statuses"] == {s: truth_after[s] for s in after["summary"]["statuses"]}
    assert after["summary"]["changes"] == changes["tallies"]
    assert changes["receipts_after"] != changes["receipts_before"]


def test_reconciling_again_after_aliases_compares_too(
    client: Client, storage: AzureStorage, settings: Settings, month: dict[str, Any]
) -> None:
    """Reconciled without aliases, then again with them: the comparison lists only gains (nothing
    worse, nothing added or removed), each to the truth's status, and the session's summary says so."""
    session_id = _new_session(client)
    for name in ("statement.pdf", "receipts.pdf"):
        assert client.upload(session_id, name, (month["folder"] / name).read_bytes())[0] == 202
    for blob in _blobs(storage, settings.uploads_container):
        extract_upload(storage, settings, blob)
    client.json("POST", f"/api/sessions/{session_id}/process")
    _drain(storage, settings)
    _aliases(client, month["truth"])
    assert client.json("POST", f"/api/sessions/{session_id}/reconcile")[0] == 202
    view = _run(client, storage, settings, session_id)

    changes = client.json("GET", f"/api/sessions/{session_id}/changes")[1]
    gained = [t for t in changes["transactions"] if t["kind"] in ("became_complete", "improved")]
    assert gained
    for t in gained:
        assert t["after"] == month["truth"]["statuses"][t["transaction_number"]]
    assert not [t for t in changes["transactions"] if t["kind"] in ("worse", "added", "removed")]
    assert view["summary"]["changes"]["became_complete"]["count"] == len(
        [t for t in gained if t["kind"] == "became_complete"]
    )


def test_compare_pairs_repeated_numbers_and_orders_the_urgent_first() -> None:
    """Pure comparison: a transaction number that appears twice is paired in order, a transaction
    only before is removed, and the list starts with what got worse."""
    tx = {
        "transaction_date": "2025-03-01",
        "merchant": "Shop",
        "net": "10.00",
    }

    def rec(*rows: tuple[str, str]) -> Reconciliation:
        return Reconciliation.model_validate(
            {"transactions": [{"transaction": {**tx, "transaction_number": n}, "status": s} for n, s in rows]}
        )

    before = rec(("A", "Complete"), ("A", "Missing Both"), ("B", "Missing Receipt"), ("C", "Complete"))
    after = rec(("A", "Missing Coding"), ("A", "Complete"), ("B", "Missing Receipt"))
    found = compare(before, after, at=dt.datetime.now(dt.UTC))
    assert [(t.transaction_number, t.kind.value) for t in found.transactions] == [
        ("A", "worse"),
        ("C", "removed"),
        ("B", "still_missing"),
        ("A", "became_complete"),
    ]
    assert found.tallies["worse"].amount == Decimal("10.00")
    assert found.tallies["still_complete"].count == 0
