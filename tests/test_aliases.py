"""Aliases with care, through the API against Azurite and as plain functions: candidates ranked for each
unresolved name (names drawn several ways), a dry-run preview checked against a generated month's truth,
a wrong alias previewed as matching nothing, edit / delete / undo, the sessions each alias reached, and
tenancy (another tenant's session is unknown; each tenant has its own table)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from shared.errors import AliasError, UnknownAliasError
from shared.http.app import build_app
from shared.matching.aliases import JsonFileAliasStore
from shared.models import Reconciliation
from shared.sessions.alias_care import rank_candidates
from shared.sessions.alias_names import name_similarity
from shared.sessions.requests import reconciliation
from shared.storage.azure import AzureStorage
from shared.values import normalise_name
from tests.azurite import Azurite
from tests.builders import vocab
from tests.builders.month import build_month
from tests.scenarios import fresh_settings
from tests.test_http_api import Client, _drain, _error, complete_month

KEYS = frozenset({"alice-key-0123456789", "bob-key-9876543210"})
ALICE = {"x-api-key": "alice-key-0123456789"}
BOB = {"x-api-key": "bob-key-9876543210"}


# -- a completed month, once for the module ------------------------------------------------------
@pytest.fixture(scope="module")
def world(azurite: Azurite, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A month built with renamed employees, completed as Alice's session on Azurite (no aliases yet)."""
    folder = tmp_path_factory.mktemp("alias-month")
    truth = build_month(folder, size="small", seed=5)
    assert truth["aliases"], "the month must have employees who typed another name"
    storage = AzureStorage(azurite.connection_string)
    settings = fresh_settings(tmp_path_factory.mktemp("alias-scratch"))
    client = Client(build_app(lambda: storage, settings, api_keys=KEYS))
    session_id = complete_month(client, storage, settings, folder, headers=ALICE, name="March")
    try:
        yield {"truth": truth, "storage": storage, "settings": settings, "client": client, "id": session_id}
    finally:
        storage.close()


@pytest.fixture
def clean(world: dict[str, Any]) -> Iterator[Client]:
    """Alice's and Bob's alias tables are empty before and after the test."""

    def empty() -> None:
        for who in (ALICE, BOB):
            for name in world["client"].json("GET", "/api/aliases", headers=who)[1]["aliases"]:
                world["client"].json("DELETE", f"/api/aliases/{name}", headers=who)

    empty()
    yield world["client"]
    empty()


def _expected(truth: dict[str, Any], name: str) -> tuple[int, Decimal]:
    """The truth's count and amount of the expenses typed `name` that match a transaction."""
    nets = {t["transaction_number"]: Decimal(t["net"]) for t in truth["statement"]["transactions"]}
    typed = {
        e["expense_id"] for e in truth["receipts"]["receipts"] if normalise_name(e["employee_name"]) == name
    }
    matched = [tx for eid, tx in truth["matches"].items() if eid in typed and tx is not None]
    return len(matched), sum((nets[tx] for tx in matched), Decimal("0.00"))


# -- ranking -------------------------------------------------------------------------------------
def _split(cardholder: str) -> tuple[str, str]:
    """First and last name of a builder's cardholder (`JANEDOE` → JANE, DOE)."""
    for first in vocab.FIRST_NAMES:
        if cardholder.startswith(first) and cardholder[len(first) :] in vocab.LAST_NAMES:
            return first, cardholder[len(first) :]
    raise AssertionError(f"{cardholder} is not a builder's name")


def _drawn(first: str, last: str, rng: random.Random) -> list[str]:
    """One person's name typed several ways: initials, middle names, suffixes, punctuation, order."""
    f, la = first.title(), last.title()
    middle = rng.choice(vocab.FIRST_NAMES).title()
    return [
        f"{f} {rng.choice('ABCDEJKLMRSTW')}. {la}",
        f"{f} {middle} {la}",
        f"{f} {la} Jr.",
        f"{first} {last} III",
        f"{la}, {f}",
        f"{last} {first}",
        f"{f[0]}. {middle[0]}. {la}-{rng.choice(vocab.LAST_NAMES).title()}",
        f"{f}  {la}, Sr",
        f"{first.lower()}.{last.lower()}",
        f"{f}\u00a0{la}-{rng.choice(vocab.LAST_NAMES).title()}",
    ]


