"""Every view of the page checked by axe-core (npm, pinned) in Debian's Chromium: no serious or
critical WCAG 2.1 A/AA violation on the start page, a completed session, the aliases page and a
session's chase list, at desktop and phone width; and the check itself shown to catch one."""

# ruff: noqa: F811
from __future__ import annotations

from typing import Any

import pytest

from tests.axe import describe, violations
from tests.test_web_page import (  # noqa: F401 — fixtures
    TIMEOUT_MS,
    browser,
    completed,
    dev,
    month,
    playwright_sync,
)

VIEWS = {
    "start": ("#/", "sessions-table"),
    "session": ("#/sessions/{id}", "exceptions-table"),
    "aliases": ("#/aliases", None),
    "chase": ("#/sessions/{id}/chase", None),
}


@pytest.mark.parametrize("width", [1280, 375])
@pytest.mark.parametrize("view", sorted(VIEWS))
def test_each_view_has_no_serious_accessibility_violation(
    browser: Any, dev: str, completed: str, view: str, width: int
) -> None:
    """axe-core finds nothing serious or critical on the view once its data is in."""
    route, ready = VIEWS[view]
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        page.goto(f"{dev}/{route.format(id=completed)}")
        if ready:
            playwright_sync.expect(page.get_by_test_id(ready)).to_be_visible()
        page.wait_for_load_state("networkidle")
        found = violations(page)
        assert not found, f"{view} at {width}px:\n{describe(found)}"
    finally:
        context.close()


def test_the_check_finds_a_violation_planted_in_a_view(browser: Any, dev: str) -> None:
    """A nameless button and an image without text, added to the start page, are reported."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        page.goto(f"{dev}/#/")
        page.wait_for_load_state("networkidle")
        page.evaluate(
            """() => {
                const main = document.querySelector("main");
                main.append(document.createElement("button"));
                const image = document.createElement("img");
                image.src = "/web/favicon.svg";
                main.append(image);
            }"""
        )
        assert {v["id"] for v in violations(page)} >= {"button-name", "image-alt"}
    finally:
        context.close()
