"""Following up exceptions, through the API against Azurite: states and notes with who and when, kept
across reconciling again and never lost between two clerks; the chase list (JSON, CSV, messages); the
money totals and readable names of the review; the workbook with follow-up and grand totals. Another
tenant's session stays a 404 on every follow-up route."""

from __future__ import annotations

import csv
import datetime as dt
import io
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from shared.http.app import build_app
from shared.http.auth import owner_of
from shared.models import Status
from shared.report.chase import (
    CHASE_COLUMNS,
    FollowUp,
    FollowUpState,
    chase_csv,
    chase_list,
    display_names,
)
from shared.report.workbook import write_workbook
from shared.sessions.followup import FollowUpChange, follow_up_blob, set_follow_up
from shared.settings import Settings
from shared.storage.azure import AzureStorage
from tests.builders.month import build_month
from tests.reconciliations import sample_reconciliation
from tests.test_access import ALICE, BOB, KEYS
from tests.test_http_api import Client, _drain, _error, complete_month

Month = tuple[Path, dict[str, Any]]


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Month:
    """A generated month whose receipts need an alias, with its truth."""
    folder = tmp_path_factory.mktemp("follow-up-month")
    truth = build_month(folder, size="small", seed=5)
    assert truth["aliases"]
    return folder, truth


@pytest.fixture
def client(storage: AzureStorage, settings: Settings) -> Client:
    """The app on Azurite with Alice's and Bob's keys."""
    return Client(build_app(lambda: storage, settings, api_keys=KEYS))


def _exceptions(client: Client, session_id: str) -> list[str]:
    """Transaction numbers of the session's exceptions, in statement order (without the month's aliases,
    more than the truth's: names not yet resolved leave transactions unmatched)."""
    _, review = client.json("GET", f"/api/sessions/{session_id}/transactions", headers=ALICE)
    return [
        t["transaction"]["transaction_number"] for t in review["transactions"] if t["status"] != "Complete"
    ]


def _put(client: Client, session_id: str, number: str, payload: Any, headers: dict[str, str] = ALICE) -> Any:
    return client.json("PUT", f"/api/sessions/{session_id}/follow-up/{number}", payload, headers=headers)


def test_a_state_and_note_are_recorded_with_who_and_when(
    client: Client, storage: AzureStorage, settings: Settings, month: Month
) -> None:
    """Every exception starts open; a PUT records state and note with the caller's owner and the time,
    and both GET /follow-up and the review answer it; nothing else changes."""
    folder, _ = month
    session_id = complete_month(client, storage, settings, folder, headers=ALICE, name="Alice month")
    exceptions = _exceptions(client, session_id)
    status, listed = client.json("GET", f"/api/sessions/{session_id}/follow-up", headers=ALICE)
    assert status == 200
    assert set(listed["follow_up"]) == set(exceptions)
    assert {f["state"] for f in listed["follow_up"].values()} == {"open"}

    before = dt.datetime.now(dt.UTC)
    status, saved = _put(client, session_id, exceptions[0], {"state": "waived", "note": " controller OK "})
    assert status == 200, saved
    assert (saved["state"], saved["note"], saved["by"]) == (
        "waived",
        "controller OK",
        owner_of("key", ALICE["x-api-key"]),
    )
    assert before <= dt.datetime.fromisoformat(saved["at"]) <= dt.datetime.now(dt.UTC)

    _, listed = client.json("GET", f"/api/sessions/{session_id}/follow-up", headers=ALICE)
    assert listed["follow_up"][exceptions[0]] == saved
    assert [n for n, f in listed["follow_up"].items() if f["state"] != "open"] == [exceptions[0]]
    _, review = client.json("GET", f"/api/sessions/{session_id}/transactions", headers=ALICE)
    assert review["follow_up"][exceptions[0]] == saved


