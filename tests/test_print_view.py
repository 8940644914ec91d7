"""The print view of a session's exceptions (`#/sessions/<id>/print`, `?employee=` for one person), in
Debian's Chromium and printed to PDF as finance clerks print it: every exception, grouped by employee,
all nine columns on every A4 landscape page (headings repeated), nothing cut, a sane page count; a
per-employee print holds that employee's rows alone. The PDFs go to `out/test-artifacts/web/`."""

# ruff: noqa: F811
from __future__ import annotations

import io
import math
import re
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from pypdf import PdfReader

from tests.test_web_page import (  # noqa: F401 — fixtures
    ARTIFACTS,
    api,
    browser,
    completed,
    dev,
    month,
    no_card_number,
    page,
    playwright_sync,
)

HEADINGS = ["Date", "Employee", "Card", "Merchant", "Amount", "Status", "Match", "Receipt", "Follow-up"]
expect = playwright_sync.expect


def exceptions_of(dev: str, session: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The session's exceptions (every transaction not Complete) and the whole answer, from the API."""
    data = api(dev, "GET", f"/api/sessions/{session}/transactions")
    return [t for t in data["transactions"] if t["status"] != "Complete"], data


def squash(text: str) -> str:
    """Text without any whitespace: a name wrapped over two lines of a cell reads as one."""
    return re.sub(r"\s+", "", text)


def printed(page: Any, name: str) -> list[str]:
    """Print the page to PDF (A4 landscape, as the print stylesheet asks) and read each page's text."""
    pdf = page.pdf(format="A4", landscape=True, print_background=True, prefer_css_page_size=True)
    (ARTIFACTS / f"{name}.pdf").write_bytes(pdf)
    return [p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages]


def open_print(page: Any, dev: str, session: str, employee: str = "") -> None:
    """Open the print view (of one employee when given) and wait for its table."""
    query = f"?employee={quote(employee, safe='')}" if employee else ""
    page.goto(f"{dev}/#/sessions/{session}/print{query}")
    expect(page.get_by_test_id("print-table")).to_be_visible()


def test_the_print_view_lists_every_exception_grouped_by_employee(
    dev: str, completed: str, page: Any
) -> None:
    """Every exception the API holds is a row, grouped under its employee with a subtotal to the cent;
    cards show as •••• 1234 only; the heading names the session and the day it was printed."""
    exceptions, _ = exceptions_of(dev, completed)
    assert exceptions
    open_print(page, dev, completed)
    rows = page.get_by_test_id("print-row")
    expect(rows).to_have_count(len(exceptions))
    shown = set(rows.evaluate_all("rows => rows.map(r => r.dataset.transaction)"))
    assert shown == {t["transaction"]["transaction_number"] for t in exceptions}
    holders = {t["transaction"]["cardholder"] or "" for t in exceptions}
    groups = page.get_by_test_id("print-group")
    expect(groups).to_have_count(len(holders))
    for i in range(len(holders)):
        group = groups.nth(i)
        holder = group.get_attribute("data-cardholder")
        mine = [t for t in exceptions if (t["transaction"]["cardholder"] or "") == holder]
        total = sum((Decimal(t["transaction"]["net"]) for t in mine), Decimal(0))
        expect(group.get_by_test_id("print-row")).to_have_count(len(mine))
        expect(group.get_by_test_id("print-subtotal")).to_contain_text(f"${abs(total):,.2f}")
    name = api(dev, "GET", f"/api/sessions/{completed}")["name"] or "Session of"
    expect(page.get_by_test_id("print-title")).to_contain_text(name)
    expect(page.get_by_test_id("print-meta")).to_contain_text("Printed ")
    first = exceptions[0]["transaction"]
    row = page.locator(f'[data-testid="print-row"][data-transaction="{first["transaction_number"]}"]')
    expect(row).to_contain_text(f"•••• {first['card_last4']}")
    no_card_number(page)


def test_choosing_an_employee_narrows_the_print_view_and_its_address(
    dev: str, completed: str, page: Any
) -> None:
    """Choosing an employee keeps only their exceptions and puts them in the address, which a reload
    (or a bookmark) prints again; "All employees" brings every exception back."""
    exceptions, _ = exceptions_of(dev, completed)
    holder = exceptions[0]["transaction"]["cardholder"]
    mine = {
        t["transaction"]["transaction_number"] for t in exceptions if t["transaction"]["cardholder"] == holder
    }
    open_print(page, dev, completed)
    page.get_by_test_id("print-employee-filter").select_option(holder)
    rows = page.get_by_test_id("print-row")
    expect(rows).to_have_count(len(mine))
    assert set(rows.evaluate_all("rows => rows.map(r => r.dataset.transaction)")) == mine
    assert f"employee={quote(holder, safe='')}" in page.url.replace("+", "%20")
    page.reload()
    expect(page.get_by_test_id("print-row")).to_have_count(len(mine))
    expect(page.get_by_test_id("print-employee-filter")).to_have_value(holder)
    page.get_by_test_id("print-employee-filter").select_option("")
    expect(rows).to_have_count(len(exceptions))


def test_the_printed_pdf_carries_every_column_and_exception_uncut(
    dev: str, completed: str, page: Any
) -> None:
    """Printed to PDF: every page carries all nine headings (the heading row repeats), every exception's
    transaction number is there, the longest merchant name is there in full (wrapped, not cut), and
    the page count stays near one page per fifteen rows."""
    exceptions, _ = exceptions_of(dev, completed)
    open_print(page, dev, completed)
    pages = printed(page, "print-all-exceptions")
    for number, text in enumerate(pages, start=1):
        for heading in HEADINGS:
            assert heading in text, f"page {number} of {len(pages)} lacks the {heading!r} heading"
    everything = squash("".join(pages))
    for item in exceptions:
        assert f"No.{item['transaction']['transaction_number']}" in everything, item["transaction"]
    longest = max((t["transaction"]["merchant"] for t in exceptions), key=len)
    assert squash(longest) in everything, longest
    assert len(pages) <= math.ceil(len(exceptions) / 15) + 1, f"{len(pages)} pages for {len(exceptions)} rows"


def test_a_printed_employee_holds_only_their_rows(dev: str, completed: str, page: Any) -> None:
    """The print of one employee (as the chase list links it) holds every one of their exceptions and
    none of anybody else's."""
    exceptions, _ = exceptions_of(dev, completed)
    holder = max(
        {t["transaction"]["cardholder"] for t in exceptions},
        key=lambda h: sum(t["transaction"]["cardholder"] == h for t in exceptions),
    )
    open_print(page, dev, completed, holder)
    text = squash("".join(printed(page, "print-one-employee")))
    for item in exceptions:
        number = f"No.{item['transaction']['transaction_number']}"
        assert (number in text) == (item["transaction"]["cardholder"] == holder), item["transaction"]


def test_the_session_page_and_the_chase_list_link_to_the_print_view(
    dev: str, completed: str, page: Any
) -> None:
    """The session's downloads offer "Print exceptions" for all; the chase list offers a print per person,
    which opens that person's exceptions alone."""
    page.goto(f"{dev}/#/sessions/{completed}")
    link = page.get_by_test_id("print-link")
    expect(link).to_have_text("Print exceptions")
    link.click()
    expect(page.get_by_test_id("print-table")).to_be_visible()
    page.goto(f"{dev}/#/sessions/{completed}/chase")
    person = page.get_by_test_id("chase-person").first
    holder = person.get_attribute("data-cardholder")
    person.get_by_test_id("print-employee").click()
    expect(page.get_by_test_id("print-employee-filter")).to_have_value(holder)
    cardholders = page.get_by_test_id("print-group").evaluate_all("gs => gs.map(g => g.dataset.cardholder)")
    assert cardholders == [holder]
    page.get_by_test_id("print-back").click()
    expect(page.get_by_test_id("session-status")).to_have_attribute("data-status", "completed")
