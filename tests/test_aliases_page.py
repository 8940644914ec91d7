"""Aliases with care on the web page, in Debian's headless Chromium against `ccproc dev`: the unresolved
names rank their candidates and preview an alias before it is saved (a wrong one warned of as matching
nothing), an alias saved is undone; the aliases page lists, searches, edits (preview first), deletes and
undoes. Screenshots go to `out/test-artifacts/web/` beside the page's other ones."""

# The fixtures come from test_web_page and are named again as the test's parameters.
# ruff: noqa: F811

from __future__ import annotations

import re
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from shared.values import normalise_name
from tests.test_web_page import (  # noqa: F401 — fixtures, used by name
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    api,
    browser,
    completed,
    dev,
    month,
    page,
    playwright_sync,
    shot,
)

expect = playwright_sync.expect
WAIT_MS = 120_000


def _expected(truth: dict[str, Any], name: str) -> tuple[int, str]:
    """The truth's count of the expenses typed `name` that match a transaction, and their dollars."""
    nets = {t["transaction_number"]: Decimal(t["net"]) for t in truth["statement"]["transactions"]}
    typed = {
        e["expense_id"] for e in truth["receipts"]["receipts"] if normalise_name(e["employee_name"]) == name
    }
    matched = [tx for eid, tx in truth["matches"].items() if eid in typed and tx is not None]
    return len(matched), f"${sum((nets[tx] for tx in matched), Decimal('0.00')):,.2f}"


def _empty_table(dev: str) -> None:
    for name in api(dev, "GET", "/api/aliases")["aliases"]:
        api(dev, "DELETE", f"/api/aliases/{name}")


def _reconciled(dev: str, session_id: str) -> None:
    """Reconcile the session again and wait until it is completed."""
    api(dev, "POST", f"/api/sessions/{session_id}/reconcile")
    for _ in range(600):
        if api(dev, "GET", f"/api/sessions/{session_id}")["status"] == "completed":
            return
        time.sleep(0.2)
    raise AssertionError("the session did not complete again")


def test_unresolved_names_preview_warn_save_and_undo(
    dev: str, completed: str, page: Any, month: tuple[Path, dict[str, Any]]
) -> None:
    """The renamed employee's row chooses the right cardholder and previews the truth's count and dollars;
    a wrong cardholder is warned of as matching nothing and needs a second click; the right alias saved
    reconciles the session, and its Undo deletes it and reconciles again."""
    _, truth = month
    _empty_table(dev)
    _reconciled(dev, completed)
    name, cardholder = next(iter(truth["aliases"].items()))
    count, dollars = _expected(truth, name)
    page.goto(f"{dev}/#/sessions/{completed}")
    unresolved_before = page.get_by_test_id("count-unresolved")
    expect(unresolved_before).to_have_text(re.compile(r"\d+"), timeout=WAIT_MS)
    before = int(unresolved_before.inner_text())
    row = page.locator(f'[data-testid="unresolved-row"][data-normalized="{name}"]')
    field = row.get_by_test_id("alias-cardholder")
    # Ranked: the right cardholder is chosen for the clerk, and what it would do is shown before saving.
    expect(row.get_by_test_id("alias-candidates")).to_contain_text(cardholder)
    expect(field).to_have_value(cardholder)
    expect(row.get_by_test_id("alias-preview")).to_contain_text(f"{count} expense")
    expect(row.get_by_test_id("alias-preview")).to_contain_text(dollars)
    shot(page, "alias-01-preview")

    wrong = next(o for o in field.evaluate("s => [...s.options].map(o => o.value)") if o and o != cardholder)
    field.select_option(wrong)
    expect(row.get_by_test_id("alias-warning")).to_contain_text("would match nothing")
    expect(row.get_by_test_id("add-alias")).to_have_text("Add anyway")
    shot(page, "alias-02-warning")
    assert api(dev, "GET", "/api/aliases")["aliases"] == {}, "a preview saved something"

    field.select_option(cardholder)
    expect(row.get_by_test_id("alias-preview")).to_contain_text(dollars)
    row.get_by_test_id("add-alias").click()
    expect(page.get_by_test_id("alias-saved")).to_contain_text(cardholder, timeout=WAIT_MS)
    expect(page.get_by_test_id("session-status")).to_have_text("Completed", timeout=WAIT_MS)
    assert int(page.get_by_test_id("count-unresolved").inner_text()) < before
    assert api(dev, "GET", "/api/aliases")["aliases"] == {name: cardholder}
    shot(page, "alias-03-saved")

    page.get_by_test_id("alias-undo").click()
    expect(page.get_by_test_id("count-unresolved")).to_have_text(str(before), timeout=WAIT_MS)
    expect(page.get_by_test_id("alias-saved")).to_have_count(0)
    assert api(dev, "GET", "/api/aliases")["aliases"] == {}
    shot(page, "alias-04-undone")