def test_a_follow_up_is_checked_before_it_is_kept(
    client: Client, storage: AzureStorage, settings: Settings, month: Month
) -> None:
    """An unknown state or an over-long note is a 422, an unknown transaction a 404, a Complete one a
    409; a card number typed into a note is masked; none of the refusals stores anything."""
    folder, truth = month
    session_id = complete_month(client, storage, settings, folder, headers=ALICE, name="Alice month")
    number = _exceptions(client, session_id)[0]
    complete = next(
        n
        for n, s in truth["statuses"].items()
        if s == "Complete" and n not in _exceptions(client, session_id)
    )
    assert _put(client, session_id, number, {"state": "forgotten"})[0] == 422
    assert _put(client, session_id, number, {"state": "open", "note": "x" * 1001})[0] == 422
    status, body = _put(client, session_id, "999999999", {"state": "waived"})
    assert (status, _error(body)) == (404, "unknown_transaction")
    status, body = _put(client, session_id, complete, {"state": "waived"})
    assert (status, _error(body)) == (409, "wrong_state")
    assert not list(storage.list(settings.sessions_container, follow_up_blob(session_id)))

    status, saved = _put(
        client, session_id, number, {"state": "open", "note": "paid with 4111 1111 1111 1111"}
    )
    assert status == 200
    assert "4111 1111 1111 1111" not in saved["note"]
    assert saved["note"].endswith("1111")


def test_another_tenants_session_is_a_404_on_every_follow_up_route(
    client: Client, storage: AzureStorage, settings: Settings, month: Month
) -> None:
    """Bob gets exactly what an unknown session gets on every follow-up route of Alice's session, and
    his PUT leaves her follow-up untouched."""
    folder, _ = month
    session_id = complete_month(client, storage, settings, folder, headers=ALICE, name="Alice month")
    number = _exceptions(client, session_id)[0]
    base = f"/api/sessions/{session_id}"
    for method, path, payload in [
        ("GET", f"{base}/follow-up", None),
        ("PUT", f"{base}/follow-up/{number}", {"state": "waived"}),
        ("GET", f"{base}/chase", None),
        ("GET", f"{base}/chase.csv", None),
        ("GET", f"{base}/workbook", None),
    ]:
        status, body = client.json(method, path, payload, headers=BOB)
        assert (status, _error(body)) == (404, "unknown_session"), path
        if method == "GET":  # the same route answers Alice
            assert client.request(method, path, headers=ALICE).status_code == 200, path
    _, listed = client.json("GET", f"{base}/follow-up", headers=ALICE)
    assert listed["follow_up"][number]["state"] == "open"


def test_states_are_carried_over_when_the_session_is_reconciled_again(
    client: Client, storage: AzureStorage, settings: Settings, month: Month
) -> None:
    """After adding the month's aliases and reconciling again, each transaction still an exception keeps
    its state and note, found again by its transaction number."""
    folder, truth = month
    session_id = complete_month(client, storage, settings, folder, headers=ALICE, name="Alice month")
    base = f"/api/sessions/{session_id}"
    _, before = client.json("GET", f"{base}/follow-up", headers=ALICE)
    numbers = list(before["follow_up"])[:3]
    saved = {}
    for number, state in zip(numbers, ["receipt requested", "waived", "resolved outside"], strict=True):
        saved[number] = _put(client, session_id, number, {"state": state, "note": f"note {number}"})[1]
    for name, cardholder in truth["aliases"].items():
        client.json("POST", "/api/aliases", {"name": name, "cardholder": cardholder}, headers=ALICE)
    assert client.json("POST", f"{base}/reconcile", headers=ALICE)[0] == 202
    assert _drain(storage, settings) == 1
    _, review = client.json("GET", f"{base}/transactions", headers=ALICE)
    statuses = {t["transaction"]["transaction_number"]: t["status"] for t in review["transactions"]}
    assert statuses == truth["statuses"]  # reconciled with the aliases this time
    _, after = client.json("GET", f"{base}/follow-up", headers=ALICE)
    still = [n for n in numbers if truth["statuses"][n] != "Complete"]
    assert still, "the carried-over exceptions must still be exceptions for this test to mean anything"
    assert {n: after["follow_up"][n] for n in still} == {n: saved[n] for n in still}


