"""The page's guard rails and the newer receipts report, in Debian's headless Chromium against
`ccproc dev` (the fixtures of `tests/test_web_page.py`, a stack of this module's own).

A month is submitted with an older receipts report lacking two matched expenses. On its page a newer
report (those two in, another one out) is uploaded; once reconciled again the page says what changed,
naming exactly those three transactions. Then the statement alone is chosen again on the start page:
the page warns of one file, offers the session that already holds it, uploads it anyway when asked,
and the completed session says every transaction is Missing Both.
"""

from __future__ import annotations

import re
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.test_changes import NOT_MISSING_BOTH, _without
from tests.test_web_page import BODY_LIMIT, CCPROC, api, browser, dev, month, page, playwright_sync, shot

__all__ = ["browser", "dev", "month", "page"]  # fixtures, used by name

expect = playwright_sync.expect


@pytest.fixture(scope="module")
def older(
    dev: str, month: tuple[Path, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """The month submitted with `ccproc submit` (aliases in first), its receipts report lacking two
    matched expenses; a newer report with those two and without a third; which transactions they are."""
    folder, truth = month
    receipts = {r["expense_id"]: r for r in truth["receipts"]["receipts"]}
    amounts = Counter(r["amount"] for r in receipts.values())
    chosen = [
        eid
        for eid, number in truth["matches"].items()
        if number is not None
        and truth["statuses"][number] in NOT_MISSING_BOTH
        and amounts[receipts[eid]["amount"]] == 1
    ][:3]
    assert len(chosen) == 3
    work = tmp_path_factory.mktemp("newer")
    pages = lambda ids: {p for eid in ids for p in receipts[eid]["pages"]}  # noqa: E731
    older_pdf = _without(folder / "receipts.pdf", work / "receipts-older.pdf", pages(chosen[:2]))
    newer_pdf = _without(folder / "receipts.pdf", work / "receipts-newer.pdf", pages(chosen[2:]))
    for name, cardholder in truth["aliases"].items():
        api(dev, "POST", "/api/aliases", {"name": name, "cardholder": cardholder})
    done = subprocess.run(
        [CCPROC, "submit", str(folder / "statement.pdf"), str(older_pdf), "--out", str(work / "out"),
         "--api", dev, "--quiet", "--direct-max", str(BODY_LIMIT)],
        capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    (session,) = api(dev, "GET", "/api/sessions")["sessions"]
    return {
        "id": session["id"],
        "name": session["name"],
        "newer": newer_pdf,
        "statement": folder / "statement.pdf",
        "added": {truth["matches"][eid]: truth["statuses"][truth["matches"][eid]] for eid in chosen[:2]},
        "removed": truth["matches"][chosen[2]],
    }


def test_a_newer_receipts_report_shows_what_changed(dev: str, page: Any, older: dict[str, Any]) -> None:
    """On the completed session, the newer report is uploaded from the page; once reconciled again
    the page lists the two transactions whose expenses came in and the one whose expense went."""
    page.goto(f"{dev}/#/sessions/{older['id']}")
    expect(page.get_by_test_id("session-status")).to_have_text("Completed")
    expect(page.get_by_test_id("changes")).to_be_hidden()
    card = page.get_by_test_id("newer-receipts")
    expect(card).to_be_visible()
    expect(card).to_contain_text("Upload a newer receipts report")
    card.get_by_test_id("newer-receipts-input").set_input_files(str(older["newer"]))
    changes = page.get_by_test_id("changes")
    expect(changes).to_be_visible(timeout=120_000)
    expect(page.get_by_test_id("session-status")).to_have_text("Completed")
    gained = changes.locator('[data-testid="change-row"][data-kind="became_complete"],'
                             '[data-testid="change-row"][data-kind="improved"]')  # fmt: skip
    expect(gained).to_have_count(len(older["added"]))
    numbers = {gained.nth(i).get_attribute("data-number") for i in range(gained.count())}
    assert numbers == set(older["added"])
    worse = changes.locator('[data-testid="change-row"][data-kind="worse"]')
    expect(worse).to_have_count(1)
    assert worse.first.get_attribute("data-number") == older["removed"]
    expect(changes.get_by_test_id("change-worse")).to_have_attribute("data-count", "1")
    expect(changes.get_by_test_id("change-counts")).to_contain_text("$")
    shot(page, "newer-01-what-changed")


def test_one_file_is_warned_of_and_a_twin_is_offered(dev: str, page: Any, older: dict[str, Any]) -> None:
    """The statement alone: the page warns before uploading; the server finds it in the submitted
    session and the page offers that session; uploaded anyway, the completed session warns that
    every transaction is Missing Both."""
    page.goto(dev)
    page.get_by_test_id("file-input").set_input_files(str(older["statement"]))
    expect(page.get_by_test_id("start-upload")).to_be_enabled()
    page.get_by_test_id("start-upload").click()
    warning = page.get_by_test_id("one-file-warning")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("Missing Both")
    shot(page, "newer-02-one-file-warning")
    warning.get_by_test_id("one-file-proceed").click()

    offer = page.get_by_test_id("duplicate-offer")
    expect(offer).to_be_visible()
    said = f"already in your session “{older['name']}”" if older["name"] else "already in your session"
    expect(offer).to_contain_text(said)
    expect(offer.get_by_test_id("open-twin")).to_have_attribute("href", f"#/sessions/{older['id']}")
    shot(page, "newer-03-duplicate-offer")
    offer.get_by_test_id("upload-anyway").click()

    expect(page).to_have_url(re.compile(r"#/sessions/[0-9a-f]{32}$"))
    assert older["id"] not in page.url
    expect(page.get_by_test_id("session-status")).to_have_text("Completed", timeout=120_000)
    expect(page.get_by_test_id("session-warning")).to_have_text(
        "No receipts report was uploaded: every transaction is Missing Both."
    )
    shot(page, "newer-04-no-receipts-warning")