def _as_typed(reconciled: Reconciliation, cardholder: str, typed: str, *, fit: bool) -> Reconciliation:
    """The reconciliation as if `cardholder`'s expenses had been typed `typed`: they and the transactions
    they matched come apart; without `fit`, their dates move out of every window."""
    freed, rows = [], []
    for rt in reconciled.transactions:
        if rt.transaction.cardholder == cardholder and rt.expense is not None:
            freed.append(rt.expense.model_copy(update={"employee_name": typed}))
            rows.append(rt.model_copy(update={"expense": None, "evidence": None}))
        else:
            rows.append(rt)
    if not fit:
        freed = [e.model_copy(update={"date": e.date.replace(year=e.date.year - 3)}) for e in freed]
    typed_name = reconciled.unresolved_names[0].model_copy(
        update={"name": typed, "normalized": normalise_name(typed), "side": "receipts"}
    )
    return reconciled.model_copy(
        update={
            "transactions": rows,
            "unmatched_expenses": [*reconciled.unmatched_expenses, *freed],
            "unresolved_names": [
                *(u for u in reconciled.unresolved_names if u.side != "receipts"),
                typed_name,
            ],
        }
    )


def test_ranking_puts_the_right_cardholder_first_for_names_drawn_several_ways(world: dict[str, Any]) -> None:
    """For cardholders of a real month, each name typed nine ways ranks its own cardholder first: by the
    expenses that fit and the name together, and by the name alone when no expense fits."""
    reconciled = reconciliation(world["storage"], world["settings"], world["id"])
    holders = sorted(
        {rt.transaction.cardholder for rt in reconciled.transactions if rt.transaction.cardholder}
    )
    with_expenses = [
        h
        for h in holders
        if any(rt.expense for rt in reconciled.transactions if rt.transaction.cardholder == h)
    ]
    rng = random.Random(19)
    tried = 0
    for cardholder in rng.sample(with_expenses, min(5, len(with_expenses))):
        first, last = _split(cardholder)
        for typed in _drawn(first, last, rng):
            for fit in (True, False):
                ranked = rank_candidates(_as_typed(reconciled, cardholder, typed, fit=fit), window=3)
                (entry,) = [n for n in ranked.names if n.side == "receipts"]
                top = entry.candidates[0]
                initials_only = typed.startswith(f"{first[0]}.")
                if initials_only and not fit:
                    # `J. M. Doe` says only the first letter: any J…DOE is as good by name alone.
                    rivals = [h for h in holders if h.endswith(last) and h.startswith(first[0])]
                    assert top.cardholder in rivals, (typed, top)
                    continue
                assert top.cardholder == cardholder, (typed, fit, entry.candidates[:3])
                assert (top.expenses > 0) is fit
                tried += 1
    assert tried >= 40


def test_name_similarity_prefers_the_person_over_a_namesake() -> None:
    """Suffixes, punctuation, order, accents and short first names count for the person; a shared last
    name alone does not (a namesake scores far lower)."""
    for typed, right, wrong in [
        ("Jane Q. Doe", "JANEDOE", "JOHNDOE"),
        ("Doe, Jane", "JANE DOE", "JANE ROE"),
        ("DOE JANE JR", "JANEDOE", "JANEROE"),
        ("María Salazar", "MARIASALAZAR", "MARIAZAMORA"),
        ("Bob Keller", "ROBERTKELLER", "BRIANKELLER"),
        ("Patricia O\u2019Neil", "PATRICIA ONEIL", "PATRICK ONEAL"),
        ("Jim Smith III", "JAMESSMITH", "JOHNSMITH"),
    ]:
        assert name_similarity(typed, right) > name_similarity(typed, wrong) + 10, typed