def test_two_clerks_at_once_lose_no_update(storage: AzureStorage, settings: Settings, month: Month) -> None:
    """Eight writers recording eight exceptions at the same moment: every one of them is kept."""
    folder, _ = month
    client = Client(build_app(lambda: storage, settings, api_keys=KEYS))
    session_id = complete_month(client, storage, settings, folder, headers=ALICE, name="Alice month")
    numbers = _exceptions(client, session_id)[:8]
    assert len(numbers) == 8
    start = threading.Barrier(len(numbers))
    failures: list[BaseException] = []

    def write(number: str) -> None:
        try:
            start.wait()
            change = FollowUpChange(state=FollowUpState.RECEIPT_REQUESTED, note=f"asked {number}")
            set_follow_up(
                storage, settings, session_id, number, change, owner=owner_of("key", ALICE["x-api-key"])
            )
        except BaseException as exc:  # noqa: BLE001 — handed to the test's thread
            failures.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in numbers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    _, listed = client.json("GET", f"/api/sessions/{session_id}/follow-up", headers=ALICE)
    assert {n: listed["follow_up"][n]["note"] for n in numbers} == {n: f"asked {n}" for n in numbers}


def test_the_chase_list_asks_each_employee_for_what_is_missing(
    client: Client, storage: AzureStorage, settings: Settings, month: Month
) -> None:
    """Per employee, every exception not waived or resolved outside, with what is missing from its status,
    a masked card and a message naming them by their readable name; the CSV has the same rows."""
    folder, _ = month
    session_id = complete_month(client, storage, settings, folder, headers=ALICE, name="Alice month")
    base = f"/api/sessions/{session_id}"
    _, review = client.json("GET", f"{base}/transactions", headers=ALICE)
    exceptions = [t for t in review["transactions"] if t["status"] != "Complete"]
    waived, outside = (t["transaction"]["transaction_number"] for t in exceptions[:2])
    _put(client, session_id, waived, {"state": "waived"})
    _put(client, session_id, outside, {"state": "resolved outside"})
    status, answer = client.json("GET", f"{base}/chase", headers=ALICE)
    assert status == 200
    chased = {
        line["transaction_number"]: (person, line)
        for person in answer["employees"]
        for line in person["lines"]
    }
    expected = {t["transaction"]["transaction_number"]: t for t in exceptions[2:]}
    assert set(chased) == set(expected)
    words = {
        "Missing Receipt": {"receipt"},
        "Missing Coding": {"coding"},
        "Missing Both": {"receipt and coding", "whole expense"},
    }
    for number, (person, line) in chased.items():
        t = expected[number]
        assert line["missing"] in words[t["status"]]
        assert (line["missing"] == "whole expense") == (t["expense"] is None)
        assert line["card"] == f"**** **** **** {t['transaction']['card_last4']}"
        assert line["amount"] == t["transaction"]["net"]
        assert person["cardholder"] == t["transaction"]["cardholder"]
        assert person["name"] == review["people"][person["cardholder"]]
        assert person["body"].startswith(f"Hello {person['name']},")
        assert f"transaction {number}, card ending {t['transaction']['card_last4']}" in person["body"]
    for person in answer["employees"]:
        assert Decimal(person["total"]) == sum(Decimal(line["amount"]) for line in person["lines"])
        assert "March 2025" in person["subject"]

    response = client.request("GET", f"{base}/chase.csv", headers=ALICE)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "chase-list.csv" in response.headers["Content-Disposition"]
    text = response.get_body().decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [r["Transaction #"] for r in rows] == [
        n for p in answer["employees"] for n in (x["transaction_number"] for x in p["lines"])
    ]
    assert text.count("\r\n") == len(rows) + 1


