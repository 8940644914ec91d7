"""The follow-up of exceptions on the web page, in Debian's headless Chromium against `ccproc dev`: money
totals as the server summed them, people by their readable names, a state and a note set on an
exception that survive a reload, and the chase list with its mailto: messages, CSV and print layout.
Screenshots go to `out/test-artifacts/web/` beside the page's other ones."""

# The fixtures come from test_web_page and are named again as the test's parameters.
# ruff: noqa: F811

from __future__ import annotations

import csv
import io
import re
import urllib.parse
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.test_web_page import (  # noqa: F401 — fixtures, used by name
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    api,
    browser,
    completed,
    dev,
    month,
    no_card_number,
    page,
    playwright_sync,
    shot,
)

expect = playwright_sync.expect


def _dollars(amount: str) -> str:
    value = Decimal(amount)
    return f"{'-' if value < 0 else ''}${abs(value):,.2f}"


def test_follow_up_money_and_chase_list_on_the_page(
    dev: str, completed: str, page: Any, tmp_path: Path
) -> None:
    """Totals per status and employee show the server's sums; the filter names people as the expense
    system spells them; a waived exception with a note keeps both after a reload and moves its amount
    from still-to-chase to waived; the chase list leaves it out, writes each message as a mailto: link,
    downloads as CSV and prints without its buttons."""
    review = api(dev, "GET", f"/api/sessions/{completed}/transactions")
    totals = review["totals"]
    page.goto(f"{dev}/#/sessions/{completed}")
    expect(page.get_by_test_id("session-status")).to_have_text("Completed")

    # Money: what the server summed, per status and per employee.
    expect(page.get_by_test_id("total-all")).to_contain_text(_dollars(totals["all"]["amount"]))
    expect(page.get_by_test_id("total-exceptions")).to_contain_text(_dollars(totals["exceptions"]["amount"]))
    for status, money in totals["statuses"].items():
        row = page.locator(f'[data-testid="total-status"][data-status="{status}"]')
        expect(row).to_contain_text(_dollars(money["amount"]))
        expect(row).to_contain_text(str(money["count"]))
    employees = page.get_by_test_id("total-employee")
    expect(employees).to_have_count(len(totals["employees"]))
    for holder, person in totals["employees"].items():
        row = page.locator(f'[data-testid="total-employee"][data-cardholder="{holder}"]')
        expect(row).to_contain_text(person["name"])
        expect(row).to_contain_text(_dollars(person["all"]["amount"]))

    # Readable names: the filter and the table show the expense system's spelling.
    readable = {h: n for h, n in review["people"].items() if n != h}
    assert readable, "the month must have people whose names read differently for this test to mean anything"
    options = page.get_by_test_id("employee-filter").locator("option").all_inner_texts()
    assert set(readable.values()) <= set(options)
    assert not set(readable) & set(options)

    # A state and a note, saved, shown with when, and kept after a reload.
    rows = page.get_by_test_id("exception-row")
    expect(rows.first).to_be_visible()
    row = rows.first
    number = row.get_attribute("data-transaction")
    net = next(
        t["transaction"]["net"]
        for t in review["transactions"]
        if t["transaction"]["transaction_number"] == number
    )
    expect(row.get_by_test_id("follow-up-who")).to_have_text("Not followed up yet.")
    row.get_by_test_id("follow-up-state").select_option("waived")
    row.get_by_test_id("follow-up-note").fill("Controller approved: client lunch")
    row.get_by_test_id("follow-up-save").click()
    expect(row.get_by_test_id("follow-up-who")).to_contain_text("Set on")
    expect(page.get_by_test_id("total-waived")).to_contain_text(f"{_dollars(net)} (1)")
    to_chase = Decimal(totals["to_chase"]["amount"]) - Decimal(net)
    expect(page.get_by_test_id("total-to-chase")).to_contain_text(_dollars(str(to_chase)))
    shot(page, "followup-01-waived")
    page.reload()
    row = page.locator(f'[data-testid="exception-row"][data-transaction="{number}"]')
    expect(row.get_by_test_id("follow-up-state")).to_have_value("waived")
    expect(row.get_by_test_id("follow-up-note")).to_have_value("Controller approved: client lunch")
    expect(row.get_by_test_id("follow-up-who")).to_contain_text("Set on")

    # The chase list: everyone still owing something, the waived charge left out.
    chase = api(dev, "GET", f"/api/sessions/{completed}/chase")["employees"]
    page.get_by_test_id("chase-link").click()
    expect(page).to_have_url(re.compile(r"/chase$"))
    expect(page.get_by_test_id("chase-person")).to_have_count(len(chase))
    expect(page.locator(f'[data-testid="chase-line"][data-transaction="{number}"]')).to_have_count(0)
    expect(page.get_by_test_id("chase-line")).to_have_count(sum(len(p["lines"]) for p in chase))
    first = chase[0]
    section = page.get_by_test_id("chase-person").first
    expect(section.get_by_role("heading", level=2)).to_contain_text(first["name"])
    expect(section.get_by_test_id("chase-total")).to_have_text(_dollars(first["total"]))
    href = section.get_by_test_id("chase-mailto").get_attribute("href")
    assert href.startswith("mailto:?subject=")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(href).query)
    assert query["subject"] == [first["subject"]]
    body = query["body"][0]
    assert body.startswith(f"Hello {first['name']},")
    for line in first["lines"]:
        assert f"transaction {line['transaction_number']}, card ending {line['card'][-4:]}" in body
    no_card_number(page)
    shot(page, "followup-02-chase")

    with page.expect_download() as download_info:
        page.get_by_test_id("chase-csv").click()
    saved = tmp_path / "chase.csv"
    download_info.value.save_as(saved)
    rows_csv = list(csv.DictReader(io.StringIO(saved.read_bytes().decode("utf-8-sig"), newline="")))
    assert [r["Transaction #"] for r in rows_csv] == [
        x["transaction_number"] for p in chase for x in p["lines"]
    ]

    page.emulate_media(media="print")
    expect(page.get_by_test_id("chase-print")).to_be_hidden()
    expect(page.get_by_test_id("chase-mailto").first).to_be_hidden()
    expect(page.get_by_test_id("chase-line").first).to_be_visible()
    shot(page, "followup-03-chase-print")