def test_candidates_route_ranks_each_renamed_employee_first(world: dict[str, Any]) -> None:
    """GET alias-candidates: every name the truth needs an alias for has that cardholder first."""
    client, truth = world["client"], world["truth"]
    status, body = client.json("GET", f"/api/sessions/{world['id']}/alias-candidates", headers=ALICE)
    assert status == 200
    receipts = {n["normalized"]: n for n in body["names"] if n["side"] == "receipts"}
    for name, cardholder in truth["aliases"].items():
        entry = receipts[name]
        assert normalise_name(entry["candidates"][0]["cardholder"]) == cardholder, entry["candidates"][:3]
        count, amount = _expected(truth, name)
        assert (entry["candidates"][0]["expenses"], Decimal(entry["candidates"][0]["amount"])) == (
            count,
            amount,
        )
    statement = [n for n in body["names"] if n["side"] == "statement"]
    for entry in statement:
        expected = [k for k, v in truth["aliases"].items() if v == entry["normalized"]]
        if expected:
            assert normalise_name(entry["candidates"][0]["name"]) in expected


# -- preview -------------------------------------------------------------------------------------
def test_preview_counts_and_dollars_match_the_truth_and_write_nothing(
    world: dict[str, Any], clean: Client
) -> None:
    """A right alias previews the truth's count and dollars; storage is exactly as before (a dry run)."""
    storage, settings, truth = world["storage"], world["settings"], world["truth"]

    def snapshot() -> dict[str, Any]:
        return {
            (c, i.name): (i.etag, i.size)
            for c in (settings.sessions_container, settings.uploads_container)
            for i in storage.list(c)
        }

    before = snapshot()
    for name, cardholder in truth["aliases"].items():
        count, amount = _expected(truth, name)
        assert count, "a renamed employee with no matched expense proves nothing"
        status, p = clean.json(
            "POST",
            f"/api/sessions/{world['id']}/alias-preview",
            {"name": name, "cardholder": cardholder},
            headers=ALICE,
        )
        assert status == 200, p
        assert (p["expenses"], Decimal(p["amount"]), p["matches_nothing"], p["lost"]) == (
            count,
            amount,
            False,
            0,
        )
        assert p["message"].startswith(f"{count} expense")
        assert f"${amount:,.2f}" in p["message"]
        assert p["changes"]
        assert all(c["before"] == "Missing Both" for c in p["changes"])
    assert snapshot() == before


def test_a_wrong_alias_previews_matching_nothing(world: dict[str, Any], clean: Client) -> None:
    """A renamed employee pointed at someone else, or at nobody on the statement, matches nothing: said so."""
    truth = world["truth"]
    name, cardholder = next(iter(truth["aliases"].items()))
    holders = sorted({t["cardholder"] for t in truth["statement"]["transactions"]})
    wrong = next(h for h in holders if h != cardholder)
    path = f"/api/sessions/{world['id']}/alias-preview"
    _, p = clean.json("POST", path, {"name": name, "cardholder": wrong}, headers=ALICE)
    assert (p["matches_nothing"], p["expenses"], p["on_statement"]) == (True, 0, True)
    assert p["message"].startswith("This alias would match nothing")
    _, p = clean.json("POST", path, {"name": name, "cardholder": "Nobody Atall"}, headers=ALICE)
    assert (p["matches_nothing"], p["on_statement"]) == (True, False)
    assert "not a cardholder" in p["message"]
    # With the right alias stored, pointing it elsewhere loses what it matched.
    assert (
        clean.json("POST", "/api/aliases", {"name": name, "cardholder": cardholder}, headers=ALICE)[0] == 201
    )
    _, p = clean.json("POST", path, {"name": name, "cardholder": wrong}, headers=ALICE)
    count, amount = _expected(truth, name)
    assert (p["replaces"], p["lost"], Decimal(p["lost_amount"])) == (cardholder, count, amount)