def test_the_review_answers_money_totals_and_readable_names(
    client: Client, storage: AzureStorage, settings: Settings, month: Month
) -> None:
    """Totals per status, per cardholder and per follow-up state are the Decimal sums of the truth's
    amounts, waived apart; each cardholder is named as the expense system spells them."""
    folder, truth = month
    session_id = complete_month(client, storage, settings, folder, headers=ALICE, name="Alice month")
    base = f"/api/sessions/{session_id}"
    _, review = client.json("GET", f"{base}/transactions", headers=ALICE)
    rows = review["transactions"]
    waived = next(t for t in rows if t["status"] != "Complete")
    _put(client, session_id, waived["transaction"]["transaction_number"], {"state": "waived"})
    _, review = client.json("GET", f"{base}/transactions", headers=ALICE)
    totals = review["totals"]
    amounts = {t["transaction_number"]: Decimal(t["net"]) for t in truth["statement"]["transactions"]}
    for status in Status:
        numbers = [t["transaction"]["transaction_number"] for t in rows if t["status"] == status.value]
        assert totals["statuses"][status.value] == {
            "count": len(numbers),
            "amount": str(sum((amounts[n] for n in numbers), Decimal("0.00"))),
        }
    assert Decimal(totals["all"]["amount"]) == sum(amounts.values())
    net = Decimal(waived["transaction"]["net"])
    assert totals["waived"] == {"count": 1, "amount": str(net)}
    assert Decimal(totals["to_chase"]["amount"]) == Decimal(totals["exceptions"]["amount"]) - net
    holder = waived["transaction"]["cardholder"]
    assert totals["employees"][holder]["waived"] == {"count": 1, "amount": str(net)}

    # Readable names: the expense system's spelling of the person each matched expense belongs to.
    typed = {e["expense_id"]: e["employee_name"] for e in truth["receipts"]["receipts"]}
    for t in rows:
        if t["expense"] is not None:
            assert review["people"][t["transaction"]["cardholder"]] == " ".join(
                typed[t["expense"]["expense_id"]].split()
            )
    assert any(name != holder for holder, name in review["people"].items())


def test_the_workbook_download_carries_the_follow_up_as_it_stands(
    client: Client, storage: AzureStorage, settings: Settings, month: Month, tmp_path: Path
) -> None:
    """GET /workbook, after a state changed, shows it on the Exceptions sheet and counts it as waived in
    Summary; the grand totals are the sums of the rows above them."""
    folder, _ = month
    session_id = complete_month(client, storage, settings, folder, headers=ALICE, name="Alice month")
    base = f"/api/sessions/{session_id}"
    _, review = client.json("GET", f"{base}/transactions", headers=ALICE)
    target = next(t for t in review["transactions"] if t["status"] != "Complete")
    number = target["transaction"]["transaction_number"]
    _put(client, session_id, number, {"state": "waived", "note": "=HYPERLINK(1)"})
    response = client.request("GET", f"{base}/workbook", headers=ALICE)
    assert response.status_code == 200
    # The reports' own download of the workbook is the same workbook, written now.
    for name in ("exceptions", "exceptions.xlsx"):
        other = client.request("GET", f"{base}/reports/{name}", headers=ALICE)
        other_path = tmp_path / f"{name}-report.xlsx"
        other_path.write_bytes(other.get_body())
        other_sheet = openpyxl.load_workbook(other_path)["Exceptions"]
        assert other.status_code == 200, name
        assert any(cell.value == "waived" for row in other_sheet.iter_rows() for cell in row), name
    path = tmp_path / "exceptions.xlsx"
    path.write_bytes(response.get_body())
    book = openpyxl.load_workbook(path)
    sheet = book["Exceptions"]
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, (c.value for c in r), strict=True)) for r in sheet.iter_rows(min_row=2)]
    lines, totals = rows[:-2], rows[-2:]
    (waived,) = [r for r in lines if r["Follow-up"] == "waived"]
    assert waived["Transaction #"] == number
    assert waived["Follow-up note"] == "=HYPERLINK(1)"  # text, never a formula
    assert waived["Follow-up by"] == owner_of("key", ALICE["x-api-key"])
    assert waived["Employee Name"] == review["people"][target["transaction"]["cardholder"]]
    assert {r["Follow-up"] for r in lines} == {"open", "waived"}
    assert totals[0]["Employee ID"] == f"Total ({len(lines)})"
    assert totals[0]["Transaction Amount"] == pytest.approx(
        float(sum(Decimal(str(r["Transaction Amount"])) for r in lines))
    )
    assert totals[1]["Transaction Amount"] == pytest.approx(float(target["transaction"]["net"]))

    summary = book["Summary"]
    header = [c.value for c in summary[1]]
    people = [dict(zip(header, (c.value for c in r), strict=True)) for r in summary.iter_rows(min_row=2)]
    body, total = people[:-1], people[-1]
    assert total["Employee ID"] == "Total"
    assert total["Waived"] == 1
    assert total["Waived total"] == pytest.approx(float(target["transaction"]["net"]))
    assert total["Card total"] == pytest.approx(sum(p["Card total"] for p in body))
    assert total["Transactions"] == len(review["transactions"])


