"""`pvaultNote(review)` (shared/http/web/pvault.js) in a real browser, under the page's own policy:
the page's scripts served as the app serves them, a review made by the report stage, no server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shared.http.headers import page_policy
from shared.models import Reconciliation, Status
from shared.report.pvault import pvault_summary
from shared.sessions.review import Review
from tests.reconciliations import sample_reconciliation
from tests.test_pvault import _row
from tests.test_web_page import browser, page, playwright_sync  # noqa: F401 — browser, page: the fixtures

WEB = Path(__file__).resolve().parent.parent / "shared" / "http" / "web"
ORIGIN = "http://ccproc.test"
HOST_PAGE = '<!doctype html><html lang="en"><title>pVault</title><main id="out"></main>'
HOST_PAGE += '<script type="module" src="/test/main.js"></script></html>'
MAIN = """import { pvaultNote } from "/web/pvault.js";
const review = await (await fetch("/test/review.json")).json();
document.getElementById("out").append(pvaultNote(review));
document.body.dataset.ready = "yes";
"""


def review_of(rec: Reconciliation) -> dict[str, Any]:
    """The session API's review of `rec` once its reports are written, as the page receives it."""
    rec.pvault = pvault_summary(rec)
    return json.loads(Review.model_validate(rec.model_dump()).model_dump_json())


def show(page: Any, review: dict[str, Any]) -> Any:  # noqa: F811 — the fixture
    """Load a page that imports pvault.js and shows `pvaultNote(review)`; the note's element."""
    files: dict[str, tuple[str, str]] = {
        "/": ("text/html", HOST_PAGE),
        "/test/main.js": ("text/javascript", MAIN),
        "/test/review.json": ("application/json", json.dumps(review)),
    }

    def serve(route: Any) -> None:
        path = route.request.url.removeprefix(ORIGIN)
        if path.startswith("/web/") and (WEB / path.removeprefix("/web/")).is_file():
            files[path] = ("text/javascript", (WEB / path.removeprefix("/web/")).read_text(encoding="utf-8"))
        kind, body = files.get(path, ("text/plain", ""))
        headers = {"Content-Security-Policy": page_policy(None)}
        route.fulfill(status=200 if path in files else 404, content_type=kind, body=body, headers=headers)

    page.route(f"{ORIGIN}/**", serve)
    page.goto(f"{ORIGIN}/")
    page.wait_for_selector("body[data-ready=yes]", state="attached")
    return page.locator("[data-testid=pvault-note]")


def test_some_held_back_listed_closest_first(page: Any) -> None:  # noqa: F811
    """One employee in, two held back: the counts, then the held back in the summary's order, open."""
    review = review_of(sample_reconciliation())
    note = show(page, review)
    assert note.locator("[data-testid=pvault-summary]").inner_text() == (
        "The pVault import holds 1 of 3 employees: 4 rows (205.30). 2 employees are held back: one "
        "transaction that is not Complete holds back all of that employee's rows."
    )
    items = note.locator("[data-testid=pvault-held-back]").all_inner_texts()
    assert items == [
        "JOHNROE (100002): 1 of 2 transactions not Complete (1 Missing Receipt); 19.99 of 95.24 held back",
        "MARYPOE (100003): 3 of 3 transactions not Complete (1 Missing Coding, 2 Missing Both); "
        "320.40 of 320.40 held back",
    ]
    assert note.locator("details").get_attribute("open") is not None


def test_an_empty_import_says_why_and_folds_a_long_list(page: Any) -> None:  # noqa: F811
    """Nobody in: the note says the import is empty and why; a long list starts folded."""
    rows = [_row(str(i), f"E{i:02}", f"{i}.00", Status.MISSING_RECEIPT) for i in range(1, 9)]
    rows.append(_row("99", "E01", "2.00", Status.COMPLETE))
    note = show(page, review_of(Reconciliation(transactions=rows)))
    assert note.locator("[data-testid=pvault-summary]").inner_text() == (
        "The pVault import is empty: every one of the 8 employees has at least one transaction that is not "
        "Complete, and one transaction that is not Complete holds back all of that employee's rows "
        "(1 of 9 transactions are Complete)."
    )
    details = note.locator("details")
    assert details.get_attribute("open") is None
    assert details.locator("summary").inner_text() == "Held back: 8 employees, closest to complete first"
    first = note.locator("[data-testid=pvault-held-back]").first.text_content()
    assert (
        first
        == "HOLDERE01 (E01): 1 of 2 transactions not Complete (1 Missing Receipt); 1.00 of 3.00 held back"
    )


def test_a_review_stored_before_shows_nothing(page: Any) -> None:  # noqa: F811
    """A review without a summary (reconciled before it existed) gives a hidden, empty note."""
    review = json.loads(Review.model_validate(sample_reconciliation().model_dump()).model_dump_json())
    assert review["pvault"] is None
    note = show(page, review)
    assert note.is_hidden()
    assert note.inner_text() == ""
