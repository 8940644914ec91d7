"""The session and start pages in plain words, in Debian's Chromium against `ccproc dev`: status badges
as the workbook writes them (the raw status kept in `data-status`), downloads named for what they are
for, a failure told as a sentence with its technical detail one click away, a message area that agrees
with the files, a delete question that keeps the session's name in view, and every view fitting a
375 px phone without sideways scrolling."""

# ruff: noqa: F811
from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any

import pytest
from reportlab.pdfgen import canvas

from tests.test_web_page import (  # noqa: F401 — fixtures
    TIMEOUT_MS,
    api,
    browser,
    completed,
    dev,
    month,
    own_copies,
    page,
    playwright_sync,
    shot,
    watch_policy,
)

expect = playwright_sync.expect
DOWNLOADS = {
    "exceptions": "Exceptions workbook (Excel)",
    "pvault": "pVault import file (CSV)",
    "transactions": "All transactions (CSV spreadsheet)",
    "receipts": "Receipt PDFs, one per transaction (ZIP)",
    "reconciliation": "Full reconciliation data for other systems (JSON)",
}
READING = "Reading them now"


@pytest.fixture
def phone(browser: Any) -> Any:
    """A fresh page at 375x812 (a phone) that fails the test on any script error or policy refusal."""
    context = browser.new_context(viewport={"width": 375, "height": 812})
    violations = watch_policy(context)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, errors
    assert not violations, violations


def neither_report(tmp_path: Path) -> Path:
    """A real PDF that is neither a card statement nor a receipts report (a meeting's minutes)."""
    other = tmp_path / "minutes.pdf"
    drawing = canvas.Canvas(str(other))
    drawing.drawString(72, 720, "Minutes of the monthly budget meeting")
    drawing.drawString(72, 700, f"Meeting {secrets.token_hex(4)}")
    drawing.save()
    return other


def no_sideways_scroll(page: Any, width: int) -> None:
    """Nothing on the page is wider than the screen."""
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= width, f"the page is {wide}px wide on a {width}px screen"


def test_statuses_read_as_in_the_workbook_and_keep_the_raw_value(dev: str, completed: str, page: Any) -> None:
    """The session's badge says "Completed" (its `data-status` "completed"), the list says the same, the
    steps and the files' states are in a clerk's words."""
    page.goto(f"{dev}/#/sessions/{completed}")
    status = page.get_by_test_id("session-status")
    expect(status).to_have_text("Completed")
    expect(status).to_have_attribute("data-status", "completed")
    expect(page.get_by_test_id("phase-extraction")).to_contain_text("Read the files")
    expect(page.get_by_test_id("phase-reconciliation")).to_contain_text("Match receipts")
    for row in page.get_by_test_id("file-row").all():
        expect(row).to_contain_text("Read")
        assert "extracted" not in row.inner_text()
    page.goto(dev)
    row = page.locator(f'[data-testid="session-row"][data-id="{completed}"]')
    expect(row.locator(".badge")).to_have_text("Completed")
    expect(row.locator(".badge")).to_have_attribute("data-status", "completed")


def test_downloads_are_named_for_what_they_are_for(dev: str, completed: str, page: Any) -> None:
    """Each report is named for its use; the JSON for other systems comes last, as a plain link, not a
    button; the print view sits with the downloads."""
    page.goto(f"{dev}/#/sessions/{completed}")
    expect(page.get_by_test_id("downloads")).to_be_visible()
    for name, label in DOWNLOADS.items():
        expect(page.get_by_test_id(f"download-{name}")).to_have_text(label)
    order = page.evaluate(
        """() => [...document.querySelector('[data-testid="downloads"]').closest("section")
            .querySelectorAll('[data-testid^="download-"]')].map(a => a.dataset.testid.slice(9))"""
    )
    assert order[-1] == "reconciliation", order
    json_link = page.get_by_test_id("download-reconciliation")
    assert "btn" not in (json_link.get_attribute("class") or "")
    expect(page.get_by_test_id("print-link")).to_have_text("Print exceptions")


def test_a_file_neither_report_is_a_sentence_and_the_message_says_so(
    dev: str, page: Any, tmp_path: Path
) -> None:
    """Regression for "Files uploaded. Reading them now" standing above a file that could not be read:
    once it fails, the message area names the file instead; its row gives a sentence to act on (the
    server's `problem` when it sends one) with the technical error behind "Technical detail"."""
    page.goto(dev)
    page.get_by_test_id("file-input").set_input_files(str(neither_report(tmp_path)))
    page.get_by_test_id("start-upload").click()
    page.get_by_test_id("one-file-proceed").click()
    expect(page.get_by_test_id("session-status")).to_have_text("Failed", timeout=120_000)
    alert = page.get_by_test_id("alert")
    expect(alert).to_contain_text("“minutes.pdf” could not be read")
    expect(alert).not_to_contain_text(READING)
    session_id = page.url.rsplit("/", 1)[-1]
    (record,) = api(dev, "GET", f"/api/sessions/{session_id}")["files"]
    row = page.locator('[data-testid="file-row"][data-name="minutes.pdf"]')
    expect(row).to_contain_text("Could not be read")
    error = row.get_by_test_id("file-error")
    if record.get("problem"):
        expect(error).not_to_contain_text("expected a")
        detail = row.get_by_test_id("file-error-detail")
        expect(detail.locator("summary")).to_have_text("Technical detail")
        detail.locator("summary").click()
        expect(detail).to_contain_text(record["error"])
    else:  # a server without `problem`: its error, as a sentence
        expect(error).to_contain_text("Unrecognised document: expected a")
    shot(page, "20-neither-report-message")


