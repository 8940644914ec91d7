"""The session page's result tables in Debian's headless Chromium against `ccproc dev`: pages of rows
with counts that say what is shown, one search box per table (merchant, amount, employee), a sort on
every column both ways (checked against the API's data), the heading that follows "Show all", the jump
bar, the receipt viewer, the match said in words, and cards at phone width."""

# The fixtures come from test_web_page and are named again as the test's parameters.
# ruff: noqa: F811

from __future__ import annotations

import re
import urllib.parse
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.test_web_page import (  # noqa: F401 — fixtures, used by name
    TIMEOUT_MS,
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
STATUSES = ["Missing Both", "Missing Receipt", "Missing Coding", "Complete"]
FOLLOW_UP_STATES = ["open", "receipt requested", "waived", "resolved outside"]
DASH = "\N{EN DASH}"  # between the first and last row shown
CENT = Decimal("0.01")
ROW_NUMBERS = "rows => rows.map(r => r.dataset.transaction)"


def review(dev: str, session_id: str) -> dict[str, Any]:
    """The session's results as the API gives them."""
    return api(dev, "GET", f"/api/sessions/{session_id}/transactions")


def by_number(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The session's transactions by transaction number."""
    return {t["transaction"]["transaction_number"]: t for t in data["transactions"]}


def open_session(page: Any, dev: str, session_id: str) -> None:
    """The session page with its exceptions on screen."""
    page.goto(f"{dev}/#/sessions/{session_id}")
    expect(page.get_by_test_id("exceptions-table")).to_be_visible()
    expect(page.get_by_test_id("shown-note").first).to_contain_text("Showing")


def show_everything(page: Any) -> None:
    """Every transaction, 200 to a page (a small month's all fit)."""
    note = page.get_by_test_id("shown-note").first
    page.get_by_test_id("show-all").check()
    expect(note).to_contain_text("transactions")
    page.get_by_test_id("page-size").first.select_option("200")
    expect(page.get_by_test_id("page-next").first).to_be_disabled()


def shown_numbers(page: Any) -> list[str]:
    """The transaction numbers of the exception rows on screen, in order."""
    return page.get_by_test_id("exception-row").evaluate_all(ROW_NUMBERS)


def _amounts(net: str) -> str:
    return f"{abs(Decimal(net)):.2f}"


def _searched(item: dict[str, Any], people: dict[str, str], query: str) -> bool:
    """The page's search rule, written again: every term is in the merchant, place or employee's names,
    or starts the amount ("97.9" → 97.98; "$1,234.50" → 1234.50)."""
    t, x = item["transaction"], item.get("expense") or {}
    words = " ".join(
        str(v or "")
        for v in (
            t["merchant"],
            t.get("city"),
            people.get(t["cardholder"], t["cardholder"]),
            t["cardholder"],
            t.get("employee_id"),
            x.get("merchant"),
            x.get("employee_name"),
        )
    ).lower()
    for term in query.lower().split():
        amount = re.fullmatch(r"[-\N{MINUS SIGN}]?\$?([\d,]*\.?\d*)", term)
        number = amount.group(1).replace(",", "") if amount and re.search(r"\d", amount.group(1)) else None
        if term not in words and not (number is not None and _amounts(t["net"]).startswith(number)):
            return False
    return True


def test_the_rows_come_a_page_at_a_time_and_the_counts_say_what_is_shown(
    dev: str, completed: str, page: Any
) -> None:
    """The heading counts the exceptions, or with "Show all" every transaction; at 25 a page the pager
    walks through all of them, each row once, the note saying which rows of how many are shown."""
    data = review(dev, completed)
    exceptions = [t for t in data["transactions"] if t["status"] != "Complete"]
    total = len(data["transactions"])
    assert total > 50, "the month must fill more than two pages of 25"
    open_session(page, dev, completed)
    heading = page.locator("#exceptions-heading")
    expect(heading).to_have_text(re.compile(rf"^Exceptions\s*{len(exceptions)}$"))
    expect(page.get_by_test_id("count-exceptions")).to_have_text(str(len(exceptions)))
    first = min(len(exceptions), 50)
    note = page.get_by_test_id("shown-note").first
    expect(note).to_have_text(
        f"Showing 1{DASH}{first} of {len(exceptions)} exceptions, sorted by date ascending."
    )
    expect(page.get_by_test_id("exception-row")).to_have_count(first)

    page.get_by_test_id("show-all").check()
    expect(heading).to_have_text(re.compile(rf"^All transactions\s*{total}$"))
    page.get_by_test_id("page-size").first.select_option("25")
    seen: list[str] = []
    for start in range(0, total, 25):
        end = min(start + 25, total)
        expect(note).to_have_text(
            f"Showing {start + 1}{DASH}{end} of {total} transactions, sorted by date ascending."
        )
        expect(page.get_by_test_id("exception-row")).to_have_count(end - start)
        seen += shown_numbers(page)
        if end < total:
            page.get_by_test_id("page-next").first.click()
    expect(page.get_by_test_id("page-next").first).to_be_disabled()
    assert sorted(seen) == sorted(by_number(data)), "every transaction once, over the pages"
    page.get_by_test_id("page-prev").first.click()
    last_start = (total - 1) // 25 * 25
    expect(note).to_have_text(
        f"Showing {last_start - 24}{DASH}{last_start} of {total} transactions, sorted by date ascending."
    )
    shot(page, "tables-01-paged")


@pytest.mark.parametrize("kind", ["merchant", "amount", "dollars", "amount prefix", "employee"])
def test_the_search_finds_rows_by_merchant_amount_and_employee(
    dev: str, completed: str, page: Any, kind: str
) -> None:
    """A merchant, an amount (as "97.98", "$1,234.50" or its first digits "97.9") or an employee's name
    typed in the table's search box leaves exactly the rows the API's data says match, the note saying
    how many of how many."""
    data = review(dev, completed)
    items = data["transactions"]
    people = data["people"]
    target = max(items, key=lambda t: abs(Decimal(t["transaction"]["net"])))
    net = abs(Decimal(target["transaction"]["net"]))
    query = {
        "merchant": target["transaction"]["merchant"].split()[0],
        "amount": f"{net:.2f}",
        "dollars": f"${net:,.2f}",
        "amount prefix": f"{net:.2f}"[:-1],
        "employee": people.get(target["transaction"]["cardholder"], target["transaction"]["cardholder"]),
    }[kind]
    expected = [t["transaction"]["transaction_number"] for t in items if _searched(t, people, query)]
    assert target["transaction"]["transaction_number"] in expected
    assert len(expected) < len(items), f"{query!r} should narrow the table"
    open_session(page, dev, completed)
    show_everything(page)
    section = page.locator("section", has=page.get_by_test_id("exceptions-table"))
    section.get_by_test_id("table-search").fill(query)
    note = page.get_by_test_id("shown-note").first
    expect(note).to_have_text(
        f"Showing 1{DASH}{len(expected)} of {len(expected)} transaction{'s' if len(expected) > 1 else ''}"
        f" that match ({len(items)} in all){', sorted by date ascending' if len(expected) > 1 else ''}."
    )
    assert sorted(shown_numbers(page)) == sorted(expected)


def _sort_key(column: str, item: dict[str, Any], data: dict[str, Any]) -> Any:
    """What the column shows of `item`, as it sorts (from the API's data)."""
    t = item["transaction"]
    follow_up = data["follow_up"].get(t["transaction_number"], {}).get("state", "open")
    image = item.get("receipt_image")
    if image is None:
        image = not re.search("Receipt|Both", item["status"])
    evidence = item.get("evidence")
    return {
        "date": f"{t['transaction_date']} {t['transaction_number']}",
        "employee": data["people"].get(t["cardholder"], t["cardholder"]),
        "card": t.get("card_last4") or "",
        "merchant": t["merchant"],
        "amount": float(t["net"]),
        "status": STATUSES.index(item["status"]),
        "match": item.get("match_confidence") or (evidence["score"] if evidence else -1),
        "receipt": (2 if image else 1) if item.get("receipt_pdf") else 0,
        "follow-up": FOLLOW_UP_STATES.index(follow_up),
    }[column]


IN_ORDER = """(keys) => {
    const collator = new Intl.Collator(undefined, {numeric: true, sensitivity: "base"});
    const cmp = (a, b) => typeof a === "number" ? a - b : collator.compare(a, b);
    return keys.findIndex((k, i) => i > 0 && cmp(keys[i - 1], k) > 0);
}"""


def test_every_column_sorts_both_ways(dev: str, completed: str, page: Any) -> None:
    """Each column heading's button sorts every transaction by what the column shows, ascending then
    descending, the heading saying which (aria-sort), checked against the API's data."""
    data = review(dev, completed)
    items = by_number(data)
    open_session(page, dev, completed)
    show_everything(page)
    seen: list[tuple[str, str | None]] = []
    for column in (
        "date",
        "employee",
        "card",
        "merchant",
        "amount",
        "status",
        "match",
        "receipt",
        "follow-up",
    ):
        button = page.get_by_test_id(f"sort-{column}")
        heading = button.locator("xpath=..")
        for _ in range(2):  # the table starts sorted by date: its first click sorts it descending
            button.click()
            expect(heading).to_have_attribute("aria-sort", re.compile("ascending|descending"))
            direction = heading.get_attribute("aria-sort")
            expect(page.get_by_test_id("shown-note").first).to_contain_text(f"sorted by {column} {direction}")
            seen.append((column, direction))
            keys = [_sort_key(column, items[n], data) for n in shown_numbers(page)]
            assert len(keys) == len(items)
            if direction == "descending":
                keys.reverse()
            wrong = page.evaluate(IN_ORDER, keys)
            assert wrong == -1, f"{column} {direction}: {keys[wrong - 1]!r} before {keys[wrong]!r}"
    assert len(set(seen)) == 18, "each column sorted both ways"
    unmatched = page.get_by_test_id("unmatched-table")
    expected = sorted(Decimal(x["amount"]).quantize(CENT) for x in data["unmatched_expenses"])
    assert expected, "the month has unmatched expenses"
    for order in (expected, expected[::-1]):
        page.get_by_test_id("unmatched-sort-amount").click()
        cells = unmatched.locator("tbody tr td:nth-child(4)").all_inner_texts()
        assert [Decimal(c.replace(",", "")) for c in cells] == order


def test_the_jump_bar_takes_focus_to_each_section(dev: str, completed: str, page: Any) -> None:
    """Each link of the jump bar, followed with the keyboard, puts focus on its section's heading (and
    the page's route stays where it is)."""
    open_session(page, dev, completed)
    bar = page.get_by_test_id("jump-bar")
    expect(bar).to_have_attribute("aria-label", "Jump to")
    links = bar.get_by_role("link")
    names = links.all_inner_texts()
    for expected in ("Money", "Exceptions", "Unmatched expenses", "Unresolved names"):
        assert expected in names, names
    url = page.url
    for i, name in enumerate(names):
        target = links.nth(i).get_attribute("href")
        assert target
        assert target.startswith("#")
        links.nth(i).focus()
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == target[1:], name
        assert page.url == url


def test_the_alias_field_is_a_few_presses_from_the_exceptions(dev: str, completed: str, page: Any) -> None:
    """From the exceptions table, Shift+Tab back to the jump bar, Enter on "Unresolved names" and Tab
    reach the first alias field in fewer than 40 presses."""
    open_session(page, dev, completed)
    expect(page.get_by_test_id("alias-cardholder").first).to_be_attached()
    page.get_by_test_id("exceptions-table").focus()
    in_bar = (
        "() => document.activeElement.closest('[data-testid=jump-bar]')"
        " ? document.activeElement.textContent : ''"
    )
    presses = 0
    while "Unresolved" not in page.evaluate(in_bar) and presses < 40:
        page.keyboard.press("Shift+Tab")
        presses += 1
    page.keyboard.press("Enter")
    presses += 1
    while page.evaluate("document.activeElement.dataset.testid || ''") != "alias-cardholder" and presses < 60:
        page.keyboard.press("Tab")
        presses += 1
    assert presses < 40, f"{presses} presses from the exceptions table to the alias field"


def test_a_receipt_opens_beside_its_transaction_and_escape_closes_it(
    dev: str, completed: str, page: Any
) -> None:
    """The Receipt button opens a viewer under its transaction, named for the merchant, date and amount,
    framing the receipt's inline URL, with a download; focus goes to the viewer, and Escape closes it
    and puts focus back on the button (so does Close)."""
    data = by_number(review(dev, completed))
    open_session(page, dev, completed)
    show_everything(page)
    button = page.get_by_test_id("receipt-view").first
    number = button.locator("xpath=ancestor::tr").get_attribute("data-transaction")
    item = data[number]
    name = item["receipt_pdf"]
    assert name
    button.click()
    viewer = page.get_by_test_id("receipt-viewer")
    expect(viewer).to_be_visible()
    expect(viewer.get_by_role("heading")).to_have_text(
        re.compile(rf"^Receipt for {re.escape(item['transaction']['merchant'])}, ")
    )
    expect(button).to_have_attribute("aria-expanded", "true")
    frame = viewer.get_by_test_id("receipt-frame")
    src = frame.get_attribute("src")
    assert src == f"/api/sessions/{completed}/reports/receipts/{urllib.parse.quote(name, safe='')}?inline=1"
    assert frame.get_attribute("title")
    download = viewer.get_by_test_id("receipt-download")
    assert download.get_attribute("href") == src.removesuffix("?inline=1")
    assert page.evaluate("document.activeElement.dataset.testid") == "receipt-viewer"
    # It sits right under its transaction.
    assert (
        viewer.locator("xpath=ancestor::tr/preceding-sibling::tr[1]").get_attribute("data-transaction")
        == number
    )
    shot(page, "tables-02-receipt")
    page.keyboard.press("Escape")
    expect(viewer).to_have_count(0)
    assert page.evaluate("document.activeElement.dataset.testid") == "receipt-view"
    expect(button).to_have_attribute("aria-expanded", "false")
    button.click()
    page.get_by_test_id("receipt-close").click()
    expect(viewer).to_have_count(0)
    assert page.evaluate("document.activeElement.dataset.testid") == "receipt-view"


def test_a_row_with_only_the_expense_form_says_so(dev: str, completed: str, page: Any) -> None:
    """A transaction whose PDF holds the expense form and no receipt image says "Expense form, no
    receipt image" and offers to view the form; no Receipt button claims an image."""
    data = review(dev, completed)
    if not any("receipt_image" in t for t in data["transactions"]):
        pytest.skip("the server does not send `receipt_image` on /transactions yet (another change adds it)")
    forms = [t for t in data["transactions"] if t.get("receipt_pdf") and not t["receipt_image"]]
    images = [t for t in data["transactions"] if t.get("receipt_pdf") and t["receipt_image"]]
    assert forms, "the month must have a matched expense without a receipt image"
    open_session(page, dev, completed)
    show_everything(page)
    for item in forms:
        row = page.locator(
            f'[data-testid="exception-row"][data-transaction="{item["transaction"]["transaction_number"]}"]'
        )
        expect(row).to_contain_text("Expense form, no receipt image")
        expect(row.get_by_test_id("expense-form-view")).to_have_text("View expense form")
        expect(row.get_by_test_id("receipt-view")).to_have_count(0)
    expect(page.get_by_test_id("receipt-view")).to_have_count(len(images))
    page.get_by_test_id("expense-form-view").first.click()
    expect(page.get_by_test_id("receipt-viewer").get_by_role("heading")).to_contain_text("Expense form for ")


def test_the_match_is_said_in_words(dev: str, completed: str, page: Any) -> None:
    """A matched row's evidence reads as words (the server's `match_words` when it sends them), its
    details say the expense, employee, amount, day and merchant in words, never a raw score, a window
    or an upper-case comparison name."""
    data = by_number(review(dev, completed))
    open_session(page, dev, completed)
    show_everything(page)
    evidence = page.get_by_test_id("evidence")
    assert evidence.count() > 0
    for i in range(evidence.count()):
        details = evidence.nth(i)
        number = details.locator("xpath=ancestor::tr").get_attribute("data-transaction")
        item = data[number]
        summary = details.locator("summary").inner_text()
        assert summary == (item.get("match_words") or summary)
        assert re.match(r"^(Strong|Likely|Weak|Possible)? ?[Mm]atch", summary), summary
        details.locator("summary").click()
        text = details.inner_text()
        for fact in ("Expense", "Employee", "Expense amount", "Expense date", "Merchant"):
            assert fact in text, text
        assert f"{abs(Decimal(item['evidence']['amount'])):,.2f}" in text
        if item.get("match_confidence") is not None:
            assert f"Confidence\n{item['match_confidence']} out of 100" in text or (
                f"{item['match_confidence']} out of 100" in text
            )
        for raw in ("score", "Score", "±", "window", "Compared as", "Rules"):
            assert raw not in text, f"{raw!r} in {text!r}"


def test_at_phone_width_each_row_is_a_card(browser: Any, dev: str, completed: str) -> None:
    """At 375 px the exceptions, every transaction and the unmatched expenses are cards whose cells name
    their column, an open receipt included, and nothing is wider than the screen."""
    context = browser.new_context(viewport={"width": 375, "height": 812})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    fits = "document.documentElement.scrollWidth"
    label = "(td) => getComputedStyle(td, '::before').content"
    try:
        open_session(page, dev, completed)
        assert page.evaluate(fits) <= 375
        row = page.get_by_test_id("exception-row").first
        assert row.locator("td").first.evaluate(label) == '"Date"'
        assert row.locator("td").nth(4).evaluate(label) == '"Amount"'
        assert page.get_by_test_id("unmatched-row").first.locator("td").nth(2).evaluate(label) == '"Merchant"'
        show_everything(page)
        assert page.evaluate(fits) <= 375
        page.get_by_test_id("receipt-view").first.click()
        expect(page.get_by_test_id("receipt-viewer")).to_be_visible()
        assert page.evaluate(fits) <= 375
        shot(page, "tables-03-phone")
    finally:
        context.close()


def test_the_tables_keep_their_view_when_an_alias_brings_new_results(
    dev: str, completed: str, month: tuple[Path, dict[str, Any]], page: Any
) -> None:
    """Show all, 25 a page, sorted by amount descending, on page 2, with a search in the unmatched
    expenses: an alias reconciles the session again and the new tables open the same way."""
    _, truth = month
    open_session(page, dev, completed)
    note = page.get_by_test_id("shown-note").first
    page.get_by_test_id("show-all").check()
    page.get_by_test_id("page-size").first.select_option("25")
    amount = page.get_by_test_id("sort-amount")
    amount.click()
    amount.click()
    expect(amount.locator("xpath=..")).to_have_attribute("aria-sort", "descending")
    page.get_by_test_id("page-next").first.click()
    expect(note).to_contain_text(f"Showing 26{DASH}50 of")
    shown = note.inner_text()
    unmatched_search = page.locator("section", has=page.get_by_test_id("unmatched-table")).get_by_test_id(
        "table-search"
    )
    unmatched_search.fill("zz-nothing")
    expect(page.get_by_test_id("unmatched-row")).to_have_count(0)

    unresolved = int(page.get_by_test_id("count-unresolved").inner_text())
    name, cardholder = next(iter(truth["aliases"].items()))
    row = page.locator(f'[data-testid="unresolved-row"][data-normalized="{name}"]')
    field = row.get_by_test_id("alias-cardholder")
    if field.evaluate("el => el.tagName") == "SELECT":
        field.select_option(cardholder)
    else:
        field.fill(cardholder)
    row.get_by_test_id("add-alias").click()
    expect(page.get_by_test_id("count-unresolved")).not_to_have_text(str(unresolved), timeout=120_000)

    expect(page.get_by_test_id("show-all")).to_be_checked()
    expect(page.get_by_test_id("page-size").first).to_have_value("25")
    expect(page.get_by_test_id("sort-amount").locator("xpath=..")).to_have_attribute(
        "aria-sort", "descending"
    )
    expect(note).to_have_text(shown)
    expect(unmatched_search).to_have_value("zz-nothing")
    expect(page.get_by_test_id("unmatched-row")).to_have_count(0)