# -- edit, delete, undo, the sessions reached ----------------------------------------------------
def test_edit_delete_and_undo(world: dict[str, Any], clean: Client) -> None:
    """PUT points an alias elsewhere (or corrects its name) and answers what it was; undo puts it back;
    an unknown alias is 404, a rename onto another alias 400; delete then undo restores it."""
    status, body = clean.json(
        "POST", "/api/aliases", {"name": "Jane Q. Doe", "cardholder": "JOHNDOE"}, headers=ALICE
    )
    assert status == 201
    status, edited = clean.json(
        "PUT", "/api/aliases/Jane%20Q.%20Doe", {"cardholder": "Jane Doe"}, headers=ALICE
    )
    assert (status, edited) == (
        200,
        {
            "name": "JANEQDOE",
            "cardholder": "JANEDOE",
            "previous": {"name": "JANEQDOE", "cardholder": "JOHNDOE"},
        },
    )
    status, edited = clean.json(
        "PUT", "/api/aliases/JANEQDOE", {"name": "J. Q. Doe", "cardholder": "JANEDOE"}, headers=ALICE
    )
    assert (status, edited["name"]) == (200, "JQDOE")
    assert clean.json("GET", "/api/aliases", headers=ALICE)[1] == {"aliases": {"JQDOE": "JANEDOE"}}
    undo = edited["previous"]  # the page's Undo: the edit put back as it was
    clean.json("PUT", f"/api/aliases/{edited['name']}", undo, headers=ALICE)
    assert clean.json("GET", "/api/aliases", headers=ALICE)[1] == {"aliases": {"JANEQDOE": "JANEDOE"}}
    status, body = clean.json("PUT", "/api/aliases/NOBODY", {"cardholder": "JANEDOE"}, headers=ALICE)
    assert (status, _error(body)) == (404, "unknown_alias")
    clean.json("POST", "/api/aliases", {"name": "Bo Bee", "cardholder": "BOBBEE"}, headers=ALICE)
    status, body = clean.json(
        "PUT", "/api/aliases/BOBEE", {"name": "JANEQDOE", "cardholder": "X Y"}, headers=ALICE
    )
    assert (status, _error(body)) == (400, "invalid_alias")
    assert clean.json("DELETE", "/api/aliases/JANEQDOE", headers=ALICE)[0] == 200
    assert (
        clean.json("POST", "/api/aliases", {"name": "JANEQDOE", "cardholder": "JANEDOE"}, headers=ALICE)[0]
        == 201
    )
    assert clean.json("GET", "/api/aliases", headers=ALICE)[1] == {
        "aliases": {"BOBEE": "BOBBEE", "JANEQDOE": "JANEDOE"}
    }


def test_the_sessions_an_alias_reached(world: dict[str, Any], clean: Client) -> None:
    """Before reconciling, an alias's session shows its name unresolved; after, the expenses it matched."""
    truth, storage, settings = world["truth"], world["storage"], world["settings"]
    name, cardholder = next(iter(truth["aliases"].items()))
    clean.json("POST", "/api/aliases", {"name": name, "cardholder": cardholder}, headers=ALICE)
    _, usage = clean.json("GET", "/api/aliases/usage", headers=ALICE)
    (entry,) = usage["aliases"]
    assert entry["sessions"] == [
        {**entry["sessions"][0], "id": world["id"], "matched": 0, "unresolved": True}
    ]
    assert (usage["sessions_read"], usage["older_not_read"]) == (1, False)
    assert clean.json("POST", f"/api/sessions/{world['id']}/reconcile", headers=ALICE)[0] == 202
    _drain(storage, settings)
    _, usage = clean.json("GET", "/api/aliases/usage", headers=ALICE)
    (entry,) = usage["aliases"]
    count, amount = _expected(truth, name)
    (reached,) = entry["sessions"]
    assert (reached["matched"], Decimal(reached["amount"]), reached["unresolved"]) == (count, amount, False)
    # Bob has no aliases, and Alice's session is reached by none of his.
    assert clean.json("GET", "/api/aliases/usage", headers=BOB)[1]["aliases"] == []
    # Put the session back as it was for the other tests.
    clean.json("DELETE", f"/api/aliases/{name}", headers=ALICE)
    clean.json("POST", f"/api/sessions/{world['id']}/reconcile", headers=ALICE)
    _drain(storage, settings)