def test_the_message_follows_a_month_to_completion(
    dev: str, page: Any, month: tuple[Path, Any], tmp_path: Path
) -> None:
    """After the upload the message says the files are being read; once the session completes it says the
    reconciliation is ready, and "Reading them now" is gone."""
    folder, _ = month
    page.goto(dev)
    page.get_by_test_id("file-input").set_input_files(own_copies(folder, tmp_path))
    page.get_by_test_id("start-upload").click()
    expect(page.get_by_test_id("session-status")).to_have_text("Completed", timeout=180_000)
    alert = page.get_by_test_id("alert")
    expect(alert).to_contain_text("The reconciliation is ready")
    expect(alert).not_to_contain_text(READING)


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (375, 812)])
def test_the_delete_question_keeps_the_name_in_view(browser: Any, dev: str, width: int, height: int) -> None:
    """Regression for the delete question that scrolled the list sideways and cut the name off: the
    question names the session, the row's name stays whole on screen and the table does not widen;
    Cancel keeps the session."""
    tag = secrets.token_hex(3)
    name = f"March 2026 company cards, second run {tag}"
    made = api(dev, "POST", "/api/sessions", {"name": name})
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        page.goto(dev)
        page.get_by_test_id("text-filter").fill(tag)
        row = page.locator(f'[data-testid="session-row"][data-id="{made["id"]}"]')
        expect(row).to_have_count(1)
        row.get_by_test_id("delete-button").click()
        question = page.get_by_test_id("delete-question")
        expect(question).to_be_visible()
        expect(question).to_have_text(f"Delete “{name}” and its reports?")
        link = row.locator(".name-cell a")
        box = link.bounding_box()
        assert box is not None
        assert box["x"] >= 0, box
        assert box["x"] + box["width"] <= width, box
        wrap = page.evaluate(
            """() => { const w = document.querySelector('[data-testid="sessions-table"]').parentElement;
                return {scroll: w.scrollWidth, client: w.clientWidth, left: w.scrollLeft}; }"""
        )
        assert wrap["scroll"] <= wrap["client"], wrap
        assert wrap["left"] == 0, wrap
        no_sideways_scroll(page, width)
        shot(page, f"21-delete-question-{width}")
        page.get_by_test_id("cancel-delete").click()
        expect(question).to_have_count(0)
        expect(row.get_by_test_id("delete-button")).to_be_focused()
        assert api(dev, "GET", f"/api/sessions/{made['id']}")["name"] == name
    finally:
        context.close()


def test_the_start_page_fits_a_phone(dev: str, phone: Any, month: tuple[Path, Any], tmp_path: Path) -> None:
    """At 375 px the start page, with two files chosen and the sessions list below, scrolls only down."""
    folder, _ = month
    phone.goto(dev)
    phone.get_by_test_id("file-input").set_input_files(own_copies(folder, tmp_path))
    expect(phone.get_by_test_id("file-row")).to_have_count(2)
    expect(phone.get_by_test_id("sessions-table")).to_be_attached()
    no_sideways_scroll(phone, 375)
    shot(phone, "22-start-375")


def test_the_session_page_fits_a_phone(dev: str, completed: str, phone: Any) -> None:
    """At 375 px the session's header, steps, files table, summary cards and downloads scroll only down;
    the files table needs no sideways scroll of its own either."""
    phone.goto(f"{dev}/#/sessions/{completed}")
    expect(phone.get_by_test_id("session-status")).to_have_text("Completed")
    expect(phone.get_by_test_id("downloads")).to_be_visible()
    no_sideways_scroll(phone, 375)
    wraps = phone.evaluate(
        """() => [...document.querySelectorAll('.files-table, .timeline-table')].map(t => {
            const w = t.parentElement; return [t.className, w.scrollWidth, w.clientWidth]; })"""
    )
    for name, scroll, client in wraps:
        assert scroll <= client, (name, scroll, client)
    for box in phone.locator('[data-testid="summary"] .stat, [data-testid="downloads"] a').all():
        bounds = box.bounding_box()
        assert bounds is not None
        assert bounds["x"] + bounds["width"] <= 375, bounds
    shot(phone, "23-session-375")


def test_the_print_view_fits_a_phone(dev: str, completed: str, phone: Any) -> None:
    """At 375 px the print view's rows become cards: nothing scrolls sideways."""
    phone.goto(f"{dev}/#/sessions/{completed}/print")
    expect(phone.get_by_test_id("print-table")).to_be_visible()
    no_sideways_scroll(phone, 375)
    assert re.search(r"Printed ", phone.get_by_test_id("print-meta").inner_text())