# -- the pure parts, on the sample reconciliation ------------------------------------------------------


def test_chase_csv_defuses_formulas_and_masks_cards() -> None:
    """A merchant or a note starting like a formula is written as text; a card shows its last four only."""
    rec = sample_reconciliation()
    first = next(rt for rt in rec.transactions if rt.status is not Status.COMPLETE)
    rec.transactions[rec.transactions.index(first)] = first.model_copy(
        update={"transaction": first.transaction.model_copy(update={"merchant": "=cmd|' /C calc'!A0"})}
    )
    follow = {first.transaction.transaction_number: FollowUp(note="+SUM(A1)")}
    rows = list(
        csv.DictReader(io.StringIO(chase_csv(chase_list(rec, follow)).decode("utf-8-sig"), newline=""))
    )
    assert list(rows[0]) == list(CHASE_COLUMNS)
    assert (rows[0]["Merchant"], rows[0]["Follow-up note"]) == ("'=cmd|' /C calc'!A0", "'+SUM(A1)")
    assert all(r["Card Number"].startswith("**** **** **** ") for r in rows)


def test_waived_and_resolved_outside_leave_the_chase_list_but_stay_exceptions(tmp_path: Path) -> None:
    """A waived and a resolved-outside exception are not chased; the workbook still lists them, and its
    Summary counts the waived one apart; a person is named as their expenses spell them."""
    rec = sample_reconciliation()
    numbers = [
        rt.transaction.transaction_number for rt in rec.transactions if rt.status is not Status.COMPLETE
    ]
    follow = {
        numbers[0]: FollowUp(state=FollowUpState.WAIVED),
        numbers[1]: FollowUp(state=FollowUpState.RESOLVED_OUTSIDE),
    }
    chased = [line.transaction_number for person in chase_list(rec, follow) for line in person.lines]
    assert chased == numbers[2:]
    book = openpyxl.load_workbook(write_workbook(rec, tmp_path / "x.xlsx", follow_ups=follow))
    states = [row[11].value for row in book["Exceptions"].iter_rows(min_row=2, max_row=1 + len(numbers))]
    assert states == ["waived", "resolved outside", "open", "open"]
    total = [c.value for c in book["Summary"][book["Summary"].max_row]]
    header = [c.value for c in book["Summary"][1]]
    assert total[header.index("Waived")] == 1
    names = display_names(rec)
    typed = {
        rt.transaction.cardholder: rt.expense.employee_name
        for rt in rec.transactions
        if rt.expense and rt.expense.employee_name
    }
    assert {h: names[h] for h in typed} == {h: " ".join(n.split()) for h, n in typed.items()}