def test_tenancy(world: dict[str, Any], clean: Client) -> None:
    """Bob cannot rank, preview or see Alice's session (404 as an unknown one) and edits only his table."""
    name, cardholder = next(iter(world["truth"]["aliases"].items()))
    for method, path, payload in (
        ("GET", f"/api/sessions/{world['id']}/alias-candidates", None),
        ("POST", f"/api/sessions/{world['id']}/alias-preview", {"name": name, "cardholder": cardholder}),
    ):
        status, body = clean.json(method, path, payload, headers=BOB)
        assert (status, _error(body)) == (404, "unknown_session")
    clean.json("POST", "/api/aliases", {"name": name, "cardholder": cardholder}, headers=ALICE)
    status, body = clean.json("PUT", f"/api/aliases/{name}", {"cardholder": "JANEDOE"}, headers=BOB)
    assert (status, _error(body)) == (404, "unknown_alias")
    assert clean.json("GET", "/api/aliases", headers=ALICE)[1] == {"aliases": {name: cardholder}}
    # Bob's own alias of the same name never changes Alice's preview.
    clean.json("POST", "/api/aliases", {"name": name, "cardholder": "Nobody Atall"}, headers=BOB)
    _, p = clean.json(
        "POST",
        f"/api/sessions/{world['id']}/alias-preview",
        {"name": name, "cardholder": cardholder},
        headers=ALICE,
    )
    assert p["replaces"] == cardholder


def test_a_session_not_completed_is_not_previewed(world: dict[str, Any]) -> None:
    """An open session has nothing to rank or preview: 409."""
    client = world["client"]
    session_id = client.json("POST", "/api/sessions", headers=ALICE)[1]["id"]
    status, body = client.json(
        "POST",
        f"/api/sessions/{session_id}/alias-preview",
        {"name": "A B", "cardholder": "C D"},
        headers=ALICE,
    )
    assert (status, _error(body)) == (409, "wrong_state")
    client.json("DELETE", f"/api/sessions/{session_id}", headers=ALICE)


def test_cli_edit(tmp_path: Path) -> None:
    """The file store behind `ccproc aliases edit` changes, renames, refuses unknown names and clashes."""
    store = JsonFileAliasStore(tmp_path / "aliases.json")
    store.add("Jane Q. Doe", "JOHNDOE")
    store.add("Bo Bee", "BOBBEE")
    assert store.edit("jane q doe", "JANEDOE") == ("JANEQDOE", "JANEDOE", "JOHNDOE")
    assert store.edit("JANEQDOE", "JANEDOE", "J Doe") == ("JDOE", "JANEDOE", "JANEDOE")
    with pytest.raises(UnknownAliasError):
        store.edit("JANEQDOE", "JANEDOE")
    with pytest.raises(AliasError, match="already is an alias"):
        store.edit("BOBEE", "BOBBEE", "J Doe")
    assert store.load() == {"JDOE": "JANEDOE", "BOBEE": "BOBBEE"}


def test_names_copied_from_documents_are_answered_with_card_numbers_masked() -> None:
    """A card number typed into an expense name never leaves the candidates route whole."""
    from shared.http.aliases_api import _answer
    from shared.sessions.alias_care import AliasCandidates, NameCandidates

    typed = "Jane 4111 1111 1111 1111 Doe"
    body = _answer(
        AliasCandidates(
            names=[NameCandidates(name=typed, normalized="X", side="receipts", expenses=0, candidates=[])]
        )
    ).body.decode()
    assert "4111 1111 1111 1111" not in body
    assert "1111" in body