def test_the_aliases_page_searches_edits_deletes_and_undoes(
    dev: str, completed: str, page: Any, month: tuple[Path, dict[str, Any]]
) -> None:
    """From the header's link: the aliases with the session each reached; search narrows the list; an
    edit to a wrong cardholder is previewed as matching nothing before it is saved, and undone; a delete
    is undone; a change offers to reconcile the sessions the alias reached."""
    _, truth = month
    _empty_table(dev)
    name, cardholder = next(iter(truth["aliases"].items()))
    api(dev, "POST", "/api/aliases", {"name": name, "cardholder": cardholder})
    api(dev, "POST", "/api/aliases", {"name": "Bo Bee", "cardholder": "BOBBEE"})
    api(dev, "POST", "/api/aliases", {"name": "Zed Quinn", "cardholder": "ZEDQUINNJR"})
    _reconciled(dev, completed)
    count, dollars = _expected(truth, name)

    page.goto(dev)
    page.get_by_test_id("nav-aliases").click()
    expect(page).to_have_title(re.compile("^Aliases"))
    rows = page.get_by_test_id("alias-row")
    expect(rows).to_have_count(3)
    mine = page.locator(f'[data-testid="alias-row"][data-name="{name}"]')
    expect(mine.get_by_test_id("alias-session")).to_contain_text(f"{count} expense")
    expect(mine.get_by_test_id("alias-session")).to_contain_text(dollars)
    page.get_by_test_id("alias-search").fill("bee")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-name", "BOBEE")
    page.get_by_test_id("alias-search").fill(cardholder.lower())
    expect(rows).to_have_count(1)
    page.get_by_test_id("alias-search").fill("")
    expect(rows).to_have_count(3)
    shot(page, "alias-05-page")

    # Edit: pointed at someone else, the preview says it matches nothing; the second Save saves.
    wrong = next(t["cardholder"] for t in truth["statement"]["transactions"] if t["cardholder"] != cardholder)
    mine.get_by_test_id("alias-edit").click()
    page.get_by_test_id("alias-edit-cardholder").fill(wrong)
    page.get_by_test_id("alias-save").click()
    expect(page.get_by_test_id("alias-warning")).to_contain_text("would match nothing")
    assert api(dev, "GET", "/api/aliases")["aliases"][name] == cardholder, "saved before the second click"
    shot(page, "alias-06-edit-warning")
    page.get_by_test_id("alias-save").click()
    expect(page.locator(f'[data-testid="alias-row"][data-name="{name}"]')).to_have_attribute(
        "data-cardholder", normalise_name(wrong)
    )
    expect(page.get_by_test_id("alias-change")).to_contain_text("Alias changed")
    expect(page.get_by_test_id("alias-reconcile")).to_be_visible()
    page.get_by_test_id("alias-undo").click()
    expect(page.locator(f'[data-testid="alias-row"][data-name="{name}"]')).to_have_attribute(
        "data-cardholder", cardholder
    )
    assert api(dev, "GET", "/api/aliases")["aliases"][name] == cardholder

    # Delete, then Undo.
    page.locator('[data-testid="alias-row"][data-name="ZEDQUINN"]').get_by_test_id("alias-delete").click()
    expect(rows).to_have_count(2)
    assert "ZEDQUINN" not in api(dev, "GET", "/api/aliases")["aliases"]
    shot(page, "alias-07-deleted")
    page.get_by_test_id("alias-undo").click()
    expect(rows).to_have_count(3)
    assert api(dev, "GET", "/api/aliases")["aliases"]["ZEDQUINN"] == "ZEDQUINNJR"

    # A change to the alias that reached the session offers to reconcile it again.
    mine.get_by_test_id("alias-delete").click()
    page.get_by_test_id("alias-reconcile").click()
    expect(page.get_by_test_id("alert")).to_contain_text("reconciled again")
    _empty_table(dev)
    _reconciled(dev, completed)
